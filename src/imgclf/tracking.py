"""MLflow conventions: where the store is, one run per model, its tags and parameters.

The default store is ``sqlite:///<repo>/mlflow.db`` with artifacts in ``<repo>/mlartifacts``;
``MLFLOW_TRACKING_URI`` overrides it (a tracking server, say). The repository is found from
``DVC_ROOT``, also from DVC's temporary experiment workspaces, and the path is always absolute.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import mlflow  # noqa: E402

from imgclf.downloads import sha256_file  # noqa: E402
from imgclf.errors import PipelineError, StageKilled  # noqa: E402
from imgclf.outputs import write_json  # noqa: E402


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


LIBRARIES = {
    "imgclf": ("imgclf",), "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos"),
    "keras": ("keras",), "scikit-learn": ("scikit-learn",), "numpy": ("numpy",),
    "mlflow": ("mlflow",), "dvc": ("dvc",), "opencv": ("opencv-python-headless", "opencv-python"),
}


def library_versions() -> dict[str, str]:
    """``version.<library>`` tags: Python and the libraries that shape a result."""
    from importlib.metadata import PackageNotFoundError, version

    tags = {"version.python": platform.python_version()}
    for library, distributions in LIBRARIES.items():
        for distribution in distributions:
            try:
                tags[f"version.{library}"] = version(distribution)
                break
            except PackageNotFoundError:
                continue
    return tags


def content_hash(paths: Sequence[Path]) -> str:
    """sha256 over the files' names and contents: the data a run read, in one value."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{Path(path).name}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def params_hash(params: Mapping[str, Any]) -> str:
    """sha256 of the logged parameters, key-sorted: equal hashes, equal settings."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def pipeline_params(params) -> dict[str, Any]:
    """The pipeline-wide settings every model run shares (``Params``), under their
    ``params.yaml`` names: seed, data source, image size and colour."""
    return {"seed": params.seed, "fetch.source": params.fetch.source, "fetch.classes": params.fetch.classes,
            "preprocess.image_size": list(params.preprocess.image_size), "preprocess.color": params.preprocess.color}


@contextmanager
def model_run(
    params, stage: str, model: str, model_params: Mapping[str, Any], data: Sequence[Path] = ()
) -> Iterator[str]:
    """Open the MLflow run of one model, named ``<stage>/<model>``, in the experiment of
    ``params`` (``Params``); yields the run id.

    Logged: the model's own settings flattened with dotted names relative to its entry in
    ``params.yaml`` (``early_stopping.patience``), and the pipeline-wide ones under their full
    names (``preprocess.image_size``). Tagged: stage, model, git commit and dirty flag,
    ``dvc_exp_name``, the sha256 of the ``data`` files read and of the parameters, and library
    versions. The run ends FINISHED when the block succeeds, KILLED when the stage is stopped
    (SIGTERM, Ctrl-C) and FAILED when it raises.
    """
    use_experiment(params.mlflow.experiment)
    logged = {**pipeline_params(params), **flatten(model_params)}
    tags = {"stage": stage, "model": model, **git_state(), "params_sha256": params_hash(logged),
            **library_versions()}
    if data:
        tags["dataset_sha256"] = content_hash(data)
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_exp_name"] = os.environ["DVC_EXP_NAME"]
    run = mlflow.start_run(run_name=f"{stage}/{model}", tags=tags)
    try:
        mlflow.log_params(logged)
        yield run.info.run_id
    except (StageKilled, KeyboardInterrupt):
        mlflow.end_run("KILLED")
        raise
    except BaseException:
        mlflow.end_run("FAILED")
        raise
    mlflow.end_run("FINISHED")


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


def log_model(model, framework: str) -> str:
    """Log ``model`` as an MLflow model of the active run, with pinned requirements; its URI
    (``models:/m-...``, what the registry gate registers).

    Giving the requirements skips MLflow's slow requirement inference.
    """
    from importlib.metadata import version

    if framework == "keras":
        reqs = [f"{p}=={version(p)}" for p in ("tensorflow-cpu", "keras", "numpy")]
        return mlflow.keras.log_model(model, name="model", pip_requirements=reqs).model_uri
    else:
        import imgclf
        from imgclf.model_store import TRUSTED_TYPES

        reqs = [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "skops")]
        return mlflow.sklearn.log_model(
            model, name="model", pip_requirements=reqs, skops_trusted_types=TRUSTED_TYPES,
            code_paths=[str(Path(imgclf.__file__).parent)],
        ).model_uri


def main() -> None:
    """``python -m imgclf.tracking``: create the store and the experiment of ``params.yaml``
    now, before parallel workers (``dvc queue start -j N``) would race to create them."""
    from imgclf.params import load_params

    experiment = load_params().mlflow.experiment
    print(f"MLflow store {tracking_uri()}, experiment {experiment!r} (id {use_experiment(experiment)})")


if __name__ == "__main__":
    from imgclf.errors import run_stage

    run_stage(main)
