"""What ``fetch`` does, as plain functions writing a raw-data folder.

An array source is written as ``images.npz``. An image folder is written as ``files.csv`` (one
row per file: path relative to the folder, class index, given split, sha256, size), and its
images are decoded by ``preprocess`` straight to the target size (``imgclf.data.preparing``).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from imgclf.data.dataset import ImageSet, save_imageset
from imgclf.data.downloads import mirror_dir
from imgclf.data.folders import scan_folder
from imgclf.data.sources import cap_per_class, folder_root, load_arrays, select_classes, select_files
from imgclf.layout import FILES_FILE, IMAGES_FILE
from imgclf.outputs import sha256_file
from imgclf.params import FetchParams, PreprocessParams

EXTRACTED = "images"


def fetch_arrays(params: FetchParams, out: Path) -> dict:
    """Load an array source, select its classes, write ``images.npz``; the manifest."""
    data, provenance = load_arrays(params.source, Path(params.path), params.format, mirror_dir(params.mirror))
    data = cap_per_class(select_classes(data, params.classes), params.max_per_class)
    save_imageset(out / IMAGES_FILE, data)
    return {
        "source": params.source, "kind": "arrays", "files": provenance, "images": len(data),
        "image_shape": list(data.images.shape[1:]), "class_names": list(data.class_names),
        "class_counts": data.class_counts(), "given_splits": _split_counts(data.given_split),
        "content_sha256": data.content_sha256(),
    }


def fetch_image_folder(params: FetchParams, out: Path) -> dict:
    """Index an image folder (an archive is safely extracted into ``out/images`` first)."""
    source = Path(params.path)
    root = folder_root(source, out / EXTRACTED, params.max_archive_bytes)
    entries, class_names = select_files(scan_folder(root, params.layout), params.classes, params.max_per_class)
    with ThreadPoolExecutor() as pool:
        hashes = list(pool.map(lambda e: sha256_file(root / e.path), entries))
    with open(out / FILES_FILE, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "split", "sha256", "bytes"])
        for entry, digest in zip(entries, hashes):
            writer.writerow([entry.path, class_names.index(entry.label), entry.split, digest, (root / entry.path).stat().st_size])
    by_hash: dict[str, list[str]] = defaultdict(list)
    for entry, digest in zip(entries, hashes):
        by_hash[digest].append(f"{entry.split}/{entry.path}" if entry.split and not entry.path.startswith(entry.split) else entry.path)
    duplicates = [paths for paths in by_hash.values() if len(paths) > 1]
    counts = {name: sum(e.label == name for e in entries) for name in class_names}
    return {
        "source": "image_folder", "kind": "files", "path": str(source), **_root_record(root, out),
        "images": len(entries), "class_names": list(class_names), "class_counts": counts,
        "given_splits": _split_counts(np.array([e.split for e in entries])),
        "duplicates": duplicates, "files_sha256": sha256_file(out / FILES_FILE),
    }


def load_source(params: FetchParams, preprocess: PreprocessParams, workdir: Path) -> ImageSet:
    """A whole dataset in memory at the target size and colour (what ``pretrain`` learns from),
    fetched and prepared as ``fetch`` and ``preprocess`` would, in ``workdir``."""
    fetch = fetch_image_folder if params.source == "image_folder" else fetch_arrays
    manifest = fetch(params, workdir)
    from imgclf.data.preparing import prepare
    from imgclf.data.parts import load_prepared

    prepare(workdir, manifest, preprocess, workdir / "prepared")
    return load_prepared(workdir / "prepared")


def _root_record(root: Path, out: Path) -> dict[str, str]:
    """Where ``preprocess`` finds the files: an extracted archive relative to the raw folder (which
    is written elsewhere and moved into place), a user's folder as given."""
    if root.is_relative_to(out):
        return {"root_in_raw": root.relative_to(out).as_posix()}
    return {"root": str(root)}


def _split_counts(split: np.ndarray | None) -> dict[str, int]:
    if split is None:
        return {}
    names, counts = np.unique(split[split != ""], return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts)}
