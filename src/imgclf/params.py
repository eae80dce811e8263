"""The typed schema of ``params.yaml``: the one place where parameters are defined and checked.

Every stage calls :func:`load_params`. An unknown key, a wrong type or an out-of-range value
raises :class:`~imgclf.errors.PipelineError` with the dotted key and what was expected, so a
typo in a pull request fails the stage instead of being silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StrictInt,
    ValidationError,
    model_validator,
)

from imgclf.errors import PipelineError

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- data


class FetchParams(Section):
    """Which dataset ``fetch`` materialises into ``data/raw``, and which of its classes."""

    source: Literal["mnist5k", "digits", "mnist", "fashion_mnist", "cifar10", "image_folder", "csv"] = "mnist5k"
    path: str = "data/external"  # image_folder: folder, .zip or .tar.gz; csv: the file
    format: Literal["idx", "npz"] = "idx"  # mnist: the four IDX files, or Keras' mnist.npz
    mirror: str | None = None  # a folder searched for dataset files before any download
    layout: Literal["auto", "class_folders", "name_prefix"] = "auto"
    classes: list[StrictInt | str] | None = Field(default=None, min_length=2)
    max_per_class: PositiveInt | None = None
    max_archive_bytes: PositiveInt = 20 * 1024**3  # decompression-bomb limit for archives


class PreprocessParams(Section):
    """Target image geometry: ``image_size`` is ``[height, width]``."""

    image_size: tuple[PositiveInt, PositiveInt] = (28, 28)
    color: Literal["grayscale", "rgb"] = "grayscale"
    fit: Literal["stretch", "crop", "pad"] = "stretch"  # aspect ratio: ignore, centre-crop, letterbox
    max_bad_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    workers: PositiveInt | None = None  # decoding threads (default: one per core)


class SplitParams(Section):
    """Stratified train / validation / test fractions; they must add up to 1."""

    train: Fraction = 0.70
    validation: Fraction = 0.15
    test: Fraction = 0.15
    keep_given: bool = False  # keep the source's own train/validation/test (validation carved from train if absent)

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> "SplitParams":
        if self.keep_given:  # only `validation` is used: its share of the given train part
            return self
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + validation + test must equal 1, got {total:g}")
        return self


# ---------------------------------------------------------------- baselines


class LogisticRegressionParams(Section):
    """Multinomial logistic regression (scikit-learn ``LogisticRegression``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["logistic_regression"]
    C: PositiveFloat = 1.0
    max_iter: PositiveInt = 200
    solver: Literal["lbfgs", "newton-cg", "sag", "saga"] = "lbfgs"


class MLPParams(Section):
    """Fully connected network (scikit-learn ``MLPClassifier``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["mlp"]
    hidden_layer_sizes: list[PositiveInt] = Field(min_length=1)
    activation: Literal["relu", "tanh", "logistic", "identity"] = "relu"
    alpha: NonNegativeFloat = 1e-4
    learning_rate_init: PositiveFloat = 1e-3
    batch_size: PositiveInt = 200
    max_iter: PositiveInt = 200
    early_stopping: bool = True


BaselineParams = Annotated[
    Union[LogisticRegressionParams, MLPParams], Field(discriminator="kind")
]


class BaselinesParams(Section):
    """The list of scikit-learn models ``train_baselines`` fits, each saved and tracked."""

    models: list[BaselineParams] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> "BaselinesParams":
        _check_unique([m.name for m in self.models], "train_baselines.models")
        return self


# ---------------------------------------------------------------- CNN layers

Activation = Literal["relu", "elu", "gelu", "selu", "swish", "tanh", "sigmoid", "linear"]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]


class ConvLayer(Section):
    type: Literal["conv"]
    filters: PositiveInt
    kernel: PositiveInt
    strides: PositiveInt = 1
    padding: Literal["valid", "same"] = "valid"
    activation: Activation = "relu"


class BatchNormLayer(Section):
    type: Literal["batch_norm"]
    momentum: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9


class ActivationLayer(Section):
    type: Literal["activation"]
    function: Activation


class PoolLayer(Section):
    type: Literal["max_pool", "avg_pool"]
    size: PositiveInt = 2


class DropoutLayer(Section):
    type: Literal["dropout"]
    rate: Rate


class FlattenLayer(Section):
    type: Literal["flatten", "global_avg_pool", "global_max_pool"]


class DenseLayer(Section):
    type: Literal["dense"]
    units: PositiveInt
    activation: Activation = "relu"


LayerSpec = Annotated[
    Union[ConvLayer, BatchNormLayer, ActivationLayer, PoolLayer, DropoutLayer, FlattenLayer, DenseLayer],
    Field(discriminator="type"),
]
# The tutorials' architectures, defined in ``imgclf.models.presets`` (a test checks the two agree).
PresetName = Literal["lenet", "fashion_bn", "catdog", "cifar_small"]


# ---------------------------------------------------------------- Keras training


class EarlyStoppingParams(Section):
    """Keras ``EarlyStopping``, plus an optional target that stops once it is reached."""

    monitor: str = "val_accuracy"
    patience: NonNegativeInt = 3
    min_delta: NonNegativeFloat = 0.0
    restore_best_weights: bool = True
    target: Fraction | None = None


class ReduceLrParams(Section):
    """Keras ``ReduceLROnPlateau``."""

    monitor: str = "val_loss"
    factor: Fraction = 0.5
    patience: NonNegativeInt = 2
    min_lr: NonNegativeFloat = 1e-5


class FitParams(Section):
    """How one Keras model is optimised."""

    optimizer: Literal["adam", "rmsprop", "sgd"] = "adam"
    learning_rate: PositiveFloat = 1e-3
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    batch_size: PositiveInt = 64
    epochs: PositiveInt = 10
    early_stopping: EarlyStoppingParams | None = None
    reduce_lr: ReduceLrParams | None = None
    class_weight: Literal["balanced"] | None = None


class AugmentationParams(Section):
    """Random training-time transforms (Keras preprocessing layers; off at inference)."""

    rotation: Annotated[float, Field(ge=0.0, le=180.0)] = 0.0  # degrees, either way
    width_shift: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0  # fraction of the width
    height_shift: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    shear: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0  # shear factor
    zoom: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0  # fraction, in or out
    horizontal_flip: bool = False
    fill_mode: Literal["reflect", "wrap", "constant", "nearest"] = "nearest"


class ModelSpecParams(FitParams):
    """Architecture-side settings shared by every trained Keras model."""

    weight_decay: NonNegativeFloat = 0.0  # L2 penalty on conv and dense kernels
    augmentation: AugmentationParams | None = None
    distribution: Literal["auto", "none", "mirrored", "multi_worker"] = "auto"


class CnnParams(ModelSpecParams):
    """One CNN of ``train_cnn``: a preset name or a list of layers, and its training."""

    architecture: PresetName | list[LayerSpec] = "lenet"


# ---------------------------------------------------------------- transfer


class PretrainParams(FitParams):
    """The source task the transfer base is pretrained on (never the target data): any dataset
    ``fetch`` can read, prepared to the target's ``preprocess`` size and colour."""

    data: FetchParams = FetchParams(source="digits")
    architecture: PresetName = "lenet"


class PretrainStageBase(Section):
    """The network the ``pretrain`` stage trained on ``transfer.pretrain.source``."""

    kind: Literal["pretrain_stage"]


class ApplicationBase(Section):
    """A ``keras.applications`` architecture without its top.

    ``weights``: ``imagenet`` (from Keras' cache, ``~/.keras/models``), ``null`` (random) or
    the path of a weights file.
    """

    kind: Literal["keras_application"]
    architecture: Literal["VGG16", "MobileNetV2", "ResNet50", "EfficientNetB0"]
    weights: str | None = "imagenet"


class SavedModelBase(Section):
    """Any saved ``.keras`` classifier; its layers up to the flatten / global pooling."""

    kind: Literal["saved_model"]
    path: str


BaseParams = Annotated[
    Union[PretrainStageBase, ApplicationBase, SavedModelBase], Field(discriminator="kind")
]


class HeadParams(Section):
    """The new classification head put on the frozen base."""

    units: PositiveInt = 128
    dropout: Rate = 0.3


class FineTuneParams(FitParams):
    """Phase 2: layers from ``unfreeze_from`` (a base layer name) on are trained again."""

    unfreeze_from: str = "conv_2"


class TransferParams(Section):
    """``pretrain`` and ``transfer``: the base, the frozen phase, the fine-tuning phase."""

    pretrain: PretrainParams = PretrainParams()
    base: BaseParams = PretrainStageBase(kind="pretrain_stage")
    head: HeadParams = HeadParams()
    augmentation: AugmentationParams | None = None
    frozen: FitParams = FitParams()
    fine_tune: FineTuneParams = FineTuneParams()


# ---------------------------------------------------------------- evaluation, tracking


# Test metrics every model has, and which way is better: the ones a registry gate may use.
LOWER_IS_BETTER = ("log_loss", "brier", "ece", "log_loss_scaled", "brier_scaled", "ece_scaled")
GATE_METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "grey_zone_coverage", "grey_zone_accuracy", *LOWER_IS_BETTER)
GateMetric = Literal[GATE_METRICS]  # type: ignore[valid-type]


class Bound(Section):
    """A gate on one metric: at least ``min``, at most ``max``."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> "Bound":
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class RegistryParams(Section):
    """The MLflow model registry gate: the best model by ``select_by`` is registered under
    ``name`` with the alias ``candidate`` only if it passes every bound of ``gate``."""

    name: str | None = Field(default="image-classifier", min_length=1)  # null: register nothing
    select_by: GateMetric = "accuracy"
    gate: dict[GateMetric, Bound] = {}


class EvaluateParams(Section):
    """Binning of the calibration and lift charts, the grey zone where a model abstains, and
    the registry gate."""

    calibration_bins: Annotated[int, Field(ge=2, le=100)] = 10
    lift_bins: Annotated[int, Field(ge=2, le=100)] = 10
    grey_zone: tuple[Annotated[float, Field(ge=0.0, le=1.0)], Annotated[float, Field(ge=0.0, le=1.0)]] = (0.25, 0.75)
    temperature_scaling: bool = True  # fit T on the validation split; report metrics after it too
    feature_map_images: Annotated[int, Field(ge=0, le=16)] = 3
    registry: RegistryParams = RegistryParams()

    @model_validator(mode="after")
    def _band_ordered(self) -> "EvaluateParams":
        if self.grey_zone[0] > self.grey_zone[1]:
            raise ValueError(f"grey_zone must be [low, high] with low <= high, got {list(self.grey_zone)}")
        return self


class MlflowParams(Section):
    """The MLflow experiment every run of this pipeline is logged under."""

    experiment: str = Field(default="image-classification", min_length=1)


class Params(Section):
    """The whole of ``params.yaml``."""

    seed: NonNegativeInt = 42
    mlflow: MlflowParams = MlflowParams()
    fetch: FetchParams = FetchParams()
    preprocess: PreprocessParams = PreprocessParams()
    split: SplitParams = SplitParams()
    train_baselines: BaselinesParams
    train_cnn: dict[ModelName, CnnParams] = Field(min_length=1)  # type: ignore[valid-type]
    transfer: TransferParams = TransferParams()
    evaluate: EvaluateParams = EvaluateParams()

    @model_validator(mode="after")
    def _pretraining_never_sees_the_target(self) -> "Params":
        source, target = self.transfer.pretrain.data, self.fetch
        if self.transfer.base.kind != "pretrain_stage" or source.source != target.source:
            return self
        if source.source in ("image_folder", "csv") and source.path != target.path:
            return self
        if source.classes is None or target.classes is None or {str(c) for c in source.classes} & {str(c) for c in target.classes}:
            raise ValueError(
                "transfer.pretrain.data: pretraining on the target's own source must use other classes "
                f"(transfer.pretrain.data.classes {source.classes} against fetch.classes {target.classes})"
            )
        return self

    @model_validator(mode="after")
    def _model_names_unique(self) -> "Params":
        names = [m.name for m in self.train_baselines.models] + list(self.train_cnn) + ["transfer"]
        _check_unique(names, "the models of train_baselines, train_cnn and transfer")
        return self


def _check_unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate name {name!r} in {where}")
        seen.add(name)


def _describe(error: dict) -> str:
    """One line per pydantic error: the dotted key, the problem and the value given."""
    key = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see params.yaml's comments for the keys)"
    given = "" if error["type"] in ("missing", "extra_forbidden") else f" (got {error['input']!r})"
    return f"  {key or '<top level>'}: {message}{given}"


def parse_params(raw: object, source: str = "params.yaml") -> Params:
    """Validate an already-loaded mapping against the schema."""
    if not isinstance(raw, dict):
        raise PipelineError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        lines = "\n".join(_describe(e) for e in exc.errors(include_url=False))
        raise PipelineError(f"{source}: invalid parameters\n{lines}") from None


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate ``params.yaml``."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: parameters file not found") from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None
    return parse_params(raw, str(path))
