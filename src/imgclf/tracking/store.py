"""Where the MLflow store is: ``sqlite:///<repo>/mlflow.db`` with artifacts in ``<repo>/mlartifacts``.

``MLFLOW_TRACKING_URI`` overrides it (a tracking server, say). The repository is found from
``DVC_ROOT``, also from DVC's temporary experiment workspaces, and the path is always absolute."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow

def repo_root() -> Path:
    """The pipeline's root directory, absolute: ``DVC_ROOT`` when DVC runs the stage, else the
    working directory."""
    return Path(os.environ.get("DVC_ROOT") or os.getcwd()).resolve()


def store_root() -> Path:
    """Where the embedded store lives: the repository root, or, when the stage runs in one of
    DVC's temporary experiment workspaces (``<repo>/.dvc/tmp/exps/<tmp>``, made by
    ``dvc exp run --temp`` and ``--queue``), the repository that started the experiment, so
    that every experiment logs into one store."""
    root = repo_root()
    if len(root.parents) > 3 and (root.parents[0].name, root.parents[1].name, root.parents[2].name) == ("exps", "tmp", ".dvc"):
        return root.parents[3]
    return root


def embedded_store_uri() -> str:
    """The default store: ``mlflow.db`` at the repository root."""
    return f"sqlite:///{store_root() / 'mlflow.db'}"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the embedded SQLite store at the repository root."""
    return os.environ.get("MLFLOW_TRACKING_URI") or embedded_store_uri()


def use_experiment(name: str) -> str:
    """Point MLflow at the store and the experiment ``name`` (created if new); its id.

    Safe when several processes create the same experiment at once (``dvc queue start -j 2``):
    the one that loses the race uses the winner's.
    """
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        artifacts = (store_root() / "mlartifacts").as_uri() if uri == embedded_store_uri() else None
        try:
            mlflow.create_experiment(name, artifact_location=artifacts)
        except mlflow.exceptions.MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        experiment = mlflow.get_experiment_by_name(name)
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    return experiment.experiment_id
