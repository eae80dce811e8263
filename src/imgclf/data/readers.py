"""Readers for the canonical dataset formats; each names the file at fault when it is bad."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from imgclf.errors import PipelineError

IDX_TYPES = {0x08: np.uint8}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not): MNIST-style images ``(N, H, W)`` or labels ``(N,)``."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise PipelineError(f"{path}: truncated or corrupt file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise PipelineError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise PipelineError(f"{path}: {len(data)} bytes where its header {shape} needs {expected} (truncated?)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_keras_npz(path: Path) -> dict[str, np.ndarray]:
    """Keras' ``mnist.npz``: ``x_train``, ``y_train``, ``x_test``, ``y_test``."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, KeyError, zlib.error) as exc:
        raise PipelineError(f"{path}: not a valid Keras dataset .npz ({exc})") from None


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only: no other code can run."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _unpickle(data: bytes, where: str) -> dict:
    try:
        return _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise PipelineError(f"{where}: not a CIFAR-10 batch ({exc})") from None


def read_cifar10(path: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    """The CIFAR-10 python tarball: ``{"train": (images, labels), "test": ...}`` and class names.

    Images are ``(N, 32, 32, 3)`` uint8 RGB. Members are read from the archive, never extracted.
    """
    batches: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and (name.startswith(("data_batch_", "test_batch")) or name == "batches.meta"):
                    batches[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise PipelineError(f"{path}: truncated or corrupt tarball ({exc})") from None
    if "batches.meta" not in batches or "test_batch" not in batches:
        raise PipelineError(f"{path}: no CIFAR-10 batches.meta / test_batch inside")
    names = [n.decode() for n in _unpickle(batches["batches.meta"], f"{path}:batches.meta")[b"label_names"]]
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, keys in (("train", sorted(k for k in batches if k.startswith("data_batch_"))), ("test", ["test_batch"])):
        images, labels = [], []
        for key in keys:
            batch = _unpickle(batches[key], f"{path}:{key}")
            images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
        parts[split] = (np.concatenate(images), np.concatenate(labels))
    return parts, names


def read_digit_csv(path: Path, side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Kaggle's Digit Recognizer CSV: ``label,pixel0,...,pixel783`` to images and labels."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{path}: cannot read CSV ({exc})") from None
    pixels = [f"pixel{i}" for i in range(side * side)]
    missing = [c for c in ["label", *pixels] if c not in frame.columns]
    if missing:
        raise PipelineError(f"{path}: missing columns {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    values = frame[pixels].to_numpy()
    if values.min() < 0 or values.max() > 255:
        raise PipelineError(f"{path}: pixel values outside 0-255")
    return values.astype(np.uint8).reshape(-1, side, side), frame["label"].to_numpy(np.int64)
