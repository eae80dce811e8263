import cv2
import numpy as np
import pytest

from imgclf.errors import PipelineError
from imgclf.image_folder import decode_image, decode_images, fit_to_size, jpeg_size, reduction_factor, scan_folder


def write_jpeg(path, height=60, width=80, value=128, color=(0, 0, 255)):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((height, width, 3), value, np.uint8)
    cv2.rectangle(image, (0, 0), (width // 2, height // 2), color, -1)
    assert cv2.imwrite(str(path), image)
    return path


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


def test_jpeg_header_and_reduced_decoding(tmp_path):
    path = write_jpeg(tmp_path / "big.jpg", height=400, width=500)
    data = path.read_bytes()
    assert jpeg_size(data) == (400, 500)
    assert reduction_factor(data, (50, 50)) == 8
    assert reduction_factor(data, (150, 150)) == 2
    assert reduction_factor(data, (300, 300)) == 1
    image, reason = decode_image(path, (50, 50), "rgb")
    assert reason is None and image.shape == (50, 50, 3)
    assert tuple(image[5, 5]) == pytest.approx((255, 0, 0), abs=3)  # BGR red drawn, RGB out
    gray, _ = decode_image(path, (50, 50), "grayscale")
    assert gray.shape == (50, 50, 1)


def test_bad_files_give_reasons(tmp_path):
    good = write_jpeg(tmp_path / "good.jpg")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello, not a picture")
    paths = [good, truncated, tmp_path / "empty.jpg", tmp_path / "text.jpg", tmp_path / "gone.jpg"]
    images, bad = decode_images(paths, (16, 16), "grayscale", workers=2)
    assert images.shape == (5, 16, 16, 1) and images[0].any()
    assert bad == {
        1: "truncated JPEG (no end-of-image marker)", 2: "empty file", 3: "not a decodable image",
        4: "unreadable (No such file or directory)",
    }


@pytest.mark.parametrize("fit,expected_corner", [("stretch", 200), ("crop", 200), ("pad", 0)])
def test_fit_modes(fit, expected_corner):
    image = np.full((20, 40), 200, np.uint8)
    out = fit_to_size(image, (10, 10), fit)
    assert out.shape == (10, 10)
    assert out[0, 0] == expected_corner and out[5, 5] == 200
