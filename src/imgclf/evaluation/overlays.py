"""Every model on the same axes: ROC, reliability, lift, cumulative gains and the grey zone.

Drawn from the chart data evaluate keeps (``reports/plots/<kind>/<model>.json``, the files DVC
plots draw too) with the panels of :mod:`imgclf.evaluation.charts`, so a model's overlaid curve
is the very data of its own chart. Each ``*_overlay`` function draws on ``ax`` (a new figure when
None) and returns what it drew, one Display or line per model, in the order of ``curves``.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.metrics import RocCurveDisplay  # noqa: E402

from imgclf.evaluation import charts  # noqa: E402
from imgclf.outputs import read_json  # noqa: E402

TAKEN = charts.TAKEN
PNG_COLOURS = 128  # a palette PNG: a third of the bytes of a full-colour one, the same to the eye


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots(figsize=(6, 4.6))[1] if ax is None else ax


def _colour(i: int) -> str:
    """The colour of the ``i``-th model, the same on every overlaid chart."""
    return f"C{i % 10}"


def read_curves(plots_dir: Path, kind: str, names: list[str]) -> dict[str, list[dict]]:
    """The chart data of ``kind`` for each model that has it, in the order of ``names``."""
    files = {name: Path(plots_dir) / kind / f"{name}.json" for name in names}
    return {name: read_json(path) for name, path in files.items() if path.exists()}


def roc_overlay(curves: dict[str, list[dict]], ax: Axes | None = None) -> list[RocCurveDisplay]:
    """One ROC curve per model (rows of ``roc_and_pr(...)["roc"]``), chance level dotted."""
    ax = _axes(ax)
    displays = [charts.roc_panel(rows, name, ax=ax, chance_level=i == 0)
                for i, (name, rows) in enumerate(curves.items())]
    for i, display in enumerate(displays):
        display.line_.set_color(_colour(i))
    ax.set_title("ROC")
    ax.legend(loc="lower right", fontsize="small")
    return displays


def reliability_overlay(curves: dict[str, list[dict]], ax: Axes | None = None) -> list[Line2D]:
    """One reliability curve per model (rows of ``reliability_curve``) on the diagonal."""
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    lines = []
    for i, (name, rows) in enumerate(curves.items()):
        lines += charts.reliability_panel(rows, name, ax=ax, marker="o", color=_colour(i))
    ax.set(xlabel="confidence", ylabel="observed frequency", title="reliability", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small")
    return lines


def _mean_lines(ax: Axes, curves: dict[str, list[dict]], key: str) -> list[Line2D]:
    """Each model's ``key`` against the share of images taken."""
    return [line for i, (name, rows) in enumerate(curves.items())
            for line in ax.plot([r["population_fraction"] for r in rows], [r[key] for r in rows], marker=".",
                                color=_colour(i), label=name)]


def lift_overlay(curves: dict[str, list[dict]], ax: Axes | None = None) -> list[Line2D]:
    """Each model's cumulative lift (rows of ``lift_table(...)["mean"]``: the mean over classes,
    one against the rest)."""
    ax = _axes(ax)
    lines = _mean_lines(ax, curves, "lift")
    ax.axhline(1.0, linestyle=":", color="grey")
    ax.set(xlabel=TAKEN, ylabel="cumulative lift", title="cumulative lift")
    ax.legend(fontsize="small")
    return lines


def gains_overlay(curves: dict[str, list[dict]], ax: Axes | None = None) -> list[Line2D]:
    """Each model's cumulative gains (rows of ``gains_rows``: the mean over classes, from (0, 0));
    chance dotted."""
    ax = _axes(ax)
    lines = _mean_lines(ax, curves, "gain")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel=TAKEN, ylabel="share of class found", title="cumulative gains")
    ax.legend(loc="lower right", fontsize="small")
    return lines


def grey_zone_overlay(curves: dict[str, list[dict]], chosen: dict[str, tuple[float, float]],
                      ax: Axes | None = None) -> list[Line2D]:
    """Each model's accuracy on the answered images against coverage as the abstain band
    widens; ``chosen``: (coverage, accuracy) of each model at the band of params.yaml, marked."""
    ax = _axes(ax)
    lines = []
    for i, (name, rows) in enumerate(curves.items()):
        lines += ax.plot([r["coverage"] for r in rows], [r["accuracy_kept"] for r in rows], marker=".",
                         color=_colour(i), label=name)
        if name in chosen:
            ax.scatter(*chosen[name], s=90, color=_colour(i), edgecolor="black", zorder=3)
    ax.set(xlabel="coverage (share answered)", ylabel="accuracy on the answered",
           title="grey zone (big dots: the chosen band)")
    ax.legend(loc="lower left", fontsize="small")
    return lines


def png_bytes(fig: plt.Figure, dpi: int = charts.PAGE_DPI) -> bytes:
    """``fig`` as a palette PNG (closed afterwards); the same bytes for the same figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return quantised(buffer.getvalue())


def quantised(png: bytes, colours: int = PNG_COLOURS) -> bytes:
    """A PNG re-encoded with a palette of ``colours`` (median cut, no dithering: deterministic)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    palette = image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def overview_pngs(plots_dir: Path, names: list[str], chosen: dict[str, tuple[float, float]]) -> dict[str, bytes]:
    """The overlaid charts as palette PNGs, by title: every model of ``names`` on each."""
    pngs = {}
    for title, kind, draw in (("ROC", "roc", roc_overlay), ("reliability", "calibration", reliability_overlay),
                              ("lift", "lift", lift_overlay), ("cumulative gains", "gains", gains_overlay)):
        fig, ax = plt.subplots(figsize=(6, 4.6))
        draw(read_curves(plots_dir, kind, names), ax=ax)
        pngs[title] = png_bytes(fig)
    fig, ax = plt.subplots(figsize=(6, 4.6))
    grey_zone_overlay(read_curves(plots_dir, "grey_zone", names), chosen, ax=ax)
    pngs["grey zone"] = png_bytes(fig)
    return pngs


OVERLAID = {"roc": roc_overlay, "calibration": reliability_overlay, "lift": lift_overlay, "gains": gains_overlay,
            "grey_zone": lambda curves, ax: grey_zone_overlay(curves, {}, ax=ax)}


def before_after_png(kind: str, before: list[dict] | None, after: list[dict] | None, labels: tuple[str, str],
                     title: str) -> bytes | None:
    """One model's chart data of ``kind`` at two commits on the same axes, drawn by the overlay
    of that kind (``labels``: the two curves' names); None for a kind without an overlay."""
    if kind not in OVERLAID:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    OVERLAID[kind]({label: rows for label, rows in zip(labels, (before, after)) if rows}, ax=ax)
    ax.set_title(title, fontsize="medium")
    return png_bytes(fig)
