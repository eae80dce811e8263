import pytest

from imgclf.data.folders import scan_folder
from imgclf.errors import PipelineError
from tests.helpers import write_jpeg


def test_class_folder_layout_with_given_splits(tmp_path):
    for split in ("train", "val", "test"):
        for label in ("cat", "dog"):
            write_jpeg(tmp_path / split / label / f"{label}1.jpg")
    found = scan_folder(tmp_path)
    assert len(found) == 6
    assert {(e.split, e.label) for e in found} == {(s, c) for s in ("train", "validation", "test") for c in ("cat", "dog")}
    assert found[0].path == "test/cat/cat1.jpg"


def test_kaggle_flat_layout_uses_name_prefix(tmp_path):
    for name in ("cat.1.jpg", "dog.2.jpg", "dog.10.jpg"):
        write_jpeg(tmp_path / name)
    (tmp_path / "README").write_text("not an image")
    found = scan_folder(tmp_path)
    assert [(e.path, e.label, e.split) for e in found] == [("cat.1.jpg", "cat", ""), ("dog.10.jpg", "dog", ""), ("dog.2.jpg", "dog", "")]


def test_empty_class_folder_and_missing_folder(tmp_path):
    write_jpeg(tmp_path / "cat" / "1.jpg")
    (tmp_path / "dog").mkdir()
    with pytest.raises(PipelineError, match="class folder 'dog' is empty"):
        scan_folder(tmp_path)
    with pytest.raises(PipelineError, match="image folder not found"):
        scan_folder(tmp_path / "nope")
