"""The whole of ``params.yaml``, and reading it: a mistake is one line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import Field, NonNegativeInt, ValidationError, model_validator

from imgclf.errors import PipelineError
from imgclf.params.base import Name, Section, check_unique
from imgclf.params.data import FetchParams, PreprocessParams, SplitParams
from imgclf.params.evaluation import EvaluateParams, MlflowParams
from imgclf.params.numerics import NumericsParams
from imgclf.params.training import BaselinesParams, CnnParams
from imgclf.params.transfer import TransferParams


class Params(Section):
    """The whole of ``params.yaml``."""

    seed: NonNegativeInt = Field(42, description="seeds NumPy, Python, TensorFlow and scikit-learn everywhere")
    numerics: NumericsParams = Field(NumericsParams(), description="pins that make results the same on every machine")
    mlflow: MlflowParams = Field(MlflowParams(), description="where runs are logged")
    fetch: FetchParams = Field(FetchParams(), description="the dataset")
    preprocess: PreprocessParams = Field(PreprocessParams(), description="the images' size and colour")
    split: SplitParams = Field(SplitParams(), description="train / validation / test")
    train_baselines: BaselinesParams = Field(description="the scikit-learn models")
    train_cnn: dict[Name, CnnParams] = Field(min_length=1, description="one entry per CNN, keyed by its name: each "
                                             "is its own DVC stage (train_cnn@NAME), model, MLflow run and column")
    transfer: TransferParams = Field(TransferParams(), description="pretrain and transfer")
    evaluate: EvaluateParams = Field(EvaluateParams(), description="metrics, charts and the registry gate")

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
        check_unique(names, "the models of train_baselines, train_cnn and transfer")
        return self


def _key(error: dict) -> str:
    """The dotted key of a pydantic error, without the names pydantic gives the branches of a
    union (``literal[...]``, ``list[...]``) and validators (``function-after[...]``)."""
    parts = [str(part) for part in error["loc"]]
    return ".".join(part for part in parts if not re.match(r"[\w-]+\[", part)) or "<top level>"


def _describe(errors: list[dict]) -> str:
    """One key's problems as one phrase: its message (a value that fits no branch of a union:
    each branch's, joined by "or") and the value given."""
    messages = []
    for error in errors:
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see params.yaml's comments for the keys)"
        if messages and message.startswith("Input should be "):
            message = message.removeprefix("Input should be ")
        if message not in messages:
            messages.append(message)
    first = errors[0]
    given = "" if first["type"] in ("missing", "extra_forbidden") else f" (got {first['input']!r})"
    return f"{_key(first)}: {', or '.join(messages)}{given}"


def parse_params(raw: object, source: str = "params.yaml") -> Params:
    """Validate an already-loaded mapping against the schema. Raises :class:`PipelineError`, one
    line naming ``source`` and each key at fault, when it does not fit."""
    if not isinstance(raw, dict):
        raise PipelineError(f"{source}: expected a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        by_key: dict[str, list[dict]] = {}
        for error in exc.errors(include_url=False):
            by_key.setdefault(_key(error), []).append(error)
        # A value that fits one branch of a union but fails deeper in it (a list of layers with a
        # bad layer) is named by the deeper error, not by the other branches' ("should be 'lenet'").
        by_key = {key: errors for key, errors in by_key.items() if not any(k.startswith(f"{key}.") for k in by_key)}
        problems = "; ".join(_describe(errors) for errors in by_key.values())
        count = "" if len(by_key) == 1 else f"{len(by_key)} invalid parameters: "
        raise PipelineError(f"{source}: {count}{problems}") from None


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
