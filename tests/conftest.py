"""Shared fixtures: small, real image sets built in memory, and a real MLflow store."""

from __future__ import annotations

import numpy as np
import pytest

from imgclf.dataset import ImageSet


def make_imageset(n_per_class: int = 20, n_classes: int = 3, size: int = 12, channels: int = 1, seed: int = 0) -> ImageSet:
    """Images whose class is visible: class k lights up the k-th horizontal band, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    images = rng.integers(0, 60, size=(len(labels), size, size, channels), dtype=np.uint8)
    band = size // n_classes
    for i, label in enumerate(labels):
        images[i, label * band:(label + 1) * band] += 180
    names = tuple(f"class{k}" for k in range(n_classes))
    return ImageSet(images, labels.astype(np.int64), names)


@pytest.fixture
def imageset() -> ImageSet:
    return make_imageset()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A real MLflow SQLite store in a temporary repository root (``DVC_ROOT``), for this
    process and the stage processes it starts."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    return tmp_path
