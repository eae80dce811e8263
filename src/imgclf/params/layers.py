"""The layer specs a CNN's ``architecture`` lists, and the names of the tutorials' presets."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, PositiveInt

from imgclf.params.base import Rate, Section

Activation = Literal["relu", "elu", "gelu", "selu", "swish", "tanh", "sigmoid", "linear"]
# The tutorials' architectures, defined in ``imgclf.models.presets`` (a test checks the two agree).
PresetName = Literal["lenet", "fashion_bn", "catdog", "catdog_bn", "vgg_bn", "cifar_small"]


class ConvLayer(Section):
    """A 2-D convolution."""

    type: Literal["conv"]
    filters: PositiveInt = Field(description="output channels")
    kernel: PositiveInt = Field(description="square kernel size")
    strides: PositiveInt = Field(1, description="step in both directions")
    padding: Literal["valid", "same"] = Field("valid", description="same keeps the size, valid shrinks it")
    activation: Activation = Field("relu", description="applied to the output")


class BatchNormLayer(Section):
    """Batch normalisation."""

    type: Literal["batch_norm"]
    momentum: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.9, description="of the moving statistics; not Keras' 0.99, which lags too far behind with few steps per epoch")


class ActivationLayer(Section):
    """An activation on its own (after a linear conv and batch_norm)."""

    type: Literal["activation"]
    function: Activation = Field(description="the activation function")


class PoolLayer(Section):
    """Max or average pooling."""

    type: Literal["max_pool", "avg_pool"]
    size: PositiveInt = Field(2, description="square window and stride")


class DropoutLayer(Section):
    """Dropout (training only)."""

    type: Literal["dropout"]
    rate: Rate = Field(description="share of the inputs dropped")


class FlattenLayer(Section):
    """The end of the convolutional part: flatten, or global average / max pooling."""

    type: Literal["flatten", "global_avg_pool", "global_max_pool"]


class DenseLayer(Section):
    """A fully connected layer."""

    type: Literal["dense"]
    units: PositiveInt = Field(description="output units")
    activation: Activation = Field("relu", description="applied to the output")


LayerSpec = Annotated[
    Union[ConvLayer, BatchNormLayer, ActivationLayer, PoolLayer, DropoutLayer, FlattenLayer, DenseLayer],
    Field(discriminator="type"),
]
