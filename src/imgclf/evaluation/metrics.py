"""Test-set metrics of one model: accuracy and friends, calibration, the grey zone where it
abstains, and temperature scaling fitted on the validation split."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score, balanced_accuracy_score, log_loss, precision_recall_fscore_support, roc_auc_score,
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
