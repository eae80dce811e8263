"""Tiny sweeps on the tiny pipeline: a grid of 4 through DVC's queue and an Optuna study of 4 trials,
stopped after two and resumed, each trial a real DVC experiment and an MLflow run under the sweep's."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.test_queue import descendants, queue_table, stop_workers, worker_pids
from tests.integration.tiny import all_runs, clean_env, dvc, store_client

pytestmark = pytest.mark.integration

# Learning rates no other test trains (a rate trained before would come from DVC's run-cache).
GRID = {
    "method": "grid", "jobs": 2,
    "metric": {"key": "lenet.accuracy", "direction": "maximize"},
    "params": {"train_cnn.lenet.learning_rate": [0.0012, 0.0022], "train_cnn.lenet.batch_size": [16, 32]},
}
STUDY = {
    "method": "optuna", "trials": 4, "seed": 3,
    "metric": {"key": "lenet.log_loss", "direction": "minimize"},
    "params": {"train_cnn.lenet.learning_rate": {"low": 0.0005, "high": 0.005, "log": True},
               "train_cnn.lenet.batch_size": [16, 32, 64]},
}


def write_sweep(root: Path, name: str, sweep: dict) -> None:
    (root / "sweeps").mkdir(exist_ok=True)
    (root / "sweeps" / f"{name}.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False))


def with_sigint(disposition):
    """For ``preexec_fn``: the started process's SIGINT set to ``disposition``, whatever the test
    runner's is (a runner started in the background by a script ignores it)."""
    return lambda: signal.signal(signal.SIGINT, disposition)


def sweep(root: Path, name: str, *args: str, check: bool = True, sigint=signal.SIG_DFL) -> subprocess.CompletedProcess:
    """What ``make sweep NAME=name [RESUME=1]`` runs (started with SIGINT as ``sigint``)."""
    result = subprocess.run([sys.executable, "-m", "imgclf.tracking.sweep", name, *args], cwd=root,
                            env=clean_env(root), capture_output=True, text=True, timeout=1500,
                            preexec_fn=with_sigint(sigint))
    if check and result.returncode != 0:
        raise AssertionError(f"sweep {name} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def experiment_names(root: Path) -> set[str]:
    return set(dvc(root, "exp", "ls", "--name-only").stdout.split())


def trial_table(root: Path, name: str) -> list[dict]:
    with open(root / "reports" / "sweeps" / name / "trials.csv") as handle:
        return list(csv.DictReader(handle))


def check_mlflow(root: Path, name: str, trials: set[str]) -> dict:
    """One parent run, one finished child per trial, and each trial's stage runs under its child."""
    client = store_client(root)
    parents = all_runs(client, f"tags.sweep = '{name}' and tags.sweep_role = 'parent'")
    assert [p.info.status for p in parents] == ["FINISHED"]
    parent = parents[0]
    children = all_runs(client, f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert {c.info.run_name for c in children} == trials
    assert {c.info.status for c in children} == {"FINISHED"}
    for child in children:
        stage_runs = all_runs(client, f"tags.`mlflow.parentRunId` = '{child.info.run_id}'")
        # each trial trained lenet once and evaluated once: nothing ran twice
        assert sorted(r.info.run_name for r in stage_runs) == ["evaluate/comparison", "train_cnn/lenet"]
        assert {r.data.tags["dvc_exp_name"] for r in stage_runs} == {child.info.run_name}
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "sweep")}
    assert {"sweep/trials.md", "sweep/trials.csv", "sweep/parallel_coordinates.png", "sweep/param_importances.png",
            "sweep/metric_vs_params.png", "sweep/history.png", "sweep/index.html"} <= artifacts
    return parent


def test_a_grid_of_four_runs_on_the_queue_survives_a_killed_worker_and_lands_under_one_parent_run(pipeline):
    write_sweep(pipeline, "tiny-grid", GRID)
    process = subprocess.Popen([sys.executable, "-m", "imgclf.tracking.sweep", "tiny-grid"], cwd=pipeline,
                               env=clean_env(pipeline), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        # A trial's stage at work: the worker is killed mid-trial (a worker killed while DVC is still
        # making the trial's temporary workspace is tests/integration/test_queue.py's last test).
        while not running_stage(pipeline, b"stages.") or not worker_pids(pipeline):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(1)
        killed = worker_pids(pipeline)[0]
        for pid in descendants(killed):  # a worker dies with the trial it runs (kill -9, the OOM killer)
            os.kill(pid, signal.SIGKILL)
        out, err = process.communicate(timeout=1500)
    finally:
        stop_workers(pipeline)
    assert process.returncode in (0, 1), err
    if process.returncode == 1:  # the killed worker's trial: failed, named, and left to RESUME=1
        assert "Traceback" not in err and "make sweep NAME=tiny-grid RESUME=1 runs them again" in err
    resumed = sweep(pipeline, "tiny-grid", "--resume")
    stop_workers(pipeline)
    trials = {f"tiny-grid-{n:03d}" for n in range(4)}
    assert trials <= experiment_names(pipeline)
    table = trial_table(pipeline, "tiny-grid")
    assert {row["dvc experiment"] for row in table} == trials and {row["state"] for row in table} == {"complete"}
    values = [float(row["lenet.accuracy"]) for row in table]
    assert values == sorted(values, reverse=True) and [row["rank"] for row in table] == ["1", "2", "3", "4"]
    # the grid's order: learning rate slowest, batch size fastest
    assert [(r["train_cnn.lenet.learning_rate"], r["train_cnn.lenet.batch_size"])
            for r in sorted(table, key=lambda r: r["dvc experiment"])] == [
        ("0.0012", "16"), ("0.0012", "32"), ("0.0022", "16"), ("0.0022", "32")]
    # each trial's metric is the one DVC recorded for its experiment
    shown = {row["Experiment"]: row for row in csv.DictReader(dvc(pipeline, "exp", "show", "--csv").stdout.splitlines())}
    for row in table:
        assert float(shown[row["dvc experiment"]]["lenet.accuracy"]) == pytest.approx(float(row["lenet.accuracy"]))
    best = table[0]
    parent = check_mlflow(pipeline, "tiny-grid", trials)  # and no finished trial ran twice
    assert parent.data.tags["best_trial"] == best["dvc experiment"]
    assert parent.data.params["train_cnn.lenet.learning_rate"] == best["train_cnn.lenet.learning_rate"]
    assert parent.data.metrics["lenet.accuracy"] == pytest.approx(float(best["lenet.accuracy"]), rel=1e-5)
    assert f"best: {best['dvc experiment']}" in resumed.stdout

    again = sweep(pipeline, "tiny-grid", check=False)  # started before, and no --resume
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip().splitlines() == [
        f"error: sweep 'tiny-grid' was started before (sweeps/.state/tiny-grid.json): make sweep NAME=tiny-grid "
        "RESUME=1 continues it; to start again, delete sweeps/.state/tiny-grid.json and the experiments (dvc exp remove)"]
    finished = sweep(pipeline, "tiny-grid", "--resume")  # everything finished: nothing runs again
    assert "4 trials, 4 already finished" in finished.stdout
    check_mlflow(pipeline, "tiny-grid", trials)


def trial_processes(root: Path) -> list[int]:
    """Processes working in DVC's temporary copies of ``root`` (a queued trial's stages)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if Path(os.readlink(proc / "cwd")).is_relative_to(root / ".dvc" / "tmp" / "exps"):
                pids.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return pids


def running_stage(root: Path, command: bytes) -> bool:
    """Whether a process of a queued trial of ``root`` runs ``command`` (part of its command line)."""
    for pid in trial_processes(root):
        try:
            if command in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:  # it has just exited
            continue
    return False


def test_a_grid_sweep_stopped_by_sigterm_stops_its_running_trial(pipeline):
    """SIGTERM to the sweep alone (kill, timeout, a cancelled CI job), not to its process group as
    Ctrl-C is: its trial runs under DVC's queue worker, which nothing else would stop."""
    write_sweep(pipeline, "term", {
        "method": "grid", "jobs": 1, "metric": {"key": "lenet.accuracy", "direction": "maximize"},
        "set": {"train_cnn.lenet.epochs": 30, "train_cnn.lenet.early_stopping": None, "train_cnn.lenet.batch_size": 1},
        "params": {"train_cnn.lenet.learning_rate": [0.0057]},
    })
    process = subprocess.Popen([sys.executable, "-m", "imgclf.tracking.sweep", "term"], cwd=pipeline,
                               env=clean_env(pipeline), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while not running_stage(pipeline, b"stages.train_cnn"):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=300)
        deadline = time.monotonic() + 60
        while trial_processes(pipeline) and time.monotonic() < deadline:
            time.sleep(1)
        left = trial_processes(pipeline)
    finally:
        stop_workers(pipeline)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "sweep term: stopped by SIGTERM; make sweep NAME=term RESUME=1 resumes it" in err
    assert "Traceback" not in err
    assert not left, f"trial processes still running after the sweep stopped: {left}"
    assert "Running" not in [status for _, _, status in queue_table(pipeline)]
    parent = all_runs(store_client(pipeline), "tags.sweep = 'term' and tags.sweep_role = 'parent'")
    assert [run.info.status for run in parent] == ["KILLED"]


def finished_trials(root: Path) -> int:
    """The study's completed trials, read from its SQLite file without writing to it (opening it
    with Optuna would create its tables, racing the sweep that is creating them)."""
    path = root / "sweeps" / ".state" / "tiny-study.db"
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are not there yet, or being written
        return 0


def test_an_optuna_study_stopped_after_two_trials_resumes_without_running_them_again(pipeline):
    write_sweep(pipeline, "tiny-study", STUDY)
    process = subprocess.Popen([sys.executable, "-m", "imgclf.tracking.sweep", "tiny-study"], cwd=pipeline,
                               env=clean_env(pipeline), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=with_sigint(signal.SIG_DFL))  # as in a terminal
    deadline = time.monotonic() + 900
    while finished_trials(pipeline) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal, during the third trial
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.SIGINT, err
    assert "make sweep NAME=tiny-study RESUME=1 resumes it" in err
    before = experiment_names(pipeline)
    assert {"tiny-study-000", "tiny-study-001"} <= before

    resumed = sweep(pipeline, "tiny-study", "--resume")
    assert "trial tiny-study-000" not in resumed.stdout and "trial tiny-study-001" not in resumed.stdout
    table = trial_table(pipeline, "tiny-study")
    assert len(table) == 4 and {r["state"] for r in table} == {"complete"}
    names = {row["dvc experiment"] for row in table}
    assert {"tiny-study-000", "tiny-study-001"} <= names and names <= experiment_names(pipeline)
    values = [float(row["lenet.log_loss"]) for row in table]
    assert values == sorted(values)
    check_mlflow(pipeline, "tiny-study", names)  # and trials 000 and 001 trained once each


def test_a_misspelt_key_in_a_sweep_file_is_one_line_naming_it(pipeline):
    write_sweep(pipeline, "typo", {**GRID, "params": {"train_cnn.lenet.learnin_rate": [0.1, 0.2]}})
    result = sweep(pipeline, "typo", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line, = result.stderr.strip().splitlines()
    assert line.startswith("error: sweeps/typo.yaml: params.train_cnn.lenet.learnin_rate = 0.1 is not valid")
    assert "train_cnn.lenet.learnin_rate: unknown key" in line
    assert not (pipeline / "sweeps" / ".state" / "typo.json").exists()


# Seed 2 draws the good rate first, then the hopeless one (TPE's first trials are seeded random draws).
PRUNED = {
    "method": "optuna", "trials": 2, "seed": 2,
    "set": {"train_cnn.lenet.epochs": 8, "train_cnn.lenet.early_stopping": None},
    "metric": {"key": "lenet.accuracy", "direction": "maximize"},
    "params": {"train_cnn.lenet.learning_rate": [0.003, 0.0000001]},
    "pruning": {"run": "train_cnn/lenet", "metric": "val_accuracy", "startup_trials": 1, "warmup_epochs": 0,
                "poll_seconds": 0.5},
}


def test_a_hopeless_optuna_trial_is_pruned_on_its_validation_accuracy_while_it_trains(pipeline):
    """The sweep starts with SIGINT ignored, as ``nohup make sweep ... &`` from a script starts it:
    the trial it prunes must stop all the same."""
    write_sweep(pipeline, "tiny-prune", PRUNED)
    result = sweep(pipeline, "tiny-prune", sigint=signal.SIG_IGN)
    assert "trial tiny-prune-001: pruned at epoch" in result.stdout
    table = trial_table(pipeline, "tiny-prune")
    assert [(r["dvc experiment"], r["state"], r["train_cnn.lenet.learning_rate"]) for r in table] == [
        ("tiny-prune-000", "complete", "0.003"), ("tiny-prune-001", "pruned", "1e-07")]
    assert table[0]["lenet.accuracy"] and table[1]["lenet.accuracy"] == ""  # pruned: no test metric
    names = experiment_names(pipeline)
    assert "tiny-prune-000" in names and "tiny-prune-001" not in names
    client = store_client(pipeline)
    trial, = all_runs(client, "tags.dvc_exp_name = 'tiny-prune-001' and tags.sweep_role = 'trial'")
    assert trial.info.status == "KILLED" and trial.data.tags["trial_state"] == "pruned"
    judged = client.get_metric_history(trial.info.run_id, "epoch.val_accuracy")
    stopped, = all_runs(client, "tags.dvc_exp_name = 'tiny-prune-001' and attributes.run_name = 'train_cnn/lenet'")
    assert stopped.info.status == "KILLED"  # stopped mid-training: fewer epochs than the 8 asked for
    epochs = client.get_metric_history(stopped.info.run_id, "val_accuracy")
    assert 1 <= len(judged) <= len(epochs) < 8


def test_a_sweep_in_a_clone_without_the_pipelines_outputs_says_to_repro_or_pull_first(pipeline, tmp_path):
    """A fresh clone has dvc.lock but an empty cache: a trial whose stages DVC's run-cache restores
    would fail mid-sweep (``failed to load directory``), so the sweep refuses before queuing any."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(pipeline), str(clone)], check=True)
    write_sweep(clone, "tiny-grid", GRID)
    result = sweep(clone, "tiny-grid", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: sweep tiny-grid: data/raw, data/prepared, data/split and more (recorded in dvc.lock) not in DVC's "
        "cache: run `make repro` or `dvc pull` first; a trial whose stages DVC's run-cache restores needs them"
    ]
    assert not (clone / "sweeps" / ".state").exists()
