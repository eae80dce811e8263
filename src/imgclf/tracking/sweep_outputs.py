"""What a sweep leaves behind in ``reports/sweeps/<sweep>/``: the trials sorted by the metric
(``trials.md``, ``trials.csv``) and what each parameter did, drawn by Optuna's matplotlib
visualisation: parallel coordinates, parameter importances (fANOVA, seeded), the metric against
each parameter, and the metric trial after trial."""

from __future__ import annotations

import csv
import html
import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import optuna  # noqa: E402
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.trial import TrialState, create_trial  # noqa: E402

from imgclf.pages import document, figure, table  # noqa: E402
from imgclf.params.sweep import Sweep  # noqa: E402
from imgclf.tracking.sweep_optuna import distributions  # noqa: E402

OUTPUTS = Path("reports") / "sweeps"


def sorted_rows(rows: list[dict], sweep: Sweep) -> list[dict]:
    """Finished trials best first, then the pruned and failed ones in trial order."""
    sign = -1.0 if sweep.metric.direction == "maximize" else 1.0
    done = sorted((r for r in rows if r["value"] is not None), key=lambda r: (sign * r["value"], r["number"]))
    return done + sorted((r for r in rows if r["value"] is None), key=lambda r: r["number"])


def chart_distributions(sweep: Sweep) -> dict:
    """Optuna distributions to draw with: a grid's numbers as a numeric axis, not categories."""
    result = distributions(sweep)
    for key, values in sweep.params.items():
        numbers = isinstance(values, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numbers and len(set(values)) > 1:
            kind = IntDistribution if all(isinstance(v, int) for v in values) else FloatDistribution
            result[key] = kind(min(values), max(values))
    return result


def chart_names(keys: list[str]) -> dict[str, str]:
    """Each parameter's name on the charts: its dotted key without the part every key shares
    (``augmentation.rotation`` and ``learning_rate`` for two keys of ``train_cnn.lenet``)."""
    if len(keys) < 2:
        return {key: key for key in keys}
    parts = [key.split(".") for key in keys]
    shared = 0
    while all(len(p) > shared + 1 and p[shared] == parts[0][shared] for p in parts):
        shared += 1
    return {key: ".".join(p[shared:]) for key, p in zip(keys, parts)}


def study_of(rows: list[dict], sweep: Sweep, names: dict[str, str]) -> optuna.Study:
    """An in-memory study holding the finished trials, for Optuna's charts (parameters under
    ``names``, their :func:`chart_names`)."""
    study = optuna.create_study(direction=sweep.metric.direction)
    dists = {names.get(key, key): dist for key, dist in chart_distributions(sweep).items()}
    for row in sorted(rows, key=lambda r: r["number"]):
        if row["value"] is not None:
            study.add_trial(create_trial(params={names.get(k, k): v for k, v in row["params"].items()},
                                         distributions=dists, value=row["value"],
                                         intermediate_values=row.get("epochs", {}), state=TrialState.COMPLETE))
    return study


def trial_table(rows: list[dict], sweep: Sweep) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the trials' table: rank, DVC experiment, state, metric and parameters."""
    keys = list(sweep.params)
    header = ["rank", "dvc experiment", "state", sweep.metric.key, *keys]
    cells = []
    for rank, row in enumerate(sorted_rows(rows, sweep), start=1):
        value = "" if row["value"] is None else f"{row['value']:.6g}"
        cells.append([str(rank) if row["value"] is not None else "", row["name"], row["state"].lower(), value,
                      *[str(row["params"].get(k, "")) for k in keys]])
    return header, cells


def write_table(rows: list[dict], sweep: Sweep, folder: Path) -> None:
    """``trials.md`` and ``trials.csv``: the trials best first."""
    header, body = trial_table(rows, sweep)
    with open(folder / "trials.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    lines = [f"# Sweep {folder.name}: {sweep.method}, {sweep.metric.direction} {sweep.metric.key}", "",
             "Reproduce a trial with `dvc exp apply <dvc experiment>` then `dvc repro`.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    (folder / "trials.md").write_text("\n".join(lines) + "\n")


def save(axes, path: Path) -> None:
    figure = (axes.flat[0] if hasattr(axes, "flat") else axes).figure
    figure.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def write_charts(rows: list[dict], sweep: Sweep, folder: Path) -> list[str]:
    """The PNG charts (names returned); those that need more finished trials than there are are skipped
    with a line saying so."""
    names = chart_names(list(sweep.params))
    study, target = study_of(rows, sweep, names), sweep.metric.key
    finished = len(study.trials)
    varied = [k for k in sweep.params if len({str(r["params"].get(k)) for r in rows if r["value"] is not None}) > 1]
    charts = {"history.png": lambda: optuna.visualization.matplotlib.plot_optimization_history(study, target_name=target)}
    if finished >= 2 and varied:
        charts["parallel_coordinates.png"] = lambda: optuna.visualization.matplotlib.plot_parallel_coordinate(study, target_name=target)
        charts["param_importances.png"] = lambda: optuna.visualization.matplotlib.plot_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=sweep.seed),
            params=[names[k] for k in varied], target_name=target)
        charts["metric_vs_params.png"] = lambda: optuna.visualization.matplotlib.plot_slice(study, target_name=target)
    else:
        print(f"sweep charts: {finished} finished trial(s), {len(varied)} varied parameter(s): only the history is drawn")
    written = []
    for name, draw in charts.items():
        with warnings.catch_warnings():  # Optuna calls its matplotlib charts experimental; the version is pinned
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            axes = draw()
        save(axes, folder / name)
        written.append(name)
    return written


CAPTIONS = {
    "history.png": "the metric trial after trial, and the best so far",
    "parallel_coordinates.png": "each trial a line through its parameter values to its metric",
    "param_importances.png": "how much of the metric's variation each parameter explains (fANOVA)",
    "metric_vs_params.png": "the metric against each parameter, one point per trial",
}


def page_html(name: str, rows: list[dict], sweep: Sweep, charts: list[str], folder: Path) -> str:
    """The sweep's page: what it searched, its trials best first, then the charts, embedded."""
    header, cells = trial_table(rows, sweep)
    cells = [[html.escape(c) for c in row] for row in cells]
    best = best_row(rows, sweep)
    summary = ("no trial finished" if best is None else
               f"best: <b>{html.escape(best['name'])}</b>, {html.escape(sweep.metric.key)} = {best['value']:.6g}")
    searched = f"{sweep.method} search, {sweep.metric.direction} {sweep.metric.key}"
    base = f" from configs/{sweep.experiment}.yaml" if sweep.experiment else ""
    figures = "".join(figure((folder / chart).read_bytes(), CAPTIONS[chart]) for chart in charts)
    nav = '<a href="#trials"><b>Trials</b></a><a href="#charts">Charts</a>'
    return document(f"Sweep {name}", nav, f"""<p class="note">{html.escape(sweep.description)}</p>
<p>{html.escape(searched + base)}; {len(rows)} trial(s); {summary}.
Reproduce a trial with <code>dvc exp apply &lt;dvc experiment&gt;</code> then <code>dvc repro</code>.</p>
<section id="trials"><h2>Trials</h2>{table(header, cells)}</section>
<section id="charts"><h2>What each parameter did</h2><div class="wide">{figures}</div></section>""")


def write_outputs(name: str, rows: list[dict], sweep: Sweep, root: Path = Path(".")) -> Path:
    """Write the table, charts and page of sweep ``name``; the folder."""
    folder = root / OUTPUTS / name
    folder.mkdir(parents=True, exist_ok=True)
    write_table(rows, sweep, folder)
    charts = write_charts(rows, sweep, folder)
    (folder / "index.html").write_text(page_html(name, rows, sweep, charts, folder))
    return folder


def best_row(rows: list[dict], sweep: Sweep) -> dict | None:
    """The best finished trial (the first of the table), if any."""
    ranked = [r for r in sorted_rows(rows, sweep) if r["value"] is not None and not math.isnan(r["value"])]
    return ranked[0] if ranked else None
