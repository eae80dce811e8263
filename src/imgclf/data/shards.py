"""Prepared data on disk: the pixels in ``.npy`` shards of bounded size, beside an index.

``preprocess`` writes ``data/prepared``:

- ``shard-00000.npy``, ``shard-00001.npy``, ...: ``(n, H, W, C)`` uint8 images, at most
  ``preprocess.shard_mb`` each, in the order of the index;
- ``index.npz``: per image its label, the 16-byte digest of its pixels, its source (the file in
  the image folder, or the row of the array source) and the split the source gave it; the class
  names; the number of images in each shard.

``split`` reads only the index and writes each part as the row numbers of its images
(``data/split/<part>.npy``): 8 bytes an image, not a copy of the pixels. Readers take a part's
rows from the shards (:mod:`imgclf.data.parts`).

Why ``.npy`` shards and not TFRecord: every image is at a fixed offset of its shard, so any
row is one positioned read with nothing to parse (TFRecord is read in sequence, a protobuf per
image), a shard also opens with ``np.load(mmap_mode="r")`` for a look by hand, and the data
stages stay free of TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from imgclf import layout
from imgclf.data.dataset import ImageSet, class_counts, content_sha256, pixel_digests
from imgclf.errors import PipelineError
from imgclf.outputs import atomic_path, save_arrays, write_json
from imgclf.params import PreprocessParams

INDEX_FILE = "index.npz"


def shard_name(number: int) -> str:
    """The file name of shard ``number``."""
    return f"shard-{number:05d}.npy"


def images_per_shard(image_shape: tuple[int, ...], shard_mb: int) -> int:
    """How many images of ``image_shape`` (uint8) fit in ``shard_mb`` MiB; at least one."""
    return max(1, shard_mb * 2**20 // int(np.prod(image_shape)))


@dataclass(frozen=True)
class ImageIndex:
    """What is known of prepared images without their pixels: for each image its row in the
    prepared data, label, pixel digest, source and given split, and the class names.

    It has the members of :class:`ImageSet` that splitting needs (``labels``, ``class_names``,
    ``given_split``, ``pixel_digests``, ``subset``), so a split is computed on it alone.
    """

    rows: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    pixel_digests: np.ndarray
    sources: np.ndarray
    given_split: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "ImageIndex":
        """The entries at ``index``, same classes."""
        split = None if self.given_split is None else self.given_split[index]
        return ImageIndex(self.rows[index], self.labels[index], self.class_names, self.pixel_digests[index],
                          self.sources[index], split)

    def class_counts(self) -> dict[str, int]:
        """Number of images per class name, every class listed."""
        return class_counts(self.labels, self.class_names)


class ShardWriter:
    """Writes images to ``.npy`` shards in ``folder`` as they come, then the index.

    Each :meth:`add` call's images go to shards of at most ``per_shard`` images; only the
    images of one call are ever held, so a caller adding a shard's worth at a time keeps its
    memory at one shard.
    """

    def __init__(self, folder: Path, image_shape: tuple[int, ...], shard_mb: int) -> None:
        self.folder, self.image_shape = folder, tuple(int(d) for d in image_shape)
        self.per_shard = images_per_shard(self.image_shape, shard_mb)
        folder.mkdir(parents=True, exist_ok=True)
        self.shard_sizes: list[int] = []
        self.labels: list[np.ndarray] = []
        self.digests: list[np.ndarray] = []
        self.sources: list[np.ndarray] = []
        self.splits: list[np.ndarray] = []

    def add(self, images: np.ndarray, labels: np.ndarray, sources: np.ndarray, given_split: np.ndarray) -> None:
        """Append ``images`` (uint8 NHWC) with their labels, sources and given split ('' for none)."""
        if images.shape[1:] != self.image_shape or images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 {self.image_shape}, got {images.dtype} {images.shape[1:]}")
        for start in range(0, len(images), self.per_shard):
            chunk = slice(start, start + self.per_shard)
            with atomic_path(self.folder / shard_name(len(self.shard_sizes))) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, np.ascontiguousarray(images[chunk]))
            self.shard_sizes.append(len(images[chunk]))
            self.digests.append(pixel_digests(images[chunk]))
        self.labels.append(np.asarray(labels, dtype=np.int64))
        self.sources.append(np.asarray(sources, dtype=str))
        self.splits.append(np.asarray(given_split, dtype=str))

    def close(self, class_names: Iterable[str]) -> ImageIndex:
        """Write the index and return it."""
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, np.int64)
        split = np.concatenate(self.splits) if self.splits else np.zeros(0, str)
        index = ImageIndex(
            np.arange(len(labels)), labels, tuple(class_names),
            np.concatenate(self.digests) if self.digests else np.zeros(0, "S16"),
            np.concatenate(self.sources) if self.sources else np.zeros(0, str),
            split if (split != "").any() else None,
        )
        extra = {} if index.given_split is None else {"given_split": index.given_split}
        save_arrays(self.folder / INDEX_FILE, labels=index.labels, pixel_digests=index.pixel_digests,
                    sources=index.sources, class_names=np.array(index.class_names, dtype=str),
                    shard_sizes=np.array(self.shard_sizes, dtype=np.int64),
                    image_shape=np.array(self.image_shape, dtype=np.int64), **extra)
        return index


def write_shards(folder: Path, data: ImageSet, shard_mb: int, sources: np.ndarray | None = None) -> ImageIndex:
    """Write ``data`` (already in memory) to shards and an index in ``folder``."""
    writer = ShardWriter(folder, data.images.shape[1:], shard_mb)
    sources = np.array([f"{i}" for i in range(len(data))]) if sources is None else sources
    split = data.given_split if data.given_split is not None else np.full(len(data), "")
    writer.add(data.images, data.labels, sources, split)
    return writer.close(data.class_names)


def index_content_sha256(index: ImageIndex, image_shape: tuple[int, ...]) -> str:
    """The prepared data's :func:`content_sha256`, from its index alone (equal to the in-memory
    :meth:`ImageSet.content_sha256` of the same images)."""
    return content_sha256(image_shape, index.class_names, index.pixel_digests, index.labels, index.given_split)


def write_manifest(folder: Path, index: ImageIndex, image_shape: tuple[int, ...], color: str) -> None:
    """``manifest.json`` beside the shards: what they hold, for people and for the model card."""
    write_json(folder / layout.MANIFEST_FILE, {
        "images": len(index),
        "image_shape": [int(d) for d in image_shape],
        "color": color,
        "class_names": list(index.class_names),
        "class_counts": index.class_counts(),
        "shards": len(list(folder.glob("shard-*.npy"))),
        "content_sha256": index_content_sha256(index, image_shape),
    })


def read_index(folder: Path) -> dict[str, np.ndarray]:
    """The arrays of the index in ``folder``."""
    path = folder / INDEX_FILE
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found (run preprocess first)") from None
    except (ValueError, OSError) as exc:
        raise PipelineError(f"{path}: not a valid index of prepared images: {exc}") from None


def load_index(folder: Path = layout.PREPARED) -> ImageIndex:
    """The index of the prepared images in ``folder``."""
    f = read_index(folder)
    try:
        return ImageIndex(np.arange(len(f["labels"])), f["labels"], tuple(str(c) for c in f["class_names"]),
                          f["pixel_digests"], f["sources"], f.get("given_split"))
    except KeyError as exc:
        raise PipelineError(f"{folder / INDEX_FILE}: not a valid index of prepared images: no {exc}") from None


def save_rows(path: Path, part: ImageIndex) -> None:
    """Write a split part as the rows of its images in the prepared data."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, part.rows.astype(np.int64))


def save_parts(parts: dict[str, ImageSet], prepared: Path, split: Path, shard_mb: int | None = None) -> None:
    """Write in-memory parts as prepared shards (the parts one after another; ``shard_mb`` by
    default ``preprocess.shard_mb``'s) and split rows: what preprocess and split would make of
    them, for tests and benchmarks."""
    names = list(parts)
    first = parts[names[0]]
    whole = ImageSet(np.concatenate([parts[n].images for n in names]), np.concatenate([parts[n].labels for n in names]),
                     first.class_names)
    prepared.mkdir(parents=True, exist_ok=True)
    split.mkdir(parents=True, exist_ok=True)
    index = write_shards(prepared, whole, shard_mb or PreprocessParams().shard_mb)
    write_manifest(prepared, index, whole.images.shape[1:], "rgb" if whole.images.shape[-1] == 3 else "grayscale")
    start = 0
    for n in names:
        save_rows(layout.split_file(n, split), index.subset(np.arange(start, start + len(parts[n]))))
        start += len(parts[n])
