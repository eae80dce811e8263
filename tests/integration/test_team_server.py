"""A team's setup for real: ``mlflow server`` on PostgreSQL with an artifact folder, the whole
pipeline logging to it, and the server crashing in the middle of ``train_cnn``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import ViewType

from imgclf.outputs import sha256_file
from tests.integration.mlflow_server import kill_server, mlflow_server
from tests.integration.postgres import postgres_server
from tests.integration.tiny import MODELS, clean_env, dvc, set_param

pytestmark = [pytest.mark.integration, pytest.mark.required_in_ci]
EXPERIMENT = "image-classification"


@pytest.fixture(scope="module")
def team_server(tmp_path_factory):
    """PostgreSQL, and ``mlflow server`` over it with artifacts in a folder: (database URI,
    artifact folder, server URL, server log)."""
    folder = tmp_path_factory.mktemp("team")
    with postgres_server() as database:
        artifacts, log = folder / "artifacts", folder / "mlflow-server.log"
        with mlflow_server(database, artifacts, log) as url:
            yield database, artifacts, url, log


@pytest.fixture(scope="module")
def team_repo(pipeline, tmp_path_factory, team_server):
    """A copy of the tiny pipeline that ran end to end against the team server."""
    work = tmp_path_factory.mktemp("team-repo") / "repo"
    shutil.copytree(pipeline, work, symlinks=True)
    result = dvc(work, "repro", "--force", MLFLOW_TRACKING_URI=team_server[2])
    assert "Running stage 'evaluate'" in result.stdout
    return work


def runs_named(client: mlflow.MlflowClient, name: str):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id], f"attributes.run_name = '{name}'", run_view_type=ViewType.ALL)


def test_the_pipeline_logs_every_model_to_a_postgres_backed_server(team_repo, team_server):
    _, artifacts, url, _ = team_server
    client = mlflow.MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    trained = {run.data.tags["model"] for run in runs if run.data.tags.get("stage") in ("train_baselines", "train_cnn", "transfer")}
    assert trained == MODELS
    assert all(run.info.status == "FINISHED" for run in runs)
    evaluated = [run for run in runs if "test_accuracy" in run.data.metrics]
    assert {run.data.tags["model"] for run in evaluated} == MODELS
    assert list(artifacts.rglob("model.keras")) and list(artifacts.rglob("*.skops"))
    assert not (team_repo / "mlflow_spool").exists()


def test_a_server_crash_during_train_cnn_loses_nothing_and_sync_uploads_it_once(team_repo, team_server):
    database, artifacts, url, log = team_server
    client = mlflow.MlflowClient(tracking_uri=url)
    epochs = 40
    set_param(team_repo, ("train_cnn", "lenet", "epochs"), epochs)
    set_param(team_repo, ("train_cnn", "lenet", "early_stopping"), None)
    env = clean_env(team_repo, MLFLOW_TRACKING_URI=url)
    stage = subprocess.Popen([sys.executable, "-m", "stages.train_cnn", "lenet"], cwd=team_repo, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while True:  # until the run has logged an epoch: the crash lands mid-training
        running = [run for run in runs_named(client, "train_cnn/lenet") if run.info.status == "RUNNING"]
        if running and client.get_metric_history(running[0].info.run_id, "loss"):
            break
        assert stage.poll() is None and time.monotonic() < deadline, stage.communicate()[1][-3000:]
        time.sleep(0.2)
    run_id = running[0].info.run_id
    kill_server(url)
    _, stderr = stage.communicate(timeout=600)
    assert stage.returncode == 0, stderr[-3000:]
    assert "stopped answering during run train_cnn/lenet" in stderr and "make sync" in stderr
    assert "Traceback" not in stderr
    kept = list((team_repo / "mlflow_spool").glob("*/run.json"))
    assert len(kept) == 1

    port = int(url.rsplit(":", 1)[1])
    with mlflow_server(database, artifacts, log, port=port):
        # The server is back, with the run as the crash left it: RUNNING, with early epochs only.
        assert client.get_run(run_id).info.status == "RUNNING"
        assert len(client.get_metric_history(run_id, "loss")) < epochs
        for attempt in range(2):  # `make sync`, and again: the second finds nothing to do
            result = subprocess.run([sys.executable, "-m", "imgclf.tracking.sync"], cwd=team_repo, env=env,
                                    capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
        assert "nothing to sync" in result.stdout
        assert not list((team_repo / "mlflow_spool").glob("*/run.json"))

        lenet_runs = runs_named(client, "train_cnn/lenet")
        assert len(lenet_runs) == 2  # the end-to-end run and this one: none twice
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            steps = [metric.step for metric in client.get_metric_history(run_id, key)]
            assert sorted(steps) == list(range(epochs)), key
        assert run.data.params["epochs"] == str(epochs) and "weights" in run.data.params
        model_file = team_repo / "models/cnn/lenet/model.keras"
        assert run.data.tags["model_sha256"] == sha256_file(model_file)
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(url)
        try:
            model = mlflow.keras.load_model(run.data.tags["model_uri"])
        finally:
            mlflow.set_tracking_uri(previous)
        assert model.count_params() == int(run.data.params["weights"])
