"""PNG charts for people: confusion matrix, reliability diagram, lift chart, ...

Charts the scikit-learn way: each ``*_panel`` function draws one panel on ``ax`` (a new figure
when None) and returns what it drew (a Display, the Line2D list, or the Axes), so that panels
can be combined, e.g. two models' ROC curves on one Axes. Each ``*_chart`` function lays
panels out in a figure and writes it as a PNG.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay, confusion_matrix  # noqa: E402

from imgclf.outputs import atomic_path  # noqa: E402

TAKEN = "share of images taken, by decreasing score"
PAGE_DPI = 80  # the report page's charts; those it embeds from reports/figures are drawn at it too


def save_figure(fig: plt.Figure, path: Path, dpi: int = 100) -> None:
    """``fig`` written as the PNG ``path`` (atomically), then closed."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def _axes(ax: Axes | None) -> Axes:
    """``ax``, or the Axes of a new figure when None."""
    return plt.subplots()[1] if ax is None else ax


def _column(rows: list[dict], key: str) -> list:
    return [r[key] for r in rows]


def _label_rotation(names) -> float:
    """Slanted column labels when more than three classes have names longer than three
    characters, so that they do not run into each other; digits and short names stay level."""
    return 45.0 if len(names) > 3 and max(len(str(n)) for n in names) > 3 else 0.0


def confusion_panel(matrix: np.ndarray, class_names, values_format: str = "d",
                    ax: Axes | None = None) -> ConfusionMatrixDisplay:
    """A confusion matrix (counts, or shares with ``values_format=".2f"``) as a heat map."""
    return ConfusionMatrixDisplay(matrix, display_labels=list(class_names)).plot(
        ax=_axes(ax), colorbar=False, cmap="Blues", values_format=values_format,
        xticks_rotation=_label_rotation(class_names))


def reliability_panel(curve: list[dict], label: str | None = None, ax: Axes | None = None, **style) -> list[Line2D]:
    """Observed frequency against mean confidence per bin (rows of ``reliability_curve``).

    ``CalibrationDisplay`` is not used: it wants the raw probabilities of a binary task, and
    names its axes "fraction of positives", while these rows are pre-binned and, for several
    classes, the accuracy of the top label.
    """
    return _axes(ax).plot(_column(curve, "confidence"), _column(curve, "observed"), label=label, **style)


def confidence_histogram_panel(curve: list[dict], n_bins: int, ax: Axes | None = None) -> BarContainer:
    """How many images fall in each confidence bin."""
    return _axes(ax).bar(_column(curve, "confidence"), _column(curve, "count"), width=0.9 / n_bins, color="tab:blue")


def _class_lines(ax: Axes, curves: dict[str, list[dict]], key: str, origin: bool) -> list[Line2D]:
    """One line of ``key`` per class, the ``"mean"`` bold; from (0, 0) when ``origin``."""
    lines = []
    for name, rows in curves.items():
        style = {"linewidth": 2.5, "color": "black"} if name == "mean" else {"linewidth": 1, "alpha": 0.7}
        start = [0.0] if origin else []
        lines += ax.plot(start + _column(rows, "population_fraction"), start + _column(rows, key), label=name, **style)
    return lines


def lift_panel(curves: dict[str, list[dict]], ax: Axes | None = None) -> list[Line2D]:
    """Cumulative lift, one line per class (rows of ``lift_table``), the mean bold."""
    ax = _axes(ax)
    lines = _class_lines(ax, curves, "lift", origin=False)
    ax.axhline(1.0, linestyle=":", color="grey")
    ax.set(xlabel=TAKEN, ylabel="cumulative lift", title="lift")
    return lines


def gains_panel(curves: dict[str, list[dict]], ax: Axes | None = None) -> list[Line2D]:
    """Cumulative gains, one line per class (rows of ``lift_table``), the mean bold."""
    ax = _axes(ax)
    lines = _class_lines(ax, curves, "gain", origin=True)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel=TAKEN, ylabel="share of class found", title="cumulative gains")
    ax.legend(fontsize="small", ncol=2)
    return lines


def roc_panel(rows: list[dict], name: str | None = None, ax: Axes | None = None,
              chance_level: bool = False) -> RocCurveDisplay:
    """A ROC curve (rows of ``roc_and_pr(...)["roc"]``); ``name`` labels it in a legend."""
    display = RocCurveDisplay(fpr=np.array(_column(rows, "fpr")), tpr=np.array(_column(rows, "tpr")), name=name)
    display.plot(ax=_axes(ax), plot_chance_level=chance_level,
                 chance_level_kw={"linestyle": ":", "color": "grey", "label": None})
    display.ax_.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    return display


def pr_panel(rows: list[dict], name: str | None = None, ax: Axes | None = None) -> PrecisionRecallDisplay:
    """A precision-recall curve (rows of ``roc_and_pr(...)["pr"]``); ``name`` labels it in a legend."""
    display = PrecisionRecallDisplay(np.array(_column(rows, "precision")), np.array(_column(rows, "recall")), name=name)
    # Straight segments, not scikit-learn's steps: the rows are already interpolated on a grid.
    display.plot(ax=_axes(ax), curve_kwargs={"drawstyle": "default"})
    display.ax_.set(xlabel="recall", ylabel="precision", title="precision-recall", xlim=(0, 1), ylim=(0, 1.01))
    return display


def grey_zone_panel(curve: list[dict], chosen: dict[str, float], binary: bool, title: str,
                    ax: Axes | None = None) -> Axes:
    """Accuracy on the kept cases against coverage as the abstain band widens; the chosen band marked."""
    ax = _axes(ax)
    ax.plot(_column(curve, "coverage"), _column(curve, "accuracy_kept"), marker="o")
    ax.scatter([chosen["coverage"]], [chosen["accuracy_kept"]], s=120, color="tab:red", zorder=3,
               label=f"chosen band: {chosen['coverage']:.0%} kept, {chosen['accuracy_kept']:.1%} right")
    ax.set(xlabel="coverage (share of images the model answers)", ylabel="accuracy on the answered images",
           title=f"{title}: grey zone ({'P(positive) band' if binary else 'top-probability threshold'})")
    ax.legend(loc="lower left")
    return ax


def learning_curve_panel(rows: list[dict], metric: str, ax: Axes | None = None) -> list[Line2D]:
    """Training (solid) and validation (dashed) ``metric`` per epoch (rows of ``history_rows``)."""
    ax = _axes(ax)
    lines = []
    for key, style in ((metric, "-"), (f"val_{metric}", "--")):
        if key in rows[0]:
            lines += ax.plot(_column(rows, "epoch"), _column(rows, key), style, marker=".", label=key)
    ax.set(xlabel="epoch", ylabel=metric, title=metric)
    ax.legend()
    return lines


def before_after_panel(before: list[dict] | None, after: list[dict] | None, x: str, ys: list[str],
                       ax: Axes | None = None) -> list[Line2D]:
    """One chart's data at the base commit (dashed) and now (solid)."""
    ax = _axes(ax)
    lines = []
    for rows, style, when in ((before, "--", "before"), (after, "-", "after")):
        for y in ys:
            if rows:
                lines += ax.plot(_column(rows, x), _column(rows, y), style, marker=".", label=f"{y} ({when})")
    ax.set_xlabel(x)
    ax.legend(fontsize=8)
    return lines


def confusion_matrix_charts(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...], title: str,
                            counts_path: Path, shares_path: Path) -> None:
    """Counts and row-normalised confusion matrices, each its own square PNG with large numbers
    (readable on a phone's width, where two side by side are not)."""
    labels = np.arange(len(class_names))
    side = max(4.5, 0.55 * len(class_names) + 1.5)
    for normalize, subtitle, path in ((None, "confusion counts", counts_path),
                                      ("true", "confusion, share of each true class (rows sum to 1)", shares_path)):
        fig, ax = plt.subplots(figsize=(side, side))
        matrix = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
        display = confusion_panel(matrix, class_names, ".2f" if normalize else "d", ax=ax)
        for text in display.text_.ravel():
            text.set_fontsize(12 if len(class_names) <= 10 else 9)
        ax.set_title(f"{title}: {subtitle}")
        save_figure(fig, path, PAGE_DPI)


def reliability_chart(curve: list[dict], n_bins: int, binary: bool, title: str, path: Path,
                      per_class: dict[str, list[dict]] | None = None) -> None:
    """Reliability diagram above a histogram of the predicted confidences.

    ``per_class``: thin one-vs-rest curves of each class beside the top-label curve.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 7), height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for name, rows in (per_class or {}).items():
        reliability_panel(rows, f"class {name} (one vs rest)", ax=top, linewidth=0.8, alpha=0.6)
    reliability_panel(curve, "top label" if per_class else title, ax=top, marker="o", linewidth=2.5, color="black")
    top.set_ylabel("fraction positive" if binary else "accuracy of top label")
    top.set_ylim(0, 1)
    top.legend(loc="upper left", fontsize="small" if per_class else None)
    top.set_title(f"{title}: reliability")
    confidence_histogram_panel(curve, n_bins, ax=bottom)
    bottom.set_xlabel("P(positive class)" if binary else "top-label confidence")
    bottom.set_ylabel("images")
    bottom.set_xlim(0, 1)
    save_figure(fig, path)


def lift_chart(curves: dict[str, list[dict]], title: str, path: Path) -> None:
    """Cumulative lift and gains, one line per class and a bold mean."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    lift_panel(curves, ax=left)
    gains_panel(curves, ax=right)
    fig.suptitle(f"{title}: lift (one class against the rest)")
    save_figure(fig, path)


def roc_pr_chart(curves: dict[str, list[dict]], title: str, path: Path) -> None:
    """ROC and precision-recall curves side by side."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
    roc_panel(curves["roc"], ax=left, chance_level=True)
    pr_panel(curves["pr"], ax=right)
    fig.suptitle(title)
    save_figure(fig, path)


def grey_zone_chart(curve: list[dict], chosen: dict[str, float], binary: bool, title: str, path: Path) -> None:
    """Accuracy on the kept cases against coverage as the abstain band widens; the chosen band marked."""
    fig, ax = plt.subplots(figsize=(6, 5))
    grey_zone_panel(curve, chosen, binary, title, ax=ax)
    save_figure(fig, path)


def learning_curves_chart(rows: list[dict], title: str, path: Path) -> None:
    """Training and validation loss and accuracy per epoch."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    learning_curve_panel(rows, "loss", ax=left)
    learning_curve_panel(rows, "accuracy", ax=right)
    fig.suptitle(f"{title}: learning curves")
    save_figure(fig, path, PAGE_DPI)


def before_after_chart(before: list[dict] | None, after: list[dict] | None, x: str, ys: list[str], title: str,
                       path: Path) -> None:
    """One chart's data at the base commit (dashed) and now (solid), on the same axes."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    before_after_panel(before, after, x, ys, ax=ax)
    ax.set_title(title)
    save_figure(fig, path)


def confusion_before_after_chart(before: list[dict] | None, after: list[dict] | None, title: str, path: Path) -> None:
    """Confusion counts (cells of ``actual``, ``predicted``, ``count``) before and after, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, cells, when in ((axes[0], before, "before"), (axes[1], after, "after")):
        if not cells:
            ax.set_axis_off()
            ax.set_title(f"{when}: no such chart")
            continue
        names = list(dict.fromkeys(c["actual"] for c in cells))
        counts = np.zeros((len(names), len(names)), dtype=int)
        for c in cells:
            counts[names.index(c["actual"]), names.index(c["predicted"])] = c["count"]
        confusion_panel(counts, names, ax=ax)
        ax.set_title(when)
    fig.suptitle(title)
    save_figure(fig, path)
