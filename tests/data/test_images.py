import numpy as np

import pytest

from imgclf.data.images import convert_color, fit_to_size, prepare_images
from tests.helpers import make_imageset


def test_shrink_uses_area_averaging():
    image = np.zeros((4, 4, 1), np.uint8)
    image[:2, :2] = 200
    out = fit_to_size(image, (2, 2), "stretch")
    assert out.shape == (2, 2, 1)
    np.testing.assert_array_equal(out[..., 0], [[200, 0], [0, 0]])


def test_grow_and_color_conversion():
    image = np.full((8, 8, 1), 100, np.uint8)
    rgb = convert_color(image, "rgb")
    assert rgb.shape == (8, 8, 3) and (rgb == 100).all()
    assert convert_color(rgb, "grayscale").shape == (8, 8, 1)
    assert fit_to_size(image, (28, 30), "stretch").shape == (28, 30, 1)


def test_prepare_images_keeps_labels():
    data = make_imageset(n_per_class=4, size=12)
    out = prepare_images(data, (6, 5), "rgb", "stretch")
    assert out.images.shape == (12, 6, 5, 3)
    np.testing.assert_array_equal(out.labels, data.labels)
    assert out.class_names == data.class_names


@pytest.mark.parametrize("fit,expected_corner", [("stretch", 200), ("crop", 200), ("pad", 0)])
def test_fit_modes(fit, expected_corner):
    image = np.full((20, 40), 200, np.uint8)
    out = fit_to_size(image, (10, 10), fit)
    assert out.shape == (10, 10, 1)
    assert out[0, 0, 0] == expected_corner and out[5, 5, 0] == 200
