import numpy as np
import pytest

from imgclf.errors import PipelineError
from imgclf.sources import cap_per_class, load_source


def test_mnist5k_is_the_embedded_real_digits():
    data = load_source("mnist5k")
    assert data.images.shape == (5000, 28, 28, 1)
    assert data.images.dtype == np.uint8
    assert set(data.class_counts().values()) == {500}
    assert data.images.max() == 255


def test_digits_scaled_to_full_range():
    data = load_source("digits")
    assert data.images.shape == (1797, 8, 8, 1)
    assert data.images.max() == 255


def test_cap_per_class_keeps_first_images(imageset):
    capped = cap_per_class(imageset, 5)
    assert set(capped.class_counts().values()) == {5}
    np.testing.assert_array_equal(capped.images[:5], imageset.images[:5])


def test_unknown_source():
    with pytest.raises(PipelineError, match="unknown dataset source 'nope'"):
        load_source("nope")
