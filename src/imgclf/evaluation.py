"""Test-set metrics and the data behind the calibration and lift charts."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...]) -> dict[str, float]:
    """Accuracy, log loss and per-class precision and recall (keys ``precision_<class>``)."""
    labels = np.arange(len(class_names))
    y_pred = proba.argmax(axis=1)
    precision, recall, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    metrics = {
        "accuracy": accuracy_score(y_true, y_pred),
        "log_loss": log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=labels),
    }
    for name, p, r in zip(class_names, precision, recall):
        metrics[f"precision_{name}"] = p
        metrics[f"recall_{name}"] = r
    return {key: round(float(value), 6) for key, value in metrics.items()}


def confusion_cells(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...]) -> list[dict]:
    """The confusion matrix as pre-counted cells ``{actual, predicted, count}``, all K*K."""
    matrix = confusion_matrix(y_true, y_pred, labels=np.arange(len(class_names)))
    return [
        {"actual": class_names[i], "predicted": class_names[j], "count": int(matrix[i, j])}
        for i in range(len(class_names))
        for j in range(len(class_names))
    ]


def reliability_curve(y_true: np.ndarray, proba: np.ndarray, n_bins: int) -> list[dict]:
    """Calibration per confidence bin: mean confidence, observed frequency and count.

    Binary tasks use P(second class) against its frequency; multiclass tasks use the top-label
    confidence against the accuracy of the top label. Empty bins are left out.
    """
    if proba.shape[1] == 2:
        outcome, confidence = (y_true == 1).astype(int), proba[:, 1]
    else:
        outcome, confidence = (proba.argmax(axis=1) == y_true).astype(int), proba.max(axis=1)
    confidence = np.clip(confidence, 0.0, 1.0)
    observed, predicted = calibration_curve(outcome, confidence, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.histogram(confidence, bins=edges)[0]
    counts = counts[counts > 0]
    return [
        {"confidence": round(float(c), 6), "observed": round(float(o), 6), "count": int(n)}
        for c, o, n in zip(predicted, observed, counts)
    ]


def lift_curve(is_positive: np.ndarray, scores: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative lift and gains when cases are taken in order of decreasing score.

    Returns ``(fraction, lift, gain)`` at ``n_bins`` equal steps of the population: ``gain``
    is the share of all positives found in the top ``fraction``, ``lift`` is ``gain / fraction``
    (1 for a random order). Ties keep the original order, so results are deterministic.
    """
    is_positive = np.asarray(is_positive, dtype=float)
    order = np.argsort(-scores, kind="stable")
    found = np.cumsum(is_positive[order])
    n = len(scores)
    top = np.ceil(np.arange(1, n_bins + 1) * n / n_bins).astype(int)
    fraction = top / n
    gain = found[top - 1] / max(found[-1], 1.0)
    return fraction, gain / fraction, gain


def lift_table(y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...], n_bins: int) -> dict[str, list[dict]]:
    """Lift curves per class (one-vs-rest; only the positive class for binary tasks) and their mean.

    Keys are class names plus ``"mean"`` (the macro average over the classes shown).
    """
    classes = [1] if len(class_names) == 2 else range(len(class_names))
    curves: dict[str, list[dict]] = {}
    lifts, gains = [], []
    for k in classes:
        fraction, lift, gain = lift_curve(y_true == k, proba[:, k], n_bins)
        lifts.append(lift)
        gains.append(gain)
        curves[class_names[k]] = _rows(fraction, lift, gain)
    curves["mean"] = _rows(fraction, np.mean(lifts, axis=0), np.mean(gains, axis=0))
    return curves


def _rows(fraction: np.ndarray, lift: np.ndarray, gain: np.ndarray) -> list[dict]:
    return [
        {"population_fraction": round(float(f), 6), "lift": round(float(l), 6), "gain": round(float(g), 6)}
        for f, l, g in zip(fraction, lift, gain)
    ]
