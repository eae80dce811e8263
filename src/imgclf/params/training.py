"""The model sections: scikit-learn baselines, and how Keras models are built and optimised."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from imgclf.params.base import Fraction, Name, Section, check_unique
from imgclf.params.layers import LayerSpec, PresetName


class LogisticRegressionParams(Section):
    """Multinomial logistic regression (scikit-learn ``LogisticRegression``)."""

    name: Name = Field(description="the model's name: its folder, MLflow run and column")
    kind: Literal["logistic_regression"]
    C: PositiveFloat = Field(1.0, description="inverse L2 strength")
    max_iter: PositiveInt = Field(200, description="solver iterations at most")
    solver: Literal["lbfgs", "newton-cg", "sag", "saga"] = Field("lbfgs", description="scikit-learn's solver")


class MLPParams(Section):
    """A fully connected network (scikit-learn ``MLPClassifier``)."""

    name: Name = Field(description="the model's name: its folder, MLflow run and column")
    kind: Literal["mlp"]
    hidden_layer_sizes: list[PositiveInt] = Field(min_length=1, description="units of each hidden layer")
    activation: Literal["relu", "tanh", "logistic", "identity"] = Field("relu", description="of the hidden layers")
    alpha: NonNegativeFloat = Field(1e-4, description="L2 penalty")
    learning_rate_init: PositiveFloat = Field(1e-3, description="Adam's learning rate")
    batch_size: PositiveInt = Field(200, description="images per step")
    max_iter: PositiveInt = Field(200, description="epochs at most")
    early_stopping: bool = Field(True, description="hold out 10% of train and stop when it stops improving")


BaselineParams = Annotated[Union[LogisticRegressionParams, MLPParams], Field(discriminator="kind")]


class BaselinesParams(Section):
    """The scikit-learn models ``train_baselines`` fits, each saved, tracked and evaluated."""

    models: list[BaselineParams] = Field(min_length=1, description="each a logistic_regression or mlp")

    @model_validator(mode="after")
    def _unique_names(self) -> "BaselinesParams":
        check_unique([m.name for m in self.models], "train_baselines.models")
        return self


class EarlyStoppingParams(Section):
    """Keras ``EarlyStopping``, plus an optional target that stops once it is reached."""

    monitor: str = Field("val_accuracy", description="the logged metric watched")
    patience: NonNegativeInt = Field(3, description="epochs without improvement before stopping")
    start_from_epoch: NonNegativeInt = Field(
        0, description="epochs of warm-up before it watches (and before an epoch can be the best): "
                       "a BatchNorm network may sit near chance for its first epochs")
    min_delta: NonNegativeFloat = Field(0.0, description="the least change that counts as improvement")
    restore_best_weights: bool = Field(True, description="end with the best epoch's weights")
    target: Fraction | None = Field(None, description="stop as soon as the monitored value reaches it (e.g. 0.985)")


class ReduceLrParams(Section):
    """Keras ``ReduceLROnPlateau``."""

    monitor: str = Field("val_loss", description="the logged metric watched")
    factor: Fraction = Field(0.5, description="the learning rate is multiplied by this")
    patience: NonNegativeInt = Field(2, description="epochs without improvement before reducing")
    min_lr: NonNegativeFloat = Field(1e-5, description="the learning rate's floor")
    start_from_epoch: NonNegativeInt = Field(
        0, description="epochs of warm-up before it watches: a BatchNorm network's erratic first "
                       "validation losses would otherwise cut the rate before it learns")


class FitParams(Section):
    """How one Keras model is optimised."""

    optimizer: Literal["adam", "rmsprop", "sgd"] = Field("adam", description="sgd uses momentum")
    learning_rate: PositiveFloat = Field(1e-3, description="the optimiser's step size")
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="sgd only")
    batch_size: PositiveInt = Field(32, description="images per step")
    epochs: PositiveInt = Field(10, description="at most; early stopping may end sooner")
    early_stopping: EarlyStoppingParams | None = Field(None, description="null: train every epoch")
    reduce_lr: ReduceLrParams | None = Field(None, description="null: a constant learning rate")
    class_weight: Literal["balanced"] | None = Field(None, description="balanced: weight each class by its inverse frequency")


class AugmentationParams(Section):
    """Random training-time transforms (Keras preprocessing layers inside the model; off at inference)."""

    rotation: Annotated[float, Field(ge=0.0, le=180.0)] = Field(0.0, description="degrees, either way")
    width_shift: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="fraction of the width")
    height_shift: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="fraction of the height")
    shear: Annotated[float, Field(ge=0.0, le=1.0)] = Field(0.0, description="shear factor")
    zoom: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(0.0, description="fraction, in or out")
    horizontal_flip: bool = Field(False, description="mirror left to right at random")
    fill_mode: Literal["reflect", "wrap", "constant", "nearest"] = Field("nearest", description="how new pixels are filled")
    in_pipeline: bool = Field(False, description="run the transforms in the tf.data input pipeline, beside the "
                              "training step, instead of inside the model: the same transforms, other random draws. "
                              "Measure first (bench/augmentation.py): on a quiet 2-core CPU it was 1.12x slower")


class ModelSpecParams(FitParams):
    """Architecture-side settings shared by every trained Keras model."""

    weight_decay: NonNegativeFloat = Field(0.0, description="L2 penalty on conv and dense kernels")
    augmentation: AugmentationParams | None = Field(None, description="null: none")
    distribution: Literal["auto", "none", "mirrored", "multi_worker"] = Field(
        "auto", description="auto: mirrored over the GPUs when there are several; multi_worker: configured by TF_CONFIG")

    @model_validator(mode="after")
    def _augmentation_where_multi_worker_runs_it(self) -> "ModelSpecParams":
        if self.distribution == "multi_worker" and self.augmentation is not None and self.augmentation.in_pipeline:
            raise ValueError("augmentation.in_pipeline: multi-worker training runs the augmentation inside the "
                             "model; set it false")
        return self


class CnnParams(ModelSpecParams):
    """One CNN of ``train_cnn``: a preset or a list of layers, and its training."""

    architecture: PresetName | list[LayerSpec] = Field(
        "lenet", description="a preset or a list of layers; the output "
        "layer comes from the data (sigmoid for 2 classes, else softmax)")
    mixed_precision: Literal["mixed_float16", "mixed_bfloat16"] | None = Field(
        None, description="null: float32 throughout; mixed_float16 (GPUs) or mixed_bfloat16: layers compute in half "
        "precision with float32 weights, the output layer in float32. A speed-up on GPUs with tensor cores; on a "
        "CPU mixed_float16 is much slower than float32 (no oneDNN float16 kernels without AVX-512 FP16), "
        "mixed_bfloat16 faster on CPUs with AVX512_BF16 when numerics.portable is false")
