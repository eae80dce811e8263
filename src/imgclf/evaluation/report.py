"""One model's evaluation report: metrics, chart data for DVC and PNG charts for people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.metrics import accuracy_score

from imgclf.errors import PipelineError
from imgclf.evaluation import charts, image_charts
from imgclf.evaluation.chart_book import ChartBook
from imgclf.evaluation.curves import (
    confusion_cells, gains_rows, grey_zone_curve, history_rows, lift_table, misclassified_sample, reliability_curve,
    reliability_per_class, roc_and_pr,
)
from imgclf.evaluation.metrics import apply_temperature, classification_metrics, fit_temperature, grey_zone
from imgclf.evaluation.ranking import accuracy_bounds
from imgclf.outputs import write_json
from imgclf.params import EvaluateParams


class Images(Protocol):
    """Images indexed as a NumPy array of them is: an array, or a split part read from its shards."""

    def __len__(self) -> int: ...

    def __getitem__(self, index) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class ModelEvaluation:
    """One model's predictions on the test split, and what else its report can show.

    ``images``: the test images (an array, or the test part read from its shards), for a gallery
    of misclassified ones (and ``feature_maps``, ``(layer name, activations)`` of the first
    ones). ``validation``: (labels, probabilities) on the validation split, to fit temperature scaling there. ``explain``: images to Grad-CAM heat
    maps of their predicted class (Keras CNNs), overlaid on the misclassified gallery.
    """

    name: str
    y_true: np.ndarray
    proba: np.ndarray
    class_names: tuple[str, ...]
    history: dict[str, list[float]] | None = None
    images: Images | None = None
    validation: tuple[np.ndarray, np.ndarray] | None = None
    feature_maps: list[tuple[str, np.ndarray]] | None = None
    explain: Callable[[np.ndarray], np.ndarray] | None = None


def check_same_classes(model_name: str, model_classes: list[str], test_classes: tuple[str, ...]) -> None:
    """Stop if a model was trained on other classes than the test split holds."""
    if list(model_classes) != list(test_classes):
        raise PipelineError(
            f"model {model_name!r} was trained on classes {list(model_classes)} but the test split "
            f"has {list(test_classes)}; re-run its training stage (dvc repro)"
        )


def write_model_report(model: ModelEvaluation, settings: EvaluateParams, seed: int, plots_dir: Path,
                       figures_dir: Path, previous: Path | None = None) -> dict[str, float]:
    """Write ``model``'s chart data (``plots_dir/<kind>/<name>.json``) and PNGs
    (``figures_dir/<name>/<kind>.png``); return its metrics, grey zone included.

    ``previous``: the figures folder of the last evaluation; a PNG drawn there from the same data
    (and code) is copied from it instead of drawn again (:mod:`imgclf.evaluation.chart_book`).

    ``settings``: the bins of the calibration and lift charts, the grey band and the bootstrap;
    ``seed``: the sample of the misclassified gallery and the bootstrap interval of the accuracy.
    With ``model.validation``: the accuracy there (``validation_accuracy``: what a sweep can rank
    its trials on and leave the test set unseen) and, with ``settings.temperature_scaling``, a
    temperature fitted there, and the test metrics and reliability diagram after it.
    """
    name, y_true, proba, class_names = model.name, model.y_true, model.proba, model.class_names
    bins = settings.calibration_bins
    y_pred = proba.argmax(axis=1)
    binary = len(class_names) == 2
    reliability = reliability_curve(y_true, proba, bins)
    lift = lift_table(y_true, proba, class_names, settings.lift_bins)
    curves = roc_and_pr(y_true, proba)
    zone, zone_curve = grey_zone(y_true, proba, *settings.grey_zone), grey_zone_curve(y_true, proba)
    history = history_rows(model.history) if model.history else None

    plot_data = {"confusion": confusion_cells(y_true, y_pred, class_names), "calibration": reliability,
                 "lift": lift["mean"], "gains": gains_rows(lift["mean"]), "roc": curves["roc"], "pr": curves["pr"], "grey_zone": zone_curve,
                 "history": history}
    for kind, rows in plot_data.items():
        if rows is not None:
            write_json(plots_dir / kind / f"{name}.json", rows)

    figures = figures_dir / name
    figures.mkdir(parents=True, exist_ok=True)
    book = ChartBook(figures, previous / name if previous else None)
    book.draw(charts.confusion_matrix_charts, y_true, y_pred, class_names, name, figures / "confusion.png",
              figures / "confusion_normalized.png")
    per_class = None if binary else reliability_per_class(y_true, proba, class_names, bins)
    book.draw(charts.reliability_chart, reliability, bins, binary, name, figures / "calibration.png", per_class)
    book.draw(charts.lift_chart, lift, name, figures / "lift.png")
    book.draw(charts.roc_pr_chart, curves, name, figures / "roc_pr.png")
    book.draw(charts.grey_zone_chart, zone_curve, zone, binary, name, figures / "grey_zone.png")
    if history:
        book.draw(charts.learning_curves_chart, history, name, figures / "learning_curves.png")
    if model.images is not None:
        wrong = misclassified_sample(y_true, proba, 16, seed)
        shown, gallery_title = model.images[wrong], name
        if model.explain is not None and len(wrong):
            from imgclf.models.gradcam import overlay

            shown = np.stack([overlay(image, heat) for image, heat in zip(shown, model.explain(shown))])
            gallery_title = f"{name} (Grad-CAM of the predicted class)"
        book.draw(image_charts.gallery_chart, shown, y_true[wrong], proba[wrong], class_names, gallery_title,
                  figures / "misclassified.png")
    if model.feature_maps:
        book.draw(image_charts.feature_maps_chart, model.feature_maps, model.images[: len(model.feature_maps[0][1])],
                  name, figures / "feature_maps.png")
    metrics = classification_metrics(y_true, proba, class_names)
    metrics.update({"grey_zone_coverage": zone["coverage"], "grey_zone_accuracy": zone["accuracy_kept"]})
    metrics.update(accuracy_bounds(y_true, y_pred, settings, seed))  # the noise band of the page and the PR report
    if model.validation is not None:
        validation_labels, validation_proba = model.validation
        metrics["validation_accuracy"] = round(float(accuracy_score(validation_labels, validation_proba.argmax(axis=1))), 6)
        if settings.temperature_scaling:
            temperature = fit_temperature(validation_labels, validation_proba)
            scaled = apply_temperature(proba, temperature)
            after = classification_metrics(y_true, scaled, class_names)
            metrics.update({"temperature": round(temperature, 6), "log_loss_scaled": after["log_loss"],
                            "ece_scaled": after["ece"], "brier_scaled": after["brier"]})
            book.draw(charts.reliability_chart, reliability_curve(y_true, scaled, bins), bins, binary,
                      f"{name} after temperature scaling (T={temperature:.2f})", figures / "calibration_scaled.png")
    book.save()
    return metrics
