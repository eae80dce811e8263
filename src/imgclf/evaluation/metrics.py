"""Test-set metrics of one model: accuracy and friends, calibration, the grey zone where it
abstains, and temperature scaling fitted on the validation split."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score, balanced_accuracy_score, brier_score_loss, log_loss, precision_recall_fscore_support,
    roc_auc_score,
)

ECE_BINS = 15


def confidence_bins(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """The bin (0 to ``n_bins - 1``) of each confidence among ``n_bins`` equal bins of [0, 1].

    scikit-learn's rule (``calibration_curve``): the bins are ``[0, e1], (e1, e2], ..., (e[n-1], 1]``,
    so a value on an inner edge belongs to the bin below it.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], confidence, side="left")


def binned_calibration(outcome: np.ndarray, confidence: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean confidence, observed frequency of outcome, count)`` of each non-empty bin of
    :func:`confidence_bins`, in bin order; the same numbers as ``calibration_curve`` gives."""
    bins = confidence_bins(confidence, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    kept = counts > 0
    mean_confidence = np.bincount(bins, weights=confidence, minlength=n_bins)[kept] / counts[kept]
    observed = np.bincount(bins, weights=outcome, minlength=n_bins)[kept] / counts[kept]
    return mean_confidence, observed, counts[kept]


def top_label(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(whether the top label is right, its probability)`` of each image."""
    return (proba.argmax(axis=1) == y_true).astype(int), proba.max(axis=1)


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Top-label ECE: the image-weighted mean gap between confidence and accuracy per bin
    (the bins of :func:`confidence_bins`, as in the reliability diagrams)."""
    correct, confidence = top_label(y_true, proba)
    mean_confidence, accuracy, counts = binned_calibration(correct, confidence, n_bins)
    return float(np.sum(counts * np.abs(mean_confidence - accuracy)) / len(y_true))


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
        # The multiclass Brier score: mean over images of the sum over classes of the squared
        # difference to the one-hot truth, in [0, 2]. With 2-D probabilities scikit-learn computes
        # exactly this; scale_by_half=False keeps it unhalved for two classes too ("auto" would
        # halve it there, to the binary Brier score of P(positive)), so every task has one scale.
        "brier": brier_score_loss(y_true, proba, labels=labels, scale_by_half=False),
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


def grey_zone(y_true: np.ndarray, proba: np.ndarray, low: float, high: float) -> dict[str, float]:
    """Abstain on uncertain cases; coverage and accuracy on the cases kept.

    Binary: abstain when ``low < P(positive) < high``. Multiclass: abstain when the top
    probability is below ``high``. The band is ``EvaluateParams.grey_zone``.
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

    logits = _logits(proba)
    result = minimize_scalar(lambda t: log_loss(y_true, apply_temperature_logits(logits, t), labels=np.arange(proba.shape[1])),
                             bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities rescaled by ``temperature`` (>1 softens, <1 sharpens); argmax unchanged."""
    return apply_temperature_logits(_logits(proba), temperature)


def apply_temperature_logits(logits: np.ndarray, temperature: float) -> np.ndarray:
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=1, keepdims=True)


def _logits(proba: np.ndarray) -> np.ndarray:
    return np.log(np.clip(proba, 1e-12, 1.0))
