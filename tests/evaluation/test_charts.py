import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

from imgclf.evaluation import charts
from imgclf.evaluation.curves import history_rows, lift_table, reliability_curve, roc_and_pr


@pytest.fixture
def two_models():
    """Test-set probabilities of a good and a poor model on the same 200 images."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    good = np.clip(0.5 + 0.4 * (2 * y - 1) + rng.normal(0, 0.2, 200), 0, 1)
    poor = rng.uniform(size=200)
    yield y, {name: np.column_stack([1 - p, p]) for name, p in (("good", good), ("poor", poor))}
    plt.close("all")


def test_two_models_roc_curves_on_one_axes(two_models):
    y, models = two_models
    fig, ax = plt.subplots()
    displays = [charts.roc_panel(roc_and_pr(y, proba)["roc"], name=name, ax=ax) for name, proba in models.items()]
    assert all(isinstance(d, RocCurveDisplay) and d.ax_ is ax for d in displays)
    assert [line for line in ax.get_lines()] == [d.line_ for d in displays]
    assert [line.get_label() for line in ax.get_lines()] == ["good", "poor"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["good", "poor"]
    np.testing.assert_allclose(displays[0].line_.get_xdata(), np.linspace(0, 1, 51))


def test_panels_draw_on_a_new_figure_without_ax(two_models):
    y, models = two_models
    curves = roc_and_pr(y, models["good"])
    pr = charts.pr_panel(curves["pr"], name="good")
    assert isinstance(pr, PrecisionRecallDisplay) and pr.ax_.get_lines() == [pr.line_]
    lines = charts.reliability_panel(reliability_curve(y, models["good"], 10))
    assert len(lines) == 1 and lines[0].axes.get_lines() == lines


def test_panels_return_their_lines(two_models):
    y, models = two_models
    fig, ax = plt.subplots()
    lines = charts.lift_panel(lift_table(y, models["good"], ("cat", "dog"), 5), ax=ax)
    assert [line.get_label() for line in lines] == ["dog", "mean"] and all(line in ax.lines for line in lines)
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
    loss = charts.learning_curve_panel(history_rows(history), "loss", ax=ax)
    assert [line.get_label() for line in loss] == ["loss", "val_loss"]
    both = charts.before_after_panel([{"x": 0, "y": 1}], [{"x": 0, "y": 2}], "x", ["y"], ax=ax)
    assert [line.get_label() for line in both] == ["y (before)", "y (after)"]

