"""Folders of image files: which files, which class, which given split.

Two layouts: one sub-folder per class (``cats/1.jpg``), or Kaggle's flat Dogs vs Cats layout
where the class is the file-name prefix (``cat.123.jpg``). Either may sit under ``train/``,
``validation/`` (or ``val/``) and ``test/`` folders, which the split can keep as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imgclf.errors import PipelineError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
SPLIT_FOLDERS = {"train": "train", "validation": "validation", "val": "validation", "valid": "validation", "test": "test"}


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
