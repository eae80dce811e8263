"""``keras.applications`` bases for transfer learning, adapted to the pipeline's images.

The pipeline's images are uint8, possibly grayscale and small; each architecture wants three
channels, a minimum size and its own input scaling. :class:`ApplicationInput` does all three
inside the model, so the saved ``.keras`` file needs no outside preprocessing.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
from keras import ops

from imgclf.errors import PipelineError

MIN_SIZE = 32
MODULES = {
    "VGG16": keras.applications.vgg16,
    "ResNet50": keras.applications.resnet50,
    "MobileNetV2": keras.applications.mobilenet_v2,
    "EfficientNetB0": keras.applications.efficientnet,
}
# The file name Keras caches each architecture's no-top ImageNet weights under.
IMAGENET_FILES = {
    "VGG16": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "ResNet50": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "MobileNetV2": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
    "EfficientNetB0": "efficientnetb0_notop.h5",
}


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


@keras.saving.register_keras_serializable(package="imgclf")
class ApplicationInput(keras.layers.Layer):
    """uint8 images to what ``architecture`` expects: 3 channels, at least ``size``, its scaling."""

    def __init__(self, architecture: str, size: tuple[int, int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.architecture, self.size = architecture, tuple(size)

    def call(self, images):
        x = ops.cast(images, "float32")
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        if tuple(x.shape[1:3]) != self.size:
            x = ops.image.resize(x, self.size)
        return MODULES[self.architecture].preprocess_input(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, 3)

    def get_config(self) -> dict:
        return {**super().get_config(), "architecture": self.architecture, "size": list(self.size)}


def application_base(architecture: str, weights: str | None, input_shape: tuple[int, int, int]) -> keras.Model:
    """The architecture without its top, globally average-pooled, on the pipeline's images.

    Its layers keep their Keras names (``block3_conv1`` ...) for ``unfreeze_from``.
    """
    height, width = max(input_shape[0], MIN_SIZE), max(input_shape[1], MIN_SIZE)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = ApplicationInput(architecture, (height, width), name="application_input")(inputs)
    if weights not in (None, "imagenet") and not Path(weights).is_file():
        raise PipelineError(f"transfer.base.weights: no weights file at {weights}")
    try:
        app = getattr(keras.applications, architecture)(
            include_top=False, weights=weights, input_tensor=x, pooling="avg"
        )
    except Exception as exc:  # Keras raises bare Exception for a failed download
        if weights != "imagenet":
            raise PipelineError(f"transfer.base.weights: cannot load {weights} into {architecture}: {exc}") from None
        raise PipelineError(
            f"ImageNet weights for {architecture} are not in Keras' cache and could not be "
            f"downloaded ({exc}). Copy {IMAGENET_FILES[architecture]} into {keras_cache_dir()} "
            "from a machine with network, or set transfer.base.weights to a local weights file."
        ) from None
    return keras.Model(inputs, app.output, name="base")
