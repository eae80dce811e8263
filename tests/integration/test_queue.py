"""Queued DVC experiments run two at a time, each logging into the one MLflow store; one whose
training process is killed outright fails alone, its run ends KILLED, and it re-queues."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
import subprocess
import sys
import time

import pytest

from tests.integration.tiny import all_runs, clean_env, dvc, store_client

pytestmark = pytest.mark.integration


def worker_pids(root: Path) -> list[int]:
    """The DVC queue workers running in ``root`` (Linux: read from /proc)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if b"queue-worker" in (proc / "cmdline").read_bytes() and Path(os.readlink(proc / "cwd")) == root:
                pids.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return pids


def stop_workers(root: Path) -> None:
    """`dvc queue stop` if a worker is alive (sent to none, it stops the next worker that starts),
    then make sure no worker outlives the test: one that lingers idle after the stop takes the
    next task queued, in the next test, and drops it (it stays Running for ever)."""
    if worker_pids(root):
        dvc(root, "queue", "stop", check=False)
    for sig, seconds in ((None, 30), (signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        for pid in worker_pids(root) if sig else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + seconds
        while worker_pids(root) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert not worker_pids(root), f"queue workers {worker_pids(root)} survived SIGKILL"


# The soak test's experiments: three that finish, and one whose training process is killed
# outright mid-training. Rates no other test uses; the killed one trains long enough for the kill
# to land in the middle: all its epochs (no early stopping), one image a step (30 epochs of the
# TINY data at 32 a step took 12 s, and the kill came too late).
SOAK_RATES = {"soak-0052": 0.0052, "soak-0054": 0.0054, "soak-0056": 0.0056}
KILLED = "soak-kill"
KILLED_EPOCHS = 30
LONG_TRAINING = ["-S", f"train_cnn.lenet.epochs={KILLED_EPOCHS}", "-S", "train_cnn.lenet.early_stopping=null",
                 "-S", "train_cnn.lenet.batch_size=1"]
KILLED_SETTINGS = ["-S", "train_cnn.lenet.learning_rate=0.0064", *LONG_TRAINING]
# Queued again under the same name, it needs no long training: three epochs at the usual batch.
REQUEUED_EPOCHS = 3
REQUEUED_SETTINGS = ["-S", "train_cnn.lenet.learning_rate=0.0064", "-S", f"train_cnn.lenet.epochs={REQUEUED_EPOCHS}",
                     "-S", "train_cnn.lenet.early_stopping=null"]


def queue_table(root: Path) -> list[tuple[str, str, str]]:
    """What ``dvc queue status`` lists, as (task, name, status) rows. Asked of DVC in this process:
    the tests poll it every few seconds, and the command costs most of a second of CPU each time
    (Python and DVC starting), taken from the experiments under test."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        tasks = repo.experiments.celery_queue.status()
    return [(task["rev"][:7], task.get("name") or "", task["status"]) for task in tasks
            if task.get("status") in ("Queued", "Running", "Success", "Failed")]


def wait_for_queue(root: Path, seconds: float) -> list[tuple[str, str, str]]:
    """The queue's rows once nothing is Queued or Running, within ``seconds``; an error as soon as
    experiments have stayed queued for a minute with no worker alive to run them."""
    deadline, stranded = time.monotonic() + seconds, None
    while True:
        rows = queue_table(root)
        if not any(status in ("Queued", "Running") for _, _, status in rows):
            return rows
        assert time.monotonic() < deadline, rows
        if worker_pids(root):
            stranded = None
        else:
            stranded = stranded or time.monotonic()
            assert time.monotonic() - stranded < 60, f"no worker left, and still queued: {rows}"
        time.sleep(3)


def start_queue(root: Path, jobs: int, log: Path) -> None:
    """What `make queue JOBS=<jobs>` runs: the store, experiment and orphan check, then the workers."""
    with open(log, "a") as out:  # the workers must not hold our pipes, or run() waits for them
        subprocess.run([sys.executable, "-m", "imgclf.tracking.queue", "--jobs", str(jobs)], cwd=root,
                       env=clean_env(root), stdout=out, stderr=subprocess.STDOUT, check=True)


def parent(pid: int) -> int:
    """The parent process of ``pid`` (Linux: read from /proc)."""
    stat = (Path("/proc") / str(pid) / "stat").read_text()
    return int(stat[stat.rfind(")") + 2:].split()[1])


def executor_of(stage: int) -> int:
    """The ``dvc exp exec-run`` process that runs ``stage``: its parent, or its grandparent when the
    shell DVC starts the stage with stays in between (dash execs ``sh -c CMD`` on some machines, not
    on others)."""
    pid = parent(stage)
    for _ in range(2):
        if b"exec-run" in (Path("/proc") / str(pid) / "cmdline").read_bytes():
            return pid
        pid = parent(pid)
    raise AssertionError(f"no `dvc exp exec-run` above the stage process {stage}")


def training_runs(client, name: str) -> list:
    """The ``train_cnn/lenet`` runs of the experiment ``name``."""
    return [run for run in all_runs(client, f"tags.dvc_exp_name = '{name}'") if run.info.run_name == "train_cnn/lenet"]


def test_four_queued_experiments_two_at_a_time_land_in_mlflow_and_one_killed_outright_fails_alone_and_requeues(
        pipeline, tmp_path):
    """Four experiments two at a time, each logging into the one MLflow store; the training process
    of one gets SIGKILL after its first epoch, and only that experiment fails.

    The process tree of a queued experiment: ``dvc exp queue-worker`` (the celery worker, about
    90 MB) runs ``dvc exp exec-run`` (about 90 MB), which runs the stage, ``python -m
    stages.train_cnn lenet`` (about 850 MB with TensorFlow), through ``sh -c`` where the shell
    does not exec it. The stage is the one a crash takes down (the out-of-memory killer picks the
    largest), so it is the one killed."""
    assert not worker_pids(pipeline)  # none left by another test, to take a task and drop it
    started = time.monotonic()
    dvc(pipeline, "exp", "run", "--queue", "-n", KILLED, *KILLED_SETTINGS)  # first: it starts at once
    for name, rate in SOAK_RATES.items():
        dvc(pipeline, "exp", "run", "--queue", "-n", name, "-S", f"train_cnn.lenet.learning_rate={rate}")
    client = store_client(pipeline)
    try:
        start_queue(pipeline, 2, tmp_path / "queue.log")
        deadline = time.monotonic() + 600
        while True:  # its first epoch logged: training is under way
            runs = training_runs(client, KILLED)
            if runs and client.get_metric_history(runs[0].info.run_id, "accuracy"):
                break
            assert time.monotonic() < deadline, f"the experiment to kill logged no epoch within 600 s: {queue_table(pipeline)}"
            time.sleep(0.5)
        victim = int(runs[0].data.tags["process.pid"])
        assert b"stages.train_cnn" in (Path("/proc") / str(victim) / "cmdline").read_bytes()
        executor = executor_of(victim)
        assert parent(executor) in worker_pids(pipeline)  # a worker of this repository's queue
        os.kill(victim, signal.SIGKILL)
        killed_at = int(time.time() * 1000)
        rows = wait_for_queue(pipeline, 1500)
        first_round = time.monotonic() - started

        assert sorted((name, status) for _, name, status in rows if name.startswith("soak-")) == sorted(
            [(KILLED, "Failed")] + [(name, "Success") for name in SOAK_RATES]), rows
        [killed] = training_runs(client, KILLED)
        # Ended by the next stage that checked the store (or `make queue`): nobody else could.
        assert killed.info.status == "KILLED" and killed.info.end_time >= killed_at
        epochs = len(client.get_metric_history(killed.info.run_id, "accuracy"))
        assert 1 <= epochs < KILLED_EPOCHS  # killed mid-training
        assert not [run for run in all_runs(client, f"tags.dvc_exp_name = '{KILLED}'") if run.info.run_name != "train_cnn/lenet"]
        for name, rate in SOAK_RATES.items():  # each finished one: one training run, one evaluation, both FINISHED
            runs = all_runs(client, f"tags.dvc_exp_name = '{name}'")
            assert sorted((run.info.run_name, run.info.status) for run in runs) == [
                ("evaluate/comparison", "FINISHED"), ("train_cnn/lenet", "FINISHED")], name
            trained, = [run for run in runs if run.info.run_name == "train_cnn/lenet"]
            assert trained.data.params["learning_rate"] == str(rate)
            assert len(client.get_metric_history(trained.info.run_id, "accuracy")) == 2  # the TINY epochs
            assert 0 <= trained.data.metrics["test_accuracy"] <= 1, name
        assert not all_runs(client, "attributes.status = 'RUNNING'")

        # Queued again: a new task of the same name, which now succeeds.
        dvc(pipeline, "exp", "run", "--queue", "-n", KILLED, *REQUEUED_SETTINGS)
        start_queue(pipeline, 1, tmp_path / "queue.log")
        rows = wait_for_queue(pipeline, 900)
    finally:
        stop_workers(pipeline)
    assert sorted(status for _, name, status in rows if name == KILLED) == ["Failed", "Success"], rows
    runs = all_runs(client, f"tags.dvc_exp_name = '{KILLED}'")
    assert sorted((run.info.run_name, run.info.status) for run in runs) == [
        ("evaluate/comparison", "FINISHED"), ("train_cnn/lenet", "FINISHED"), ("train_cnn/lenet", "KILLED")]
    [again] = [run for run in runs if run.info.run_name == "train_cnn/lenet" and run.info.status == "FINISHED"]
    assert len(client.get_metric_history(again.info.run_id, "accuracy")) == REQUEUED_EPOCHS
    table = dvc(pipeline, "exp", "show", "--md").stdout
    for name in (KILLED, *SOAK_RATES):
        assert name in table
    print(f"soak: killed pid {victim} after {epochs} of {KILLED_EPOCHS} epochs; four experiments in "
          f"{first_round:.0f} s, all in {time.monotonic() - started:.0f} s")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux: parents read from /proc)."""
    parents = {}
    for proc in Path("/proc").iterdir():
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += [child for child, parent in parents.items() if parent == current]
    return found


def test_an_experiment_left_running_with_no_worker_is_marked_failed_by_make_queue(pipeline, tmp_path):
    """The worker, and everything it started, die at once (the machine's out-of-memory killer, a
    closed session): DVC calls the experiment Running for ever. `make queue` says so and marks it
    failed, so that `dvc exp show` works and the experiment can be queued again."""
    assert not worker_pids(pipeline)
    lost = ["-S", "train_cnn.lenet.learning_rate=0.0071", *LONG_TRAINING]
    dvc(pipeline, "exp", "run", "--queue", "-n", "lost-one", *lost)
    client = store_client(pipeline)
    try:
        start_queue(pipeline, 1, tmp_path / "queue.log")
        deadline = time.monotonic() + 300
        while True:  # its first epoch logged: the experiment is under way
            runs = [run for run in training_runs(client, "lost-one") if run.info.status == "RUNNING"]
            if runs and client.get_metric_history(runs[0].info.run_id, "accuracy"):
                break
            assert time.monotonic() < deadline, f"lost-one logged no epoch within 300 s: {queue_table(pipeline)}"
            time.sleep(0.5)
        [worker] = worker_pids(pipeline)
        for pid in descendants(worker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while worker_pids(pipeline):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert ("lost-one", "Running") in [(name, status) for _, name, status in queue_table(pipeline)]

        result = subprocess.run([sys.executable, "-m", "imgclf.tracking.queue"], cwd=pipeline,
                                env=clean_env(pipeline), capture_output=True, text=True, timeout=120)
    finally:
        stop_workers(pipeline)
    assert result.returncode == 0, result.stderr
    assert ("experiment lost-one: DVC called it running but no worker is left to run it; marked failed, "
            "queue it again with dvc exp run --queue") in result.stderr
    assert ("lost-one", "Failed") in [(name, status) for _, name, status in queue_table(pipeline)]
    dvc(pipeline, "exp", "show", "--json")  # fails on an experiment DVC still calls running
    again = subprocess.run([sys.executable, "-m", "imgclf.tracking.queue"], cwd=pipeline, env=clean_env(pipeline),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "lost-one" not in again.stderr, again.stderr

    # Queued again, with one more behind it, after a `dvc queue stop` typed while no worker is
    # alive: DVC leaves that stop for the next worker of the same name, which would run one
    # experiment and exit. `make queue` clears it, and one worker runs both.
    dvc(pipeline, "queue", "stop")
    dvc(pipeline, "exp", "run", "--queue", "-n", "lost-one", "-S", "train_cnn.lenet.learning_rate=0.0071")  # short now
    dvc(pipeline, "exp", "run", "--queue", "-n", "after-stop", "-S", "train_cnn.lenet.learning_rate=0.0073")
    try:
        start_queue(pipeline, 1, tmp_path / "queue.log")
        rows = wait_for_queue(pipeline, 600)
    finally:
        stop_workers(pipeline)
    assert {(name, status) for _, name, status in rows if name in ("lost-one", "after-stop")} == {
        ("lost-one", "Failed"), ("lost-one", "Success"), ("after-stop", "Success")}, rows


def test_a_worker_killed_while_dvc_prepares_an_experiment_is_marked_failed_while_another_worker_runs(
        pipeline, tmp_path, monkeypatch):
    """A worker killed in the second DVC takes to make an experiment's temporary workspace, before
    the experiment's own process starts, leaves a record that makes every `dvc exp show` fail. With
    another worker running the next experiment (so `make queue` would not touch it), the sweep's
    watch (:func:`~imgclf.tracking.sweep_trials.settle_stale`) marks it failed, the other
    experiment finishes, and `dvc exp show` works again."""
    from imgclf.tracking.sweep_trials import experiments, settle_stale

    assert not worker_pids(pipeline)
    dvc(pipeline, "exp", "run", "--queue", "-n", "prep-killed", "-S", "train_cnn.lenet.learning_rate=0.0077")
    records = pipeline / ".dvc" / "tmp" / "exps" / "run"  # one folder per experiment taken by a worker
    before = set(records.glob("*/"))
    try:
        start_queue(pipeline, 1, tmp_path / "queue.log")
        [worker] = worker_pids(pipeline)
        deadline = time.monotonic() + 120
        # DVC writes the experiment's record as it starts making the workspace, and the record of
        # the experiment's process (<rev>.json) once that process starts, a fraction of a second on.
        while not (taken := [d for d in records.glob("*/") if d not in before and any(d.glob("*.run"))]):
            assert time.monotonic() < deadline, f"no experiment taken within 120 s: {queue_table(pipeline)}"
            time.sleep(0.002)
        for pid in descendants(worker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        [record] = taken
        assert not list(record.glob("*.json")), "killed too late: the experiment's own process had started"
        deadline = time.monotonic() + 30
        while worker_pids(pipeline):
            assert time.monotonic() < deadline
            time.sleep(0.2)

        dvc(pipeline, "exp", "run", "--queue", "-n", "after-prep", "-S", "train_cnn.lenet.learning_rate=0.0079")
        with open(tmp_path / "queue.log", "a") as out:  # a user's own `dvc queue start`: no clean-up first
            subprocess.run([str(Path(sys.executable).parent / "dvc"), "queue", "start", "-j", "1"], cwd=pipeline,
                           env=clean_env(pipeline), stdout=out, stderr=subprocess.STDOUT, check=True)
        monkeypatch.chdir(pipeline)
        trials, unowned, marked, deadline = {"prep-killed", "after-prep"}, {}, [], time.monotonic() + 300
        while "prep-killed" not in marked:
            assert time.monotonic() < deadline, f"prep-killed not marked failed within 300 s: {queue_table(pipeline)}"
            alive = worker_pids(pipeline)
            marked += settle_stale(trials, unowned)
            time.sleep(3)
        assert alive and marked == ["prep-killed"], (alive, marked)  # marked while the other worker lived
        rows = wait_for_queue(pipeline, 600)
    finally:
        stop_workers(pipeline)
    assert {(name, status) for _, name, status in rows if name in trials} == {
        ("prep-killed", "Failed"), ("after-prep", "Success")}, rows
    states = {name: e["state"] for name, e in experiments().items()}  # `dvc exp show` works again
    assert states["prep-killed"] == "failed" and states["after-prep"] == "done", states
