"""Transfer learning: a pretrained convolutional base, frozen under a new head, then fine-tuned."""

from __future__ import annotations

from pathlib import Path

import keras

from imgclf.models.cnn import augment, feature_extractor, output_layer
from imgclf.errors import PipelineError
from imgclf.params import AugmentationParams, BaseParams, HeadParams


def load_base(params: BaseParams, input_shape: tuple[int, int, int], pretrained_dir: Path) -> keras.Model:
    """The convolutional base ``transfer.base`` names, checked against the images' shape."""
    if params.kind == "keras_application":
        from imgclf.models.applications import application_base

        return application_base(params.architecture, params.weights, input_shape)
    path = pretrained_dir / "model.keras" if params.kind == "pretrain_stage" else Path(params.path)
    if not path.is_file():
        raise PipelineError(f"transfer.base: no saved model at {path}")
    base = feature_extractor(keras.saving.load_model(path, safe_mode=True))
    if tuple(base.input_shape[1:]) != tuple(input_shape):
        raise PipelineError(
            f"transfer.base: {path} takes images of shape {tuple(base.input_shape[1:])}, "
            f"but the prepared images are {tuple(input_shape)}"
        )
    return base


def build_transfer_model(
    base: keras.Model, n_classes: int, head: HeadParams, augmentation: AugmentationParams | None = None
) -> keras.Model:
    """``base``, frozen, under a new classification head.

    Keras 3 overrides the ``training=False`` of the base's call with ``fit``'s ``training=True``
    (keras-team/keras#20285): what keeps the base's BatchNormalization in inference mode is its
    layers being frozen, here, and in :func:`unfreeze_from` with ``batch_norm="freeze"``.
    """
    base.trainable = False
    inputs = keras.Input(shape=base.input_shape[1:], name="image")
    x = base(augment(inputs, augmentation), training=False)
    x = keras.layers.Dropout(head.dropout, name="head_dropout_1")(x)
    x = keras.layers.Dense(head.units, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(head.dropout, name="head_dropout_2")(x)
    return keras.Model(inputs, output_layer(n_classes)(x), name="transfer")


def base_layer_index(base: keras.Model, layer_name: str) -> int:
    """The position of ``layer_name`` in ``base``; an error listing the layers if absent.

    Called before any training, so a misspelt ``unfreeze_from`` fails at once.
    """
    names = [layer.name for layer in base.layers]
    if layer_name not in names:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise PipelineError(
            f"transfer.fine_tune.unfreeze_from: no layer {layer_name!r} in the base; its layers are {shown}"
        )
    return names.index(layer_name)


def unfreeze_from(model: keras.Model, layer_name: str, batch_norm: str) -> None:
    """Make the base trainable from ``layer_name`` on; layers before it stay frozen.

    ``batch_norm`` (``transfer.fine_tune.batch_norm``): ``adapt`` trains the BatchNormalization
    layers with the rest (in training mode: their statistics follow the target's batches);
    ``freeze`` keeps them frozen, which Keras 3 runs in inference mode, with the pretraining
    data's statistics."""
    base = model.get_layer("base")
    start = base_layer_index(base, layer_name)
    base.trainable = True
    for i, layer in enumerate(base.layers):
        frozen_norm = batch_norm == "freeze" and isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= start and not frozen_norm


def trainable_weight_count(model: keras.Model) -> int:
    """Number of trainable scalars in ``model``."""
    return int(sum(w.numpy().size for w in model.trainable_weights))


def joined_history(phases: list[tuple[dict[str, list], float]]) -> dict[str, list[float]]:
    """One per-epoch history from the ``(history, learning_rate)`` of consecutive ``fit`` phases.

    Only a phase with ``reduce_lr`` logs its learning rate (Keras' callback adds the key); when
    any phase did, the epochs of the others get their constant ``learning_rate``, so every list
    has one value per epoch."""
    logged_rate = any("learning_rate" in history for history, _ in phases)
    joined: dict[str, list[float]] = {}
    for history, rate in phases:
        epochs = len(history["loss"])
        filled = {"learning_rate": [rate] * epochs, **history} if logged_rate else history
        for key, values in filled.items():
            joined.setdefault(key, []).extend(float(v) for v in values)
    return joined
