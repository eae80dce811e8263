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


def _label_rotation(names) -> float:
    """Slanted column labels when more than three classes have names longer than three
    characters, so that they do not run into each other; digits and short names stay level."""
    return 45.0 if len(names) > 3 and max(len(str(n)) for n in names) > 3 else 0.0


def confusion_matrix_chart(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...], title: str, path: Path) -> None:
    """Counts and row-normalised confusion matrices side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    labels = np.arange(len(class_names))
    for ax, normalize, subtitle in ((axes[0], None, "counts"), (axes[1], "true", "share of each true class")):
        ConfusionMatrixDisplay.from_predictions(
            y_true, y_pred, labels=labels, display_labels=list(class_names), normalize=normalize,
            values_format=".2f" if normalize else "d", colorbar=False, cmap="Blues", ax=ax,
            xticks_rotation=_label_rotation(class_names),
        )
        ax.set_title(subtitle)
    fig.suptitle(f"{title}: confusion matrix")
    _save(fig, path)


def reliability_chart(curve: list[dict], n_bins: int, binary: bool, title: str, path: Path,
                      per_class: dict[str, list[dict]] | None = None) -> None:
    """Reliability diagram above a histogram of the predicted confidences.

    ``per_class``: thin one-vs-rest curves of each class beside the top-label curve.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 7), height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for name, rows in (per_class or {}).items():
        top.plot([r["confidence"] for r in rows], [r["observed"] for r in rows], linewidth=0.8, alpha=0.6,
                 label=f"class {name} (one vs rest)")
    confidence = [row["confidence"] for row in curve]
    top.plot(confidence, [row["observed"] for row in curve], marker="o", linewidth=2.5, color="black",
             label="top label" if per_class else title)
    top.set_ylabel("fraction positive" if binary else "accuracy of top label")
    top.set_ylim(0, 1)
    top.legend(loc="upper left", fontsize="small" if per_class else None)
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


def roc_pr_chart(curves: dict[str, list[dict]], title: str, path: Path) -> None:
    """ROC and precision-recall curves side by side."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
    left.plot([r["fpr"] for r in curves["roc"]], [r["tpr"] for r in curves["roc"]])
    left.plot([0, 1], [0, 1], linestyle=":", color="grey")
    left.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.01))
    right.plot([r["recall"] for r in curves["pr"]], [r["precision"] for r in curves["pr"]])
    right.set(xlabel="recall", ylabel="precision", title="precision-recall", xlim=(0, 1), ylim=(0, 1.01))
    fig.suptitle(title)
    _save(fig, path)


def grey_zone_chart(curve: list[dict], chosen: dict[str, float], binary: bool, title: str, path: Path) -> None:
    """Accuracy on the kept cases against coverage as the abstain band widens; the chosen band marked."""
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.plot([r["coverage"] for r in curve], [r["accuracy_kept"] for r in curve], marker="o")
    ax.scatter([chosen["coverage"]], [chosen["accuracy_kept"]], s=120, color="tab:red", zorder=3,
               label=f"chosen band: {chosen['coverage']:.0%} kept, {chosen['accuracy_kept']:.1%} right")
    ax.set(xlabel="coverage (share of images the model answers)", ylabel="accuracy on the answered images",
           title=f"{title}: grey zone ({'P(positive) band' if binary else 'top-probability threshold'})")
    ax.legend(loc="lower left")
    _save(fig, path)


def learning_curves_chart(rows: list[dict], title: str, path: Path) -> None:
    """Training and validation loss and accuracy per epoch."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    epochs = [r["epoch"] for r in rows]
    for ax, metric in ((left, "loss"), (right, "accuracy")):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if key in rows[0]:
                ax.plot(epochs, [r[key] for r in rows], style, marker=".", label=key)
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.legend()
    fig.suptitle(f"{title}: learning curves")
    _save(fig, path)


def gallery_chart(images: np.ndarray, y_true: np.ndarray, proba: np.ndarray, index: np.ndarray,
                  class_names: tuple[str, ...], title: str, path: Path) -> None:
    """A grid of test images with their true class, the prediction and its probability."""
    columns = 4
    rows = max(1, int(np.ceil(len(index) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), index):
        image = images[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None)
        predicted = int(proba[i].argmax())
        ax.set_title(f"true {class_names[y_true[i]]}\npredicted {class_names[predicted]} ({proba[i, predicted]:.2f})", fontsize=9)
    if not len(index):
        axes[0, 0].text(0, 0.5, "no misclassified test image", fontsize=12)
    fig.suptitle(f"{title}: misclassified test images (seeded sample)")
    _save(fig, path)


def feature_maps_chart(activations: list[tuple[str, np.ndarray]], images: np.ndarray, title: str, path: Path,
                       channels: int = 8) -> None:
    """For each image (rows): the image, then the first ``channels`` maps of each conv layer."""
    n_images = len(images)
    columns = 1 + channels * len(activations)
    fig, axes = plt.subplots(n_images, columns, figsize=(1.3 * columns, 1.5 * n_images), squeeze=False)
    for r in range(n_images):
        image = images[r]
        axes[r, 0].imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
        col = 1
        for name, maps in activations:
            for c in range(min(channels, maps.shape[-1])):
                axes[r, col].imshow(maps[r, ..., c], cmap="viridis")
                if r == 0:
                    axes[r, col].set_title(f"{name}[{c}]", fontsize=7)
                col += 1
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle(f"{title}: feature maps of the first convolutional layers")
    _save(fig, path)


def before_after_chart(before: list[dict] | None, after: list[dict] | None, x: str, ys: list[str], title: str,
                       path: Path) -> None:
    """One chart's data at the base commit (dashed) and now (solid), on the same axes."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for rows, style, when in ((before, "--", "before"), (after, "-", "after")):
        for y in ys:
            if rows:
                ax.plot([r[x] for r in rows], [r[y] for r in rows], style, marker=".", label=f"{y} ({when})")
    ax.set_xlabel(x)
    ax.legend(fontsize=8)
    ax.set_title(title)
    _save(fig, path)


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
        ConfusionMatrixDisplay(counts, display_labels=names).plot(
            ax=ax, colorbar=False, cmap="Blues", values_format="d", xticks_rotation=_label_rotation(names))
        ax.set_title(when)
    fig.suptitle(title)
    _save(fig, path)
