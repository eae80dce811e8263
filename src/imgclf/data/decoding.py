"""Decoding image files fast with OpenCV, straight to the target size and colour.

Decoding runs in a thread pool: OpenCV's decoder and resizer release the GIL, so threads use
every core without forking (a forked worker calling ``cv2.setNumThreads`` after the parent used
OpenCV deadlocks). A JPEG much larger than the target is decoded at 1/2, 1/4 or 1/8 scale
(libjpeg's DCT scaling), which is far cheaper than decoding it whole; only one image per
thread is ever held at full size.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from imgclf.data.images import fit_to_size

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


def reduction_factor(data: bytes, size: tuple[int, int]) -> int:
    """The largest of 8, 4, 2 by which the JPEG can be shrunk while staying at least ``size``."""
    dims = jpeg_size(data)
    if dims is None:
        return 1
    for factor in (8, 4, 2):
        if dims[0] // factor >= size[0] and dims[1] // factor >= size[1]:
            return factor
    return 1


def decode_image(path: Path, size: tuple[int, int], color: str, fit: str = "stretch") -> tuple[np.ndarray | None, str | None]:
    """One file to an ``(H, W, C)`` uint8 image, or ``(None, reason)`` when it cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc})"
    if not data:
        return None, "empty file"
    if data[:2] == b"\xff\xd8" and b"\xff\xd9" not in data[-1024:]:
        return None, "truncated JPEG (no end-of-image marker)"
    flag = REDUCED[color][reduction_factor(data, size)]
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if image is None:
        return None, "not a decodable image"
    if color == "rgb":
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return fit_to_size(image, size, fit), None


def decode_images(
    paths: list[Path], size: tuple[int, int], color: str, fit: str = "stretch",
    workers: int | None = None, progress: bool = True,
) -> tuple[np.ndarray, dict[int, str]]:
    """Decode ``paths`` in parallel into one ``(N, H, W, C)`` array.

    Returns the array (rows of unusable files left black) and ``{index: reason}`` for those.
    """
    from tqdm import tqdm

    channels = 3 if color == "rgb" else 1
    out = np.zeros((len(paths), size[0], size[1], channels), dtype=np.uint8)
    bad: dict[int, str] = {}

    def work(i: int) -> None:
        image, reason = decode_image(paths[i], size, color, fit)
        if image is None:
            bad[i] = reason
        else:
            out[i] = image

    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool, tqdm(
        total=len(paths), desc="decode", unit="img", disable=not progress or len(paths) < 2000, mininterval=2
    ) as bar:
        for _ in pool.map(work, range(len(paths))):
            bar.update()
    return out, bad
