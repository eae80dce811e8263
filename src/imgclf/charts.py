"""PNG charts for people: confusion matrix, reliability diagram, lift chart."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from imgclf.outputs import atomic_path  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def confusion_matrix_chart(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...], title: str, path: Path) -> None:
    """Counts and row-normalised confusion matrices side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    labels = np.arange(len(class_names))
    for ax, normalize, subtitle in ((axes[0], None, "counts"), (axes[1], "true", "share of each true class")):
        ConfusionMatrixDisplay.from_predictions(
            y_true, y_pred, labels=labels, display_labels=list(class_names), normalize=normalize,
            values_format=".2f" if normalize else "d", colorbar=False, cmap="Blues", ax=ax,
        )
        ax.set_title(subtitle)
    fig.suptitle(f"{title}: confusion matrix")
    _save(fig, path)


def reliability_chart(curve: list[dict], n_bins: int, binary: bool, title: str, path: Path) -> None:
    """Reliability diagram above a histogram of the predicted confidences."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 7), height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    confidence = [row["confidence"] for row in curve]
    top.plot(confidence, [row["observed"] for row in curve], marker="o", label=title)
    top.set_ylabel("fraction positive" if binary else "accuracy of top label")
    top.set_ylim(0, 1)
    top.legend(loc="upper left")
    top.set_title(f"{title}: reliability")
    bottom.bar(confidence, [row["count"] for row in curve], width=0.9 / n_bins, color="tab:blue")
    bottom.set_xlabel("P(positive class)" if binary else "top-label confidence")
    bottom.set_ylabel("images")
    bottom.set_xlim(0, 1)
    _save(fig, path)


def lift_chart(curves: dict[str, list[dict]], title: str, path: Path) -> None:
    """Cumulative lift and gains, one line per class and a bold mean."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for name, rows in curves.items():
        bold = name == "mean"
        style = {"linewidth": 2.5, "color": "black"} if bold else {"linewidth": 1, "alpha": 0.7}
        fraction = [0.0] + [r["population_fraction"] for r in rows]
        left.plot(fraction[1:], [r["lift"] for r in rows], label=name, **style)
        right.plot(fraction, [0.0] + [r["gain"] for r in rows], label=name, **style)
    left.axhline(1.0, linestyle=":", color="grey")
    left.set(xlabel="share of images taken, by decreasing score", ylabel="cumulative lift", title="lift")
    right.plot([0, 1], [0, 1], linestyle=":", color="grey")
    right.set(xlabel="share of images taken, by decreasing score", ylabel="share of class found", title="cumulative gains")
    right.legend(fontsize="small", ncol=2)
    fig.suptitle(f"{title}: lift (one class against the rest)")
    _save(fig, path)
