"""From a commit to its MLflow runs: ``reports/mlflow_runs.json``, and links into the UI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from imgclf.outputs import write_json
from imgclf.tracking.store import embedded_store_uri, tracking_uri, use_experiment


def write_run_index(path: Path, experiment: str, runs: Mapping[str, str]) -> None:
    """Write run ids (``{run name: run id}``) to ``path``, a small file DVC tracks and git
    commits: from a commit, its runs; from a run, its ``git_commit`` tag."""
    uri = tracking_uri()
    write_json(path, {
        "experiment": experiment,
        "experiment_id": use_experiment(experiment),
        "store": "mlflow.db" if uri == embedded_store_uri() else uri,
        "runs": dict(runs),
    })


def run_url(server: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI page of a run on a tracking server."""
    return f"{server.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
