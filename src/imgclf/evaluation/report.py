"""One model's evaluation report: metrics, chart data for DVC and PNG charts for people."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imgclf.evaluation import charts
from imgclf.errors import PipelineError
from imgclf.evaluation.curves import (
    confusion_cells, grey_zone_curve, history_rows, lift_table, misclassified_sample, reliability_curve,
    reliability_per_class, roc_and_pr,
)
from imgclf.evaluation.metrics import apply_temperature, classification_metrics, fit_temperature, grey_zone
from imgclf.outputs import write_json

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
    grey_band: tuple[float, float] = (0.25, 0.75),
    history: dict[str, list[float]] | None = None,
    images: np.ndarray | None = None,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    feature_maps: list[tuple[str, np.ndarray]] | None = None,
) -> dict[str, float]:
    """Write ``name``'s chart data (``plots_dir/<kind>/<name>.json``) and PNGs
    (``figures_dir/<name>/<kind>.png``); return its metrics, grey zone included.

    With ``images``: a gallery of misclassified ones (and ``feature_maps`` of the first ones).
    With ``validation`` = (labels, probabilities): temperature scaling fitted there, and the
    test metrics and reliability diagram after it.
    """
    y_pred = proba.argmax(axis=1)
    binary = len(class_names) == 2
    reliability = reliability_curve(y_true, proba, calibration_bins)
    lift = lift_table(y_true, proba, class_names, lift_bins)
    curves = roc_and_pr(y_true, proba)
    zone, zone_curve = grey_zone(y_true, proba, *grey_band), grey_zone_curve(y_true, proba)

    write_json(plots_dir / "confusion" / f"{name}.json", confusion_cells(y_true, y_pred, class_names))
    write_json(plots_dir / "calibration" / f"{name}.json", reliability)
    write_json(plots_dir / "lift" / f"{name}.json", lift["mean"])
    write_json(plots_dir / "roc" / f"{name}.json", curves["roc"])
    write_json(plots_dir / "pr" / f"{name}.json", curves["pr"])
    write_json(plots_dir / "grey_zone" / f"{name}.json", zone_curve)

    figures = figures_dir / name
    figures.mkdir(parents=True, exist_ok=True)
    charts.confusion_matrix_chart(y_true, y_pred, class_names, name, figures / "confusion.png")
    per_class = None if binary else reliability_per_class(y_true, proba, class_names, calibration_bins)
    charts.reliability_chart(reliability, calibration_bins, binary, name, figures / "calibration.png", per_class)
    charts.lift_chart(lift, name, figures / "lift.png")
    charts.roc_pr_chart(curves, name, figures / "roc_pr.png")
    charts.grey_zone_chart(zone_curve, zone, binary, name, figures / "grey_zone.png")
    if history:
        rows = history_rows(history)
        write_json(plots_dir / "history" / f"{name}.json", rows)
        charts.learning_curves_chart(rows, name, figures / "learning_curves.png")
    if images is not None:
        wrong = misclassified_sample(y_true, proba, 16, seed)
        charts.gallery_chart(images, y_true, proba, wrong, class_names, name, figures / "misclassified.png")
    if feature_maps:
        charts.feature_maps_chart(feature_maps, images[: len(feature_maps[0][1])], name, figures / "feature_maps.png")
    metrics = classification_metrics(y_true, proba, class_names)
    metrics.update({"grey_zone_coverage": zone["coverage"], "grey_zone_accuracy": zone["accuracy_kept"]})
    if validation is not None:
        temperature = fit_temperature(*validation)
        scaled = apply_temperature(proba, temperature)
        after = classification_metrics(y_true, scaled, class_names)
        metrics.update({"temperature": round(temperature, 6), "log_loss_scaled": after["log_loss"],
                        "ece_scaled": after["ece"], "brier_scaled": after["brier"]})
        charts.reliability_chart(reliability_curve(y_true, scaled, calibration_bins), calibration_bins, binary,
                                 f"{name} after temperature scaling (T={temperature:.2f})", figures / "calibration_scaled.png")
    return metrics
