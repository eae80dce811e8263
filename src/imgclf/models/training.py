"""Keras training shared by ``train_cnn`` and ``transfer``: seeds, optimiser, callbacks, fit."""

from __future__ import annotations

import keras
import numpy as np

from imgclf.errors import PipelineError
from imgclf.models.inputs import Images, augmented, batches
from imgclf.params import AugmentationParams, FitParams


COLLECTIVE_TIMEOUT_S = 120.0  # multi_worker: a step that exchanges nothing this long means a worker is gone


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


class ReduceLrAfterWarmUp(keras.callbacks.ReduceLROnPlateau):
    """Keras' ``ReduceLROnPlateau`` that neither watches nor reduces before ``start_from_epoch``
    (as ``EarlyStopping``'s own ``start_from_epoch``); every epoch still logs its learning rate."""

    def __init__(self, start_from_epoch: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start_from_epoch = start_from_epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch >= self.start_from_epoch:
            super().on_epoch_end(epoch, logs)
        elif logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def training_callbacks(params: FitParams) -> list[keras.callbacks.Callback]:
    """Early stopping (with an optional target) and learning-rate reduction, as asked."""
    callbacks: list[keras.callbacks.Callback] = []
    stop = params.early_stopping
    if stop is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=stop.monitor, patience=stop.patience, min_delta=stop.min_delta,
            start_from_epoch=stop.start_from_epoch, restore_best_weights=stop.restore_best_weights,
        ))
        if stop.target is not None:
            callbacks.append(StopAtTarget(stop.monitor, stop.target))
    if params.reduce_lr is not None:
        r = params.reduce_lr
        callbacks.append(ReduceLrAfterWarmUp(
            start_from_epoch=r.start_from_epoch, monitor=r.monitor, factor=r.factor, patience=r.patience,
            min_lr=r.min_lr, verbose=1,
        ))
    return callbacks


def class_weights(labels: np.ndarray, n_classes: int, mode: str | None) -> dict[int, float] | None:
    """``balanced``: weights inversely proportional to class frequency (scikit-learn's rule)."""
    if mode is None:
        return None
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    return {int(k): float(w) for k, w in zip(present, weights)} | {
        k: 1.0 for k in range(n_classes) if k not in present
    }


def distribution_strategy(name: str):
    """The ``tf.distribute`` strategy for ``distribution``.

    ``none``: the default (one device). ``auto``: mirrored over the GPUs when there are
    several, else the default. ``mirrored``: all GPUs, or all logical CPUs when there is no GPU.
    ``multi_worker``: ``MultiWorkerMirroredStrategy``, configured by ``TF_CONFIG``
    (:mod:`imgclf.models.multi_worker`; create it before any other TensorFlow operation), each
    collective operation bounded by :data:`COLLECTIVE_TIMEOUT_S`.
    """
    import tensorflow as tf

    if name == "multi_worker":  # first: listing the devices would start TensorFlow's runtime without collectives
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=COLLECTIVE_TIMEOUT_S)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if name == "none" or (name == "auto" and len(gpus) < 2):
        return tf.distribute.get_strategy()
    if name in ("auto", "mirrored"):
        devices = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    raise PipelineError(f"unknown distribution {name!r}")


def fit(
    model: keras.Model,
    train: Images,
    validation: Images,
    params: FitParams,
    callbacks: list[keras.callbacks.Callback] = (),
    initial_epoch: int = 0,
    *,
    seed: int,
    augmentation: AugmentationParams | None = None,
) -> keras.callbacks.History:
    """Train on ``train``, validating each epoch on ``validation``; ``epochs`` counts this call.

    Both are read batch by batch (:func:`imgclf.models.inputs.batches`); ``train`` is
    reshuffled each epoch, from ``seed`` and ``initial_epoch`` (a later phase draws other orders),
    and goes through ``augmentation`` when it asks to run in the input pipeline."""
    weights = class_weights(train.labels, len(train.class_names), params.class_weight)
    shuffle_seed = int(np.random.SeedSequence([seed, initial_epoch]).generate_state(1)[0])
    train_batches = batches(train, params.batch_size, shuffle_seed, weights)
    if augmentation is not None and augmentation.in_pipeline:
        train_batches = augmented(train_batches, augmentation)
    return model.fit(
        train_batches,
        validation_data=batches(validation, params.batch_size),
        epochs=initial_epoch + params.epochs,
        initial_epoch=initial_epoch,
        callbacks=[*training_callbacks(params), *callbacks],
        shuffle=False,  # the input pipeline shuffles
        verbose=2,
    )
