"""The one-page comparison of every model: ``summary.md`` and a self-contained ``index.html``
(:mod:`imgclf.evaluation.page`)."""

from __future__ import annotations

from pathlib import Path

from imgclf.evaluation.page import COLUMNS, index_html
from imgclf.outputs import atomic_path

# Published test accuracy of the tutorials this project reproduces, by (source, model kind).
# mnist5k is a 5,000-image sample of the same MNIST digits.
PUBLISHED = {
    ("mnist", ("logistic_regression",)): "89.4%",
    ("mnist", ("mlp", (50,))): "91.4%",
    ("mnist", ("mlp", (128, 64))): "97.0%",
    ("mnist", ("cnn", "lenet")): "98.9%",
    ("fashion_mnist", ("cnn", "fashion_bn")): "93.8%",
    ("image_folder", ("cnn", "catdog")): "about 75% (validation, 25,000 images)",
    ("cifar10", ("cnn", "cifar_small")): "71-75% (validation, no augmentation)",
}


def published_figure(source: str, kind: tuple) -> str:
    """The tutorial's figure for this dataset and kind of model, or an empty string."""
    return PUBLISHED.get(("mnist" if source == "mnist5k" else source, kind), "")


def summary_markdown(results: dict[str, dict[str, float]], published: dict[str, str], dataset: str) -> str:
    """A Markdown table: one row per model, the main metrics and the published figure."""
    lines = [f"# Model comparison: {dataset}", "", "| model | " + " | ".join(COLUMNS) + " | published |",
             "| --- |" + " ---: |" * len(COLUMNS) + " --- |"]
    for name, metrics in results.items():
        cells = [f"{metrics[c]:.4f}" if c in metrics else "" for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {published.get(name, '')} |")
    lines += ["", "grey_zone_*: share of test images answered outside the abstain band, and accuracy on them.",
              "published: the tutorial's test accuracy for the same dataset and kind of model, where there is one."]
    return "\n".join(lines) + "\n"


def write_comparison(results: dict[str, dict[str, float]], published: dict[str, str], ranking: list[dict],
                     plots: Path, figures: Path, dataset: str, level: float, markdown_path: Path,
                     html_path: Path) -> None:
    """Write ``summary.md`` and ``index.html`` (drawn from the chart data under ``plots`` and
    the gallery images under ``figures``; ``ranking``: rows of :func:`~imgclf.evaluation.ranking.ranking`)."""
    summary = summary_markdown(results, published, dataset)
    with atomic_path(markdown_path) as tmp:
        tmp.write_text(summary)
    with atomic_path(html_path) as tmp:
        tmp.write_text(index_html(results, published, ranking, plots, figures, dataset, level))
