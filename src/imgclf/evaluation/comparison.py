"""The one-page comparison of every model: ``summary.md`` and a self-contained ``index.html``."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from imgclf.outputs import atomic_path

COLUMNS = ("accuracy", "balanced_accuracy", "log_loss", "brier", "ece", "roc_auc", "grey_zone_coverage", "grey_zone_accuracy")

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


def index_html(results: dict[str, dict[str, float]], published: dict[str, str], figures: Path, dataset: str) -> str:
    """One page, readable offline: the table and every chart of every model, images embedded."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ("model", *COLUMNS, "published"))
    rows = "".join(
        "<tr><td>" + html.escape(name) + "</td>"
        + "".join(f"<td>{m[c]:.4f}</td>" if c in m else "<td></td>" for c in COLUMNS)
        + f"<td>{html.escape(published.get(name, ''))}</td></tr>"
        for name, m in results.items()
    )
    sections = []
    for name in results:
        images = "".join(
            f'<figure><img alt="{html.escape(name)} {png.stem}" src="data:image/png;base64,'
            f'{base64.b64encode(png.read_bytes()).decode()}"><figcaption>{png.stem}</figcaption></figure>'
            for png in sorted((figures / name).glob("*.png"))
        )
        sections.append(f'<section id="{html.escape(name)}"><h2>{html.escape(name)}</h2>{images}</section>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model comparison: {html.escape(dataset)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}figure{{display:inline-block;margin:0.5em}}img{{max-width:560px}}</style></head>
<body><h1>Model comparison: {html.escape(dataset)}</h1>
<table><tr>{head}</tr>{rows}</table>
<p>grey_zone_*: share of test images answered outside the abstain band, and accuracy on them.</p>
{''.join(sections)}
</body></html>
"""


def write_comparison(results: dict[str, dict[str, float]], published: dict[str, str], figures: Path,
                     dataset: str, markdown_path: Path, html_path: Path) -> None:
    """Write ``summary.md`` and ``index.html``."""
    summary = summary_markdown(results, published, dataset)
    with atomic_path(markdown_path) as tmp:
        tmp.write_text(summary)
    with atomic_path(html_path) as tmp:
        tmp.write_text(index_html(results, published, figures, dataset))
