import pytest

from imgclf.models.cnn import build_cnn, feature_extractor
from imgclf.errors import PipelineError
from imgclf.models.presets import layer_specs
from imgclf.params import HeadParams, PretrainStageBase, SavedModelBase
from imgclf.models.transfer import base_layer_index, build_transfer_model, load_base, trainable_weight_count, unfreeze_from

LENET = {"conv_1": 5 * 5 * 1 * 20 + 20, "conv_2": 5 * 5 * 20 * 50 + 50}


def lenet_base():
    return feature_extractor(build_cnn(layer_specs("lenet"), (28, 28, 1), 10))


def test_phases_freeze_then_unfreeze_from_the_named_layer():
    model = build_transfer_model(lenet_base(), 3, HeadParams(units=16, dropout=0.1))
    head = 800 * 16 + 16 + 16 * 3 + 3
    assert trainable_weight_count(model) == head

    unfreeze_from(model, "conv_2", "adapt")
    assert trainable_weight_count(model) == head + LENET["conv_2"]

    unfreeze_from(model, "conv_1", "adapt")
    assert trainable_weight_count(model) == head + LENET["conv_1"] + LENET["conv_2"]


def test_base_shares_the_pretrained_weights():
    pretrained = build_cnn(layer_specs("lenet"), (28, 28, 1), 10)
    model = build_transfer_model(feature_extractor(pretrained), 2, HeadParams())
    base_kernel = model.get_layer("base").get_layer("conv_1").kernel.numpy()
    assert (base_kernel == pretrained.get_layer("conv_1").kernel.numpy()).all()
    assert model.output_shape == (None, 1)


def test_a_network_pretrained_with_augmentation_is_saved_without_it(tmp_path):
    import numpy as np

    from imgclf.models.cnn import without_augmentation
    from imgclf.params import AugmentationParams, TransferParams

    augmentation = AugmentationParams(rotation=30, width_shift=0.2, zoom=0.2, horizontal_flip=True)
    assert TransferParams(pretrain={"augmentation": augmentation.model_dump()}).pretrain.augmentation == augmentation
    pretrained = build_cnn(layer_specs("fashion_bn"), (16, 16, 3), 8, "pretrained", augmentation=augmentation)
    plain = without_augmentation(pretrained)
    assert [layer.name for layer in pretrained.layers if layer.name.startswith("augment_")]
    assert not [layer.name for layer in plain.layers if layer.name.startswith("augment_")]
    plain.save(tmp_path / "model.keras")
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype("float32")
    base = load_base(PretrainStageBase(kind="pretrain_stage"), (16, 16, 3), tmp_path)
    assert (base.predict(images, verbose=0) == feature_extractor(pretrained).predict(images, verbose=0)).all()
    unchanged = build_cnn(layer_specs("lenet"), (28, 28, 1), 10)
    assert without_augmentation(unchanged) is unchanged


@pytest.mark.parametrize("batch_norm", ["freeze", "adapt"])
def test_fine_tuning_freezes_or_adapts_the_base_batch_norm_as_asked(batch_norm):
    import keras
    import numpy as np

    from imgclf.params import CnnParams

    # a base of conv, batch norm and ReLU only: no dropout, so training and inference agree
    # exactly when, and only when, the batch norm runs on its moving statistics
    specs = layer_specs(CnnParams(architecture=[
        {"type": "conv", "filters": 4, "kernel": 3, "activation": "linear"}, {"type": "batch_norm"},
        {"type": "activation", "function": "relu"}, {"type": "flatten"}]).architecture)
    model = build_transfer_model(feature_extractor(build_cnn(specs, (8, 8, 3), 5)), 2, HeadParams(units=4, dropout=0.0))
    unfreeze_from(model, "conv_1", batch_norm)
    base = model.get_layer("base")
    assert base.get_layer("conv_1").trainable
    assert base.get_layer("batch_norm_1").trainable == (batch_norm == "adapt")
    images = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 3)).astype("float32")
    training = keras.ops.convert_to_numpy(model(images, training=True))
    inference = keras.ops.convert_to_numpy(model(images, training=False))
    assert (training == inference).all() == (batch_norm == "freeze")


def test_unknown_layer_lists_the_base_layers():
    with pytest.raises(PipelineError, match=r"unfreeze_from: no layer 'block5_conv1'.*conv_1, max_pool_1, conv_2"):
        base_layer_index(lenet_base(), "block5_conv1")


def test_saved_model_base_and_shape_check(tmp_path):
    path = tmp_path / "source.keras"
    build_cnn(layer_specs("lenet"), (28, 28, 1), 10).save(path)
    base = load_base(SavedModelBase(kind="saved_model", path=str(path)), (28, 28, 1), tmp_path)
    assert base.output_shape == (None, 800)
    with pytest.raises(PipelineError, match=r"takes images of shape \(28, 28, 1\), but the prepared images are \(32, 32, 3\)"):
        load_base(SavedModelBase(kind="saved_model", path=str(path)), (32, 32, 3), tmp_path)
    with pytest.raises(PipelineError, match="transfer.base: no saved model at"):
        load_base(PretrainStageBase(kind="pretrain_stage"), (28, 28, 1), tmp_path / "nothing")


def test_a_history_joins_phases_that_logged_their_learning_rate_or_not():
    from imgclf.models.transfer import joined_history

    frozen = {"loss": [0.9, 0.8], "val_accuracy": [0.6, 0.7]}  # no reduce_lr: Keras logs no rate
    tuned = {"loss": [0.5], "val_accuracy": [0.8], "learning_rate": [1.5e-4]}  # reduce_lr on
    assert joined_history([(frozen, 1e-3), (tuned, 3e-4)]) == {
        "loss": [0.9, 0.8, 0.5], "val_accuracy": [0.6, 0.7, 0.8], "learning_rate": [1e-3, 1e-3, 1.5e-4],
    }
    assert joined_history([(frozen, 1e-3), ({"loss": [0.5], "val_accuracy": [0.8]}, 3e-4)]) == {
        "loss": [0.9, 0.8, 0.5], "val_accuracy": [0.6, 0.7, 0.8],
    }
