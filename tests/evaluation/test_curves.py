import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from imgclf.evaluation.curves import (
    confusion_cells, grey_zone_curve, lift_curve, lift_table, misclassified_sample, reliability_curve,
    reliability_per_class, roc_and_pr,
)


def binary(p1) -> np.ndarray:
    """Two-class probabilities from P(second class)."""
    p1 = np.asarray(p1, dtype=float)
    return np.column_stack([1 - p1, p1])


def test_lift_and_gains_by_hand():
    # 10 cases in score order, 4 positives: the top 2 hold 2 of them, the top 4 hold 3, ...
    is_positive = np.array([1, 1, 0, 1, 0, 0, 0, 1, 0, 0])
    scores = np.linspace(1.0, 0.1, 10)
    fraction, lift, gain = lift_curve(is_positive, scores, n_bins=5)
    np.testing.assert_allclose(fraction, [0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(gain, [0.5, 0.75, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(lift, [2.5, 1.875, 1.25, 1.25, 1.0])


def test_lift_ties_keep_original_order():
    fraction, lift, gain = lift_curve(np.array([0, 1]), np.array([0.5, 0.5]), n_bins=2)
    np.testing.assert_allclose(gain, [0.0, 1.0])


def test_reliability_binary_by_hand():
    curve = reliability_curve(np.array([0, 0, 1, 1, 1]), binary([0.05, 0.15, 0.85, 0.95, 0.95]), n_bins=2)
    assert curve == [
        {"confidence": 0.1, "observed": 0.0, "count": 2},
        {"confidence": pytest.approx(0.916667), "observed": 1.0, "count": 3},
    ]


def test_reliability_multiclass_uses_top_label():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6]])
    curve = reliability_curve(y, proba, n_bins=2)
    assert curve == [{"confidence": pytest.approx(0.75), "observed": 0.75, "count": 4}]


def test_reliability_counts_agree_with_the_bins_at_edges():
    # 0.2 and 0.5 lie exactly on edges of 10 bins: each belongs to the bin below it, (0.1, 0.2]
    # and (0.4, 0.5], as in scikit-learn's calibration_curve; the counts must use the same bins.
    y = np.array([0, 1, 0, 1, 1, 1])
    p1 = [0.2, 0.2, 0.25, 0.5, 0.55, 0.9]
    assert reliability_curve(y, binary(p1), n_bins=10) == [
        {"confidence": 0.2, "observed": 0.5, "count": 2},
        {"confidence": 0.25, "observed": 0.0, "count": 1},
        {"confidence": 0.5, "observed": 1.0, "count": 1},
        {"confidence": 0.55, "observed": 1.0, "count": 1},
        {"confidence": 0.9, "observed": 1.0, "count": 1},
    ]


def test_reliability_matches_calibration_curve_with_many_edge_values():
    rng = np.random.default_rng(0)
    p1 = np.concatenate([rng.uniform(size=300), rng.integers(0, 11, 200) / 10])  # 200 on edges
    y = (rng.uniform(size=500) < p1).astype(int)
    curve = reliability_curve(y, binary(p1), n_bins=10)
    observed, predicted = calibration_curve(y, p1, n_bins=10)
    np.testing.assert_allclose([r["observed"] for r in curve], observed, atol=1e-6)
    np.testing.assert_allclose([r["confidence"] for r in curve], predicted, atol=1e-6)
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p1), minlength=10)
    assert [r["count"] for r in curve] == [int(n) for n in counts if n]
    assert sum(r["count"] for r in curve) == 500


def test_confusion_cells_are_precounted():
    cells = confusion_cells(np.array([0, 0, 1]), np.array([0, 1, 1]), ("a", "b"))
    assert cells == [
        {"actual": "a", "predicted": "a", "count": 1},
        {"actual": "a", "predicted": "b", "count": 1},
        {"actual": "b", "predicted": "a", "count": 0},
        {"actual": "b", "predicted": "b", "count": 1},
    ]


def test_lift_table_binary_shows_positive_class_only():
    y = np.array([0, 1, 0, 1])
    table = lift_table(y, binary([0.1, 0.8, 0.4, 0.7]), ("cat", "dog"), n_bins=2)
    assert set(table) == {"dog", "mean"}
    assert table["dog"] == table["mean"]
    assert table["dog"][0] == {"population_fraction": 0.5, "lift": 2.0, "gain": 1.0}


def test_curves_have_bounded_points():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 5000)
    proba = rng.dirichlet(np.ones(3), 5000)
    curves = roc_and_pr(y, proba)
    assert len(curves["roc"]) == 51 and len(curves["pr"]) == 51
    assert curves["roc"][0]["fpr"] == 0.0 and curves["roc"][-1]["tpr"] == 1.0
    zone = grey_zone_curve(y, proba)
    assert len(zone) <= 11 and zone[0]["coverage"] == 1.0


def test_misclassified_sample_is_seeded_and_bounded():
    y = np.zeros(100, dtype=int)
    proba = np.tile([0.2, 0.8], (100, 1))
    proba[:10] = [0.9, 0.1]  # ten right answers
    a = misclassified_sample(y, proba, 16, seed=1)
    assert len(a) == 16 and (a >= 10).all() and (np.diff(a) > 0).all()
    assert (misclassified_sample(y, proba, 16, seed=1) == a).all()
    assert len(misclassified_sample(y, proba, 500, seed=1)) == 90


def test_reliability_per_class_one_vs_rest():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6]])
    curves = reliability_per_class(y, proba, ("a", "b", "c"), n_bins=2)
    # class c: P(c) = 0.05, 0.1 (not c) in the low bin; 0.7, 0.6 (both c) in the high bin
    assert curves["c"] == [{"confidence": pytest.approx(0.075), "observed": 0.0, "count": 2},
                           {"confidence": pytest.approx(0.65), "observed": 1.0, "count": 2}]
    assert set(curves) == {"a", "b", "c"}
