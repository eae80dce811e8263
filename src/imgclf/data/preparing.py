"""What ``preprocess`` does: the raw data at the target size and colour, written in shards, and
what could not be used."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from imgclf.data.dataset import load_imageset
from imgclf.data.decoding import decode_images
from imgclf.data.images import CHANNELS, prepare_images
from imgclf.data.shards import ImageIndex, ShardWriter, write_shards
from imgclf.errors import PipelineError
from imgclf.layout import FILES_FILE, IMAGES_FILE
from imgclf.params import PreprocessParams


def prepare(raw: Path, manifest: dict, params: PreprocessParams, out: Path) -> tuple[ImageIndex, dict]:
    """Write the raw data at the target size and colour to shards in ``out``; their index and a
    data-quality report.

    Image files are decoded a shard's worth at a time, so memory holds one shard. Files that
    cannot be decoded, or whose header declares more than ``max_pixels`` pixels, are skipped
    and listed; beyond ``max_bad_fraction`` of them the stage stops, naming the first few.
    """
    if manifest["kind"] == "arrays":
        data = prepare_images(load_imageset(raw / IMAGES_FILE), params.image_size, params.color, params.fit)
        index = write_shards(out, data, params.shard_mb, np.array([f"{IMAGES_FILE}[{i}]" for i in range(len(data))]))
        return index, {"images": len(data), "bad": [], "bad_fraction": 0.0, "duplicates": []}
    with open(raw / FILES_FILE, newline="") as f:
        rows = list(csv.DictReader(f))
    root = raw / manifest["root_in_raw"] if "root_in_raw" in manifest else Path(manifest["root"])
    writer = ShardWriter(out, (*params.image_size, CHANNELS[params.color]), params.shard_mb)
    bad: dict[int, str] = {}
    for start in range(0, len(rows), writer.per_shard):
        chunk = rows[start:start + writer.per_shard]
        images, chunk_bad = decode_images([root / r["path"] for r in chunk], params.image_size, params.color,
                                          params.fit, params.workers, max_pixels=params.max_pixels)
        bad.update({start + i: reason for i, reason in chunk_bad.items()})
        keep = [i for i in range(len(chunk)) if i not in chunk_bad]
        if chunk_bad:  # else no copy of the pixels
            images = images[keep]
        writer.add(images, [int(chunk[i]["label"]) for i in keep], [chunk[i]["path"] for i in keep],
                   [chunk[i]["split"] for i in keep])
        del images
    fraction = len(bad) / max(len(rows), 1)
    listed = [{"path": rows[i]["path"], "reason": reason} for i, reason in sorted(bad.items())]
    if fraction > params.max_bad_fraction:
        first = "; ".join(f"{b['path']} ({b['reason']})" for b in listed[:5])
        raise PipelineError(
            f"{len(bad)} of {len(rows)} images could not be used ({fraction:.1%}, over "
            f"preprocess.max_bad_fraction {params.max_bad_fraction:g}): {first}"
        )
    index = writer.close(manifest["class_names"])
    for name, count in index.class_counts().items():
        if count == 0:
            raise PipelineError(f"class {name!r} has no usable image left after skipping bad files")
    quality = {"images": len(rows), "used": len(index), "bad": listed, "bad_fraction": round(fraction, 6),
               "duplicates": manifest.get("duplicates", [])}
    return index, quality
