"""Keras CNNs declared as lists of layer specs, with the tutorials' architectures as presets.

A spec is a plain dict such as ``{"type": "conv", "filters": 20, "kernel": 5}``. Layers are
named ``<type>_<n>`` (``conv_1``, ``max_pool_1``, ``conv_2`` ...), which is how fine-tuning
names the layer to unfreeze from. Models take raw uint8 images: rescaling is inside the model,
so the preprocessing travels with the saved file.
"""

from __future__ import annotations

from collections import Counter

import keras

from imgclf.errors import PipelineError

PRESETS: dict[str, list[dict]] = {
    # LeNet-style network of the MNIST tutorial.
    "lenet": [
        {"type": "conv", "filters": 20, "kernel": 5, "activation": "relu"},
        {"type": "max_pool", "size": 2},
        {"type": "conv", "filters": 50, "kernel": 5, "activation": "relu"},
        {"type": "max_pool", "size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 500, "activation": "relu"},
    ],
}

FEATURE_END = ("flatten", "global_avg_pool", "global_max_pool")


def preset(name: str) -> list[dict]:
    """The layer specs of a named preset."""
    try:
        return PRESETS[name]
    except KeyError:
        raise PipelineError(f"unknown architecture preset {name!r}; known: {', '.join(PRESETS)}") from None


def make_layer(spec: dict, name: str) -> keras.layers.Layer:
    """One Keras layer from its spec."""
    kind = spec["type"]
    if kind == "conv":
        return keras.layers.Conv2D(
            spec["filters"], spec["kernel"], strides=spec.get("strides", 1),
            padding=spec.get("padding", "valid"), activation=spec.get("activation", "relu"), name=name,
        )
    if kind == "max_pool":
        return keras.layers.MaxPooling2D(spec.get("size", 2), name=name)
    if kind == "avg_pool":
        return keras.layers.AveragePooling2D(spec.get("size", 2), name=name)
    if kind == "batch_norm":
        return keras.layers.BatchNormalization(momentum=spec.get("momentum", 0.9), name=name)
    if kind == "dropout":
        return keras.layers.Dropout(spec["rate"], name=name)
    if kind == "flatten":
        return keras.layers.Flatten(name=name)
    if kind == "global_avg_pool":
        return keras.layers.GlobalAveragePooling2D(name=name)
    if kind == "global_max_pool":
        return keras.layers.GlobalMaxPooling2D(name=name)
    if kind == "dense":
        return keras.layers.Dense(spec["units"], activation=spec.get("activation", "relu"), name=name)
    raise ValueError(f"unknown layer type {kind!r}")


def apply_layers(x, specs: list[dict], first_index: int = 0):
    """Apply ``specs`` to tensor ``x``; a bad spec raises an error naming its index and type."""
    counts: Counter[str] = Counter()
    for i, spec in enumerate(specs, start=first_index):
        kind = spec.get("type", "<missing type>")
        counts[kind] += 1
        try:
            x = make_layer(spec, f"{kind}_{counts[kind]}")(x)
        except (KeyError, ValueError, TypeError) as exc:
            raise PipelineError(f"architecture layer {i} ({kind}): {exc}") from None
    return x


def output_layer(n_classes: int) -> keras.layers.Layer:
    """One sigmoid unit for two classes, a softmax over the classes otherwise."""
    if n_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", name="output")
    return keras.layers.Dense(n_classes, activation="softmax", name="output")


def build_cnn(specs: list[dict], input_shape: tuple[int, int, int], n_classes: int, name: str = "cnn") -> keras.Model:
    """A classifier: rescaling to [0, 1], the declared layers, then the output layer."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = apply_layers(x, specs)
    return keras.Model(inputs, output_layer(n_classes)(x), name=name)


def feature_extractor(model: keras.Model) -> keras.Model:
    """The convolutional part of ``model``: from its input through its flatten/global pool."""
    ends = [layer for layer in model.layers if layer.name.rsplit("_", 1)[0] in FEATURE_END]
    if not ends:
        raise PipelineError(f"model {model.name!r} has no flatten or global pooling layer to cut at")
    return keras.Model(model.input, ends[0].output, name="base")
