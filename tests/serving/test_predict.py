import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from imgclf.params import EvaluateParams, PreprocessParams
from imgclf.errors import PipelineError
from imgclf.serving.predict import expand, predict
from tests.helpers import write_jpeg

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
