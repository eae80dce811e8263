"""The pull-request report: what the workspace's results changed against a base commit.

    python -m imgclf.evaluation.pr_report [--base main] [--out reports/pr.md] [--artifacts-url URL]

``reports/pr.md`` holds ``dvc params diff`` and ``dvc metrics diff`` against the base; then, for
every model whose metrics or chart data changed, its main metrics before and after with the noise
band of the test set (the workspace's bootstrap interval of the accuracy, ``accuracy_ci_low`` /
``accuracy_ci_high`` of ``reports/metrics.json``) and each changed chart before and after on the
same axes (the page's overlays; confusion matrices side by side), drawn into ``reports/pr/``;
the hardware of both sides (``imgclf.evaluation.machines``), and the MLflow runs that made the
results, linked when ``MLFLOW_TRACKING_URI`` is a tracking server. The chart data compared are the
``cache: false`` files under ``reports/plots`` that git holds for each commit.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml

from imgclf.evaluation import charts
from imgclf.errors import PipelineError, run_stage
from imgclf.evaluation.machines import machine_notes
from imgclf.evaluation.overlays import before_after_png
from imgclf.evaluation.page import COLUMNS
from imgclf.layout import METRICS, NUMERICS, RUN_INDEX
from imgclf.numerics import cpu
from imgclf.outputs import atomic_dir, atomic_path, read_json
from imgclf.tools import run_tool
from imgclf.tracking.run_index import run_url


def command(*args: str) -> str:
    """Run a command in the repository; its output, or an error naming it."""
    result = run_tool(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        raise PipelineError(f"{' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def plot_specs(dvc_yaml: Path = Path("dvc.yaml")) -> dict[str, dict]:
    """The chart-data folders of ``dvc.yaml``'s ``plots``, with their template and axes."""
    specs = {}
    for entry in yaml.safe_load(dvc_yaml.read_text()).get("plots", []):
        if isinstance(entry, dict):
            for folder, spec in entry.items():
                if spec and "x" in spec:
                    specs[folder] = spec
    return specs


def at_base(base: str, path: str) -> list[dict] | None:
    """A JSON file as it was at ``base``, or None if it did not exist there."""
    result = run_tool(["git", "show", f"{base}:{path}"], capture_output=True, text=True)
    return json.loads(result.stdout) if result.returncode == 0 else None


def changed_charts(base: str, specs: dict[str, dict]) -> list[tuple[str, str, list | None, list | None]]:
    """Every chart file whose data differ from ``base``: (folder, model, before, after)."""
    changed = []
    for folder in specs:
        listed = command("git", "ls-tree", "-r", "--name-only", base, "--", folder).split()
        names = sorted({Path(p).stem for p in listed} | {p.stem for p in Path(folder).glob("*.json")})
        for name in names:
            path = Path(folder) / f"{name}.json"
            before = at_base(base, path.as_posix())
            after = json.loads(path.read_text()) if path.exists() else None
            if before != after:
                changed.append((folder, name, before, after))
    return changed


def run_lines(server: str | None) -> list[str]:
    """A table of the MLflow runs of ``reports/mlflow_runs.json``, linked on a tracking server."""
    if not RUN_INDEX.exists():
        return [f"No {RUN_INDEX} (run the pipeline first)."]
    lines = ["| run | MLflow run |", "| --- | --- |"]
    index = json.loads(RUN_INDEX.read_text())
    for name, run_id in index["runs"].items():
        cell = f"[{run_id}]({run_url(server, index['experiment_id'], run_id)})" if server else f"`{run_id}`"
        lines.append(f"| {name} | {cell} |")
    if not server:
        lines += ["", "Set `MLFLOW_TRACKING_URI` to a tracking server's URL to link these runs."]
    return lines


def noise_band(before: dict, after: dict) -> str:
    """Whether the accuracy moved beyond the noise of the test set: the base's accuracy against
    the workspace's bootstrap interval (the two runs' per-image results are not both at hand,
    so the interval is not paired)."""
    if not before:
        return "a new model: nothing in the base to compare with"
    if not after:
        return "a model removed: nothing in the workspace to compare with"
    if "accuracy_ci_low" not in after or "accuracy" not in before:
        return "no interval (a side was evaluated before intervals were recorded)"
    low, high = after["accuracy_ci_low"], after["accuracy_ci_high"]
    inside = low <= before["accuracy"] <= high
    return (f"[{low:.4f}, {high:.4f}]: the base's {before['accuracy']:.4f} is "
            + ("inside it, within the noise of the test set" if inside else "outside it, a real change"))


def metrics_table(before: dict | None, after: dict | None) -> list[str]:
    """A model's main metrics at the base and in the workspace, with the accuracy's noise band."""
    before, after = before or {}, after or {}
    lines = ["| metric | base | workspace | change |", "| --- | ---: | ---: | ---: |"]
    for key in COLUMNS:
        old, new = before.get(key), after.get(key)
        change = f"{new - old:+.4f}" if old is not None and new is not None else ""
        lines.append(f"| {key} | {'' if old is None else f'{old:.4f}'} | {'' if new is None else f'{new:.4f}'} | {change} |")
    return lines + ["", f"Noise band of the accuracy (workspace's bootstrap interval): {noise_band(before, after)}"]


def chart_png(folder: str, spec: dict, name: str, before, after, base: str, png: Path) -> None:
    """``name``'s chart data at ``base`` and now, on the same axes (confusion: side by side)."""
    kind = Path(folder).name
    title = f"{kind}: {name} ({base} and workspace)"
    if spec.get("template") == "confusion_counts":
        charts.confusion_before_after_chart(before, after, f"{kind}: {name} (left: {base}, right: workspace)", png)
    elif (drawn := before_after_png(kind, before, after, (f"{name} at {base}", f"{name} in the workspace"), title)):
        png.write_bytes(drawn)
    else:
        y = spec["y"]
        charts.before_after_chart(before, after, spec["x"], y if isinstance(y, list) else [y],
                                  f"{kind}: {name} (dashed: {base}, solid: workspace)", png)


def write_report(base: str, out: Path, artifacts_url: str | None = None) -> list[str]:
    """Write the report to ``out`` and its charts to ``out``'s folder ``pr/``; the changed charts."""
    command("git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    params = command("dvc", "params", "diff", base, "--md").strip() or "No parameter changed."
    metrics = command("dvc", "metrics", "diff", base, "--md").strip() or "No metric changed."
    specs = plot_specs()
    changed = changed_charts(base, specs)
    old_metrics = at_base(base, METRICS.as_posix()) or {}
    new_metrics = read_json(METRICS) if METRICS.exists() else {}
    models = sorted({name for _, name, _, _ in changed}
                    | {n for n in set(old_metrics) | set(new_metrics) if old_metrics.get(n) != new_metrics.get(n)})
    head = command("git", "rev-parse", "--short", "HEAD").strip()
    lines = [f"# Pipeline report: workspace at {head} against `{base}`", "", "## Parameters", "", params, "",
             "## Metrics", "", metrics, ""]
    with atomic_dir(out.parent / "pr") as images:
        for model in models:
            lines += [f"## Model {model}: before and after", "", *metrics_table(old_metrics.get(model), new_metrics.get(model)), ""]
            for folder, name, before, after in (c for c in changed if c[1] == model):
                kind = Path(folder).name
                png = images / f"{kind}_{name}.png"
                chart_png(folder, specs[folder], name, before, after, base, png)
                lines.append(f"- {kind}: {name}" if artifacts_url else f"### {kind}: {name}\n\n![{kind} {name}](pr/{png.name})\n")
            lines.append("")
        if not models:
            lines += ["## Models", "", "No model's metrics or charts changed."]
        elif artifacts_url and changed:
            lines += [f"Before-and-after images: {artifacts_url}"]
    lines += ["", "## Hardware", "", *machine_notes(at_base(base, NUMERICS.as_posix()),
                                                  read_json(NUMERICS) if NUMERICS.exists() else None, cpu()["model"])]
    server = os.environ.get("MLFLOW_TRACKING_URI", "")
    lines += ["", "## MLflow runs", "", *run_lines(server if server.startswith(("http://", "https://")) else None)]
    with atomic_path(out) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return [f"{Path(folder).name}/{name}" for folder, name, _, _ in changed]


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the pull-request report against a base commit.")
    parser.add_argument("--base", default="main", help="git revision to compare with (default: main)")
    parser.add_argument("--out", type=Path, default=Path("reports/pr.md"))
    parser.add_argument("--artifacts-url", help="list changed charts and link here instead of embedding images")
    args = parser.parse_args()
    changed = write_report(args.base, args.out, args.artifacts_url)
    print(f"{args.out}: {len(changed)} charts changed against {args.base}")


if __name__ == "__main__":
    run_stage(main)
