"""The tutorials' CNN architectures as layer-spec lists (validated by ``imgclf.params.LayerSpec``).

Their names are ``imgclf.params.PresetName``, so that ``params.yaml`` is checked without this wing.

The output layer is not part of a preset: it is chosen from the data (one sigmoid unit for two
classes, a softmax otherwise).
"""

from __future__ import annotations

from pydantic import TypeAdapter

from imgclf.params import LayerSpec


def _conv_bn_relu(filters: int) -> list[dict]:
    return [
        {"type": "conv", "filters": filters, "kernel": 3, "padding": "same", "activation": "linear"},
        {"type": "batch_norm"},
        {"type": "activation", "function": "relu"},
    ]


PRESETS: dict[str, list[dict]] = {
    # MNIST tutorial, LeNet-style.
    "lenet": [
        {"type": "conv", "filters": 20, "kernel": 5},
        {"type": "max_pool", "size": 2},
        {"type": "conv", "filters": 50, "kernel": 5},
        {"type": "max_pool", "size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 500},
    ],
    # Fashion-MNIST tutorial: Conv-BatchNorm-ReLU blocks with dropout. BatchNorm momentum 0.9
    # (not Keras' 0.99): with few steps per epoch the moving statistics otherwise lag so far
    # behind that validation accuracy stays at chance.
    "fashion_bn": [
        *_conv_bn_relu(32), *_conv_bn_relu(32),
        {"type": "max_pool", "size": 2},
        {"type": "dropout", "rate": 0.25},
        *_conv_bn_relu(64), *_conv_bn_relu(64),
        {"type": "max_pool", "size": 2},
        {"type": "dropout", "rate": 0.30},
        {"type": "flatten"},
        {"type": "dense", "units": 128},
        {"type": "dropout", "rate": 0.40},
    ],
    # Dogs vs Cats tutorial (50x50 inputs).
    "catdog": [
        {"type": "conv", "filters": 32, "kernel": 3, "padding": "same"},
        {"type": "conv", "filters": 32, "kernel": 3},
        {"type": "max_pool", "size": 2},
        {"type": "dropout", "rate": 0.25},
        {"type": "conv", "filters": 64, "kernel": 3, "strides": 2, "padding": "same"},
        {"type": "conv", "filters": 64, "kernel": 3},
        {"type": "max_pool", "size": 2},
        {"type": "dropout", "rate": 0.25},
        {"type": "flatten"},
        {"type": "dense", "units": 50},
        {"type": "dropout", "rate": 0.25},
    ],
    # CIFAR-10 two-class tutorial (32x32 RGB).
    "cifar_small": [
        {"type": "conv", "filters": 32, "kernel": 3, "padding": "same"},
        {"type": "max_pool", "size": 2},
        {"type": "conv", "filters": 64, "kernel": 3, "padding": "same"},
        {"type": "max_pool", "size": 2},
        {"type": "conv", "filters": 128, "kernel": 3},
        {"type": "max_pool", "size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 512},
    ],
}


def layer_specs(architecture: str | list[LayerSpec]) -> list[LayerSpec]:
    """The validated layer specs of ``architecture``: a preset's name, or the list itself."""
    if isinstance(architecture, str):
        return TypeAdapter(list[LayerSpec]).validate_python(PRESETS[architecture])
    return list(architecture)
