"""One model's evaluation report: metrics, chart data for DVC and PNG charts for people."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgclf import charts
from imgclf.errors import PipelineError
from imgclf.evaluation import classification_metrics, confusion_cells, lift_table, reliability_curve
from imgclf.outputs import write_json

PLOT_KINDS = ("confusion", "calibration", "lift")


def check_same_classes(model_name: str, model_classes: list[str], test_classes: tuple[str, ...]) -> None:
    """Stop if a model was trained on other classes than the test split holds."""
    if list(model_classes) != list(test_classes):
        raise PipelineError(
            f"model {model_name!r} was trained on classes {list(model_classes)} but the test split "
            f"has {list(test_classes)}; re-run its training stage (dvc repro)"
        )


def write_model_report(
    name: str,
    y_true: np.ndarray,
    proba: np.ndarray,
    class_names: tuple[str, ...],
    plots_dir: Path,
    figures_dir: Path,
    calibration_bins: int,
    lift_bins: int,
) -> dict[str, float]:
    """Write ``name``'s chart data (``plots_dir/<kind>/<name>.json``) and PNGs
    (``figures_dir/<name>/<kind>.png``); return its metrics."""
    y_pred = proba.argmax(axis=1)
    binary = len(class_names) == 2
    reliability = reliability_curve(y_true, proba, calibration_bins)
    lift = lift_table(y_true, proba, class_names, lift_bins)

    write_json(plots_dir / "confusion" / f"{name}.json", confusion_cells(y_true, y_pred, class_names))
    write_json(plots_dir / "calibration" / f"{name}.json", reliability)
    write_json(plots_dir / "lift" / f"{name}.json", lift["mean"])

    figures = figures_dir / name
    figures.mkdir(parents=True, exist_ok=True)
    charts.confusion_matrix_chart(y_true, y_pred, class_names, name, figures / "confusion.png")
    charts.reliability_chart(reliability, calibration_bins, binary, name, figures / "calibration.png")
    charts.lift_chart(lift, name, figures / "lift.png")
    return classification_metrics(y_true, proba, class_names)
