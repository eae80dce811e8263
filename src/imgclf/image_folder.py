"""Folders of image files: finding them, and decoding them fast with OpenCV.

Two layouts: one sub-folder per class (``cats/1.jpg``), or Kaggle's flat Dogs vs Cats layout
where the class is the file-name prefix (``cat.123.jpg``). Either may sit under ``train/``,
``validation/`` (or ``val/``) and ``test/`` folders, which the split can keep as given.

Decoding runs in a thread pool: OpenCV's decoder and resizer release the GIL, so threads use
every core without forking (a forked worker calling ``cv2.setNumThreads`` after the parent used
OpenCV deadlocks). A JPEG much larger than the target is decoded at 1/2, 1/4 or 1/8 scale
(libjpeg's DCT scaling), which is far cheaper than decoding it whole; only one image per
thread is ever held at full size.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from imgclf.errors import PipelineError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
SPLIT_FOLDERS = {"train": "train", "validation": "validation", "val": "validation", "valid": "validation", "test": "test"}
REDUCED = {
    "grayscale": {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
                  4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8},
    "rgb": {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
            4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8},
}


@dataclass(frozen=True)
class FolderImage:
    """One file found: its path relative to the root, its class name, its given split ("" if none)."""

    path: str
    label: str
    split: str = ""


def scan_folder(root: Path, layout: str = "auto") -> list[FolderImage]:
    """Every image file under ``root`` with its class and given split, in a stable order."""
    if not root.is_dir():
        raise PipelineError(f"{root}: image folder not found")
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    given = [d for d in subdirs if d.name.lower() in SPLIT_FOLDERS]
    parts = [(d, SPLIT_FOLDERS[d.name.lower()]) for d in given] if given and len(given) == len(subdirs) else [(root, "")]
    found = [entry for folder, split in parts for entry in _scan_part(root, folder, split, layout)]
    if not found:
        raise PipelineError(f"{root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    return found


def _scan_part(root: Path, folder: Path, split: str, layout: str) -> list[FolderImage]:
    class_dirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if layout == "class_folders" or (layout == "auto" and class_dirs):
        found = []
        for class_dir in class_dirs:
            files = sorted(f for f in class_dir.rglob("*") if f.is_file() and not f.name.startswith("."))
            if not files:
                raise PipelineError(f"{class_dir}: class folder {class_dir.name!r} is empty")
            found += [FolderImage(f.relative_to(root).as_posix(), class_dir.name, split) for f in files]
        return found
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and "." in f.stem)
    return [FolderImage(f.relative_to(root).as_posix(), f.name.split(".")[0], split) for f in files]


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


def fit_to_size(image: np.ndarray, size: tuple[int, int], fit: str) -> np.ndarray:
    """Resize an HW or HWC image to ``size`` = (height, width).

    ``stretch`` ignores the aspect ratio; ``crop`` takes the centred region of the target's
    aspect ratio; ``pad`` letterboxes with black. Area averaging when shrinking.
    """
    height, width = size
    h, w = image.shape[:2]
    if fit == "crop":
        scale = min(h / height, w / width)
        ch, cw = round(height * scale), round(width * scale)
        top, left = (h - ch) // 2, (w - cw) // 2
        image, h, w = image[top:top + ch, left:left + cw], ch, cw
    if fit == "pad":
        scale = min(height / h, width / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        inner = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        out = np.zeros((height, width, *image.shape[2:]), dtype=image.dtype)
        top, left = (height - nh) // 2, (width - nw) // 2
        out[top:top + nh, left:left + nw] = inner
        return out
    interpolation = cv2.INTER_AREA if h * w > height * width else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


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
    image = fit_to_size(image, size, fit)
    return image.reshape(size[0], size[1], -1), None


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
