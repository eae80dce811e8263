import base64

import pandas as pd
import pytest

from imgclf.errors import PipelineError
from imgclf.params import PreprocessParams
from imgclf.serving.image_model import ImageModel, item_bytes
from tests.helpers import bomb_png, write_jpeg


def test_items_are_bytes_files_or_base64_text(tmp_path):
    data = b"\x89PNG\r\n\x1a\n some bytes"
    text = base64.b64encode(data).decode()
    assert item_bytes(data) == (data, None) and item_bytes(bytearray(data)) == (data, None)
    (tmp_path / "a.png").write_bytes(data)
    assert item_bytes(tmp_path / "a.png") == (data, None)
    assert item_bytes(tmp_path / "gone.png") == (None, "unreadable (No such file or directory)")
    assert item_bytes(text) == (data, None)
    assert item_bytes(f"data:image/png;base64,{text[:10]}\n{text[10:]}") == (data, None)  # a data URL, wrapped
    assert item_bytes("not base64!") == (None, "not base64 (Only base64 data is allowed)")
    assert item_bytes("aGk") == (None, "not base64 (Incorrect padding)")
    for missing in (None, float("nan"), 3, "None"):  # "None": MLflow's text for a JSON null
        assert item_bytes(missing) == (None, "no image (expected base64 text)")


def test_each_item_is_answered_or_refused_in_its_row(model_dir, tmp_path):
    model = ImageModel.from_directory(model_dir, (0.25, 0.75))
    night = write_jpeg(tmp_path / "night.jpg", value=10, color=(10, 10, 10)).read_bytes()
    snow = base64.b64encode(write_jpeg(tmp_path / "snow.jpg", value=250, color=(250, 250, 250)).read_bytes()).decode()
    table = model.classify([night, b"", snow, bomb_png(13_400), "###", None])
    assert list(table.columns) == ["predicted", "p_cat", "p_dog", "uncertain", "error"]
    assert table["predicted"].tolist() == ["cat", None, "dog", None, None, None]
    limit = PreprocessParams().max_pixels
    assert table["error"].tolist() == [
        None, "empty file", None, f"too many pixels (13400 x 13400 = 179560000, over preprocess.max_pixels {limit})",
        "not base64 (Only base64 data is allowed)", "no image (expected base64 text)",
    ]
    rows = table.to_dict(orient="records")
    assert rows[0]["p_cat"] + rows[0]["p_dog"] == pytest.approx(1.0) and rows[0]["uncertain"] is False
    assert all(type(rows[0][c]) is float for c in ("p_cat", "p_dog"))  # plain floats and None: JSON as it is
    assert rows[1] == {"predicted": None, "p_cat": None, "p_dog": None, "uncertain": None, "error": "empty file"}
    # MLflow's entry point: a frame with an image column, the same rows.
    assert model.predict(None, pd.DataFrame({"image": [night, snow]})).equals(table.iloc[[0, 2]].reset_index(drop=True))
    with pytest.raises(PipelineError, match=r"no 'image' column in the input \(got \['picture'\]\)"):
        model.predict(None, pd.DataFrame({"picture": [night]}))


def test_the_grey_zone_marks_uncertain_answers_and_nothing_decoded_gives_no_rows_of_probabilities(model_dir, tmp_path):
    night = write_jpeg(tmp_path / "night.jpg", value=10, color=(10, 10, 10)).read_bytes()
    wide = ImageModel.from_directory(model_dir, (0.0, 1.0))  # every answer strictly inside: abstain
    assert wide.classify([night])["uncertain"].tolist() == [True]
    only_bad = wide.classify([b"nothing", None])
    assert only_bad["predicted"].tolist() == [None, None] and only_bad["error"].notna().all()
    assert len(wide.classify([])) == 0


def test_a_model_without_preprocessing_is_refused(model_dir):
    meta = model_dir / "model.json"
    meta.write_text(meta.read_text().replace('"preprocess"', '"other"'))
    with pytest.raises(PipelineError, match="model lr: no preprocessing recorded in its model.json"):
        ImageModel.from_directory(model_dir, (0.25, 0.75))
