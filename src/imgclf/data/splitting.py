"""Stratified, seeded train / validation / test split.

Pixel-identical images form a group that lands wholly in one part, so the same picture never
sits in train and test. Images are compared by a digest of their pixels
(:attr:`ImageSet.pixel_digests`), not by the pixels: 16 bytes an image, not another copy of the
data, hashed once. Each group is represented by its first image: the representatives are split
stratified by class, then every group follows its representative. Without duplicates
the representatives are all the images, and the split is the plain stratified one.

Every function takes an :class:`ImageSet` or the pixel-free :class:`ImageIndex` of prepared
shards (the split stage's case) and returns parts of that kind.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from sklearn.model_selection import train_test_split

from imgclf.data.dataset import ImageSet
from imgclf.data.shards import ImageIndex
from imgclf.errors import PipelineError

SPLIT_NAMES = ("train", "validation", "test")
Images = TypeVar("Images", ImageSet, ImageIndex)


def duplicate_ids(data: Images) -> np.ndarray:
    """A group number per image: equal for images with identical pixels."""
    return _group_numbers(data.pixel_digests)


def _group_numbers(digests: np.ndarray) -> np.ndarray:
    return np.unique(digests, return_inverse=True)[1].reshape(-1).astype(np.int64)


def duplicate_groups(data: Images, groups: np.ndarray | None = None) -> int:
    """How many groups of two or more pixel-identical images ``data`` holds."""
    groups = duplicate_ids(data) if groups is None else groups
    return int((np.bincount(groups) > 1).sum()) if len(groups) else 0


def duplicates_across(parts: dict[str, Images]) -> int:
    """How many groups of pixel-identical images have copies in more than one of ``parts``."""
    sets = [part for part in parts.values() if len(part)]
    if len(sets) < 2:
        return 0
    groups = _group_numbers(np.concatenate([part.pixel_digests for part in sets]))
    where = np.repeat(np.arange(len(sets)), [len(part) for part in sets])
    pairs = np.unique(np.stack([groups, where]), axis=1)
    return int((np.bincount(pairs[0]) > 1).sum())


def stratified_split(
    data: Images, train: float, validation: float, test: float, seed: int
) -> dict[str, Images]:
    """Split ``data`` so that each part keeps the class proportions; fractions add up to 1.

    The fractions count distinct images (groups of duplicates count once).
    """
    groups = duplicate_ids(data)
    members = np.arange(len(data))
    reps = _representatives(members, groups)
    counts = np.bincount(data.labels[reps], minlength=len(data.class_names))
    smallest = int(np.argmin(counts))
    needed = max(3, int(np.ceil(1.0 / min(train, validation, test))))
    if counts[smallest] < needed:
        total = int((data.labels == smallest).sum())
        distinct = f" ({counts[smallest]} distinct)" if total != counts[smallest] else ""
        raise PipelineError(
            f"class {data.class_names[smallest]!r} has {total} images{distinct}; the split "
            f"{train:g}/{validation:g}/{test:g} needs at least {needed} per class"
        )
    n_test = round(test * len(reps))
    n_validation = round(validation * len(reps))
    rest, test_index = _grouped_holdout(data.labels, members, groups, n_test, seed)
    train_index, validation_index = _grouped_holdout(data.labels, rest, groups, n_validation, seed)
    return {name: data.subset(index) for name, index in
            zip(SPLIT_NAMES, (train_index, validation_index, test_index))}


def keep_given_split(data: Images, validation: float, seed: int) -> dict[str, Images]:
    """The source's own train / validation / test parts.

    Without a given validation part, a stratified ``validation`` fraction of the given train
    part becomes one; duplicates within the given train part stay on one side. The given
    train and test are kept as published, duplicates across them included.
    """
    if data.given_split is None:
        raise PipelineError("split.keep_given: this source gives no train/test split of its own")
    present = set(data.given_split.tolist())
    if not {"train", "test"} <= present:
        raise PipelineError(f"split.keep_given: the source gives only {sorted(present)}; it needs train and test")
    index = {name: np.flatnonzero(data.given_split == name) for name in SPLIT_NAMES if name in present}
    if "validation" not in index:
        groups = duplicate_ids(data)
        index["train"], index["validation"] = _grouped_holdout(data.labels, index["train"], groups, validation, seed)
    return {name: data.subset(index[name]) for name in SPLIT_NAMES}


def holdout_split(data: ImageSet, held_out: float | int, seed: int) -> tuple[ImageSet, ImageSet]:
    """Hold out a stratified share of ``data`` (a fraction, or a number of distinct images).

    Pixel-identical images stay on one side; both parts keep the original order of the images.
    """
    kept, held = _grouped_holdout(data.labels, np.arange(len(data)), duplicate_ids(data), held_out, seed)
    return data.subset(kept), data.subset(held)


def _representatives(members: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The first of ``members`` (sorted image indices) in each group, in their order."""
    _, first = np.unique(groups[members], return_index=True)
    return members[np.sort(first)]


def _grouped_holdout(
    labels: np.ndarray, members: np.ndarray, groups: np.ndarray, held_out: float | int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split the image indices ``members`` (sorted) into kept and held-out, sorted.

    The groups' representatives are split with scikit-learn's stratified ``train_test_split``
    (``held_out`` is a fraction or a number of them); every image follows its group's one.
    """
    reps = _representatives(members, groups)
    try:
        _, held = train_test_split(
            np.arange(len(reps)), test_size=held_out, stratify=labels[reps], random_state=seed
        )
    except ValueError as exc:
        distinct = f" ({len(reps)} distinct)" if len(reps) != len(members) else ""
        raise PipelineError(
            f"cannot hold out {held_out:g} of {len(members)} images{distinct} stratified by class: {exc}"
        ) from None
    is_held = np.isin(groups[members], groups[reps[held]])
    return members[~is_held], members[is_held]
