"""The pull-request report: what the workspace's results changed against a base commit.

    python -m imgclf.evaluation.pr_report [--base main] [--out reports/pr.md] [--artifacts-url URL]

``reports/pr.md`` holds ``dvc params diff`` and ``dvc metrics diff`` against the base, every
chart whose data changed (before and after, drawn into ``reports/pr/``), the hardware of both
sides (``imgclf.evaluation.machines``), and the MLflow runs
that made the results, linked when ``MLFLOW_TRACKING_URI`` is a tracking server. The chart data
compared are the ``cache: false`` files under ``reports/plots`` that git holds for each commit.
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
from imgclf.layout import NUMERICS, RUN_INDEX
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


def write_report(base: str, out: Path, artifacts_url: str | None = None) -> list[str]:
    """Write the report to ``out`` and its charts to ``out``'s folder ``pr/``; the changed charts."""
    command("git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    params = command("dvc", "params", "diff", base, "--md").strip() or "No parameter changed."
    metrics = command("dvc", "metrics", "diff", base, "--md").strip() or "No metric changed."
    specs = plot_specs()
    changed = changed_charts(base, specs)
    head = command("git", "rev-parse", "--short", "HEAD").strip()
    lines = [f"# Pipeline report: workspace at {head} against `{base}`", "", "## Parameters", "", params, "",
             "## Metrics", "", metrics, "", "## Charts that changed", ""]
    with atomic_dir(out.parent / "pr") as images:
        for folder, name, before, after in changed:
            kind = Path(folder).name
            png = images / f"{kind}_{name}.png"
            title = f"{kind}: {name} (dashed/left: {base}, solid/right: workspace)"
            if specs[folder].get("template") == "confusion_counts":
                charts.confusion_before_after_chart(before, after, title, png)
            else:
                y = specs[folder]["y"]
                charts.before_after_chart(before, after, specs[folder]["x"], y if isinstance(y, list) else [y], title, png)
            lines.append(f"- {kind}: {name}" if artifacts_url else f"### {kind}: {name}\n\n![{kind} {name}](pr/{png.name})\n")
        if not changed:
            lines.append("None.")
        elif artifacts_url:
            lines += ["", f"Before-and-after images: {artifacts_url}"]
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
