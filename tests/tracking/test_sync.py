"""Runs kept locally while the store was away, uploaded to a real SQLite store, each once."""

from __future__ import annotations

import signal
import subprocess
import sys

import mlflow
import numpy as np
import pytest
from mlflow.entities import Metric, ViewType
from sklearn.linear_model import LogisticRegression

from imgclf.tracking.journal import KEY_TAG, RunJournal, kept_runs, spool_root
from imgclf.tracking.store import tracking_uri, use_experiment
from imgclf.tracking.sync import sync_kept_runs, upload


def journal(key: str = "k1", **extra) -> RunJournal:
    return RunJournal(key, "exp", "train_baselines/logreg", {"stage": "train_baselines", "model": "logreg"}, 1_000_000,
                      params={"C": "1.0"}, metrics=[["loss", 0.9, 1_000_100, 0], ["loss", 0.5, 1_000_200, 1],
                                                   ["val_accuracy", 0.8, 1_000_300, 0]],
                      **{"status": "FINISHED", "end_time": 1_000_400, **extra})


def all_runs(client):
    return client.search_runs([use_experiment("exp")], run_view_type=ViewType.ALL)


def test_a_run_the_store_never_saw_is_created_once_with_everything(store):
    kept = journal()
    model = LogisticRegression().fit(np.eye(4, 6), [0, 1, 0, 1])
    kept.save_model(model, "sklearn")
    kept.save()
    assert [j.key for j in kept_runs()] == ["k1"]
    mlflow.set_tracking_uri(tracking_uri())
    (run_id,) = sync_kept_runs(quiet=True)
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "train_baselines/logreg"
    assert (run.info.start_time, run.info.end_time) == (1_000_000, 1_000_400)
    assert run.data.params == {"C": "1.0"} and run.data.tags[KEY_TAG] == "k1"
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(0, 0.9), (1, 0.5)]
    logged = mlflow.sklearn.load_model(run.data.tags["model_uri"])
    assert (logged.predict(np.eye(4, 6)) == model.predict(np.eye(4, 6))).all()
    assert not spool_root().joinpath("k1").exists() and kept_runs() == []


def test_uploading_twice_adds_nothing(store):
    kept = journal()
    mlflow.set_tracking_uri(tracking_uri())
    first = upload(kept)
    second = upload(kept)  # a sync stopped before deleting its folder, then run again
    client = mlflow.MlflowClient()
    assert first == second and len(all_runs(client)) == 1
    assert len(client.get_metric_history(first, "loss")) == 2


def test_a_run_cut_off_mid_way_gets_only_what_it_lacks(store):
    mlflow.set_tracking_uri(tracking_uri())
    client = mlflow.MlflowClient()
    started = client.create_run(use_experiment("exp"), start_time=1_000_000, tags={KEY_TAG: "k2"})
    run_id = started.info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 0.9, 1_000_100, 0)], params=[mlflow.entities.Param("C", "1.0")])
    kept = journal("k2", run_id=run_id)
    upload(kept)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and len(all_runs(client)) == 1
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(0, 0.9), (1, 0.5)]
    assert run.data.metrics["val_accuracy"] == 0.8


def test_a_run_still_running_when_the_stage_died_is_ended_failed(store):
    mlflow.set_tracking_uri(tracking_uri())
    kept = journal("k3", status="RUNNING", end_time=None)
    run_id = upload(kept)
    assert mlflow.MlflowClient().get_run(run_id).info.status == "FAILED"


def test_a_store_still_away_keeps_the_run_and_says_so(store, monkeypatch):
    journal("k4").save()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(Exception) as error:
        sync_kept_runs(quiet=True)
    assert "could not upload the run kept in" in str(error.value) and "http://127.0.0.1:9" in str(error.value)
    assert [j.key for j in kept_runs()] == ["k4"]


# A stage still writing its kept run: it holds the run's folder, logs one more epoch when told
# to on stdin, then ends the run (saved FINISHED, lock released) and waits to be killed.
WRITER = """
import sys
from imgclf.tracking.journal import RunJournal
kept = RunJournal("k5", "exp", "train_cnn/lenet", {}, 1_000_000, metrics=[["loss", 0.9, 1_000_100, 0]])
kept.hold()
kept.save()
print("kept", flush=True)
if sys.stdin.readline().strip() == "end":
    kept.metrics.append(["loss", 0.5, 1_000_200, 1])
    kept.status, kept.end_time = "FINISHED", 1_000_300
    kept.save()
    kept.release()
    print("ended", flush=True)
    sys.stdin.readline()
"""


def start_writer():
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "kept\n"
    return writer


def test_a_run_its_stage_is_still_writing_is_left_for_the_next_sync(store, capsys):
    mlflow.set_tracking_uri(tracking_uri())
    writer = start_writer()
    try:
        assert sync_kept_runs() == []  # half-written: neither uploaded nor deleted under the stage
        assert "left train_cnn/lenet in" in capsys.readouterr().out
        assert [j.key for j in kept_runs()] == ["k5"] and all_runs(mlflow.MlflowClient()) == []
        writer.stdin.write("end\n")
        writer.stdin.flush()
        assert writer.stdout.readline() == "ended\n"
        (run_id,) = sync_kept_runs(quiet=True)
    finally:
        writer.kill()
        writer.wait()
    client = mlflow.MlflowClient()
    assert client.get_run(run_id).info.status == "FINISHED"
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(0, 0.9), (1, 0.5)]
    assert kept_runs() == []


def test_a_run_whose_stage_was_killed_mid_way_is_uploaded_failed(store):
    mlflow.set_tracking_uri(tracking_uri())
    writer = start_writer()
    writer.send_signal(signal.SIGKILL)  # the system releases its lock
    writer.wait()
    (run_id,) = sync_kept_runs(quiet=True)
    client = mlflow.MlflowClient()
    assert client.get_run(run_id).info.status == "FAILED"
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(0, 0.9)]
