"""Queued DVC experiments run two at a time, each logging into the one MLflow store."""

from __future__ import annotations

import os
import signal
from pathlib import Path
import subprocess
import sys
import time

import pytest

from tests.integration.tiny import BIN, all_runs, clean_env, dvc, store_client

pytestmark = pytest.mark.integration

# Rates no other test uses: a rate trained before would be restored from the run-cache, not trained.
RATES = {"lr-0015": 0.0015, "lr-0025": 0.0025, "lr-0035": 0.0035}


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
    """`dvc queue stop`, then make sure no worker outlives the test (an idle one sometimes stays)."""
    dvc(root, "queue", "stop", check=False)
    deadline = time.monotonic() + 30
    while worker_pids(root) and time.monotonic() < deadline:
        time.sleep(1)
    for pid in worker_pids(root):
        os.kill(pid, signal.SIGTERM)


def test_three_queued_experiments_two_at_a_time_all_land_in_mlflow(pipeline, tmp_path):
    for name, rate in RATES.items():
        dvc(pipeline, "exp", "run", "--queue", "-n", name, "-S", f"train_cnn.lenet.learning_rate={rate}")
    # What `make queue JOBS=2` runs: the store and experiment first, then the workers.
    subprocess.run([sys.executable, "-m", "imgclf.tracking.queue"], cwd=pipeline, env=clean_env(pipeline), check=True,
                   capture_output=True)
    # The workers are background processes: they must not hold our pipes, or run() waits for them.
    with open(tmp_path / "queue.log", "w") as log:
        subprocess.run([str(BIN / "dvc"), "queue", "start", "-j", "2"], cwd=pipeline, env=clean_env(pipeline),
                       stdout=log, stderr=subprocess.STDOUT, check=True)
    try:
        deadline = time.monotonic() + 900
        while True:
            status = dvc(pipeline, "queue", "status").stdout
            if not any(word in status for word in ("Queued", "Running")):
                break
            assert time.monotonic() < deadline, status
            time.sleep(3)
    finally:
        stop_workers(pipeline)
    for name in RATES:
        assert any(line.split()[1:2] == [name] and "Success" in line for line in status.splitlines()), status

    client = store_client(pipeline)
    rows = [(run.data.tags["dvc_exp_name"], run.info.run_name, run.info.status, run.data.params.get("learning_rate"))
            for run in all_runs(client, "tags.dvc_exp_name LIKE 'lr-%'")]
    assert sorted(rows) == sorted(
        [(name, "train_cnn/lenet", "FINISHED", str(rate)) for name, rate in RATES.items()]
        + [(name, "evaluate/comparison", "FINISHED", None) for name in RATES]
    )
    table = dvc(pipeline, "exp", "show", "--md").stdout
    for name in RATES:
        assert name in table
