import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from imgclf.data.dataset import ImageSet
from imgclf.errors import PipelineError
from imgclf.data.splitting import (
    duplicate_groups, duplicates_across, holdout_split, keep_given_split, stratified_split,
)
from tests.helpers import make_imageset


def test_split_sizes_stratified_disjoint_and_seeded():
    data = make_imageset(n_per_class=40, n_classes=5)
    parts = stratified_split(data, 0.7, 0.15, 0.15, seed=1)
    assert {k: len(v) for k, v in parts.items()} == {"train": 140, "validation": 30, "test": 30}
    assert set(parts["test"].class_counts().values()) == {6}
    fingerprints = [{img.tobytes() for img in part.images} for part in parts.values()]
    assert not (fingerprints[0] & fingerprints[1] or fingerprints[0] & fingerprints[2] or fingerprints[1] & fingerprints[2])
    again = stratified_split(data, 0.7, 0.15, 0.15, seed=1)
    np.testing.assert_array_equal(again["test"].images, parts["test"].images)
    other = stratified_split(data, 0.7, 0.15, 0.15, seed=2)
    assert not np.array_equal(other["test"].images, parts["test"].images)


def test_too_few_images_names_the_class():
    data = make_imageset(n_per_class=3, n_classes=2)
    with pytest.raises(PipelineError, match="class 'class0' has 3 images"):
        stratified_split(data, 0.7, 0.15, 0.15, seed=0)


def with_duplicates(data: ImageSet, n_groups: int = 12, copies: int = 2) -> ImageSet:
    """``data`` where, in each of ``n_groups`` groups, ``copies`` further images of the same
    class are overwritten by the group's first one (spread over the set, not adjacent)."""
    images = data.images.copy()
    rng = np.random.default_rng(7)
    free = list(rng.permutation(len(data)))
    for _ in range(n_groups):
        first = free.pop()
        same = [i for i in free if data.labels[i] == data.labels[first]][:copies]
        for i in same:
            free.remove(i)
            images[i] = images[first]
    return ImageSet(images, data.labels, data.class_names, data.given_split)


def parts_of_each_picture(parts: dict[str, ImageSet]) -> dict[bytes, set[str]]:
    where: dict[bytes, set[str]] = {}
    for name, part in parts.items():
        for image in part.images:
            where.setdefault(image.tobytes(), set()).add(name)
    return where


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identical_images_land_in_one_part(seed):
    data = with_duplicates(make_imageset(n_per_class=40, n_classes=5))
    assert duplicate_groups(data) == 12
    parts = stratified_split(data, 0.7, 0.15, 0.15, seed=seed)
    assert sum(len(p) for p in parts.values()) == len(data)
    assert all(len(names) == 1 for names in parts_of_each_picture(parts).values())
    assert sum(duplicate_groups(p) for p in parts.values()) == 12 and duplicates_across(parts) == 0
    # still stratified: 176 distinct images (12 groups of 3), 26 in test, 5 or 6 of each class
    test = parts["test"]
    distinct = [len({img.tobytes() for img in test.images[test.labels == k]}) for k in range(5)]
    assert sum(distinct) == 26 and set(distinct) <= {5, 6}
    for part in parts.values():  # each part keeps the images' original order
        inside = {img.tobytes() for img in part.images}
        np.testing.assert_array_equal(part.images, data.images[[img.tobytes() in inside for img in data.images]])


def test_keep_given_validation_holds_duplicates_together_given_parts_as_published():
    base = make_imageset(n_per_class=30, n_classes=3)
    given = np.array(["train"] * len(base))
    given[::5] = "test"
    images = with_duplicates(base, n_groups=8).images
    images[5] = images[6]  # a test image also in train: kept as published
    data = ImageSet(images, base.labels, base.class_names, given)
    for seed in range(3):
        parts = keep_given_split(data, 0.3, seed)
        np.testing.assert_array_equal(parts["test"].images, data.images[given == "test"])
        train = {img.tobytes() for img in parts["train"].images}
        assert not train & {img.tobytes() for img in parts["validation"].images}
        assert duplicates_across(parts) >= 1  # the published one, test and train or validation


def test_without_duplicates_the_split_is_sklearns():
    data = make_imageset(n_per_class=37, n_classes=4, seed=3)
    assert duplicate_groups(data) == 0
    for seed in (0, 42):
        parts = stratified_split(data, 0.7, 0.15, 0.15, seed=seed)
        n = len(data)
        rest, test = train_test_split(np.arange(n), test_size=round(0.15 * n), stratify=data.labels, random_state=seed)
        rest = np.sort(rest)
        train, validation = train_test_split(np.arange(len(rest)), test_size=round(0.15 * n),
                                             stratify=data.labels[rest], random_state=seed)
        expected = {"train": rest[np.sort(train)], "validation": rest[np.sort(validation)], "test": np.sort(test)}
        for name, index in expected.items():
            np.testing.assert_array_equal(parts[name].images, data.images[index])
            np.testing.assert_array_equal(parts[name].labels, data.labels[index])


def test_without_duplicates_keep_given_and_holdout_are_sklearns():
    base = make_imageset(n_per_class=30, n_classes=3, seed=4)
    given = np.where(np.arange(len(base)) % 4 == 0, "test", "train")
    data = ImageSet(base.images, base.labels, base.class_names, given)
    parts = keep_given_split(data, 0.2, seed=5)
    train_index = np.flatnonzero(given == "train")
    kept, held = train_test_split(np.arange(len(train_index)), test_size=0.2,
                                  stratify=data.labels[train_index], random_state=5)
    np.testing.assert_array_equal(parts["train"].images, data.images[train_index[np.sort(kept)]])
    np.testing.assert_array_equal(parts["validation"].images, data.images[train_index[np.sort(held)]])
    kept_part, held_part = holdout_split(base, 0.15, 9)
    kept, held = train_test_split(np.arange(len(base)), test_size=0.15, stratify=base.labels, random_state=9)
    np.testing.assert_array_equal(held_part.images, base.images[np.sort(held)])


def test_holdout_too_small_names_the_counts():
    data = with_duplicates(make_imageset(n_per_class=4, n_classes=2), n_groups=1, copies=1)
    with pytest.raises(PipelineError, match=r"cannot hold out 1 of 8 images \(7 distinct\) stratified by class"):
        holdout_split(data, 1, seed=0)
