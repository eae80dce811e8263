"""What ``preprocess`` does: the raw data at the target size and colour, and what could not be used."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from imgclf.data.dataset import ImageSet, load_imageset
from imgclf.data.decoding import decode_images
from imgclf.data.images import prepare_images
from imgclf.errors import PipelineError
from imgclf.layout import FILES_FILE, IMAGES_FILE
from imgclf.params import PreprocessParams


def prepare(raw: Path, manifest: dict, params: PreprocessParams) -> tuple[ImageSet, dict]:
    """The raw data at the target size and colour, and a data-quality report.

    Files that cannot be decoded, or whose header declares more than ``max_pixels`` pixels, are
    skipped and listed; beyond ``max_bad_fraction`` of them the stage stops, naming the first few.
    """
    if manifest["kind"] == "arrays":
        data = prepare_images(load_imageset(raw / IMAGES_FILE), params.image_size, params.color, params.fit)
        return data, {"images": len(data), "bad": [], "bad_fraction": 0.0, "duplicates": []}
    with open(raw / FILES_FILE, newline="") as f:
        rows = list(csv.DictReader(f))
    root = raw / manifest["root_in_raw"] if "root_in_raw" in manifest else Path(manifest["root"])
    images, bad = decode_images([root / r["path"] for r in rows], params.image_size, params.color,
                                params.fit, params.workers, max_pixels=params.max_pixels)
    fraction = len(bad) / max(len(rows), 1)
    listed = [{"path": rows[i]["path"], "reason": reason} for i, reason in sorted(bad.items())]
    if fraction > params.max_bad_fraction:
        first = "; ".join(f"{b['path']} ({b['reason']})" for b in listed[:5])
        raise PipelineError(
            f"{len(bad)} of {len(rows)} images could not be used ({fraction:.1%}, over "
            f"preprocess.max_bad_fraction {params.max_bad_fraction:g}): {first}"
        )
    keep = np.array([i not in bad for i in range(len(rows))], dtype=bool)
    labels = np.array([int(r["label"]) for r in rows], dtype=np.int64)
    split = np.array([r["split"] for r in rows])
    if bad:  # else no copy of the pixels
        images, labels, split = images[keep], labels[keep], split[keep]
    data = ImageSet(images, labels, tuple(manifest["class_names"]), split if (split != "").any() else None)
    for name, count in data.class_counts().items():
        if count == 0:
            raise PipelineError(f"class {name!r} has no usable image left after skipping bad files")
    quality = {"images": len(rows), "used": int(keep.sum()), "bad": listed, "bad_fraction": round(fraction, 6),
               "duplicates": manifest.get("duplicates", [])}
    return data, quality
