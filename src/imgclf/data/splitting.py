"""Stratified, seeded train / validation / test split."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from imgclf.data.dataset import ImageSet
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


def keep_given_split(data: ImageSet, validation: float, seed: int) -> dict[str, ImageSet]:
    """The source's own train / validation / test parts.

    Without a given validation part, a stratified ``validation`` fraction of the given train
    part becomes one.
    """
    if data.given_split is None:
        raise PipelineError("split.keep_given: this source gives no train/test split of its own")
    present = set(data.given_split.tolist())
    if not {"train", "test"} <= present:
        raise PipelineError(f"split.keep_given: the source gives only {sorted(present)}; it needs train and test")
    parts = {name: data.subset(np.flatnonzero(data.given_split == name)) for name in SPLIT_NAMES if name in present}
    if "validation" not in parts:
        parts["train"], parts["validation"] = holdout_split(parts["train"], validation, seed)
    return {name: parts[name] for name in SPLIT_NAMES}


def holdout_split(data: ImageSet, held_out: float | int, seed: int) -> tuple[ImageSet, ImageSet]:
    """Hold out a stratified share of ``data`` (a fraction, or a number of images).

    Both parts keep the original order of the images.
    """
    try:
        kept, held = train_test_split(
            np.arange(len(data)), test_size=held_out, stratify=data.labels, random_state=seed
        )
    except ValueError as exc:
        raise PipelineError(f"cannot hold out {held_out:g} of {len(data)} images stratified by class: {exc}") from None
    return data.subset(np.sort(kept)), data.subset(np.sort(held))
