import pytest

from imgclf.models.cnn import build_cnn, feature_extractor
from imgclf.errors import PipelineError
from imgclf.params import AugmentationParams, CnnParams
from imgclf.models.presets import PRESETS, layer_specs


def test_lenet_layers_as_in_the_tutorial():
    model = build_cnn(layer_specs("lenet"), (28, 28, 1), 10)
    shapes = {layer.name: layer.output.shape[1:] for layer in model.layers[1:]}
    assert shapes["conv_1"] == (24, 24, 20)
    assert shapes["max_pool_1"] == (12, 12, 20)
    assert shapes["conv_2"] == (8, 8, 50)
    assert shapes["dense_1"] == (500,)
    assert model.output_shape == (None, 10)
    assert model.get_layer("output").activation.__name__ == "softmax"


def test_fashion_bn_blocks_and_momentum():
    model = build_cnn(layer_specs("fashion_bn"), (28, 28, 1), 10)
    kinds = [layer.name.rsplit("_", 1)[0] for layer in model.layers[2:6]]
    assert kinds == ["conv", "batch_norm", "activation", "conv"]
    assert model.get_layer("conv_1").activation.__name__ == "linear"
    assert model.get_layer("batch_norm_1").momentum == 0.9
    assert [model.get_layer(f"dropout_{i}").rate for i in (1, 2, 3)] == [0.25, 0.30, 0.40]


@pytest.mark.parametrize("name,shape", [("catdog", (50, 50, 1)), ("catdog_bn", (64, 64, 3)), ("vgg_bn", (32, 32, 3)),
                                        ("cifar_small", (32, 32, 3))])
def test_tutorial_presets_build(name, shape):
    model = build_cnn(layer_specs(name), shape, 2)
    assert model.output_shape == (None, 1)
    assert model.get_layer("output").activation.__name__ == "sigmoid"


def test_catdog_bn_pools_globally_so_its_head_stays_small():
    model = build_cnn(layer_specs("catdog_bn"), (50, 50, 1), 2)
    assert [model.get_layer(f"batch_norm_{i}").momentum for i in (1, 2, 3, 4)] == [0.9] * 4
    assert feature_extractor(model).output_shape == (None, 256)
    assert model.get_layer("output").count_params() == 257  # 256 weights and a bias


def test_declared_layer_list_in_params():
    cnn = CnnParams(architecture=[
        {"type": "conv", "filters": 4, "kernel": 3, "padding": "same"},
        {"type": "global_avg_pool"},
        {"type": "dense", "units": 8, "activation": "tanh"},
    ])
    model = build_cnn(layer_specs(cnn.architecture), (10, 10, 3), 5, weight_decay=1e-3)
    assert model.get_layer("dense_1").activation.__name__ == "tanh"
    assert model.get_layer("conv_1").kernel_regularizer is not None
    assert model.output_shape == (None, 5)


def test_kernel_larger_than_input_names_the_layer():
    with pytest.raises(PipelineError, match=r"architecture layer 2 \(conv\) does not fit its input \(None, 2, 2, 20\)"):
        build_cnn(layer_specs("lenet"), (8, 8, 1), 10)


def test_augmentation_layers_present_only_when_asked():
    plain = build_cnn(layer_specs("lenet"), (28, 28, 1), 10)
    assert not [layer for layer in plain.layers if layer.name.startswith("augment")]
    augmented = build_cnn(layer_specs("lenet"), (28, 28, 1), 10, augmentation=AugmentationParams(
        rotation=10, width_shift=0.1, height_shift=0.1, shear=0.1, zoom=0.1, horizontal_flip=True))
    names = [layer.name for layer in augmented.layers if layer.name.startswith("augment")]
    assert names == ["augment_rotation", "augment_shift", "augment_shear", "augment_zoom", "augment_flip"]


def test_every_preset_is_valid():
    for name in PRESETS:
        assert layer_specs(name)


def test_feature_extractor_cuts_at_flatten():
    model = build_cnn(layer_specs("lenet"), (28, 28, 1), 10)
    base = feature_extractor(model)
    assert base.layers[-1].name == "flatten_1"
    assert base.output_shape == (None, 800)


def test_model_with_every_augmentation_saves_and_loads(tmp_path):
    import keras
    import numpy as np

    augmentation = AugmentationParams(rotation=15, width_shift=0.1, height_shift=0.1, shear=0.1, zoom=0.1, horizontal_flip=True)
    model = build_cnn(layer_specs("cifar_small"), (32, 32, 3), 2, augmentation=augmentation)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    images = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-5)
    assert loaded.get_layer("augment_shear").get_config()["x_factor"] == 0.1


@pytest.mark.parametrize("policy, half", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_mixed_precision_computes_in_half_with_a_float32_output_and_trains(policy, half, tmp_path):
    import keras
    import numpy as np

    from imgclf.models.training import compile_model
    from imgclf.params import FitParams

    specs = layer_specs(CnnParams(architecture=[
        {"type": "conv", "filters": 4, "kernel": 3}, {"type": "batch_norm"}, {"type": "max_pool"},
        {"type": "flatten"}, {"type": "dense", "units": 8}]).architecture)
    model = build_cnn(specs, (12, 12, 1), 3, mixed_precision=policy)
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was
    for name in ("rescale", "conv_1", "batch_norm_1", "dense_1"):
        layer = model.get_layer(name)
        assert (layer.compute_dtype, layer.variable_dtype) == (half, "float32"), name
    assert model.get_layer("output").dtype_policy.name == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    compile_model(model, FitParams())
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    images = np.random.default_rng(0).integers(0, 255, (16, 12, 12, 1)).astype(np.uint8)
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(images, np.arange(16) % 3)
    assert np.isfinite(loss).all() and any((a != b).any() for a, b in zip(before, model.get_weights()))
    out = model.predict(images, verbose=0)
    assert out.dtype == np.float32 and np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    model.save(tmp_path / "m.keras")  # the policies travel with the model
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_layer("conv_1").compute_dtype == half and loaded.get_layer("output").compute_dtype == "float32"


def test_without_mixed_precision_everything_is_float32():
    model = build_cnn(layer_specs("lenet"), (28, 28, 1), 10)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}


def test_mixed_precision_param_is_checked():
    assert CnnParams(mixed_precision="mixed_float16").mixed_precision == "mixed_float16"
    assert CnnParams().mixed_precision is None
    with pytest.raises(ValueError, match="mixed_precision"):
        CnnParams(mixed_precision="float16")
