import numpy as np

from imgclf.images import convert_color, prepare_images, resize_image
from tests.conftest import make_imageset


def test_shrink_uses_area_averaging():
    image = np.zeros((4, 4, 1), np.uint8)
    image[:2, :2] = 200
    out = resize_image(image, (2, 2))
    assert out.shape == (2, 2, 1)
    np.testing.assert_array_equal(out[..., 0], [[200, 0], [0, 0]])


def test_grow_and_color_conversion():
    image = np.full((8, 8, 1), 100, np.uint8)
    rgb = convert_color(image, "rgb")
    assert rgb.shape == (8, 8, 3) and (rgb == 100).all()
    assert convert_color(rgb, "grayscale").shape == (8, 8, 1)
    assert resize_image(image, (28, 30)).shape == (28, 30, 1)


def test_prepare_images_keeps_labels():
    data = make_imageset(n_per_class=4, size=12)
    out = prepare_images(data, (6, 5), "rgb")
    assert out.images.shape == (12, 6, 5, 3)
    np.testing.assert_array_equal(out.labels, data.labels)
    assert out.class_names == data.class_names
