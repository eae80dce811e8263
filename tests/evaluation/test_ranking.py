import numpy as np

from imgclf.evaluation.ranking import accuracy_bounds, ranked_names, ranking
from imgclf.params import EvaluateParams

SETTINGS = EvaluateParams(bootstrap_resamples=300)


def test_losses_rank_lowest_first_and_scores_highest_first():
    results = {"a": {"accuracy": 0.8, "log_loss": 0.2}, "b": {"accuracy": 0.9, "log_loss": 0.4}, "c": {"accuracy": 0.7}}
    assert ranked_names(results, "accuracy") == ["b", "a", "c"]
    assert ranked_names(results, "log_loss") == ["a", "b", "c"]  # c has no log loss: last


def test_accuracy_bounds_hold_the_accuracy_and_are_seeded():
    y = np.repeat([0, 1], 100)
    y_pred = np.where(np.arange(200) % 5 == 0, 1 - y, y)  # 80% right
    bounds = accuracy_bounds(y, y_pred, SETTINGS, 0)
    assert bounds["accuracy_ci_low"] < 0.8 < bounds["accuracy_ci_high"]
    assert bounds == accuracy_bounds(y, y_pred, SETTINGS, 0)
    narrow = accuracy_bounds(y, y_pred, EvaluateParams(bootstrap_resamples=300, confidence_level=0.6), 0)
    assert bounds["accuracy_ci_low"] < narrow["accuracy_ci_low"] < narrow["accuracy_ci_high"] < bounds["accuracy_ci_high"]


def test_a_difference_within_the_noise_is_marked_and_a_clear_one_is_not():
    n = 400
    best = np.ones(n, dtype=bool)
    best[:20] = False  # 95%
    close = best.copy()
    close[20:26] = False
    close[:4] = True  # 94.5%: right on 4 images the best gets wrong, wrong on 6 it gets right
    poor = np.arange(n) % 2 == 0  # 50%
    correct = {"best": best, "close": close, "poor": poor}
    results = {name: {"accuracy": float(c.mean())} for name, c in correct.items()}
    rows = {row["model"]: row for row in ranking(results, correct, "accuracy", SETTINGS, 0)}
    assert [r for r in rows] == ["best", "close", "poor"]
    assert rows["best"]["accuracy_vs_best"] == 0.0 and rows["best"]["within_noise"]
    assert rows["close"]["within_noise"] and rows["close"]["vs_best_ci_low"] < 0 <= rows["close"]["vs_best_ci_high"]
    assert not rows["poor"]["within_noise"] and rows["poor"]["vs_best_ci_high"] < 0
    assert rows["poor"]["accuracy_vs_best"] == round(0.5 - 0.95, 6)
