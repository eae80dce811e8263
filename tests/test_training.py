import numpy as np

from imgclf.cnn import build_cnn
from imgclf.params import EarlyStoppingParams, FitParams
from imgclf.training import compile_model, fit, predict_proba, seed_everything
from tests.conftest import make_imageset

SMALL = [{"type": "conv", "filters": 4, "kernel": 3}, {"type": "max_pool"}, {"type": "flatten"}]


def train_once(params: FitParams, n_classes: int = 3):
    seed_everything(0)
    train, val = make_imageset(n_classes=n_classes, seed=0), make_imageset(n_classes=n_classes, seed=1)
    model = build_cnn(SMALL, train.images.shape[1:], n_classes)
    compile_model(model, params)
    history = fit(model, train, val, params)
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


def test_sgd_uses_momentum():
    from imgclf.training import make_optimizer

    optimizer = make_optimizer(FitParams(optimizer="sgd", momentum=0.9, learning_rate=0.1))
    assert optimizer.momentum == 0.9
