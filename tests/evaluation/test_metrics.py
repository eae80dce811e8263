import numpy as np
import pytest

from imgclf.evaluation.curves import confusion_cells, lift_curve, lift_table, reliability_curve
from imgclf.evaluation.metrics import classification_metrics


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
    y = np.array([0, 0, 1, 1, 1])
    p1 = np.array([0.05, 0.15, 0.85, 0.95, 0.95])
    curve = reliability_curve(y, np.column_stack([1 - p1, p1]), n_bins=2)
    assert curve == [
        {"confidence": 0.1, "observed": 0.0, "count": 2},
        {"confidence": pytest.approx(0.916667), "observed": 1.0, "count": 3},
    ]


def test_reliability_multiclass_uses_top_label():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6]])
    curve = reliability_curve(y, proba, n_bins=2)
    assert curve == [{"confidence": pytest.approx(0.75), "observed": 0.75, "count": 4}]


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]])
    m = classification_metrics(y, proba, ("cat", "dog"))
    assert m["accuracy"] == 0.75
    assert m["precision_dog"] == pytest.approx(2 / 3, abs=1e-6)
    assert m["recall_cat"] == 0.5 and m["recall_dog"] == 1.0
    expected = -np.mean(np.log([0.8, 0.4, 0.7, 0.9]))
    assert m["log_loss"] == pytest.approx(expected, abs=1e-6)


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
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    table = lift_table(y, proba, ("cat", "dog"), n_bins=2)
    assert set(table) == {"dog", "mean"}
    assert table["dog"] == table["mean"]
    assert table["dog"][0] == {"population_fraction": 0.5, "lift": 2.0, "gain": 1.0}


def test_ece_by_hand():
    from imgclf.evaluation.metrics import expected_calibration_error

    # Two bins used (of 15): confidences 0.9 (2 images, 1 right) and 0.6 (2 images, both right).
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 1, 0, 1])
    expected = (2 * abs(0.9 - 0.5) + 2 * abs(0.6 - 1.0)) / 4
    assert expected_calibration_error(y, proba) == pytest.approx(expected)


def test_brier_by_hand():
    from imgclf.evaluation.metrics import brier_score

    proba = np.array([[0.8, 0.2, 0.0], [0.5, 0.25, 0.25]])
    y = np.array([0, 2])
    expected = ((0.04 + 0.04 + 0) + (0.25 + 0.0625 + 0.5625)) / 2
    assert brier_score(y, proba) == pytest.approx(expected)


def test_grey_zone_by_hand():
    from imgclf.evaluation.metrics import grey_zone

    p1 = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.95])
    y = np.array([0, 1, 1, 0, 1, 0])
    zone = grey_zone(y, np.column_stack([1 - p1, p1]), 0.25, 0.75)
    # kept: 0.1 (right), 0.9 (right), 0.95 (wrong) -> 3 of 6, 2 of 3 right
    assert zone == {"coverage": 0.5, "accuracy_kept": pytest.approx(0.666667)}
    multi = np.array([[0.8, 0.1, 0.1], [0.5, 0.3, 0.2]])
    assert grey_zone(np.array([0, 1]), multi, 0.25, 0.75) == {"coverage": 0.5, "accuracy_kept": 1.0}


def test_metrics_include_auc_f1_and_binary_correlation():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]])
    m = classification_metrics(y, proba, ("cat", "dog"))
    assert m["roc_auc"] == 1.0  # every dog scores above every cat
    assert m["f1_dog"] == pytest.approx(0.8)
    assert m["pearson_r"] == pytest.approx(np.corrcoef([0.2, 0.6, 0.7, 0.9], y)[0, 1], abs=1e-6)
    assert m["balanced_accuracy"] == 0.75


def test_curves_have_bounded_points():
    from imgclf.evaluation.curves import grey_zone_curve, roc_and_pr

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 5000)
    proba = rng.dirichlet(np.ones(3), 5000)
    curves = roc_and_pr(y, proba)
    assert len(curves["roc"]) == 51 and len(curves["pr"]) == 51
    assert curves["roc"][0]["fpr"] == 0.0 and curves["roc"][-1]["tpr"] == 1.0
    zone = grey_zone_curve(y, proba)
    assert len(zone) <= 11 and zone[0]["coverage"] == 1.0


def test_temperature_scaling_recovers_a_known_temperature():
    from imgclf.evaluation.metrics import apply_temperature, apply_temperature_logits, fit_temperature

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (20000, 4))
    truth = apply_temperature_logits(logits, 1.0)
    y = np.array([rng.choice(4, p=p) for p in truth])
    overconfident = apply_temperature_logits(logits, 0.5)  # as if T were 0.5: fitting must find 2
    temperature = fit_temperature(y, overconfident)
    assert temperature == pytest.approx(2.0, abs=0.1)
    scaled = apply_temperature(overconfident, temperature)
    assert (scaled.argmax(axis=1) == overconfident.argmax(axis=1)).all()


def test_misclassified_sample_is_seeded_and_bounded():
    from imgclf.evaluation.curves import misclassified_sample

    y = np.zeros(100, dtype=int)
    proba = np.tile([0.2, 0.8], (100, 1))
    proba[:10] = [0.9, 0.1]  # ten right answers
    a = misclassified_sample(y, proba, 16, seed=1)
    assert len(a) == 16 and (a >= 10).all() and (np.diff(a) > 0).all()
    assert (misclassified_sample(y, proba, 16, seed=1) == a).all()
    assert len(misclassified_sample(y, proba, 500, seed=1)) == 90


def test_reliability_per_class_one_vs_rest():
    from imgclf.evaluation.curves import reliability_per_class

    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6]])
    curves = reliability_per_class(y, proba, ("a", "b", "c"), n_bins=2)
    # class c: P(c) = 0.05, 0.1 (not c) in the low bin; 0.7, 0.6 (both c) in the high bin
    assert curves["c"] == [{"confidence": pytest.approx(0.075), "observed": 0.0, "count": 2},
                           {"confidence": pytest.approx(0.65), "observed": 1.0, "count": 2}]
    assert set(curves) == {"a", "b", "c"}
