"""The ``transfer`` section: the base network, the frozen phase and the fine-tuning phase."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, PositiveInt

from imgclf.params.base import Rate, Section
from imgclf.params.data import FetchParams
from imgclf.params.layers import PresetName
from imgclf.params.training import AugmentationParams, FitParams


class PretrainParams(FitParams):
    """What ``pretrain`` trains the base on: never the target data."""

    data: FetchParams = Field(FetchParams(source="digits"), description="any source fetch reads (the same keys), "
                              "prepared to the target's preprocess size and colour")
    architecture: PresetName = Field("lenet", description="the preset the base network is built from")
    augmentation: AugmentationParams | None = Field(
        None, description="random transforms while pretraining, as for train_cnn (null: none); the saved "
        "network leaves them out")


class PretrainStageBase(Section):
    """The network the ``pretrain`` stage trained."""

    kind: Literal["pretrain_stage"]


class ApplicationBase(Section):
    """A ``keras.applications`` architecture without its top."""

    kind: Literal["keras_application"]
    architecture: Literal["VGG16", "MobileNetV2", "ResNet50", "EfficientNetB0"] = Field(description="which one")
    weights: str | None = Field("imagenet", description="imagenet (from Keras' cache, ~/.keras/models), null "
                                "(random) or a weights file's path")


class SavedModelBase(Section):
    """Any saved ``.keras`` classifier; its layers up to the flatten / global pooling."""

    kind: Literal["saved_model"]
    path: str = Field(description="the .keras file")


BaseParams = Annotated[Union[PretrainStageBase, ApplicationBase, SavedModelBase], Field(discriminator="kind")]


class HeadParams(Section):
    """The new classification head put on the frozen base."""

    units: PositiveInt = Field(128, description="units of its dense layer")
    dropout: Rate = Field(0.3, description="dropout before and after it")


class FineTuneParams(FitParams):
    """Phase 2: the base's layers from ``unfreeze_from`` on are trained again."""

    unfreeze_from: str = Field("conv_2", description="a base layer's name: conv_2 for the pipeline's own networks, "
                               "block5_conv1 for VGG16, ...")
    batch_norm: Literal["adapt", "freeze"] = Field(
        "adapt", description="the base's BatchNorm layers from unfreeze_from on. adapt: trained with the rest, "
        "their statistics re-estimated on the target images; freeze: kept as pretrained, in inference mode, as "
        "Keras' transfer-learning guide advises for large pretrained bases. Measured on CIFAR-10 deer vs horse "
        "with a fashion_bn base pretrained on the other eight classes: adapt 0.905, freeze 0.8895")


class TransferParams(Section):
    """``pretrain`` and ``transfer``: the base, the frozen phase, the fine-tuning phase."""

    pretrain: PretrainParams = Field(PretrainParams(), description="the base network, trained on a disjoint source")
    base: BaseParams = Field(PretrainStageBase(kind="pretrain_stage"), description="pretrain_stage, "
                             "keras_application or saved_model")
    head: HeadParams = Field(HeadParams(), description="new layers on the frozen base")
    augmentation: AugmentationParams | None = Field(None, description="as for train_cnn")
    frozen: FitParams = Field(FitParams(), description="phase 1: base frozen, head trained")
    fine_tune: FineTuneParams = Field(FineTuneParams(), description="phase 2: the top of the base trained again, "
                                      "at a low learning rate")
