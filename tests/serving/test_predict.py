import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from imgclf.params import EvaluateParams, PreprocessParams
from imgclf.errors import PipelineError
from imgclf.models.store import save_model
from imgclf.numerics import record
from imgclf.params import NumericsParams
from imgclf.serving.predict import expand, predict
from tests.helpers import make_imageset, write_jpeg

REPO = Path(__file__).resolve().parents[2]


def photos(folder):
    write_jpeg(folder / "night.jpg", value=10, color=(10, 10, 10))
    write_jpeg(folder / "snow.jpg", value=250, color=(250, 250, 250))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    return folder


def test_predicts_each_file_and_reports_bad_ones_in_their_row(model_dir, tmp_path):
    folder = photos(tmp_path / "mine")
    table = predict(model_dir, expand([str(folder)]), EvaluateParams().grey_zone)
    rows = {Path(r.file).name: r for r in table.itertuples()}
    assert rows["night.jpg"].predicted == "cat" and rows["snow.jpg"].predicted == "dog"
    assert rows["snow.jpg"].p_dog > 0.75 and rows["snow.jpg"].uncertain is False
    assert rows["broken.jpg"].error == "truncated JPEG (no end-of-image marker)" and rows["broken.jpg"].predicted is None
    assert rows["broken.jpg"].p_cat is None and rows["broken.jpg"].uncertain is None and rows["snow.jpg"].error is None
    assert list(table.columns) == ["file", "predicted", "p_cat", "p_dog", "uncertain", "error"]


def png_header(width: int, height: int) -> bytes:
    """A PNG cut after its IHDR chunk: the size it declares, no pixels."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\0\0\0\0"
    return b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR" + ihdr + bytes(4)


def test_an_image_over_max_pixels_is_refused_in_its_row(model_dir, tmp_path):
    folder = photos(tmp_path / "mine")
    (folder / "bomb.png").write_bytes(png_header(20_000, 10_000))  # 200 million pixels
    table = predict(model_dir, expand([str(folder)]), EvaluateParams().grey_zone)
    rows = {Path(r.file).name: r for r in table.itertuples()}
    limit = PreprocessParams().max_pixels  # no max_pixels recorded in model.json: the schema's default
    assert rows["bomb.png"].error == f"too many pixels (20000 x 10000 = 200000000, over preprocess.max_pixels {limit})"
    assert rows["bomb.png"].predicted is None and rows["snow.jpg"].predicted == "dog"
    meta = json.loads((model_dir / "model.json").read_text())
    meta["preprocess"]["max_pixels"] = 4000  # a model trained with a lower limit: write_jpeg's 80 x 60 is over it
    (model_dir / "model.json").write_text(json.dumps(meta))
    table = predict(model_dir, [folder / "snow.jpg"], EvaluateParams().grey_zone)
    assert table["error"].tolist() == ["too many pixels (80 x 60 = 4800, over preprocess.max_pixels 4000)"]


def test_command_line_writes_csv(model_dir, tmp_path):
    folder = photos(tmp_path / "mine")
    out = tmp_path / "predictions.csv"
    result = subprocess.run(
        [sys.executable, "-m", "imgclf.serving.predict", str(model_dir), str(folder / "*.jpg"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "3 images, 1 unreadable" in result.stdout
    assert len(pd.read_csv(out)) == 3


def test_no_images_and_missing_model(tmp_path, model_dir):
    with pytest.raises(PipelineError, match="no images found"):
        expand([str(tmp_path / "empty*.jpg")])
    with pytest.raises(PipelineError, match="no model here"):
        predict(tmp_path / "nothing", [tmp_path / "x.jpg"], (0.25, 0.75))


@pytest.fixture
def cnn_dir(tmp_path):
    """A real Keras CNN trained a few epochs on 16x16 grey images whose class lights a band."""
    import keras

    from imgclf.models.cnn import build_cnn
    from imgclf.models.presets import layer_specs
    from imgclf.params import CnnParams

    keras.utils.set_random_seed(0)
    data = make_imageset(n_per_class=30, n_classes=2, size=16)
    specs = layer_specs(CnnParams(architecture=[{"type": "conv", "filters": 4, "kernel": 3},
                                                {"type": "global_max_pool"}]).architecture)
    model = build_cnn(specs, (16, 16, 1), 2)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(data.images, data.labels, epochs=3, verbose=0)
    directory = tmp_path / "cnn"
    save_model(directory, model, "keras", {
        "name": "tiny", "class_names": ["cat", "dog"], "input_shape": [16, 16, 1],
        "preprocess": {"image_size": [16, 16], "color": "grayscale", "fit": "stretch"},
        "numerics": record(NumericsParams()),  # as the training stages record it
    })
    return directory


def test_predict_computes_with_the_pins_the_model_was_trained_with(cnn_dir, tmp_path):
    """A shell that set another instruction set for oneDNN does not change the served numbers:
    the model's recorded pins are set before TensorFlow loads (oneDNN's log names the ISA used)."""
    pinned = json.loads((cnn_dir / "model.json").read_text())["numerics"]["pins"]["ONEDNN_MAX_CPU_ISA"]
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "ONEDNN_MAX_CPU_ISA": "SSE41"}
    result = subprocess.run([sys.executable, "-m", "imgclf.serving.predict", str(cnn_dir), str(photos(tmp_path / "mine")),
                             "--out", str(tmp_path / "predictions.csv")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "predictions.csv").read_text().startswith("file,predicted,")
    assert f"ONEDNN_MAX_CPU_ISA=SSE41 from the environment replaced by {pinned}" in result.stderr
    isa = {line.rsplit(":", 1)[1] for line in (result.stdout + result.stderr).splitlines() if ",info,cpu,isa:" in line}
    assert isa == {"Intel AVX2"} == {f"Intel {pinned}"}


def test_explain_writes_a_gradcam_overlay_per_readable_image(cnn_dir, tmp_path):
    folder = photos(tmp_path / "mine")
    out, explained = tmp_path / "predictions.csv", tmp_path / "explained"
    result = subprocess.run(
        [sys.executable, "-m", "imgclf.serving.predict", str(cnn_dir), str(folder), "--out", str(out),
         "--explain", str(explained)], cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in explained.iterdir()) == ["night_gradcam.png", "snow_gradcam.png"]
    for name in ("night", "snow"):
        picture = cv2.imread(str(explained / f"{name}_gradcam.png"), cv2.IMREAD_UNCHANGED)
        assert picture.shape == (16, 16, 3) and picture.dtype == np.uint8
        # JET colours over a grey picture: the channels differ (a grey PNG would have them equal).
        assert not (np.array_equal(picture[..., 0], picture[..., 1]) and np.array_equal(picture[..., 1], picture[..., 2]))


def test_explain_says_in_one_line_that_a_baseline_has_no_gradcam(model_dir, tmp_path, capsys):
    folder = photos(tmp_path / "mine")
    table = predict(model_dir, expand([str(folder)]), EvaluateParams().grey_zone, explain=tmp_path / "explained")
    assert table["predicted"].tolist().count("dog") == 1  # predictions are still made
    said = capsys.readouterr().out.strip().splitlines()
    assert said == ["predict: --explain: lr is a baseline (sklearn); Grad-CAM needs a Keras CNN, no heat maps written"]
    assert not (tmp_path / "explained").exists()


def test_explain_says_in_one_line_that_a_keras_model_without_conv_layer_has_no_gradcam(tmp_path, capsys):
    from imgclf.models.cnn import build_cnn
    from imgclf.models.presets import layer_specs
    from imgclf.params import CnnParams

    dense = build_cnn(layer_specs(CnnParams(architecture=[{"type": "flatten"}, {"type": "dense", "units": 4}]).architecture),
                      (16, 16, 1), 2)
    save_model(tmp_path / "dense", dense, "keras", {
        "name": "dense", "class_names": ["cat", "dog"], "input_shape": [16, 16, 1],
        "preprocess": {"image_size": [16, 16], "color": "grayscale", "fit": "stretch"},
    })
    table = predict(tmp_path / "dense", expand([str(photos(tmp_path / "mine"))]), (0.25, 0.75), explain=tmp_path / "out")
    assert len(table) == 3
    said = capsys.readouterr().out.strip().splitlines()
    assert said == ["predict: --explain: dense has no convolutional layer; Grad-CAM needs a CNN, no heat maps written"]
    assert not (tmp_path / "out").exists()
