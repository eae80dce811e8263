import numpy as np
import pytest

from imgclf.errors import PipelineError
from imgclf.data.splitting import stratified_split
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
