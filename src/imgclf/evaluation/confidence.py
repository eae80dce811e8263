"""Seeded bootstrap intervals, so a reader sees which differences between models are real."""

from __future__ import annotations

import numpy as np
from scipy.stats import bootstrap


def bootstrap_interval(values: np.ndarray, *, level: float, resamples: int, seed: int) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of per-example ``values`` (e.g. 1.0 where
    a prediction is right, for accuracy), the same for the same ``seed``."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or np.all(values == values[0]):
        mean = float(values.mean()) if values.size else float("nan")
        return mean, mean
    result = bootstrap((values,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                       rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def accuracy_interval(y_true: np.ndarray, y_pred: np.ndarray, *, level: float, resamples: int,
                      seed: int) -> tuple[float, float]:
    """The bootstrap interval of the accuracy of ``y_pred`` against ``y_true``."""
    return bootstrap_interval(np.asarray(y_true) == np.asarray(y_pred), level=level, resamples=resamples, seed=seed)


def difference_interval(correct_before: np.ndarray, correct_after: np.ndarray, *, level: float, resamples: int,
                        seed: int) -> tuple[float, float]:
    """The paired bootstrap interval of accuracy(after) - accuracy(before) on the same examples:
    a change whose interval holds 0 is within the noise of the test set."""
    diff = np.asarray(correct_after, dtype=np.float64) - np.asarray(correct_before, dtype=np.float64)
    return bootstrap_interval(diff, level=level, resamples=resamples, seed=seed)
