"""A sweep in MLflow: one parent run ``sweep/<sweep>``, one child run per trial (named after its DVC
experiment, with the trial's values and metric), and under each trial the runs its stages logged
(found by their ``dvc_exp_name`` tag, and given ``mlflow.parentRunId``). The parent gets the best
trial's values and metric, and the sweep's table and charts as artifacts (``sweep/``)."""

from __future__ import annotations

import time
from pathlib import Path

import mlflow
from mlflow.entities import Metric, Param, RunTag

from imgclf.params.sweep import Sweep
from imgclf.tracking.store import use_experiment

PARENT = "mlflow.parentRunId"
STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


def open_parent(experiment: str, name: str, sweep: Sweep, run_id: str | None) -> str:
    """The sweep's parent run, created or (resuming) reopened; its id."""
    experiment_id = use_experiment(experiment)
    client = mlflow.MlflowClient()
    if run_id is not None:
        client.update_run(run_id, status="RUNNING")
        return run_id
    run = client.create_run(experiment_id, run_name=f"sweep/{name}",
                            tags={"sweep": name, "sweep_role": "parent", "sweep_method": sweep.method,
                                  "sweep_metric": f"{sweep.metric.direction} {sweep.metric.key}"})
    return run.info.run_id


def close_parent(run_id: str, status: str) -> None:
    mlflow.MlflowClient().set_terminated(run_id, status)


def trial_runs(experiment_id: str, parent_id: str) -> dict[str, str]:
    """The trial runs already under the parent: DVC experiment name -> run id."""
    runs = mlflow.MlflowClient().search_runs(
        [experiment_id], f"tags.`{PARENT}` = '{parent_id}' and tags.sweep_role = 'trial'", max_results=10000)
    return {run.data.tags["dvc_exp_name"]: run.info.run_id for run in runs}


def record_trial(client: mlflow.MlflowClient, experiment_id: str, parent_id: str, row: dict, sweep: Sweep,
                 run_id: str | None = None) -> str:
    """Create (or, resumed, bring up to date) a trial's run: its values, state, metric and, for
    pruned Optuna trials, the per-epoch values it was judged on."""
    if run_id is None:
        run_id = client.create_run(experiment_id, run_name=row["name"], tags={
            PARENT: parent_id, "sweep_role": "trial", "sweep": row["sweep"], "dvc_exp_name": row["name"],
            "trial_number": str(row["number"])}).info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(sweep.metric.key, row["value"], now, 0)] if row["value"] is not None else []
    metrics += [Metric(f"epoch.{sweep.pruning.metric}", v, now, int(step))
                for step, v in row.get("epochs", {}).items()] if sweep.pruning else []
    client.log_batch(run_id, metrics=metrics, params=[Param(key, str(value)) for key, value in row["params"].items()],
                     tags=[RunTag("trial_state", row["state"].lower())])
    client.set_terminated(run_id, STATUS.get(row["state"], "FAILED"))
    return run_id


def adopt_stage_runs(client: mlflow.MlflowClient, experiment_id: str, trial: str, trial_run_id: str) -> int:
    """Put the finished runs the trial's stages logged (tag ``dvc_exp_name``) under its trial run;
    how many. (Runs of an attempt that was stopped, KILLED, FAILED or left RUNNING by a killed
    worker, stay where they are: the trial's results are those of its finished stages.)"""
    runs = client.search_runs([experiment_id], f"tags.dvc_exp_name = '{trial}' and attributes.status = 'FINISHED'",
                              max_results=1000)
    adopted = 0
    for run in runs:
        if run.data.tags.get("sweep_role") or PARENT in run.data.tags:
            continue
        client.set_tag(run.info.run_id, PARENT, trial_run_id)
        adopted += 1
    return adopted


def record_sweep(experiment: str, parent_id: str, rows: list[dict], best: dict | None, sweep: Sweep,
                 outputs: Path) -> None:
    """Record every finished trial under the parent, the best one on the parent, and the outputs."""
    experiment_id = use_experiment(experiment)
    client = mlflow.MlflowClient()
    existing = trial_runs(experiment_id, parent_id)
    for row in rows:
        if row["state"] not in STATUS:
            continue
        run_id = record_trial(client, experiment_id, parent_id, row, sweep, existing.get(row["name"]))
        adopt_stage_runs(client, experiment_id, row["name"], run_id)
    if best is not None:
        now = int(time.time() * 1000)
        client.log_batch(parent_id, metrics=[Metric(sweep.metric.key, best["value"], now, 0)],
                         params=[Param(key, str(value)) for key, value in best["params"].items()],
                         tags=[RunTag("best_trial", best["name"])])
    client.log_artifacts(parent_id, str(outputs), "sweep")
