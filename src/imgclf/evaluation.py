"""Test-set metrics and the data behind the calibration and lift charts."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score, balanced_accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support, roc_auc_score,
)

ECE_BINS = 15


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Top-label ECE: the image-weighted mean gap between confidence and accuracy per bin."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.sum() * abs(confidence[inside].mean() - correct[inside].mean())
    return total / len(y_true)


def brier_score(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean over images of the squared distance between the probabilities and the one-hot truth.

    For two classes this is twice scikit-learn's ``brier_score_loss`` on P(positive).
    """
    onehot = np.eye(proba.shape[1])[y_true]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...]) -> dict[str, float]:
    """Every test metric of one model, flat: accuracy, balanced accuracy, log loss, Brier score,
    ECE (15 bins), ROC AUC (one-vs-rest macro for multiclass), per-class precision, recall and
    F1 (``precision_<class>``...), and for two classes the Pearson correlation of P(positive)
    with the label."""
    labels = np.arange(len(class_names))
    y_pred = proba.argmax(axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    binary = len(class_names) == 2
    metrics = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "log_loss": log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=labels),
        "brier": brier_score(y_true, proba),
        "ece": expected_calibration_error(y_true, proba),
    }
    if len(np.unique(y_true)) == len(class_names):
        metrics["roc_auc"] = (roc_auc_score(y_true, proba[:, 1]) if binary
                              else roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels))
    if binary and proba[:, 1].std() > 0:
        metrics["pearson_r"] = np.corrcoef(proba[:, 1], y_true)[0, 1]
    for name, p, r, f in zip(class_names, precision, recall, f1):
        metrics[f"precision_{name}"] = p
        metrics[f"recall_{name}"] = r
        metrics[f"f1_{name}"] = f
    return {key: round(float(value), 6) for key, value in metrics.items()}


def grey_zone(y_true: np.ndarray, proba: np.ndarray, low: float = 0.25, high: float = 0.75) -> dict[str, float]:
    """Abstain on uncertain cases; coverage and accuracy on the cases kept.

    Binary: abstain when ``low < P(positive) < high``. Multiclass: abstain when the top
    probability is below ``high``.
    """
    keep = answered(proba, low, high)
    kept = int(keep.sum())
    accuracy = float((proba.argmax(axis=1)[keep] == y_true[keep]).mean()) if kept else float("nan")
    return {"coverage": round(kept / len(y_true), 6), "accuracy_kept": round(accuracy, 6)}


def answered(proba: np.ndarray, low: float, high: float) -> np.ndarray:
    """True where the model answers: outside the grey zone (see :func:`grey_zone`)."""
    if proba.shape[1] == 2:
        return (proba[:, 1] <= low) | (proba[:, 1] >= high)
    return proba.max(axis=1) >= high


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


def fit_temperature(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The temperature T minimising the log loss of ``softmax(log(p) / T)`` (fitted on validation)."""
    from scipy.optimize import minimize_scalar

    logits = np.log(np.clip(proba, 1e-12, 1.0))
    result = minimize_scalar(lambda t: log_loss(y_true, apply_temperature_logits(logits, t), labels=np.arange(proba.shape[1])),
                             bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities rescaled by ``temperature`` (>1 softens, <1 sharpens); argmax unchanged."""
    return apply_temperature_logits(np.log(np.clip(proba, 1e-12, 1.0)), temperature)


def apply_temperature_logits(logits: np.ndarray, temperature: float) -> np.ndarray:
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=1, keepdims=True)


def misclassified_sample(y_true: np.ndarray, proba: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of up to ``count`` misclassified images, drawn with ``seed``, in index order."""
    wrong = np.flatnonzero(proba.argmax(axis=1) != y_true)
    if len(wrong) > count:
        wrong = np.sort(np.random.default_rng(seed).choice(wrong, count, replace=False))
    return wrong
