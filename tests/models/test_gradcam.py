"""Grad-CAM on tiny CNNs really trained on a task decided by the top-left quadrant."""

import keras
import numpy as np
import pytest

from imgclf.models.applications import application_base
from imgclf.models.cnn import build_cnn, feature_extractor
from imgclf.models.gradcam import gradcam, last_conv_path, overlay
from imgclf.models.presets import layer_specs
from imgclf.models.transfer import build_transfer_model
from imgclf.params import CnnParams, HeadParams

SIZE = 32


def quadrant_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32x32 grey noise; class 1 has a bright 6x6 patch somewhere in the top-left quadrant."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 110, (n, SIZE, SIZE, 1)).astype(np.uint8)
    labels = np.arange(n) % 2
    for i in np.flatnonzero(labels):
        r, c = rng.integers(0, SIZE // 2 - 6, 2)
        images[i, r:r + 6, c:c + 6] = 250
    return images, labels


def specs(*layers: dict) -> list:
    return layer_specs(CnnParams(architecture=list(layers)).architecture)


def top_left_share(maps: np.ndarray) -> np.ndarray:
    """The share of each map's mass in the top-left quadrant."""
    half = SIZE // 2
    return maps[:, :half, :half].sum(axis=(1, 2)) / maps.sum(axis=(1, 2))


@pytest.fixture(scope="module")
def trained():
    """A two-conv CNN trained for a few seconds (seeded), and held-out images of the task."""
    keras.utils.set_random_seed(0)
    layers = specs({"type": "conv", "filters": 8, "kernel": 3, "padding": "same"}, {"type": "max_pool", "size": 2},
                   {"type": "conv", "filters": 16, "kernel": 3, "padding": "same"}, {"type": "global_max_pool"})
    model = build_cnn(layers, (SIZE, SIZE, 1), 2)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    images, labels = quadrant_task(400, seed=1)
    model.fit(images, labels, epochs=6, batch_size=32, verbose=0)
    test_images, test_labels = quadrant_task(40, seed=2)
    accuracy = model.evaluate(test_images, test_labels, verbose=0)[1]
    assert accuracy > 0.9, f"the tiny CNN did not learn the task (accuracy {accuracy:.2f})"
    return model, test_images, test_labels


def test_map_has_the_image_size_is_finite_and_lies_in_the_deciding_quadrant(trained):
    model, images, labels = trained
    positives = images[labels == 1]
    maps = gradcam(model, positives, np.ones(len(positives), int))
    assert maps.shape == positives.shape[:3] and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() >= 0.0 and np.allclose(maps.max(axis=(1, 2)), 1.0)
    share = top_left_share(maps)
    assert np.median(share) > 0.5 and (share > 0.5).mean() >= 0.8, share.round(2)
    # Without classes given, each image is explained for its predicted class: the positives' maps are the same.
    assert np.array_equal(gradcam(model, positives), maps)


def test_maps_are_the_same_run_to_run(trained):
    model, images, _ = trained
    assert np.array_equal(gradcam(model, images[:8]), gradcam(model, images[:8]))


def test_nested_base_of_a_transfer_model(trained):
    """The trained CNN's conv part as the frozen base of a transfer model, its head trained: the
    last conv layer is found inside the base, and the map still points at the patch."""
    model, images, labels = trained
    keras.utils.set_random_seed(0)
    transfer = build_transfer_model(feature_extractor(model), 2, HeadParams(units=8, dropout=0.0))
    assert [layer.name for layer in last_conv_path(transfer)] == ["base", "conv_2"]
    transfer.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    transfer.fit(*quadrant_task(400, seed=1), epochs=4, batch_size=32, verbose=0)
    positives = images[labels == 1]
    maps = gradcam(transfer, positives, np.ones(len(positives), int))
    assert maps.shape == positives.shape[:3] and np.isfinite(maps).all()
    assert np.median(top_left_share(maps)) > 0.5


def test_keras_application_base_with_its_own_input_layer():
    """MobileNetV2 (random weights) resizes 20x20 grey images to 32x32 inside: the map comes back at 20x20."""
    base = application_base("MobileNetV2", None, (20, 20, 1))
    model = build_transfer_model(base, 3, HeadParams(units=4, dropout=0.0))
    assert last_conv_path(model)[-1].name == "Conv_1"
    images = np.random.default_rng(0).integers(0, 255, (2, 20, 20, 1)).astype(np.uint8)
    maps = gradcam(model, images)
    assert maps.shape == (2, 20, 20) and np.isfinite(maps).all()


def test_models_without_a_conv_layer_are_refused():
    dense = build_cnn(specs({"type": "flatten"}, {"type": "dense", "units": 4}), (8, 8, 1), 3)
    with pytest.raises(ValueError, match="has no Conv2D layer"):
        gradcam(dense, np.zeros((1, 8, 8, 1), np.uint8))


def test_overlay_is_rgb_uint8_of_the_image_size():
    grey = np.full((10, 12, 1), 100, np.uint8)
    heat = np.zeros((10, 12), np.float32)
    heat[:5, :6] = 1.0
    picture = overlay(grey, heat)
    assert picture.shape == (10, 12, 3) and picture.dtype == np.uint8
    # JET: 1.0 is dark red, 0.0 dark blue; the grey image shows through both.
    assert picture[0, 0, 0] > picture[0, 0, 2] and picture[9, 11, 2] > picture[9, 11, 0]
    assert np.array_equal(overlay(np.repeat(grey, 3, axis=-1), heat), picture)


def test_augmentation_layers_stay_off():
    """Augmentation runs in training only: explaining the same images twice gives the same maps."""
    from imgclf.params import AugmentationParams

    keras.utils.set_random_seed(0)
    layers = specs({"type": "conv", "filters": 4, "kernel": 3}, {"type": "global_avg_pool"})
    model = build_cnn(layers, (SIZE, SIZE, 1), 3, augmentation=AugmentationParams(rotation=30, zoom=0.2, horizontal_flip=True))
    images, _ = quadrant_task(4, seed=3)
    assert np.array_equal(gradcam(model, images, np.zeros(4, int)), gradcam(model, images, np.zeros(4, int)))
