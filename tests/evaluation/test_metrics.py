import inspect

import numpy as np
import pytest

from imgclf.evaluation.curves import reliability_curve
from imgclf.evaluation.metrics import (
    apply_temperature, apply_temperature_logits, classification_metrics, expected_calibration_error, fit_temperature,
    grey_zone,
)

# Four images of two classes: three right, P(dog) = 0.2, 0.6, 0.7, 0.9.
Y4 = np.array([0, 0, 1, 1])
P4 = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]])


def test_metrics_by_hand():
    m = classification_metrics(Y4, P4, ("cat", "dog"))
    assert m["accuracy"] == 0.75
    assert m["precision_dog"] == pytest.approx(2 / 3, abs=1e-6)
    assert m["recall_cat"] == 0.5 and m["recall_dog"] == 1.0
    expected = -np.mean(np.log([0.8, 0.4, 0.7, 0.9]))
    assert m["log_loss"] == pytest.approx(expected, abs=1e-6)


def test_metrics_include_auc_f1_and_binary_correlation():
    m = classification_metrics(Y4, P4, ("cat", "dog"))
    assert m["roc_auc"] == 1.0  # every dog scores above every cat
    assert m["f1_dog"] == pytest.approx(0.8)
    assert m["pearson_r"] == pytest.approx(np.corrcoef([0.2, 0.6, 0.7, 0.9], Y4)[0, 1], abs=1e-6)
    assert m["balanced_accuracy"] == 0.75


def test_ece_by_hand():
    # Two bins used (of 15): confidences 0.9 (2 images, 1 right) and 0.6 (2 images, both right).
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 1, 0, 1])
    expected = (2 * abs(0.9 - 0.5) + 2 * abs(0.6 - 1.0)) / 4
    assert expected_calibration_error(y, proba) == pytest.approx(expected)


def test_ece_puts_a_confidence_on_an_edge_in_the_bin_below():
    # Top-label confidences 0.5 (right) and 0.55 (wrong), 10 bins: 0.5 is the upper edge of
    # (0.4, 0.5], so the two fall in different bins, as in scikit-learn's calibration_curve.
    proba = np.array([[0.5, 0.3, 0.2], [0.55, 0.25, 0.2]])
    y = np.array([0, 1])
    assert expected_calibration_error(y, proba, n_bins=10) == pytest.approx((abs(0.5 - 1) + abs(0.55 - 0)) / 2)


def test_ece_is_the_weighted_gap_of_the_reliability_curve():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(3), 400)
    proba[:100] = np.round(proba[:100], 1)  # many top-label confidences on edges of 10 bins
    proba[:100] /= proba[:100].sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 400)
    curve = reliability_curve(y, proba, n_bins=10)
    weighted = sum(r["count"] * abs(r["confidence"] - r["observed"]) for r in curve) / len(y)
    assert expected_calibration_error(y, proba, n_bins=10) == pytest.approx(weighted, abs=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_brier_by_hand(n_classes):
    # The multiclass Brier score: mean over images of the squared distance to the one-hot truth.
    if n_classes == 3:
        proba, y = np.array([[0.8, 0.2, 0.0], [0.5, 0.25, 0.25]]), np.array([0, 2])
        expected = ((0.04 + 0.04 + 0) + (0.25 + 0.0625 + 0.5625)) / 2
    else:
        proba, y = P4, Y4
        expected = 2 * np.mean((P4[:, 1] - Y4) ** 2)  # twice the binary Brier score of P(dog)
    names = tuple("abc"[:n_classes])
    assert classification_metrics(y, proba, names)["brier"] == pytest.approx(expected, abs=1e-6)


def test_grey_zone_by_hand():
    p1 = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.95])
    y = np.array([0, 1, 1, 0, 1, 0])
    zone = grey_zone(y, np.column_stack([1 - p1, p1]), 0.25, 0.75)
    # kept: 0.1 (right), 0.9 (right), 0.95 (wrong) -> 3 of 6, 2 of 3 right
    assert zone == {"coverage": 0.5, "accuracy_kept": pytest.approx(0.666667)}
    multi = np.array([[0.8, 0.1, 0.1], [0.5, 0.3, 0.2]])
    assert grey_zone(np.array([0, 1]), multi, 0.25, 0.75) == {"coverage": 0.5, "accuracy_kept": 1.0}


def test_grey_band_has_no_default_outside_the_params():
    # The one default band lives in EvaluateParams.grey_zone; callers must pass it.
    assert all(p.default is inspect.Parameter.empty for p in inspect.signature(grey_zone).parameters.values())


def test_temperature_scaling_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (20000, 4))
    truth = apply_temperature_logits(logits, 1.0)
    y = np.array([rng.choice(4, p=p) for p in truth])
    overconfident = apply_temperature_logits(logits, 0.5)  # as if T were 0.5: fitting must find 2
    temperature = fit_temperature(y, overconfident)
    assert temperature == pytest.approx(2.0, abs=0.1)
    scaled = apply_temperature(overconfident, temperature)
    assert (scaled.argmax(axis=1) == overconfident.argmax(axis=1)).all()
