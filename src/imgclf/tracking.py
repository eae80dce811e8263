"""MLflow conventions: where the store is, one run per model, its tags and parameters.

The default store is ``sqlite:///<repo>/mlflow.db`` with artifacts in ``<repo>/mlartifacts``;
``MLFLOW_TRACKING_URI`` overrides it. The repository root is ``DVC_ROOT`` when DVC runs the
stage, else the working directory, and always made absolute.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import mlflow  # noqa: E402

from imgclf.errors import PipelineError  # noqa: E402


def repo_root() -> Path:
    """The pipeline's root directory, absolute."""
    return Path(os.environ.get("DVC_ROOT") or os.getcwd()).resolve()


def embedded_store_uri() -> str:
    """The default store: ``mlflow.db`` at the repository root."""
    return f"sqlite:///{repo_root() / 'mlflow.db'}"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the embedded SQLite store at the repository root."""
    return os.environ.get("MLFLOW_TRACKING_URI") or embedded_store_uri()


def use_experiment(name: str) -> str:
    """Point MLflow at the store and the experiment ``name`` (created if new); its id."""
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        mlflow.set_experiment(experiment_id=experiment.experiment_id)
        return experiment.experiment_id
    artifacts = None
    if uri == embedded_store_uri():
        artifacts = (repo_root() / "mlartifacts").as_uri()
    experiment_id = mlflow.create_experiment(name, artifact_location=artifacts)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys: ``{"a": {"b": 1}}`` becomes ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def git_state() -> dict[str, str]:
    """The commit the workspace is on and whether it has uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo_root(), capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": str(bool(git("status", "--porcelain")))}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"git_commit": "unknown", "git_dirty": "unknown"}


@contextmanager
def model_run(experiment: str, stage: str, model: str, params: Mapping[str, Any]) -> Iterator[str]:
    """Open the MLflow run of one model, named ``<stage>/<model>``; yields the run id.

    The run ends FINISHED when the block succeeds and FAILED when it raises.
    """
    use_experiment(experiment)
    tags = {"stage": stage, "model": model, **git_state()}
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_exp_name"] = os.environ["DVC_EXP_NAME"]
    with mlflow.start_run(run_name=f"{stage}/{model}", tags=tags) as run:
        mlflow.log_params(flatten(params))
        yield run.info.run_id


def add_to_finished_run(experiment: str, run_id: str, metrics: Mapping[str, float], artifacts: Path, artifact_path: str) -> None:
    """Add metrics and a folder of artifacts to a finished run, leaving its status and times as
    they are (reopening it would move its end time to now)."""
    from mlflow.entities import Metric

    use_experiment(experiment)
    client = mlflow.MlflowClient()
    try:
        client.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        raise PipelineError(
            f"MLflow run {run_id} is not in the store {tracking_uri()}; re-run the training "
            "stage (dvc repro --force <stage>) or point MLFLOW_TRACKING_URI at the store it used"
        ) from None
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(key, float(value), now, 0) for key, value in metrics.items()])
    client.log_artifacts(run_id, str(artifacts), artifact_path)


def epoch_logger():
    """A Keras callback logging each epoch's metrics to the active run at ``step=epoch``.

    (MLflow's own ``MlflowCallback`` logs optimiser settings as params at every ``fit``, which
    clashes when a second phase of the same run changes the learning rate.)
    """
    import keras

    class EpochMetrics(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            mlflow.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=epoch)

    return EpochMetrics()


def log_model(model, framework: str) -> None:
    """Log ``model`` as an MLflow model of the active run, with pinned requirements.

    Giving the requirements skips MLflow's slow requirement inference.
    """
    from importlib.metadata import version

    if framework == "keras":
        reqs = [f"{p}=={version(p)}" for p in ("tensorflow-cpu", "keras", "numpy")]
        mlflow.keras.log_model(model, name="model", pip_requirements=reqs)
    else:
        import imgclf
        from imgclf.model_store import TRUSTED_TYPES

        reqs = [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "skops")]
        mlflow.sklearn.log_model(
            model, name="model", pip_requirements=reqs, skops_trusted_types=TRUSTED_TYPES,
            code_paths=[str(Path(imgclf.__file__).parent)],
        )
