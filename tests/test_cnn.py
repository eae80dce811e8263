import pytest

from imgclf.cnn import PRESETS, build_cnn, feature_extractor, preset
from imgclf.errors import PipelineError


def test_lenet_layers_as_in_the_tutorial():
    model = build_cnn(preset("lenet"), (28, 28, 1), 10)
    shapes = {layer.name: layer.output.shape[1:] for layer in model.layers[1:]}
    assert shapes["conv_1"] == (24, 24, 20)
    assert shapes["max_pool_1"] == (12, 12, 20)
    assert shapes["conv_2"] == (8, 8, 50)
    assert shapes["dense_1"] == (500,)
    assert model.output_shape == (None, 10)
    assert model.get_layer("output").activation.__name__ == "softmax"


def test_two_classes_get_one_sigmoid_unit():
    model = build_cnn(PRESETS["lenet"], (28, 28, 3), 2)
    assert model.output_shape == (None, 1)
    assert model.get_layer("output").activation.__name__ == "sigmoid"


def test_kernel_larger_than_input_names_the_layer():
    with pytest.raises(PipelineError, match=r"architecture layer 2 \(conv\)"):
        build_cnn(preset("lenet"), (8, 8, 1), 10)


def test_unknown_layer_type_and_preset():
    with pytest.raises(PipelineError, match=r"layer 0 \(convolution\): unknown layer type"):
        build_cnn([{"type": "convolution"}], (8, 8, 1), 3)
    with pytest.raises(PipelineError, match="unknown architecture preset 'resnet9'"):
        preset("resnet9")


def test_feature_extractor_cuts_at_flatten():
    model = build_cnn(preset("lenet"), (28, 28, 1), 10)
    base = feature_extractor(model)
    assert base.layers[-1].name == "flatten_1"
    assert base.output_shape == (None, 800)
