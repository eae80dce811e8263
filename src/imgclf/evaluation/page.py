"""``reports/index.html``: one self-contained page that compares the models for the reader.

An overview (the models ranked by the chosen metric, with bootstrap intervals, and every model
overlaid on one ROC, reliability, lift, gains and grey-zone chart), then a section per model
(confusion matrices, per-class precision/recall/F1, learning curves, misclassified images),
reached from a sticky navigation bar. The overlaid charts are drawn from the chart data files
(``reports/plots``), each model's are its own PNGs (``reports/figures``), drawn once; all are
embedded as palette PNGs; no script, no network. Tables turn into cards
on a phone's width, so nothing runs off the right edge.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from imgclf.evaluation.overlays import overview_pngs, quantised, read_curves
from imgclf.pages import document, figure, table

COLUMNS = ("accuracy", "balanced_accuracy", "log_loss", "brier", "ece", "roc_auc", "grey_zone_coverage", "grey_zone_accuracy")

def section_id(name: str) -> str:
    """The HTML id of a model's section: ``model-`` and its name, other characters as ``-``."""
    return "model-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def ranking_table(ranking: list[dict], results: dict[str, dict[str, float]], published: dict[str, str],
                  level: float) -> str:
    """The models best first, the chosen metric leading, accuracy intervals and the difference to the best."""
    metric = ranking[0]["metric"]
    percent = f"{level:.0%}"
    chosen = [] if metric == "accuracy" else [metric]
    others = [c for c in COLUMNS if c not in ("accuracy", metric)]
    header = ["#", "model", *chosen, f"accuracy ({percent} interval)", f"accuracy vs best ({percent} interval)",
              *others, "published"]
    rows, classes = [], []
    for rank, row in enumerate(ranking, 1):
        m = results[row["model"]]
        versus = "best" if rank == 1 else (f"{row['accuracy_vs_best']:+.4f} [{row['vs_best_ci_low']:+.4f}, "
                                           f"{row['vs_best_ci_high']:+.4f}]" + (" within noise" if row["within_noise"] else ""))
        interval = "" if row["accuracy_ci_low"] is None else f" [{row['accuracy_ci_low']:.4f}, {row['accuracy_ci_high']:.4f}]"
        rows.append([str(rank), f'<a href="#{section_id(row["model"])}">{html.escape(row["model"])}</a>',
                     *[_number(row["value"]) for _ in chosen], f"{row['accuracy']:.4f}{interval}", versus,
                     *[_number(m.get(c)) for c in others],
                     html.escape(published.get(row["model"], ""))])
        classes.append("noise" if rank > 1 and row["within_noise"] else "")
    return table(header, rows, classes)


def per_class_table(cells: list[dict], metrics: dict[str, float]) -> str:
    """Precision, recall, F1 and the number of test images of each class."""
    names = list(dict.fromkeys(c["actual"] for c in cells))
    support = {name: sum(c["count"] for c in cells if c["actual"] == name) for name in names}
    rows = [[html.escape(n), _number(metrics.get(f"precision_{n}")), _number(metrics.get(f"recall_{n}")),
             _number(metrics.get(f"f1_{n}")), str(support[n])] for n in names]
    return table(["class", "precision", "recall", "F1", "images"], rows, cards=False)  # five columns fit a phone


def model_section(name: str, metrics: dict[str, float], plots_dir: Path, figures_dir: Path) -> str:
    """One model's section: confusion matrices, per-class table, learning curves, images; the
    charts are the model's own PNGs (``figures_dir/<name>/``), re-encoded with a palette."""
    parts = [f'<section id="{section_id(name)}"><h2>{html.escape(name)}</h2>']
    folder = Path(figures_dir) / name

    def embedded(stem: str, caption: str) -> str:
        return figure(quantised((folder / f"{stem}.png").read_bytes()), caption)

    cells = read_curves(plots_dir, "confusion", [name]).get(name)
    if cells:
        parts += ["<h3>Confusion matrix</h3><p class='note'>rows: true class; columns: predicted class</p>",
                  f'<div class="wide">{embedded("confusion", f"{name}: confusion counts")}'
                  f'{embedded("confusion_normalized", f"{name}: confusion, row-normalised")}</div>',
                  "<h3>Per class</h3>", per_class_table(cells, metrics)]
    if (folder / "learning_curves.png").exists():
        parts += ["<h3>Learning curves</h3>", embedded("learning_curves", f"{name}: loss and accuracy per epoch "
                                                       "(solid: training, dashed: validation)")]
    for stem, heading in (("misclassified", "Misclassified test images (true and predicted class, probability)"),
                          ("feature_maps", "Feature maps")):
        if (folder / f"{stem}.png").exists():
            parts += [f"<h3>{heading}</h3>", embedded(stem, f"{name}: {stem.replace('_', ' ')}")]
    return "".join(parts) + "</section>"


def index_html(results: dict[str, dict[str, float]], published: dict[str, str], ranking: list[dict],
               plots_dir: Path, figures_dir: Path, dataset: str, level: float) -> str:
    """The whole page, images embedded: readable offline, at a phone's width and on a wide screen."""
    names = [row["model"] for row in ranking]
    chosen = {n: (results[n]["grey_zone_coverage"], results[n]["grey_zone_accuracy"]) for n in names
              if "grey_zone_coverage" in results[n]}
    overlays = "".join(figure(png, f"every model: {title}") for title, png in overview_pngs(plots_dir, names, chosen).items())
    links = "".join(f'<a href="#{section_id(n)}">{html.escape(n)}</a>' for n in names)
    nav = f'<a href="#overview"><b>Overview</b></a>{links}'
    return document(f"Model comparison: {dataset}", nav, f"""<section id="overview"><h2>Overview</h2>
<p class="note">Ranked by {html.escape(ranking[0]["metric"])} (the registry's <code>select_by</code>). Intervals: seeded
percentile bootstrap over the test images ({level:.0%}); "accuracy vs best" is paired on the same images, and
"within noise" means that interval holds 0: this test set cannot tell the model from the best one.
grey_zone_*: share of test images answered outside the abstain band, and accuracy on them.
Charts: for two classes, ROC, lift and gains rank by P(second class); for more, ROC is micro-averaged over
one-vs-rest decisions and lift and gains are each class against the rest, averaged over classes.</p>
{ranking_table(ranking, results, published, level)}
<div class="charts">{overlays}</div></section>
{''.join(model_section(n, results[n], plots_dir, figures_dir) for n in names)}""")
