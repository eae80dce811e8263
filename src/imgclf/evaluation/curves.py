"""The data behind every chart: confusion cells, reliability, lift, ROC and PR curves, the grey
zone's coverage curve, learning curves; small, pre-counted, for DVC plots and the PNG charts."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix

from imgclf.evaluation.metrics import binned_calibration, grey_zone, top_label


def grey_zone_curve(y_true: np.ndarray, proba: np.ndarray, steps: int = 11) -> list[dict]:
    """Coverage against accuracy on the kept cases as the abstain band widens.

    Binary: bands ``(0.5 - w, 0.5 + w)`` for ``w`` from 0 to 0.5; multiclass: top-probability
    thresholds from 0 to 1. ``steps`` points, so the file stays small.
    """
    rows = []
    for w in np.linspace(0.0, 0.5, steps):
        low, high = (0.5 - w, 0.5 + w) if proba.shape[1] == 2 else (0.0, 2 * w)
        zone = grey_zone(y_true, proba, low, high)
        if zone["coverage"] > 0:
            rows.append({"band": round(float(2 * w), 6), **zone})
    return rows


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
    confidence against the accuracy of the top label. Bins as in scikit-learn's
    ``calibration_curve`` (see :func:`~imgclf.evaluation.metrics.confidence_bins`), the same
    as the ECE's; empty bins are left out.
    """
    if proba.shape[1] == 2:
        outcome, confidence = (y_true == 1).astype(int), proba[:, 1]
    else:
        outcome, confidence = top_label(y_true, proba)
    confidence, observed, counts = binned_calibration(outcome, np.clip(confidence, 0.0, 1.0), n_bins)
    return [
        {"confidence": round(float(c), 6), "observed": round(float(o), 6), "count": int(n)}
        for c, o, n in zip(confidence, observed, counts)
    ]


def reliability_per_class(y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...], n_bins: int) -> dict[str, list[dict]]:
    """One-vs-rest reliability of each class: P(class) against how often it is that class."""
    curves = {}
    for k, name in enumerate(class_names):
        binary = np.column_stack([1.0 - proba[:, k], proba[:, k]])
        curves[name] = reliability_curve((y_true == k).astype(int), binary, n_bins)
    return curves


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


def gains_rows(mean_lift: list[dict]) -> list[dict]:
    """The cumulative gains curve of rows of ``lift_table(...)["mean"]``, from (0, 0)."""
    return [{"population_fraction": 0.0, "gain": 0.0},
            *({"population_fraction": r["population_fraction"], "gain": r["gain"]} for r in mean_lift)]


def _rows(fraction: np.ndarray, lift: np.ndarray, gain: np.ndarray) -> list[dict]:
    return [
        {"population_fraction": round(float(f), 6), "lift": round(float(l), 6), "gain": round(float(g), 6)}
        for f, l, g in zip(fraction, lift, gain)
    ]


def roc_and_pr(y_true: np.ndarray, proba: np.ndarray, points: int = 51) -> dict[str, list[dict]]:
    """ROC and precision-recall curves on fixed grids (``points`` each, so files stay small).

    Binary: for P(positive). Multiclass: micro-averaged over one-vs-rest decisions.
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    if proba.shape[1] == 2:
        truth, scores = (y_true == 1).astype(int), proba[:, 1]
    else:
        truth, scores = np.eye(proba.shape[1])[y_true].ravel(), proba.ravel()
    fpr, tpr, _ = roc_curve(truth, scores)
    precision, recall, _ = precision_recall_curve(truth, scores)
    grid = np.linspace(0.0, 1.0, points)
    order = np.argsort(recall, kind="stable")
    # Interpolated precision: the best precision reachable at this recall or more.
    best = np.maximum.accumulate(precision[order][::-1])[::-1]
    return {
        "roc": [{"fpr": round(float(x), 6), "tpr": round(float(y), 6)} for x, y in zip(grid, np.interp(grid, fpr, tpr))],
        "pr": [{"recall": round(float(x), 6), "precision": round(float(y), 6)}
               for x, y in zip(grid, np.interp(grid, recall[order], best))],
    }


def history_rows(history: dict[str, list[float]]) -> list[dict]:
    """A Keras history as one row per epoch (epochs counted from 1)."""
    keys = [k for k in ("loss", "val_loss", "accuracy", "val_accuracy") if k in history]
    return [{"epoch": i + 1, **{k: round(history[k][i], 6) for k in keys}} for i in range(len(history.get("loss", [])))]


def misclassified_sample(y_true: np.ndarray, proba: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of up to ``count`` misclassified images, drawn with ``seed``, in index order."""
    wrong = np.flatnonzero(proba.argmax(axis=1) != y_true)
    if len(wrong) > count:
        wrong = np.sort(np.random.default_rng(seed).choice(wrong, count, replace=False))
    return wrong
