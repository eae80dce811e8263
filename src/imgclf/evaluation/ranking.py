"""The models ranked by the chosen metric, with the noise band of each difference.

Each row holds the model's accuracy with its bootstrap interval and, against the first-ranked
model, the paired bootstrap interval of the accuracy difference on the same test images
(:mod:`imgclf.evaluation.confidence`): an interval that holds 0 means the test set cannot tell
the two apart. evaluate writes the rows to ``reports/plots/ranking.json``; the page reads them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from imgclf.evaluation.confidence import accuracy_interval, difference_interval
from imgclf.params import LOWER_IS_BETTER, EvaluateParams


def accuracy_bounds(y_true: np.ndarray, y_pred: np.ndarray, settings: EvaluateParams, seed: int) -> dict[str, float]:
    """``accuracy_ci_low`` and ``accuracy_ci_high``: the seeded bootstrap interval of the accuracy."""
    low, high = accuracy_interval(y_true, y_pred, level=settings.confidence_level,
                                  resamples=settings.bootstrap_resamples, seed=seed)
    return {"accuracy_ci_low": round(low, 6), "accuracy_ci_high": round(high, 6)}


def ranked_names(results: Mapping[str, Mapping[str, float]], metric: str) -> list[str]:
    """Model names, best first by ``metric`` (lowest first for a loss); ties keep their order,
    models without the metric come last."""
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    return sorted(results, key=lambda name: (metric not in results[name], sign * results[name].get(metric, 0.0)))


def ranking(results: Mapping[str, Mapping[str, float]], correct: Mapping[str, np.ndarray], metric: str,
            settings: EvaluateParams, seed: int) -> list[dict]:
    """One row per model, best first by ``metric``: the metric, the accuracy and its interval,
    and the paired interval of its accuracy minus the best model's (``correct``: per test image,
    whether each model got it right)."""
    names = ranked_names(results, metric)
    best = names[0]
    rows = []
    for name in names:
        m = results[name]
        low, high = difference_interval(correct[best], correct[name], level=settings.confidence_level,
                                        resamples=settings.bootstrap_resamples, seed=seed)
        difference = float(np.mean(correct[name]) - np.mean(correct[best]))
        rows.append({
            "model": name, "metric": metric, "value": m.get(metric),
            "accuracy": m["accuracy"], "accuracy_ci_low": m.get("accuracy_ci_low"),
            "accuracy_ci_high": m.get("accuracy_ci_high"),
            "accuracy_vs_best": round(difference, 6), "vs_best_ci_low": round(low, 6), "vs_best_ci_high": round(high, 6),
            "within_noise": bool(low <= 0.0 <= high),
        })
    return rows
