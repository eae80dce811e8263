"""Transfer learning: a pretrained convolutional base, frozen under a new head, then fine-tuned."""

from __future__ import annotations

import keras

from imgclf.cnn import feature_extractor, output_layer
from imgclf.errors import PipelineError
from imgclf.params import HeadParams


def build_transfer_model(pretrained: keras.Model, n_classes: int, head: HeadParams) -> keras.Model:
    """The pretrained network's convolutional base, frozen, under a new classification head.

    The base is called with ``training=False`` so that any BatchNormalization in it stays in
    inference mode, also once it is unfrozen for fine-tuning.
    """
    base = feature_extractor(pretrained)
    base.trainable = False
    inputs = keras.Input(shape=base.input_shape[1:], name="image")
    x = base(inputs, training=False)
    x = keras.layers.Dropout(head.dropout, name="head_dropout_1")(x)
    x = keras.layers.Dense(head.units, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(head.dropout, name="head_dropout_2")(x)
    return keras.Model(inputs, output_layer(n_classes)(x), name="transfer")


def unfreeze_from(model: keras.Model, layer_name: str) -> None:
    """Make the base trainable from ``layer_name`` on; layers before it stay frozen."""
    base = model.get_layer("base")
    names = [layer.name for layer in base.layers]
    if layer_name not in names:
        raise PipelineError(
            f"transfer.fine_tune.unfreeze_from: no layer {layer_name!r} in the base; "
            f"its layers are {', '.join(names)}"
        )
    base.trainable = True
    start = names.index(layer_name)
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= start


def trainable_weight_count(model: keras.Model) -> int:
    """Number of trainable scalars in ``model``."""
    return int(sum(w.numpy().size for w in model.trainable_weights))
