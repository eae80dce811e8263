"""Keras training shared by ``train_cnn`` and ``transfer``: seeds, optimiser, callbacks, fit."""

from __future__ import annotations

import keras
import numpy as np

from imgclf.dataset import ImageSet
from imgclf.params import EarlyStoppingParams, FitParams


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's kernels deterministic."""
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def make_optimizer(params: FitParams) -> keras.optimizers.Optimizer:
    """The optimiser ``params`` names, at its learning rate."""
    if params.optimizer == "adam":
        return keras.optimizers.Adam(params.learning_rate)
    if params.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(params.learning_rate)
    return keras.optimizers.SGD(params.learning_rate, momentum=params.momentum)


def compile_model(model: keras.Model, params: FitParams) -> None:
    """Compile with the loss that matches the output layer (sigmoid unit or softmax)."""
    binary = model.output_shape[-1] == 1
    loss = "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
    model.compile(optimizer=make_optimizer(params), loss=loss, metrics=["accuracy"])


class StopAtTarget(keras.callbacks.Callback):
    """Stop training once ``monitor`` reaches ``target`` (e.g. val_accuracy >= 0.985)."""

    def __init__(self, monitor: str, target: float) -> None:
        super().__init__()
        self.monitor, self.target = monitor, target

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and value >= self.target:
            self.model.stop_training = True


def early_stopping_callbacks(params: EarlyStoppingParams | None) -> list[keras.callbacks.Callback]:
    """Keras ``EarlyStopping`` and, with a target, :class:`StopAtTarget`."""
    if params is None:
        return []
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            monitor=params.monitor, patience=params.patience, min_delta=params.min_delta,
            restore_best_weights=params.restore_best_weights,
        )
    ]
    if params.target is not None:
        callbacks.append(StopAtTarget(params.monitor, params.target))
    return callbacks


def fit(
    model: keras.Model,
    train: ImageSet,
    validation: ImageSet,
    params: FitParams,
    callbacks: list[keras.callbacks.Callback] = (),
    initial_epoch: int = 0,
) -> keras.callbacks.History:
    """Train on ``train``, validating each epoch on ``validation``; ``epochs`` counts this call."""
    return model.fit(
        train.images,
        train.labels,
        validation_data=(validation.images, validation.labels),
        batch_size=params.batch_size,
        epochs=initial_epoch + params.epochs,
        initial_epoch=initial_epoch,
        callbacks=[*early_stopping_callbacks(params.early_stopping), *callbacks],
        shuffle=True,
        verbose=2,
    )


def predict_proba(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class probabilities ``(N, K)`` in float64, rows summing to 1; a sigmoid unit gives two columns."""
    p = model.predict(images, batch_size=512, verbose=0).astype(np.float64)
    if p.shape[1] == 1:
        return np.hstack([1.0 - p, p])
    return p / p.sum(axis=1, keepdims=True)
