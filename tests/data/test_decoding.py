import pytest

from imgclf.data.decoding import decode_image, decode_images, jpeg_size, reduction_factor
from tests.helpers import write_jpeg


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
