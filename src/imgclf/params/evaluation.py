"""The ``evaluate`` and ``mlflow`` sections: charts, the grey zone, the registry gate."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from imgclf.params.base import Probability, Section

# Test metrics every model has, and which way is better: the ones a registry gate may use.
LOWER_IS_BETTER = ("log_loss", "brier", "ece", "log_loss_scaled", "brier_scaled", "ece_scaled")
GATE_METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "grey_zone_coverage", "grey_zone_accuracy", *LOWER_IS_BETTER)
GateMetric = Literal[GATE_METRICS]  # type: ignore[valid-type]


class Bound(Section):
    """A gate on one metric: at least ``min``, at most ``max``."""

    min: float | None = Field(None, description="the least value that passes")
    max: float | None = Field(None, description="the greatest value that passes")

    @model_validator(mode="after")
    def _some_bound(self) -> "Bound":
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class RegistryParams(Section):
    """The MLflow model registry gate."""

    name: str | None = Field("image-classifier", min_length=1, description="the registered model (null: register nothing)")
    select_by: GateMetric = Field("accuracy", description="the metric that picks the best model (losses and "
                                  "calibration errors: lowest wins)")
    gate: dict[GateMetric, Bound] = Field({}, description="the best model is registered, alias candidate, only "
                                          "if it passes every bound, e.g. {accuracy: {min: 0.95}}")


class EvaluateParams(Section):
    """Charts, the grey zone where a model abstains, and the registry gate."""

    calibration_bins: Annotated[int, Field(ge=2, le=100)] = Field(10, description="equal-width confidence bins of "
                                                                  "the reliability diagrams")
    lift_bins: Annotated[int, Field(ge=2, le=100)] = Field(10, description="population steps of the lift and gains charts")
    grey_zone: tuple[Probability, Probability] = Field(
        (0.25, 0.75), description="the abstain band: for two classes, abstain when low < P(positive) < high; for "
        "more, when the top probability is below high")
    temperature_scaling: bool = Field(True, description="fit a temperature on the validation split; report "
                                      "metrics and a reliability diagram after it too")
    feature_map_images: Annotated[int, Field(ge=0, le=16)] = Field(3, description="test images whose first conv "
                                                                   "layers' maps are drawn (Keras models)")
    confidence_level: Annotated[float, Field(gt=0.5, lt=1.0)] = Field(0.95, description="the level of the "
                                                                       "bootstrap intervals around test metrics")
    bootstrap_resamples: Annotated[int, Field(ge=100, le=100_000)] = Field(1000, description="resamples of the "
                                                                           "test set behind each interval (seeded)")
    registry: RegistryParams = Field(RegistryParams(), description="the registry gate")

    @model_validator(mode="after")
    def _band_ordered(self) -> "EvaluateParams":
        if self.grey_zone[0] > self.grey_zone[1]:
            raise ValueError(f"grey_zone must be [low, high] with low <= high, got {list(self.grey_zone)}")
        return self


class MlflowParams(Section):
    """The MLflow experiment every run of this pipeline is logged under."""

    experiment: str = Field("image-classification", min_length=1, description="the experiment's name")
    check_timeout: Annotated[float, Field(gt=0.0, le=120.0)] = Field(
        5.0, description="seconds a stage waits for the tracking store at its start before it stops, naming the URI")
