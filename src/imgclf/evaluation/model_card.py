"""A model card in Markdown: what a registered model was trained on, how, how well, and where not to trust it.

Built from what the ``evaluate`` stage already has; it holds no date, run id or version number,
so the same pipeline gives the same card (``reports/model_card.md``), which also becomes the
registered version's description and its run's ``model_card.md`` artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from imgclf import layout
from imgclf.evaluation.confidence import bootstrap_interval
from imgclf.evaluation.metrics import ECE_BINS, answered
from imgclf.outputs import read_json, sha256_file
from imgclf.params import EvaluateParams, Params

CARD_FILE = "model_card.md"


@dataclass(frozen=True, eq=False)
class CardFacts:
    """What the card is written from: one model's test predictions and metrics, its settings
    (``params``: its entry of ``params.yaml``; ``preprocess``: as its ``model.json`` records),
    the data (:func:`dataset_facts`), the numerics record of its training run, the gate's verdict
    and whether the MLflow run that logged the model is in the store (else it cannot be registered)."""

    model: str
    stage: str
    params: Mapping[str, Any]
    preprocess: Mapping[str, Any]
    class_names: tuple[str, ...]
    y_true: np.ndarray
    proba: np.ndarray
    metrics: Mapping[str, float]
    data: Mapping[str, Any]
    numerics: Mapping[str, Any] | None
    verdict: Mapping[str, Any]
    in_store: bool = True


def stage_params(params: Params, stage: str, name: str) -> dict[str, Any]:
    """The ``params.yaml`` entry that trained model ``name`` in ``stage``, as plain data."""
    if stage == "train_baselines":
        return next(spec for spec in params.train_baselines.models if spec.name == name).model_dump(mode="json")
    if stage == "train_cnn":
        return params.train_cnn[name].model_dump(mode="json")
    return params.transfer.model_dump(mode="json")


def dataset_facts(source: str) -> dict[str, Any]:
    """The data behind the models: its source, the prepared images' checksum (preprocess's
    manifest), the images per split part (split's manifest) and the sha256 of the test part's
    rows of those images."""
    prepared = read_json(layout.PREPARED / layout.MANIFEST_FILE)
    split = read_json(layout.SPLIT / "split.json")
    return {"source": source, "prepared_sha256": prepared["content_sha256"],
            "split": {part: split[part]["images"] for part in ("train", "validation", "test")},
            "test_sha256": sha256_file(layout.split_file("test"))}


def per_example(y_true: np.ndarray, proba: np.ndarray) -> dict[str, np.ndarray]:
    """Each test image's share of accuracy, log loss and Brier score: their means are the metrics."""
    truth = np.eye(proba.shape[1])[y_true]
    return {"accuracy": (proba.argmax(axis=1) == y_true).astype(np.float64),
            "log_loss": -np.log(np.clip(proba[np.arange(len(y_true)), y_true], 1e-15, 1.0)),
            "brier": ((proba - truth) ** 2).sum(axis=1)}


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    return [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}", *(f"| {' | '.join(r)} |" for r in rows)]


def _registration(verdict: Mapping[str, Any], in_store: bool) -> str:
    checks = ", ".join(f"{check} ({'passed' if ok else 'failed'})" for check, ok in verdict["gate"].items()) or "no bounds"
    if verdict["registered_model"] and not in_store:
        return (f"Not registered: best by {verdict['select_by']}, gate passed, but the MLflow run that logged it "
                f"is not in this store; gate: {checks}.")
    if verdict["registered_model"]:
        return f"Registered as `{verdict['registered_model']}` (alias `candidate`): best by {verdict['select_by']}; gate: {checks}."
    state = "failed" if not verdict["gate_passed"] else "passed, registry off (`evaluate.registry.name` is null)"
    return f"Not registered: best by {verdict['select_by']}, gate {state}; gate: {checks}."


def metrics_section(facts: CardFacts, settings: EvaluateParams, seed: int) -> tuple[list[str], dict[str, tuple]]:
    """The metrics table with bootstrap intervals (accuracy, log loss, Brier, accuracy on the
    answered images); the intervals by metric."""
    level, resamples = settings.confidence_level, settings.bootstrap_resamples
    values = per_example(facts.y_true, facts.proba)
    kept = answered(facts.proba, *settings.grey_zone)
    values["grey_zone_accuracy"] = values["accuracy"][kept]
    intervals = {name: bootstrap_interval(v, level=level, resamples=resamples, seed=seed) for name, v in values.items()}
    m = facts.metrics
    rows = [(name, f"{m[name]:.4f}", f"[{low:.4f}, {high:.4f}]") for name, (low, high) in intervals.items() if name in m]
    rows += [(name, f"{m[name]:.4f}", "") for name in ("balanced_accuracy", "roc_auc") if name in m]
    lines = [f"On the {len(facts.y_true)} test images; {level:.0%} intervals: seeded percentile bootstrap "
             f"({resamples} resamples, seed {seed}).", "", *_table(rows, ("metric", "value", f"{level:.0%} interval"))]
    return lines, intervals


def calibration_lines(metrics: Mapping[str, float], settings: EvaluateParams) -> list[str]:
    """ECE, Brier and temperature scaling, and the grey zone's coverage and accuracy."""
    lines = [f"- Expected calibration error (top label, {ECE_BINS} bins): {metrics['ece']:.4f}; Brier score {metrics['brier']:.4f}."]
    if "temperature" in metrics:
        lines.append(f"- Temperature scaling fitted on the validation split: T = {metrics['temperature']:.3f}; after it "
                     f"ECE {metrics['ece_scaled']:.4f}, log loss {metrics['log_loss_scaled']:.4f} (the probabilities "
                     "the registered model outputs are the unscaled ones).")
    low, high = settings.grey_zone
    lines.append(f"- Grey zone (`evaluate.grey_zone` [{low}, {high}]): the model answers {metrics['grey_zone_coverage']:.1%} "
                 f"of the test images and is right on {metrics['grey_zone_accuracy']:.1%} of those; it abstains on the rest.")
    return lines


def hardware_lines(numerics: Mapping[str, Any] | None) -> list[str]:
    """Where and with what the model's numbers were computed (its training run's numerics record)."""
    if not numerics:
        return ["- Not recorded (model saved before numerics were recorded)."]
    libraries = ", ".join(f"{name} {version}" for name, version in sorted(numerics["libraries"].items()))
    kernels = ", ".join(sorted({f"{b['internal_api']} {b.get('architecture') or ''} {b['num_threads']} thread(s)".replace("  ", " ")
                                for b in numerics["blas"]}))
    lines = [f"- CPU only (no accelerator); Python {numerics['python']}; {libraries}.",
             f"- Kernels and threads: {kernels}."]
    if numerics["portable"]:
        pins = ", ".join(f"{k}={v}" for k, v in sorted(numerics["pins"].items()))
        lines.append(f"- Portable numerics (`numerics.portable: true`): {pins}; the same bits on any x86-64 CPU with AVX2.")
    else:
        bound = numerics.get("machine_bound", {})
        lines.append(f"- Not portable: the numbers are bound to this CPU ({bound.get('model', 'unknown')}, "
                     f"{bound.get('cores', '?')} cores).")
    return lines


def model_card(facts: CardFacts, settings: EvaluateParams, seed: int) -> str:
    """The card, in Markdown."""
    data, prep = facts.data, facts.preprocess
    metrics, intervals = metrics_section(facts, settings, seed)
    low, high = intervals["accuracy"]
    size = "x".join(str(s) for s in prep["image_size"])
    lines = [
        f"# Model card: {facts.model}", "", _registration(facts.verdict, facts.in_store), "",
        "## Data", "",
        f"- Source: `{data['source']}`; classes ({len(facts.class_names)}): {', '.join(facts.class_names)}.",
        f"- Images per split part: {', '.join(f'{part} {n}' for part, n in data['split'].items())}.",
        f"- Checksums: prepared images (content) `{data['prepared_sha256']}`; test split file `{data['test_sha256']}`.",
        f"- Preprocessing: {size} pixels, {prep['color']}, fit `{prep.get('fit', 'stretch')}`.", "",
        f"## Parameters (`{facts.stage}`)", "", "```yaml", yaml.safe_dump(dict(facts.params), sort_keys=False).rstrip(), "```", "",
        "## Test metrics", "", *metrics, "",
        "## Calibration and grey zone", "", *calibration_lines(facts.metrics, settings), "",
        "## Hardware and numerics", "", *hardware_lines(facts.numerics), "",
        "## Known limits", "",
        f"- It knows only these {len(facts.class_names)} classes: any other image still gets one of them.",
        f"- Every image is resized to {size} {prep['color']} pixels; detail finer than that is lost.",
        f"- Measured on {len(facts.y_true)} test images from the same source: the accuracy interval is "
        f"{100 * (high - low):.1f} percentage points wide, so a difference between models smaller than that may be noise; "
        "images from another source may do worse.",
    ]
    return "\n".join(lines) + "\n"
