"""Keras CNNs built from validated layer specs (``imgclf.params.LayerSpec``).

Layers are named ``<type>_<n>`` (``conv_1``, ``max_pool_1``, ``conv_2`` ...), which is how
fine-tuning names the layer to unfreeze from. Models take raw uint8 images: augmentation
(training only) and rescaling are inside the model, so the preprocessing travels with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import keras

from imgclf.errors import PipelineError
from imgclf.params import AugmentationParams, LayerSpec

FEATURE_END = ("flatten", "global_avg_pool", "global_max_pool")


@keras.saving.register_keras_serializable(package="imgclf")
class SymmetricShear(keras.layers.RandomShear):
    """Keras' ``RandomShear`` with one factor each way, saved so that it loads again.

    Keras 3.15 saves a factor ``f`` as ``[-f, f]``, which its own constructor then rejects on
    loading ("should be a number ... in the range [0, 1.0]"); this saves ``f`` as given.
    """

    def __init__(self, x_factor: float = 0.0, y_factor: float = 0.0, **kwargs) -> None:
        super().__init__(x_factor=x_factor, y_factor=y_factor, **kwargs)
        self.shear_factors = (x_factor, y_factor)

    def get_config(self) -> dict:
        config = super().get_config()
        config["x_factor"], config["y_factor"] = self.shear_factors
        return config


def make_layer(spec: LayerSpec, name: str, weight_decay: float = 0.0) -> keras.layers.Layer:
    """One Keras layer from its spec; ``weight_decay`` is an L2 penalty on kernels."""
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
    if spec.type == "conv":
        return keras.layers.Conv2D(
            spec.filters, spec.kernel, strides=spec.strides, padding=spec.padding,
            activation=spec.activation, kernel_regularizer=regularizer, name=name,
        )
    if spec.type == "dense":
        return keras.layers.Dense(spec.units, activation=spec.activation, kernel_regularizer=regularizer, name=name)
    if spec.type == "batch_norm":
        return keras.layers.BatchNormalization(momentum=spec.momentum, name=name)
    if spec.type == "activation":
        return keras.layers.Activation(spec.function, name=name)
    if spec.type == "dropout":
        return keras.layers.Dropout(spec.rate, name=name)
    layers = {
        "max_pool": lambda: keras.layers.MaxPooling2D(spec.size, name=name),
        "avg_pool": lambda: keras.layers.AveragePooling2D(spec.size, name=name),
        "flatten": lambda: keras.layers.Flatten(name=name),
        "global_avg_pool": lambda: keras.layers.GlobalAveragePooling2D(name=name),
        "global_max_pool": lambda: keras.layers.GlobalMaxPooling2D(name=name),
    }
    return layers[spec.type]()


def apply_layers(x, specs: list[LayerSpec], weight_decay: float = 0.0):
    """Apply ``specs`` to tensor ``x``; a layer that does not fit raises an error naming it."""
    counts: Counter[str] = Counter()
    for i, spec in enumerate(specs):
        counts[spec.type] += 1
        try:
            x = make_layer(spec, f"{spec.type}_{counts[spec.type]}", weight_decay)(x)
        except ValueError as exc:
            raise PipelineError(f"architecture layer {i} ({spec.type}) does not fit its input {tuple(x.shape)}: {exc}") from None
    return x


def augmentation_layers(params: AugmentationParams) -> list[keras.layers.Layer]:
    """Random transforms for the tutorials' data augmentation; Keras runs them in training only."""
    fill = params.fill_mode
    layers: list[keras.layers.Layer] = []
    if params.rotation:
        layers.append(keras.layers.RandomRotation(params.rotation / 360.0, fill_mode=fill, name="augment_rotation"))
    if params.width_shift or params.height_shift:
        layers.append(keras.layers.RandomTranslation(params.height_shift, params.width_shift, fill_mode=fill, name="augment_shift"))
    if params.shear:
        layers.append(SymmetricShear(params.shear, params.shear, fill_mode=fill, name="augment_shear"))
    if params.zoom:
        layers.append(keras.layers.RandomZoom((-params.zoom, params.zoom), fill_mode=fill, name="augment_zoom"))
    if params.horizontal_flip:
        layers.append(keras.layers.RandomFlip("horizontal", name="augment_flip"))
    return layers


def augment(x, params: AugmentationParams | None):
    """Apply the augmentation layers ``params`` asks for inside the model (none when ``None``,
    or when ``params.in_pipeline`` puts them in the input pipeline instead)."""
    for layer in augmentation_layers(params) if params and not params.in_pipeline else []:
        x = layer(x)
    return x


def output_layer(n_classes: int, weight_decay: float = 0.0, dtype: str | None = None) -> keras.layers.Layer:
    """One sigmoid unit for two classes, a softmax over the classes otherwise; ``dtype`` its
    policy (None: the global one)."""
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
    extra = {"dtype": dtype} if dtype else {}
    if n_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regularizer, name="output", **extra)
    return keras.layers.Dense(n_classes, activation="softmax", kernel_regularizer=regularizer, name="output", **extra)


@contextmanager
def dtype_policy(name: str | None) -> Iterator[None]:
    """Layers built inside take the Keras dtype policy ``name`` (None: leave it); the global
    policy is restored on leaving."""
    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_cnn(
    specs: list[LayerSpec],
    input_shape: tuple[int, int, int],
    n_classes: int,
    name: str = "cnn",
    weight_decay: float = 0.0,
    augmentation: AugmentationParams | None = None,
    mixed_precision: str | None = None,
) -> keras.Model:
    """A classifier: augmentation (training only), rescaling to [0, 1], the layers, the output.

    ``mixed_precision`` (``mixed_float16`` or ``mixed_bfloat16``): every layer computes in half
    precision with float32 weights, except the output layer, kept in float32 so that the
    probabilities and the loss are; ``compile`` then scales the loss (float16)."""
    with dtype_policy(mixed_precision):
        inputs = keras.Input(shape=tuple(input_shape), name="image")
        x = augment(inputs, augmentation)
        x = keras.layers.Rescaling(1.0 / 255, name="rescale")(x)
        x = apply_layers(x, specs, weight_decay)
        output = output_layer(n_classes, weight_decay, "float32" if mixed_precision else None)
        return keras.Model(inputs, output(x), name=name)


def without_augmentation(model: keras.Model) -> keras.Model:
    """``model`` (a chain, as :func:`build_cnn` makes) without its augmentation layers, which
    act in training only: the same layers and weights, for saving a network whose training
    augmented its images but whose later users must not. A model without them is returned as it is."""
    if not any(layer.name.startswith("augment_") for layer in model.layers):
        return model
    inputs = keras.Input(shape=model.input_shape[1:], name=model.layers[0].name)
    x = inputs
    for layer in model.layers[1:]:
        if not layer.name.startswith("augment_"):
            x = layer(x)
    return keras.Model(inputs, x, name=model.name)


def feature_extractor(model: keras.Model) -> keras.Model:
    """The convolutional part of ``model``: from its input through its flatten/global pool."""
    ends = [layer for layer in model.layers if layer.name.rsplit("_", 1)[0] in FEATURE_END]
    if not ends:
        raise PipelineError(f"model {model.name!r} has no flatten or global pooling layer to cut at")
    return keras.Model(model.input, ends[0].output, name="base")
