import io

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from imgclf.evaluation import charts
from imgclf.evaluation.curves import gains_rows, grey_zone_curve, lift_table, reliability_curve, roc_and_pr
from imgclf.evaluation.overlays import (
    gains_overlay, grey_zone_overlay, lift_overlay, overview_pngs, png_bytes, quantised, read_curves,
    reliability_overlay, roc_overlay,
)


def model_proba(seed: int, skill: float, y: np.ndarray) -> np.ndarray:
    proba = np.random.default_rng(seed).dirichlet(np.ones(3), size=len(y))
    proba[np.arange(len(y)), y] += skill
    return proba / proba.sum(axis=1, keepdims=True)


Y = np.repeat([0, 1, 2], 40)
MODELS = {"weak": model_proba(1, 0.2, Y), "strong": model_proba(2, 1.0, Y)}


def test_overlaid_roc_draws_each_models_own_curve():
    curves = {name: roc_and_pr(Y, proba)["roc"] for name, proba in MODELS.items()}
    displays = roc_overlay(curves)
    assert len({id(d.ax_) for d in displays}) == 1  # one Axes for every model
    for display, (name, rows) in zip(displays, curves.items()):
        own = charts.roc_panel(rows, name)  # the model's own chart, from the same data
        np.testing.assert_array_equal(display.line_.get_xydata(), own.line_.get_xydata())
        np.testing.assert_array_equal(display.line_.get_xydata(), [[r["fpr"], r["tpr"]] for r in rows])
        assert display.line_.get_label().startswith(name)
    assert displays[0].line_.get_color() != displays[1].line_.get_color()
    plt.close("all")


def test_overlaid_reliability_lift_gains_and_grey_zone_hold_each_models_rows():
    reliability = {name: reliability_curve(Y, p, 10) for name, p in MODELS.items()}
    lift = {name: lift_table(Y, p, ("a", "b", "c"), 5)["mean"] for name, p in MODELS.items()}
    gains = {name: gains_rows(rows) for name, rows in lift.items()}
    zone = {name: grey_zone_curve(Y, p) for name, p in MODELS.items()}
    for lines, rows, x, y in ((reliability_overlay(reliability), reliability, "confidence", "observed"),
                              (lift_overlay(lift), lift, "population_fraction", "lift"),
                              (gains_overlay(gains), gains, "population_fraction", "gain"),
                              (grey_zone_overlay(zone, {"weak": (0.5, 0.9)}), zone, "coverage", "accuracy_kept")):
        assert [line.get_label() for line in lines] == list(MODELS)
        for line, model_rows in zip(lines, rows.values()):
            np.testing.assert_array_equal(line.get_xydata(), [[r[x], r[y]] for r in model_rows])
    plt.close("all")


def test_png_is_a_smaller_palette_image_and_the_same_each_time():
    def figure_png() -> bytes:
        fig, ax = plt.subplots()
        roc_overlay({n: roc_and_pr(Y, p)["roc"] for n, p in MODELS.items()}, ax=ax)
        return png_bytes(fig)

    first, second = figure_png(), figure_png()
    assert first == second
    image = Image.open(io.BytesIO(first))
    assert image.mode == "P" and len(image.getpalette()) // 3 <= 128
    fig, ax = plt.subplots()
    roc_overlay({n: roc_and_pr(Y, p)["roc"] for n, p in MODELS.items()}, ax=ax)
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    assert len(quantised(full.getvalue())) == len(first) < len(full.getvalue())


def test_overview_charts_read_the_files_of_every_model(shared_page):
    plots = shared_page().parent / "plots"
    names = ["model_0", "model_1", "model_2"]
    assert list(read_curves(plots, "roc", names + ["absent"])) == names
    pngs = overview_pngs(plots, names, {})
    assert list(pngs) == ["ROC", "reliability", "lift", "cumulative gains", "grey zone"]
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000 for png in pngs.values())


def test_before_and_after_share_the_axes_of_the_pages_overlay():
    from imgclf.evaluation.overlays import before_after_png

    before, after = roc_and_pr(Y, MODELS["weak"])["roc"], roc_and_pr(Y, MODELS["strong"])["roc"]
    png = before_after_png("roc", before, after, ("m at main", "m now"), "roc: m")
    assert Image.open(io.BytesIO(png)).mode == "P"
    assert before_after_png("roc", None, after, ("m at main", "m now"), "roc: m") != png  # a new model: one curve
    assert before_after_png("history", before, after, ("a", "b"), "history") is None  # no overlay of that kind
