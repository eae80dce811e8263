"""Stratified, seeded train / validation / test split."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from imgclf.dataset import ImageSet
from imgclf.errors import PipelineError

SPLIT_NAMES = ("train", "validation", "test")


def stratified_split(
    data: ImageSet, train: float, validation: float, test: float, seed: int
) -> dict[str, ImageSet]:
    """Split ``data`` so that each part keeps the class proportions; fractions add up to 1."""
    counts = data.class_counts()
    smallest = min(counts, key=counts.get)
    needed = max(3, int(np.ceil(1.0 / min(train, validation, test))))
    if counts[smallest] < needed:
        raise PipelineError(
            f"class {smallest!r} has {counts[smallest]} images; the split "
            f"{train:g}/{validation:g}/{test:g} needs at least {needed} per class"
        )
    n_test = round(test * len(data))
    n_validation = round(validation * len(data))
    rest, test_part = holdout_split(data, n_test, seed)
    train_part, validation_part = holdout_split(rest, n_validation, seed)
    return dict(zip(SPLIT_NAMES, (train_part, validation_part, test_part)))


def holdout_split(data: ImageSet, held_out: float | int, seed: int) -> tuple[ImageSet, ImageSet]:
    """Hold out a stratified share of ``data`` (a fraction, or a number of images).

    Both parts keep the original order of the images.
    """
    kept, held = train_test_split(
        np.arange(len(data)), test_size=held_out, stratify=data.labels, random_state=seed
    )
    return data.subset(np.sort(kept)), data.subset(np.sort(held))
