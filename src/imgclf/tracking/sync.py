"""``make sync``: upload the runs kept locally while the store was away, each once.

A run is found in the store by its id, or by its key tag when the store never saw it start,
and only what the store lacks is logged to it: parameters, metric values (by key, step, time
and value), tags, the model. A sync stopped half-way and run again finishes the job without
a second run or a repeated metric. Its folder in ``mlflow_spool`` is deleted once it is done.
"""

from __future__ import annotations

import os
import shutil
import sys

import mlflow
from mlflow.entities import Metric, Param, RunTag

from imgclf.errors import PipelineError, run_stage
from imgclf.models.loading import load_model
from imgclf.tracking.journal import (
    KEY_TAG, MODEL_DIR, RECORD, STORE_ERRORS, RunJournal, kept_runs, lock_folder, problem_line, spool_root,
)
from imgclf.tracking.lineage import URI_TAG
from imgclf.tracking.model_logging import log_model
from imgclf.tracking.store import tracking_uri, use_experiment

BATCH = 1000  # MLflow's limit of metrics in one log_batch


def find_or_create_run(client: mlflow.MlflowClient, journal: RunJournal):
    """The store's run of ``journal``: by id, else by key tag, else a new one (with the key tag)."""
    experiment_id = use_experiment(journal.experiment)
    if journal.run_id:
        return client.get_run(journal.run_id)
    found = client.search_runs([experiment_id], f"tags.{KEY_TAG} = '{journal.key}'", max_results=1)
    if found:
        return found[0]
    run = client.create_run(experiment_id, start_time=journal.start_time, tags={**journal.tags, KEY_TAG: journal.key},
                            run_name=journal.run_name)
    return client.get_run(run.info.run_id)


def upload(journal: RunJournal) -> str:
    """Log what the store lacks of ``journal``'s run and end it with the journal's status; its id."""
    client = mlflow.MlflowClient()
    run = find_or_create_run(client, journal)
    run_id = run.info.run_id
    params = [Param(k, v) for k, v in journal.params.items() if k not in run.data.params]
    metrics = []
    for key in dict.fromkeys(row[0] for row in journal.metrics):
        stored = {(m.step, m.timestamp, m.value) for m in client.get_metric_history(run_id, key)}
        metrics += [Metric(*row) for row in journal.metrics if row[0] == key and (row[3], row[2], row[1]) not in stored]
    for start in range(0, max(len(metrics), len(params), 1), BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + BATCH], params=params[start:start + BATCH])
    tags = dict(journal.tags)
    if journal.framework and not run.data.tags.get(URI_TAG):
        with mlflow.start_run(run_id=run_id):
            tags[URI_TAG] = log_model(load_model(journal.folder / MODEL_DIR).model, journal.framework)
    elif run.data.tags.get(URI_TAG):
        tags[URI_TAG] = run.data.tags[URI_TAG]
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items() if run.data.tags.get(k) != v])
    client.set_terminated(run_id, journal.status if journal.status != "RUNNING" else "FAILED", journal.end_time)
    return run_id


def sync_kept_runs(quiet: bool = False) -> list[str]:
    """Upload every run in ``mlflow_spool`` to the store (:func:`tracking_uri`); their run ids.

    Raises :class:`PipelineError` naming the store when it fails again; what was not uploaded
    stays kept.
    """
    uploaded = []
    for journal in kept_runs():
        try:
            lock = lock_folder(journal.folder)
        except FileNotFoundError:  # another sync uploaded it and deleted its folder meanwhile
            continue
        if lock is None:
            if not quiet:
                print(f"left {journal.run_name} in {journal.folder}: its stage is still writing it; the next sync "
                      "uploads it")
            continue
        if not (journal.folder / RECORD).exists():  # uploaded by another sync since the listing
            os.close(lock)
            continue
        try:
            journal = RunJournal.load(journal.folder)  # as the stage left it, now that it cannot change
            uploaded.append(upload(journal))
            shutil.rmtree(journal.folder)
        except STORE_ERRORS as exc:
            raise PipelineError(f"MLflow store {tracking_uri()}: could not upload the run kept in {journal.folder} "
                                f"({problem_line(exc)}); {len(uploaded)} uploaded, try `make sync` again") from None
        finally:
            os.close(lock)
        if not quiet:
            print(f"uploaded {journal.run_name} ({journal.status}) to {tracking_uri()} as run {uploaded[-1]}")
    return uploaded


def main() -> None:
    """Check the store of ``params.yaml`` and upload what ``mlflow_spool`` holds."""
    from imgclf.params import load_params
    from imgclf.tracking.preflight import check_store

    kept = kept_runs()
    if not kept:
        print(f"nothing to sync: {spool_root()} holds no run")
        return
    params = load_params()
    check_store(tracking_uri(), params.mlflow.experiment, params.mlflow.check_timeout)
    print(f"{len(sync_kept_runs())} run(s) uploaded to {tracking_uri()}", file=sys.stderr)


if __name__ == "__main__":
    run_stage(main)
