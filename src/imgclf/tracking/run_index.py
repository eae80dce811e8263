"""The MLflow runs behind the latest results (``mlflow_runs.json``, beside the store), and links into the UI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from imgclf.outputs import write_json
from imgclf.tracking.store import embedded_store_uri, tracking_uri, use_experiment


def write_run_index(path: Path, experiment: str, runs: Mapping[str, str], registered: Mapping | None = None) -> None:
    """Write run ids (``{run name: run id}``) and the registered version to ``path``: local
    tracking state like the store itself, neither DVC-tracked nor committed, since ids differ
    with every run while the results do not. From a commit to its runs: the ``git_commit`` tag."""
    uri = tracking_uri()
    write_json(path, {
        "experiment": experiment,
        "experiment_id": use_experiment(experiment),
        "store": "mlflow.db" if uri == embedded_store_uri() else uri,
        "runs": dict(runs),
        "registered": dict(registered) if registered else None,
    })


def run_url(server: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI page of a run on a tracking server."""
    return f"{server.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
