"""The schema of a sweep file, ``sweeps/NAME.yaml``: what is varied, how, and what is optimised.

    experiment: mnist              # a configuration in configs/ the trials start from (null: params.yaml)
    method: optuna                 # grid, random or optuna
    metric: {key: lenet.accuracy, direction: maximize}   # a value of reports/metrics.json
    params:                        # dotted keys of params.yaml
      train_cnn.lenet.learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
      train_cnn.lenet.batch_size: [32, 64, 128]
    trials: 20                     # random and optuna
    seed: 0

A list is a set of values (every one in a grid, one at random otherwise); ``{low, high}`` is a
range (random and optuna only). A mistake is one line naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, NonNegativeInt, PositiveInt, ValidationError, model_validator

from imgclf.errors import PipelineError
from imgclf.params.base import Name, Section

SWEEPS = Path("sweeps")
Scalar = bool | int | float | str
WRONG_BRANCH = {"list_type", "model_type", "model_attributes_type"}  # a union's branch of another type
TYPE_NAMES = {"bool", "int", "float", "str"}  # the union's branches, as pydantic names them in an error's path


class Range(Section):
    """Numbers from ``low`` to ``high`` (both included)."""

    low: float | int = Field(description="the smallest value")
    high: float | int = Field(description="the largest value")
    log: bool = Field(False, description="drawn uniformly on a log scale (learning rates)")
    type: Literal["float", "int"] = Field("float", description="int: whole numbers only (batch sizes, units)")
    step: float | int | None = Field(None, description="only multiples of step above low (null: any value)")

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("step and log cannot be combined")
        return self


class Metric(Section):
    """The value each trial is judged by."""

    key: str = Field(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$",
                     description="a dotted key of the metrics file: MODEL.METRIC, e.g. lenet.accuracy "
                     "(test), or lenet.validation_accuracy to rank the trials without looking at the test set")
    file: str = Field("reports/metrics.json", description="a metrics file of dvc.yaml")
    direction: Literal["maximize", "minimize"] = Field(description="maximize (accuracy) or minimize (log_loss)")


class Pruning(Section):
    """Optuna's median pruner on a model's per-epoch validation metric, read from its MLflow run
    while the trial trains: a trial worse than the median of earlier ones at the same epoch is stopped."""

    run: str = Field(pattern=r"^[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$",
                     description="the MLflow run name of the model watched, e.g. train_cnn/lenet")
    metric: str = Field("val_accuracy", description="its per-epoch metric (logged at step = epoch)")
    startup_trials: NonNegativeInt = Field(2, description="trials completed before any is pruned")
    warmup_epochs: NonNegativeInt = Field(1, description="epochs of each trial before it can be pruned")
    poll_seconds: float = Field(2.0, gt=0, description="how often the MLflow run is read")


class Sweep(Section):
    """A sweep file: the trials are DVC experiments of one configuration with some values changed."""

    description: str = Field("", description="what the sweep is for")
    experiment: Name | None = Field(None, description="the configuration (configs/NAME.yaml) every trial starts "
                                    "from; null: params.yaml as it is")
    set: dict[str, Scalar | list | dict | None] = Field(
        {}, description="values fixed in every trial (dotted keys), on top of the configuration")
    method: Literal["grid", "random", "optuna"] = Field(description="grid: every combination; random: seeded "
                                                        "draws; optuna: TPE search")
    metric: Metric
    params: dict[str, list[Scalar] | Range] = Field(min_length=1, description="the dotted keys varied, with "
                                                    "their values (a list) or a range ({low, high})")
    trials: PositiveInt | None = Field(None, description="random and optuna: how many trials")
    seed: NonNegativeInt = Field(0, description="seeds the random draws and Optuna's sampler")
    jobs: PositiveInt = Field(2, description="grid and random: experiments run at once (dvc queue start -j)")
    pruning: Pruning | None = Field(None, description="optuna only: stop hopeless trials early (null: never)")

    @model_validator(mode="after")
    def _fits_the_method(self) -> "Sweep":
        for key, values in self.params.items():
            if isinstance(values, list) and not values:
                raise ValueError(f"params.{key}: give at least one value")
            if self.method == "grid" and isinstance(values, Range):
                raise ValueError(f"params.{key}: a grid needs a list of values, not a range")
        if self.method == "grid" and self.trials is not None:
            raise ValueError("trials: a grid runs every combination; remove trials")
        if self.method != "grid" and self.trials is None:
            raise ValueError(f"trials: a {self.method} sweep needs a number of trials")
        if self.method != "optuna" and self.pruning is not None:
            raise ValueError("pruning: only an optuna sweep prunes")
        return self


def describe_error(error: dict) -> str:
    """A pydantic error as ``key: problem (got value)``."""
    key = ".".join(str(part) for part in error["loc"]
                   if not str(part).startswith(("function-", "list[", "Range")) and part not in TYPE_NAMES)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling)"
    if not key and error["type"] == "value_error":
        return message  # a rule over several keys: its message names them
    given = "" if error["type"] in ("missing", "extra_forbidden", "value_error") else f" (got {error['input']!r})"
    return f"{key or '<top level>'}: {message}{given}"


def parse_sweep(raw: object, source: str) -> Sweep:
    """Validate a loaded sweep file; the first mistake is one line naming ``source`` and the key."""
    if not isinstance(raw, dict):
        raise PipelineError(f"{source}: expected a mapping, got {type(raw).__name__}")
    try:
        return Sweep.model_validate(raw)
    except ValidationError as exc:
        # A value that is neither a list nor a range fails both: the complaint of the branch of its
        # own type (not "should be a list" about a range), the deepest, is the telling one.
        errors = exc.errors(include_url=False)
        errors = [e for e in errors if e["type"] not in WRONG_BRANCH] or errors
        error = max(errors, key=lambda e: len(e["loc"]))
        raise PipelineError(f"{source}: {describe_error(error)}") from None


def load_sweep(name: str, sweeps: Path = SWEEPS) -> Sweep:
    """``sweeps/NAME.yaml``, validated; an error lists the sweeps there are when it is missing."""
    path = sweeps / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in sweeps.glob("*.yaml"))) or "none"
        raise PipelineError(f"no sweep {name!r} in {sweeps}/; there are: {known}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None
    return parse_sweep(raw, str(path))
