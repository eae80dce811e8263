"""Reading split parts from the prepared shards (:mod:`imgclf.data.shards`): in memory
(:func:`load_part`), or left on disk and read a batch at a time (:func:`open_part`), which is
how training streams them."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgclf import layout
from imgclf.data.dataset import ImageSet, class_counts
from imgclf.data.shards import read_index, shard_name
from imgclf.errors import PipelineError


class ShardReader:
    """Reads any rows of the prepared images, shard by shard, with positioned reads (``pread``)
    into the caller's array: nothing is mapped, so memory holds only the rows asked for, and
    threads (tf.data's) may read at once."""

    def __init__(self, folder: Path) -> None:
        self._open: dict[int, tuple[int, int]] = {}  # shard number: (file descriptor, data offset)
        self._opening = threading.Lock()
        self.index = f = read_index(folder)
        self.class_names = tuple(str(c) for c in f["class_names"])
        self.folder = folder
        self.sizes = f["shard_sizes"]
        self.image_shape = tuple(int(d) for d in f["image_shape"])
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.row_bytes = int(np.prod(self.image_shape))

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def check(self, rows: np.ndarray, what: str) -> None:
        """Refuse ``rows`` that are not rows of the prepared images, naming ``what`` holds them."""
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise PipelineError(f"{what}: rows outside the {len(self)} prepared images (re-run split after preprocess)")

    def open_shards(self, rows: np.ndarray) -> None:
        """Open (and check) every shard that holds one of ``rows``."""
        for number in np.unique(np.searchsorted(self.offsets, rows, side="right") - 1).tolist():
            self._shard(number)

    def _shard(self, number: int) -> tuple[int, int]:
        with self._opening:  # tf.data's threads read at once
            if number not in self._open:
                self._open[number] = self._open_shard(number)
        return self._open[number]

    def _open_shard(self, number: int) -> tuple[int, int]:
        """The file descriptor of shard ``number`` and where its pixels start, its header checked."""
        path = self.folder / shard_name(number)
        try:
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                header = np.lib.format.read_array_header_2_0 if version >= (2, 0) else np.lib.format.read_array_header_1_0
                shape, fortran, dtype = header(fh)
                start = fh.tell()
        except FileNotFoundError:
            raise PipelineError(f"{path}: not found (run preprocess first)") from None
        except ValueError as exc:
            raise PipelineError(f"{path}: not a .npy shard: {exc}") from None
        if shape != (int(self.sizes[number]), *self.image_shape) or dtype != np.uint8 or fortran:
            raise PipelineError(f"{path}: holds {dtype} {shape}, the index says uint8 "
                                f"{(int(self.sizes[number]), *self.image_shape)} (re-run preprocess)")
        return os.open(path, os.O_RDONLY), start

    def take(self, rows: np.ndarray, what: str = "rows") -> np.ndarray:
        """The images at ``rows`` (in that order), as a new ``(len(rows), H, W, C)`` uint8 array."""
        rows = np.asarray(rows, dtype=np.int64)
        self.check(rows, what)
        images = np.empty((len(rows), *self.image_shape), dtype=np.uint8)
        flat = images.reshape(len(rows), self.row_bytes)
        shard_of = np.searchsorted(self.offsets, rows, side="right") - 1
        for i, (row, number) in enumerate(zip(rows.tolist(), shard_of.tolist())):
            fd, start = self._shard(number)
            if os.preadv(fd, [flat[i]], start + (row - int(self.offsets[number])) * self.row_bytes) != self.row_bytes:
                raise PipelineError(f"{self.folder / shard_name(number)}: cut short (re-run preprocess)")
        return images

    def close(self) -> None:
        """Close the shards' files."""
        for fd, _ in getattr(self, "_open", {}).values():
            os.close(fd)
        self._open.clear()

    def __del__(self) -> None:
        self.close()


@dataclass
class ShardedPart:
    """A split part left on disk: its labels and class names in memory, its images read on
    demand (:meth:`take`) from the prepared shards. What training streams from."""

    rows: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    reader: ShardReader

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return self.reader.image_shape

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The images at ``positions`` in this part (0 to ``len - 1``)."""
        return self.reader.take(self.rows[positions])

    def __getitem__(self, index: int | slice | np.ndarray) -> np.ndarray:
        """Images read from the shards as an array of the part's images would give them: one
        image for an int, a batch for a slice or an array of positions."""
        rows = self.rows[index]
        return self.reader.take(rows) if rows.ndim else self.reader.take(rows[None])[0]

    def class_counts(self) -> dict[str, int]:
        """Number of images per class name, every class listed."""
        return class_counts(self.labels, self.class_names)


def gather(folder: Path, rows: np.ndarray | None, what: str = "rows") -> ImageSet:
    """The prepared images at ``rows`` (in that order; None: all of them) in memory, with their
    labels, class names, given split and pixel digests."""
    reader = ShardReader(folder)
    rows = np.arange(len(reader)) if rows is None else rows
    try:
        images = reader.take(rows, what)
    finally:
        reader.close()
    f = reader.index
    split = f.get("given_split")
    data = ImageSet(images, f["labels"][rows], reader.class_names, None if split is None else split[rows])
    data.__dict__["pixel_digests"] = f["pixel_digests"][rows]
    return data


def load_prepared(folder: Path = layout.PREPARED) -> ImageSet:
    """Every prepared image in memory, in index order."""
    return gather(folder, None, str(folder))


def load_rows(path: Path) -> np.ndarray:
    """A split part's rows, written by :func:`save_rows`."""
    try:
        rows = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found (run split first)") from None
    except (ValueError, OSError) as exc:
        raise PipelineError(f"{path}: not a valid split part: {exc}") from None
    if rows.ndim != 1 or rows.dtype.kind != "i":
        raise PipelineError(f"{path}: not a valid split part: {rows.dtype} {rows.shape}, not a list of rows")
    return rows


def load_part(name: str, prepared: Path = layout.PREPARED, split: Path = layout.SPLIT) -> ImageSet:
    """Split part ``name`` (``train``, ``validation``, ``test``) in memory, gathered from the shards."""
    path = layout.split_file(name, split)
    return gather(prepared, load_rows(path), str(path))


def open_part(name: str, prepared: Path = layout.PREPARED, split: Path = layout.SPLIT) -> ShardedPart:
    """Split part ``name`` left on disk, its images read as they are needed."""
    path = layout.split_file(name, split)
    rows = load_rows(path)
    reader = ShardReader(prepared)
    reader.check(rows, str(path))
    reader.open_shards(rows)  # a missing or wrong shard stops here, not in the middle of training
    return ShardedPart(rows, reader.index["labels"][rows], reader.class_names, reader)
