import keras
import numpy as np
import pytest

from imgclf.models.applications import IMAGENET_FILES, application_base
from imgclf.errors import PipelineError
from imgclf.params import HeadParams
from imgclf.models.transfer import build_transfer_model, trainable_weight_count, unfreeze_from


def test_vgg16_random_weights_adapts_grayscale_and_small_images():
    base = application_base("VGG16", None, (28, 28, 1))
    assert base.get_layer("block3_conv1") is not None
    assert base.output_shape == (None, 512)
    out = base.predict(np.zeros((2, 28, 28, 1), np.uint8), verbose=0)
    assert out.shape == (2, 512)
    model = build_transfer_model(base, 2, HeadParams(units=8))
    frozen = trainable_weight_count(model)
    unfreeze_from(model, "block5_conv1", "adapt")
    block5 = 3 * (3 * 3 * 512 * 512 + 512)
    assert trainable_weight_count(model) == frozen + block5


def test_local_weights_file_is_loaded(tmp_path):
    source = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    path = tmp_path / "mobilenet.weights.h5"
    source.save_weights(path)
    base = application_base("MobileNetV2", str(path), (32, 32, 3))
    np.testing.assert_array_equal(base.get_layer("Conv1").kernel.numpy(), source.get_layer("Conv1").kernel.numpy())


def test_model_with_application_base_round_trips_safely(tmp_path):
    base = application_base("MobileNetV2", None, (20, 20, 1))
    model = build_transfer_model(base, 3, HeadParams(units=4))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    images = np.random.default_rng(0).integers(0, 255, (2, 20, 20, 1), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-5)


def test_missing_weights_file_is_named(tmp_path):
    with pytest.raises(PipelineError, match="transfer.base.weights: no weights file at .*nope.h5"):
        application_base("ResNet50", str(tmp_path / "nope.h5"), (32, 32, 3))


def test_imagenet_weights_offline_name_the_file_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    try:
        base = application_base("EfficientNetB0", "imagenet", (32, 32, 3))
    except PipelineError as error:  # no network: the case this project runs in
        assert IMAGENET_FILES["EfficientNetB0"] in str(error)
        assert str(tmp_path / "models") in str(error)
    else:  # a machine with network downloads them into the cache
        assert (tmp_path / "models" / IMAGENET_FILES["EfficientNetB0"]).exists()
        assert base.output_shape == (None, 1280)
