import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from imgclf.models.cnn import build_cnn
from imgclf.params import EarlyStoppingParams, FitParams
from imgclf.models.inference import predict_proba
from imgclf.models.presets import PRESETS, layer_specs
from imgclf.models.training import compile_model, fit, seed_everything
from tests.helpers import SMALL, make_imageset



def train_once(params: FitParams, n_classes: int = 3):
    seed_everything(0)
    train, val = make_imageset(n_classes=n_classes, seed=0), make_imageset(n_classes=n_classes, seed=1)
    model = build_cnn(SMALL, train.images.shape[1:], n_classes)
    compile_model(model, params)
    history = fit(model, train, val, params, seed=0)
    return model, history, val


def test_training_is_deterministic_and_learns():
    params = FitParams(epochs=8, batch_size=8, learning_rate=0.01)
    model_a, history_a, val = train_once(params)
    model_b, history_b, _ = train_once(params)
    assert history_a.history["loss"] == history_b.history["loss"]
    proba = predict_proba(model_a, val.images)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == val.labels).mean() > 0.9


def test_binary_model_gives_two_columns():
    model, _, val = train_once(FitParams(epochs=2, batch_size=8), n_classes=2)
    proba = predict_proba(model, val.images)
    assert proba.shape == (len(val), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_early_stopping_target_stops_at_first_epoch_reaching_it():
    stop = EarlyStoppingParams(monitor="val_accuracy", patience=50, target=0.5)
    _, history, _ = train_once(FitParams(epochs=30, batch_size=8, learning_rate=0.01, early_stopping=stop))
    accuracies = history.history["val_accuracy"]
    assert accuracies[-1] >= 0.5
    assert all(a < 0.5 for a in accuracies[:-1])
    assert len(accuracies) < 30


def test_early_stopping_waits_out_its_warm_up_before_counting_patience():
    # min_delta 1.0: no epoch after the first can improve, so patience 0 stops at the next one.
    def epochs_run(start_from_epoch: int) -> int:
        stop = EarlyStoppingParams(monitor="val_accuracy", patience=0, min_delta=1.0, start_from_epoch=start_from_epoch)
        _, history, _ = train_once(FitParams(epochs=10, batch_size=8, early_stopping=stop))
        return len(history.history["val_accuracy"])

    assert epochs_run(0) == 2
    assert epochs_run(4) == 6  # epochs 0-3 are not watched; epoch 4 is the first best, epoch 5 stops


def test_sgd_uses_momentum():
    from imgclf.models.training import make_optimizer

    optimizer = make_optimizer(FitParams(optimizer="sgd", momentum=0.9, learning_rate=0.1))
    assert optimizer.momentum == 0.9


def test_reduce_lr_on_plateau_lowers_the_rate():
    from imgclf.params import ReduceLrParams

    params = FitParams(epochs=4, batch_size=8, learning_rate=1e-9,
                       reduce_lr=ReduceLrParams(monitor="loss", factor=0.5, patience=0, min_lr=0.0))
    model, history, _ = train_once(params)
    assert float(model.optimizer.learning_rate) < 1e-9


def test_reduce_lr_waits_out_its_warm_up_and_logs_the_rate_every_epoch():
    from imgclf.params import ReduceLrParams

    # At a rate of 1e-9 the training loss stays put, so patience 0 halves the rate at the end of
    # every epoch after the first one watched: without a warm-up the rate logged at epoch 2 is
    # already halved; with start_from_epoch=2, epochs 0-1 are not watched, epoch 2 sets the best
    # and the first halving shows at epoch 4.
    def rates(start_from_epoch: int) -> list[float]:
        reduce = ReduceLrParams(monitor="loss", factor=0.5, patience=0, min_lr=0.0, start_from_epoch=start_from_epoch)
        _, history, _ = train_once(FitParams(epochs=5, batch_size=8, learning_rate=1e-9, reduce_lr=reduce))
        return history.history["learning_rate"]

    assert rates(0)[:3] == pytest.approx([1e-9, 1e-9, 5e-10], rel=1e-3)
    assert rates(2) == pytest.approx([1e-9, 1e-9, 1e-9, 1e-9, 5e-10], rel=1e-3)


def test_balanced_class_weights():
    from imgclf.models.training import class_weights

    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    assert class_weights(labels, 3, "balanced") == {0: 8 / 12, 1: 2.0, 2: 1.0}
    assert class_weights(labels, 2, None) is None


def test_class_weight_reaches_training():
    from sklearn.utils.class_weight import compute_class_weight

    from imgclf.data.dataset import ImageSet
    from imgclf.models.training import class_weights

    # By hand: 4 labels, 2 classes; weight = n / (classes * count) = 4/(2*3), 4/(2*1).
    assert class_weights(np.array([0, 0, 0, 1]), 2, "balanced") == pytest.approx({0: 2 / 3, 1: 2.0})
    assert class_weights(np.array([0, 0, 0, 1]), 2, None) is None
    # An imbalanced set: all 24 of class 0, 4 of class 1, 8 of class 2.
    full = make_imageset(n_per_class=24, n_classes=3, seed=0)
    rank = np.concatenate([np.arange(24)] * 3)  # each image's index within its class
    keep = rank < np.array([24, 4, 8])[full.labels]
    train = ImageSet(full.images[keep], full.labels[keep], full.class_names)
    weights = class_weights(train.labels, 3, "balanced")
    expected = compute_class_weight("balanced", classes=np.arange(3), y=train.labels)
    assert weights == pytest.approx({0: 36 / 72, 1: 36 / 12, 2: 36 / 24})
    assert weights == pytest.approx(dict(enumerate(expected)))

    val = make_imageset(n_classes=3, seed=1)

    def first_epoch_loss(mode):
        seed_everything(0)
        model = build_cnn(SMALL, train.images.shape[1:], 3)
        params = FitParams(epochs=1, batch_size=8, class_weight=mode)
        compile_model(model, params)
        history = fit(model, train, val, params, seed=0)
        assert len(history.history["loss"]) == 1
        return history.history["loss"][0]

    plain, again, balanced = first_epoch_loss(None), first_epoch_loss(None), first_epoch_loss("balanced")
    assert plain == again  # same seed, same loss: a difference below is the weights' doing
    assert abs(balanced - plain) > 1e-3 * abs(plain)


PRESET_INPUTS = {"lenet": (28, 28, 1), "fashion_bn": (28, 28, 1), "catdog": (50, 50, 1), "catdog_bn": (50, 50, 1),
                 "vgg_bn": (32, 32, 3), "cifar_small": (32, 32, 3)}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_trains_one_epoch(preset):
    shape = PRESET_INPUTS[preset]  # a new preset needs its tutorial's input shape here
    seed_everything(0)
    data = make_imageset(n_per_class=8, n_classes=2, size=shape[0], channels=shape[2])
    model = build_cnn(layer_specs(preset), shape, 2)
    params = FitParams(epochs=1, batch_size=8)
    compile_model(model, params)
    history = fit(model, data, data, params, seed=0)
    assert np.isfinite(history.history["loss"][0])
    assert predict_proba(model, data.images).shape == (16, 2)


def test_augmentation_changes_training_inputs_only():
    from imgclf.params import AugmentationParams

    seed_everything(0)
    augmentation = AugmentationParams(rotation=20, width_shift=0.2, height_shift=0.2, shear=0.2, zoom=0.2, horizontal_flip=True)
    model = build_cnn(SMALL, (12, 12, 1), 3, augmentation=augmentation)
    inputs_seen = keras.Model(model.input, model.get_layer("rescale").output)
    images = make_imageset().images[:8]
    expected = images.astype("float32") / 255
    np.testing.assert_allclose(np.asarray(inputs_seen(images, training=False)), expected, atol=1e-6)
    assert not np.allclose(np.asarray(inputs_seen(images, training=True)), expected, atol=1e-3)
    np.testing.assert_array_equal(model.predict(images, verbose=0), model.predict(images, verbose=0))


MIRRORED = r"""
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
from imgclf.models.cnn import build_cnn
from imgclf.params import FitParams
from imgclf.models.training import compile_model, distribution_strategy, fit
from tests.helpers import SMALL, make_imageset
strategy = distribution_strategy("mirrored")
assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
data = make_imageset()
with strategy.scope():
    model = build_cnn(SMALL, data.images.shape[1:], 3)
    compile_model(model, FitParams(epochs=2, batch_size=8))
history = fit(model, data, data, FitParams(epochs=2, batch_size=8), seed=0)
print("replicas", strategy.num_replicas_in_sync, "epochs", len(history.history["loss"]))
"""


def test_mirrored_strategy_over_two_logical_cpus():
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", MIRRORED], cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2 epochs 2" in result.stdout


def test_default_distribution_on_cpu_is_one_replica():
    from imgclf.models.training import distribution_strategy

    assert distribution_strategy("auto").num_replicas_in_sync == 1
    assert distribution_strategy("none").num_replicas_in_sync == 1
