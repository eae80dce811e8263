"""One MLflow run per model: opened with its parameters and tags, ended FINISHED, FAILED or
KILLED; per-epoch metrics while it trains; test metrics and charts added once it is evaluated."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow

from imgclf.errors import PipelineError, StageKilled
from imgclf.tracking.store import tracking_uri, use_experiment
from imgclf.tracking.tags import (
    content_hash, flatten, git_state, library_versions, numerics_tags, params_hash, pipeline_params,
)


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
            **library_versions(), **numerics_tags(params.numerics)}
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
