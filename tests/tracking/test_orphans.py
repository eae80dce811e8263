"""Runs left RUNNING by a process killed outright are ended KILLED: a real SQLite store, real
processes, a real SIGKILL."""

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from imgclf.tracking.orphans import (
    HOST_TAG, NAMESPACE_TAG, PID_TAG, STARTED_TAG, end_orphaned_runs, orphaned, process_exists, process_tags,
)
from imgclf.tracking.preflight import check_tracking_store
from imgclf.tracking.store import tracking_uri
from tests.tracking.test_runs import params_for

REPO = Path(__file__).resolve().parents[2]
EXPERIMENT = "orphans"
# A stage in miniature: opens its model run, logs an epoch, says the run id, trains "forever".
STAGE = f"""
import sys, time, yaml
from imgclf.params import parse_params
from imgclf.tracking.runs import model_run
raw = yaml.safe_load(open({str(REPO / 'params.yaml')!r}))
raw["mlflow"]["experiment"] = {EXPERIMENT!r}
with model_run(parse_params(raw), "train_cnn", "lenet", {{}}) as run:
    run.log_metric("accuracy", 0.5, step=0)
    print(run.run_id, flush=True)
    time.sleep(300)
"""


def start_stage() -> tuple[subprocess.Popen, str]:
    """A process with an open run in the store of ``DVC_ROOT``, and the run's id (within 120 s)."""
    proc = subprocess.Popen([sys.executable, "-c", STAGE], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline().strip() if ready else ""
    if not line:
        proc.kill()
        proc.wait(10)
        pytest.fail("the stage process did not open its run within 120 s")
    return proc, line


def test_a_run_whose_process_was_sigkilled_is_ended_killed_and_a_live_ones_is_not(store):
    killed, killed_run = start_stage()
    alive, alive_run = start_stage()
    try:
        client = mlflow.MlflowClient(tracking_uri())
        tags = client.get_run(killed_run).data.tags
        assert tags[PID_TAG] == str(killed.pid) and tags[HOST_TAG] == socket.gethostname()
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(30) == -signal.SIGKILL
        before = int(time.time() * 1000)
        assert client.get_run(killed_run).info.status == "RUNNING"  # nobody could end it
        assert end_orphaned_runs(EXPERIMENT) == [killed_run]
        run = client.get_run(killed_run)
        assert run.info.status == "KILLED" and run.info.end_time >= before
        assert run.data.metrics["accuracy"] == 0.5  # what it logged stays
        assert client.get_run(alive_run).info.status == "RUNNING"
        assert end_orphaned_runs(EXPERIMENT) == []  # once
    finally:
        alive.kill()
        alive.wait(30)
        killed.kill()
        killed.wait(30)


def test_every_stage_ends_the_orphans_when_it_checks_the_store(store):
    proc, run_id = start_stage()
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert mlflow.MlflowClient(tracking_uri()).get_run(run_id).info.status == "RUNNING"
    check_tracking_store(params_for(EXPERIMENT))
    assert mlflow.MlflowClient(tracking_uri()).get_run(run_id).info.status == "KILLED"


def test_only_runs_of_a_dead_process_of_this_host_and_namespace_are_orphans():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    mine = process_tags()
    assert mine[PID_TAG] == str(os.getpid()) and process_exists(os.getpid(), mine[STARTED_TAG])
    assert not orphaned(mine)
    parent = process_tags(os.getppid())
    assert not orphaned(parent)
    gone = process_tags(dead.pid)
    assert orphaned({**parent, PID_TAG: str(dead.pid), STARTED_TAG: gone[STARTED_TAG]})
    # The parent's pid, but another start time: a new process got the pid of the dead one.
    if parent[STARTED_TAG]:
        assert orphaned({**parent, STARTED_TAG: parent[STARTED_TAG] + "1"})
    assert not orphaned({**gone, HOST_TAG: "another-host"})
    assert not orphaned({**gone, NAMESPACE_TAG: "pid:[1]"})  # a container's numbering: not ours to judge
    assert not orphaned({k: v for k, v in gone.items() if k != PID_TAG})  # a run of before the tags


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="zombies are told apart through /proc (Linux)")
def test_a_zombie_is_no_live_process():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while process_exists(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_exists(proc.pid)  # exited, not yet reaped
    proc.wait(30)
    assert not process_exists(proc.pid)


def test_a_store_not_created_yet_is_left_uncreated(store):
    assert end_orphaned_runs(EXPERIMENT) == []
    assert not (store / "mlflow.db").exists()
