"""The tutorials' CNN architectures as layer-spec lists (validated by ``imgclf.params.LayerSpec``).

Their names are ``imgclf.params.PresetName``, so that ``params.yaml`` is checked without this wing.

The output layer is not part of a preset: it is chosen from the data (one sigmoid unit for two
classes, a softmax otherwise).
"""

from __future__ import annotations

from pydantic import TypeAdapter

from imgclf.params import LayerSpec


def conv(filters: int, kernel: int = 3, **options) -> dict:
    """A conv layer spec (``strides``, ``padding``, ``activation`` as given)."""
    return {"type": "conv", "filters": filters, "kernel": kernel, **options}


def conv_bn_relu(filters: int) -> list[dict]:
    """A linear 3x3 conv, batch normalisation, then ReLU."""
    return [conv(filters, padding="same", activation="linear"), {"type": "batch_norm"},
            {"type": "activation", "function": "relu"}]


POOL, FLATTEN = {"type": "max_pool", "size": 2}, {"type": "flatten"}


def dense(units: int) -> dict:
    return {"type": "dense", "units": units}


def dropout(rate: float) -> dict:
    return {"type": "dropout", "rate": rate}


PRESETS: dict[str, list[dict]] = {
    # MNIST tutorial, LeNet-style.
    "lenet": [conv(20, 5), POOL, conv(50, 5), POOL, FLATTEN, dense(500)],
    # Fashion-MNIST tutorial: Conv-BatchNorm-ReLU blocks with dropout. BatchNorm momentum 0.9
    # (not Keras' 0.99): with few steps per epoch the moving statistics otherwise lag so far
    # behind that validation accuracy stays at chance.
    "fashion_bn": [*conv_bn_relu(32), *conv_bn_relu(32), POOL, dropout(0.25),
                   *conv_bn_relu(64), *conv_bn_relu(64), POOL, dropout(0.30),
                   FLATTEN, dense(128), dropout(0.40)],
    # Dogs vs Cats tutorial (50x50 inputs).
    "catdog": [conv(32, padding="same"), conv(32), POOL, dropout(0.25),
               conv(64, strides=2, padding="same"), conv(64), POOL, dropout(0.25),
               FLATTEN, dense(50), dropout(0.25)],
    # Dogs vs Cats (50x50 and more): a Conv-BatchNorm-ReLU block per scale, then global average
    # pooling, which keeps the head small enough for 2,000 training photos.
    "catdog_bn": [*conv_bn_relu(32), POOL, *conv_bn_relu(64), POOL, *conv_bn_relu(128), POOL,
                  *conv_bn_relu(256), POOL, {"type": "global_avg_pool"}, dropout(0.5)],
    # CIFAR-10 (32x32 RGB), VGG-style: two Conv-BatchNorm-ReLU blocks per scale (32, 64, 128
    # filters), global average pooling; twice catdog_bn's time per 32x32 image, for a base
    # pretrained on many classes.
    "vgg_bn": [*conv_bn_relu(32), *conv_bn_relu(32), POOL, *conv_bn_relu(64), *conv_bn_relu(64), POOL,
               *conv_bn_relu(128), *conv_bn_relu(128), POOL, {"type": "global_avg_pool"}, dropout(0.5)],
    # CIFAR-10 two-class tutorial (32x32 RGB).
    "cifar_small": [conv(32, padding="same"), POOL, conv(64, padding="same"), POOL, conv(128), POOL,
                    FLATTEN, dense(512)],
}


def layer_specs(architecture: str | list[LayerSpec]) -> list[LayerSpec]:
    """The validated layer specs of ``architecture``: a preset's name, or the list itself."""
    if isinstance(architecture, str):
        return TypeAdapter(list[LayerSpec]).validate_python(PRESETS[architecture])
    return list(architecture)
