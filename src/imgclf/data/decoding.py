"""Decoding image files fast with OpenCV, straight to the target size and colour.

Decoding runs in a thread pool: OpenCV's decoder and resizer release the GIL, so threads use
every core without forking (a forked worker calling ``cv2.setNumThreads`` after the parent used
OpenCV deadlocks). A JPEG much larger than the target is decoded at 1/2, 1/4 or 1/8 scale
(libjpeg's DCT scaling), which is far cheaper than decoding it whole; only one image per
thread is ever held at full size.

Before any decoding, the width x height a file's header declares is checked against
``preprocess.max_pixels``, so a decompression bomb (a small file declaring a huge image) is
refused, not decoded. The headers read are JPEG's, PNG's, BMP's and WebP's (VP8, VP8L, VP8X).
Other formats OpenCV recognises by content (TIFF, GIF, AVIF, JPEG 2000, PNM, HDR, Sun raster)
are not checked here, nor is a file whose header is cut short: they go to OpenCV, whose own
limit (``OPENCV_IO_MAX_IMAGE_PIXELS``, 2**30 pixels by default) applies.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from imgclf.data.images import fit_to_size

DECODE_BLOCK = 64  # files per thread-pool task

REDUCED = {
    "grayscale": {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
                  4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8},
    "rgb": {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
            4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8},
}


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a JPEG's start-of-frame header, or None if not found."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 7:i + 9], "big")
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a PNG's IHDR chunk, or None if not a PNG or cut short."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")


def bmp_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a BMP's DIB header (a negative height means top-down rows)."""
    if data[:2] != b"BM" or len(data) < 26:
        return None
    if int.from_bytes(data[14:18], "little") == 12:  # BITMAPCOREHEADER: 16-bit sizes
        return int.from_bytes(data[20:22], "little"), int.from_bytes(data[18:20], "little")
    return (abs(int.from_bytes(data[22:26], "little", signed=True)),
            abs(int.from_bytes(data[18:22], "little", signed=True)))


def webp_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from a WebP's first chunk: VP8 (lossy), VP8L (lossless) or VP8X (extended)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    kind = data[12:16]
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # frame tag, start code, 14-bit sizes
        return int.from_bytes(data[28:30], "little") & 0x3FFF, int.from_bytes(data[26:28], "little") & 0x3FFF
    if kind == b"VP8L" and data[20] == 0x2F:  # 14 bits of width - 1, then 14 of height - 1
        bits = int.from_bytes(data[21:25], "little")
        return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
    if kind == b"VP8X":  # canvas width - 1 and height - 1, 24 bits each
        return int.from_bytes(data[27:30], "little") + 1, int.from_bytes(data[24:27], "little") + 1
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) declared by a JPEG, PNG, BMP or WebP header, without decoding; None for
    other formats and headers cut short."""
    for reader in (jpeg_size, png_size, bmp_size, webp_size):
        dims = reader(data)
        if dims is not None:
            return dims
    return None


def too_many_pixels(dims: tuple[int, int] | None, max_pixels: int) -> str | None:
    """The reason to refuse a file whose header declared ``dims`` = (height, width) with more
    than ``max_pixels`` pixels, else None."""
    if dims is None or dims[0] * dims[1] <= max_pixels:
        return None
    height, width = dims
    return f"too many pixels ({width} x {height} = {width * height}, over preprocess.max_pixels {max_pixels})"


def shrink_factor(dims: tuple[int, int] | None, size: tuple[int, int]) -> int:
    """The largest of 8, 4, 2 by which an image of ``dims`` can be shrunk while staying at least ``size``."""
    if dims is None:
        return 1
    for factor in (8, 4, 2):
        if dims[0] // factor >= size[0] and dims[1] // factor >= size[1]:
            return factor
    return 1


def reduction_factor(data: bytes, size: tuple[int, int]) -> int:
    """The factor libjpeg may decode the JPEG ``data`` at (:func:`shrink_factor`); 1 for other files."""
    return shrink_factor(jpeg_size(data), size)


def decode_image(
    path: Path, size: tuple[int, int], color: str, fit: str = "stretch", *, max_pixels: int,
) -> tuple[np.ndarray | None, str | None]:
    """One file to an ``(H, W, C)`` uint8 image, or ``(None, reason)`` when it cannot be used
    (one whose header declares more than ``max_pixels`` pixels is refused undecoded)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    return decode_bytes(data, size, color, fit, max_pixels=max_pixels)


def decode_bytes(
    data: bytes, size: tuple[int, int], color: str, fit: str = "stretch", *, max_pixels: int,
) -> tuple[np.ndarray | None, str | None]:
    """An encoded image (a file's bytes) to an ``(H, W, C)`` uint8 image, or ``(None, reason)``:
    what :func:`decode_image` does once the file is read, for images that come without a file."""
    if not data:
        return None, "empty file"
    dims = header_size(data)  # read once: for the pixel limit and for JPEG's reduced decoding
    bomb = too_many_pixels(dims, max_pixels)
    if bomb:
        return None, bomb
    jpeg = data[:2] == b"\xff\xd8"
    if jpeg and b"\xff\xd9" not in data[-1024:]:
        return None, "truncated JPEG (no end-of-image marker)"
    flag = REDUCED[color][shrink_factor(dims, size) if jpeg else 1]
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if image is None:
        return None, "not a decodable image"
    if color == "rgb":
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return fit_to_size(image, size, fit), None


def decode_images(
    paths: list[Path], size: tuple[int, int], color: str, fit: str = "stretch",
    workers: int | None = None, progress: bool = True, *, max_pixels: int,
) -> tuple[np.ndarray, dict[int, str]]:
    """Decode ``paths`` in parallel into one ``(N, H, W, C)`` array, refusing any file whose
    header declares more than ``max_pixels`` pixels.

    Returns the array (rows of unusable files left black) and ``{index: reason}`` for those.
    """
    from tqdm import tqdm

    channels = 3 if color == "rgb" else 1
    out = np.zeros((len(paths), size[0], size[1], channels), dtype=np.uint8)
    bad: dict[int, str] = {}

    def work(block: range) -> int:
        for i in block:
            image, reason = decode_image(paths[i], size, color, fit, max_pixels=max_pixels)
            if image is None:
                bad[i] = reason
            else:
                out[i] = image
        return len(block)

    # A task per block of files, not per file: each task costs the pool's bookkeeping under the
    # GIL (a future, a lock, a queue), about 18 us, against 250-300 us to decode a photo.
    blocks = [range(start, min(start + DECODE_BLOCK, len(paths))) for start in range(0, len(paths), DECODE_BLOCK)]
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool, tqdm(
        total=len(paths), desc="decode", unit="img", disable=not progress or len(paths) < 2000, mininterval=2
    ) as bar:
        for done in pool.map(work, blocks):
            bar.update(done)
    return out, bad
