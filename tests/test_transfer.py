import pytest

from imgclf.cnn import build_cnn, preset
from imgclf.errors import PipelineError
from imgclf.params import HeadParams
from imgclf.transfer import build_transfer_model, trainable_weight_count, unfreeze_from


def lenet_weights(filters_in: int) -> dict[str, int]:
    return {"conv_1": 5 * 5 * filters_in * 20 + 20, "conv_2": 5 * 5 * 20 * 50 + 50}


def test_phases_freeze_then_unfreeze_from_the_named_layer():
    pretrained = build_cnn(preset("lenet"), (28, 28, 1), 10)
    model = build_transfer_model(pretrained, 3, HeadParams(units=16, dropout=0.1))
    head = 800 * 16 + 16 + 16 * 3 + 3
    assert trainable_weight_count(model) == head

    unfreeze_from(model, "conv_2")
    assert trainable_weight_count(model) == head + lenet_weights(1)["conv_2"]

    unfreeze_from(model, "conv_1")
    assert trainable_weight_count(model) == head + sum(lenet_weights(1).values())


def test_base_shares_the_pretrained_weights():
    pretrained = build_cnn(preset("lenet"), (28, 28, 1), 10)
    model = build_transfer_model(pretrained, 2, HeadParams())
    base_kernel = model.get_layer("base").get_layer("conv_1").kernel.numpy()
    assert (base_kernel == pretrained.get_layer("conv_1").kernel.numpy()).all()
    assert model.output_shape == (None, 1)


def test_unknown_layer_lists_the_base_layers():
    model = build_transfer_model(build_cnn(preset("lenet"), (28, 28, 1), 10), 3, HeadParams())
    with pytest.raises(PipelineError, match=r"unfreeze_from: no layer 'block5_conv1'.*conv_1, max_pool_1, conv_2"):
        unfreeze_from(model, "block5_conv1")
