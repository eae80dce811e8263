"""One MLflow run per model: opened with its parameters and tags, ended FINISHED, FAILED or
KILLED; per-epoch metrics while it trains; test metrics and charts added once it is evaluated.
A store that stops answering mid-run loses nothing: the run is kept locally (:mod:`journal`)."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric, Param, RunTag

from imgclf.errors import STOPPED, PipelineError
from imgclf.outputs import sha256_file
from imgclf.tracking.journal import KEY_TAG, STORE_ERRORS, RunJournal, now_ms, problem_line
from imgclf.tracking.lineage import MODEL_TAG, URI_TAG
from imgclf.tracking.model_logging import log_model
from imgclf.tracking.orphans import process_tags
from imgclf.tracking.store import tracking_uri, use_experiment
from imgclf.tracking.tags import (
    content_hash, flatten, git_state, library_versions, numerics_tags, params_hash, pipeline_params,
)


class ModelRun:
    """The open run of one model: logged to the store while it answers, and kept in a local
    :class:`RunJournal` from the first call that fails (the stage says where, once, and goes on).
    Every call is recorded in the journal either way, so nothing logged is lost."""

    def __init__(self, journal: RunJournal) -> None:
        self.journal = journal
        self.local = False

    @property
    def run_id(self) -> str | None:
        return self.journal.run_id

    def _send(self, call: Callable[[], Any]) -> Any:
        """``call()`` while the store answers; None, and the run kept locally, once it fails."""
        if self.local:
            return None
        try:
            return call()
        except STORE_ERRORS as exc:
            self._keep_locally(exc)
            return None

    def _keep_locally(self, exc: BaseException) -> None:
        self.local = True
        self.journal.problem = problem_line(exc)
        self.journal.hold()  # before the record exists: no sync takes it half-written
        folder = self.journal.save()
        print(f"MLflow store {self.journal.store} stopped answering during run {self.journal.run_name} "
              f"({self.journal.problem}); the run is kept in {folder} and `make sync` uploads it "
              "when the store is back", file=sys.stderr, flush=True)

    def log_params(self, params: Mapping[str, Any]) -> None:
        values = {key: str(value) for key, value in params.items()}
        self.journal.params.update(values)
        self._send(lambda: mlflow.MlflowClient().log_batch(self.run_id, params=[Param(k, v) for k, v in values.items()]))

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        stamp = now_ms()
        rows = [[key, float(value), stamp, step] for key, value in metrics.items()]
        self.journal.metrics.extend(rows)
        self._send(lambda: mlflow.MlflowClient().log_batch(self.run_id, metrics=[Metric(*row) for row in rows]))

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self.log_metrics({key: value}, step)

    def log_model(self, model: Any, framework: str) -> str | None:
        """Log ``model`` (:func:`~imgclf.tracking.model_logging.log_model`); its URI, or None
        when it is kept locally instead."""
        uri = self._send(lambda: log_model(model, framework))
        if uri is None:
            self.journal.save_model(model, framework)
        else:
            self.journal.tags[URI_TAG] = uri
        return uri

    def link(self, model_file: Path) -> None:
        """Tag the run with the hash of the model file the stage saved, after the run ended too
        (:mod:`imgclf.tracking.lineage`)."""
        tags = {MODEL_TAG: sha256_file(model_file)}
        if self.journal.tags.get(URI_TAG):
            tags[URI_TAG] = self.journal.tags[URI_TAG]
        self.journal.tags.update(tags)
        self._send(lambda: mlflow.MlflowClient().log_batch(self.run_id, tags=[RunTag(k, v) for k, v in tags.items()]))
        if self.local:  # after end(): a sync may have uploaded the run; saved again, the next adds the tags
            self.journal.hold()
            self.journal.save()
            self.journal.release()

    def end(self, status: str) -> None:
        self.journal.status, self.journal.end_time = status, now_ms()
        if self.local:
            self.journal.save()
            self.journal.release()
            with suppress(*STORE_ERRORS):
                mlflow.end_run(status)  # only pops the run: the store is not asked again
            return
        self._send(lambda: mlflow.end_run(status))
        if self.local:  # the store went away at the very end
            self.journal.save()
            self.journal.release()


@contextmanager
def model_run(
    params, stage: str, model: str, model_params: Mapping[str, Any], data: Sequence[Path] = ()
) -> Iterator[ModelRun]:
    """Open the MLflow run of one model, named ``<stage>/<model>``, in the experiment of
    ``params`` (``Params``); yields its :class:`ModelRun`, which logs to the run.

    Logged: the model's own settings flattened with dotted names relative to its entry in
    ``params.yaml`` (``early_stopping.patience``), and the pipeline-wide ones under their full
    names (``preprocess.image_size``). Tagged: stage, model, git commit and dirty flag,
    ``dvc_exp_name``, the sha256 of the ``data`` files read and of the parameters, library
    versions, the process logging it (``process.host``, ``process.pid``: see :mod:`orphans`) and
    the run's key (:data:`KEY_TAG`). The run ends FINISHED when the block succeeds, KILLED when
    the stage is stopped (SIGTERM, Ctrl-C) and FAILED when it raises; one whose process was
    killed outright (SIGKILL) is ended KILLED by the next stage that checks the store.
    A store that stops answering mid-run does not stop the stage: see :class:`ModelRun`.
    """
    use_experiment(params.mlflow.experiment)
    logged = {**pipeline_params(params), **flatten(model_params)}
    key = uuid.uuid4().hex
    tags = {"stage": stage, "model": model, **git_state(), "params_sha256": params_hash(logged),
            **library_versions(), **numerics_tags(params.numerics), **process_tags(), KEY_TAG: key}
    if data:
        tags["dataset_sha256"] = content_hash(data)
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_exp_name"] = os.environ["DVC_EXP_NAME"]
    journal = RunJournal(key, params.mlflow.experiment, f"{stage}/{model}", tags, now_ms(), store=tracking_uri())
    run = ModelRun(journal)
    started = run._send(lambda: mlflow.start_run(run_name=journal.run_name, tags=tags))
    if started is not None:
        journal.run_id, journal.start_time = started.info.run_id, started.info.start_time
    run.log_params(logged)
    try:
        yield run
    except STOPPED:
        run.end("KILLED")
        raise
    except BaseException:
        run.end("FAILED")
        raise
    run.end("FINISHED")


class UntrackedRun:
    """A :class:`ModelRun` that logs nothing: a non-chief worker of a multi-worker training,
    whose chief logs the run."""

    run_id = None

    def log_params(self, params: Mapping[str, Any]) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        pass

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        pass

    def log_model(self, model: Any, framework: str) -> None:
        return None

    def link(self, model_file: Path) -> None:
        pass


def add_to_finished_run(experiment: str, run_id: str, metrics: Mapping[str, float], artifacts: Path, artifact_path: str) -> None:
    """Add metrics and a folder of artifacts to a finished run, leaving its status and times as
    they are (reopening it would move its end time to now)."""
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


def epoch_logger(run: ModelRun):
    """A Keras callback logging each epoch's metrics to ``run`` at ``step=epoch``.

    (MLflow's own ``MlflowCallback`` logs optimiser settings as params at every ``fit``, which
    clashes when a second phase of the same run changes the learning rate.)
    """
    import keras

    class EpochMetrics(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            run.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=epoch)

    return EpochMetrics()
