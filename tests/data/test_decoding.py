import cv2
import numpy as np
import pytest

from imgclf.data.decoding import decode_image, decode_images, header_size, jpeg_size, png_size, reduction_factor
from imgclf.params import PreprocessParams
from tests.helpers import write_jpeg

LIMIT = PreprocessParams().max_pixels


def test_jpeg_header_and_reduced_decoding(tmp_path):
    path = write_jpeg(tmp_path / "big.jpg", height=400, width=500)
    data = path.read_bytes()
    assert jpeg_size(data) == (400, 500)
    assert reduction_factor(data, (50, 50)) == 8
    assert reduction_factor(data, (150, 150)) == 2
    assert reduction_factor(data, (300, 300)) == 1
    image, reason = decode_image(path, (50, 50), "rgb", max_pixels=LIMIT)
    assert reason is None and image.shape == (50, 50, 3)
    assert tuple(image[5, 5]) == pytest.approx((255, 0, 0), abs=3)  # BGR red drawn, RGB out
    gray, _ = decode_image(path, (50, 50), "grayscale", max_pixels=LIMIT)
    assert gray.shape == (50, 50, 1)


def test_bad_files_give_reasons(tmp_path):
    good = write_jpeg(tmp_path / "good.jpg")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello, not a picture")
    paths = [good, truncated, tmp_path / "empty.jpg", tmp_path / "text.jpg", tmp_path / "gone.jpg"]
    images, bad = decode_images(paths, (16, 16), "grayscale", workers=2, max_pixels=LIMIT)
    assert images.shape == (5, 16, 16, 1) and images[0].any()
    assert bad == {
        1: "truncated JPEG (no end-of-image marker)", 2: "empty file", 3: "not a decodable image",
        4: "unreadable (No such file or directory)",
    }


def test_header_sizes_of_files_opencv_writes(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)  # 60 high, 80 wide
    for suffix, flags in ((".jpg", []), (".png", []), (".bmp", []), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]),
                          (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101])):
        ok, encoded = cv2.imencode(suffix, image, flags)
        assert ok and header_size(encoded.tobytes()) == (60, 80), suffix
    path = tmp_path / "gray.png"
    assert cv2.imwrite(str(path), image[:, :, 0])
    assert png_size(path.read_bytes()) == (60, 80)
    vp8x = b"RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0" + (80 - 1).to_bytes(3, "little") + (60 - 1).to_bytes(3, "little")
    assert header_size(vp8x) == (60, 80)
    assert header_size(b"GIF89a" + bytes(40)) is None  # formats not read: left to OpenCV


def test_a_cut_short_header_gives_no_size_and_the_decoder_reports_the_file(tmp_path):
    image = np.full((60, 80), 90, np.uint8)
    for suffix in (".png", ".jpg", ".bmp", ".webp"):
        data = cv2.imencode(suffix, image)[1].tobytes()
        assert header_size(data[:20]) is None, suffix
    png = tmp_path / "cut.png"
    png.write_bytes(cv2.imencode(".png", image)[1].tobytes()[:20])
    jpg = tmp_path / "cut.jpg"
    jpg.write_bytes(cv2.imencode(".jpg", image)[1].tobytes()[:20])
    _, bad = decode_images([png, jpg], (16, 16), "grayscale", workers=1, max_pixels=100)
    assert bad == {0: "not a decodable image", 1: "truncated JPEG (no end-of-image marker)"}


def test_more_pixels_than_the_limit_are_refused_before_decoding(tmp_path):
    png = tmp_path / "wide.png"
    assert cv2.imwrite(str(png), np.full((60, 80), 90, np.uint8))
    jpg = write_jpeg(tmp_path / "wide.jpg", height=60, width=80)
    for path in (png, jpg):
        image, reason = decode_image(path, (16, 16), "grayscale", max_pixels=4800)  # exactly 80 x 60: kept
        assert reason is None and image.shape == (16, 16, 1)
        image, reason = decode_image(path, (16, 16), "grayscale", max_pixels=4799)
        assert image is None and reason == "too many pixels (80 x 60 = 4800, over preprocess.max_pixels 4799)"
    # a header alone declaring 20,000 x 20,000: refused by the schema's default, never handed to OpenCV
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR" + (20_000).to_bytes(4, "big") * 2 + b"\x08\0\0\0\0" + bytes(4))
    _, bad = decode_images([jpg, bomb], (16, 16), "grayscale", workers=1, max_pixels=LIMIT)
    assert bad == {1: f"too many pixels (20000 x 20000 = 400000000, over preprocess.max_pixels {LIMIT})"}
