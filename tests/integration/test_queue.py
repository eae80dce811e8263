"""Queued DVC experiments run two at a time, each logging into the one MLflow store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from tests.integration.tiny import clean_env, dvc

pytestmark = pytest.mark.integration

RATES = {"lr-002": 0.002, "lr-003": 0.003, "lr-004": 0.004}


def test_three_queued_experiments_two_at_a_time_all_land_in_mlflow(pipeline):
    for name, rate in RATES.items():
        dvc(pipeline, "exp", "run", "--queue", "-n", name, "-S", f"train_cnn.lenet.learning_rate={rate}")
    # What `make queue JOBS=2` runs: the store and experiment first, then the workers.
    subprocess.run([sys.executable, "-m", "imgclf.tracking"], cwd=pipeline, env=clean_env(pipeline), check=True,
                   capture_output=True)
    dvc(pipeline, "queue", "start", "-j", "2")
    deadline = time.monotonic() + 900
    while True:
        status = dvc(pipeline, "queue", "status").stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        assert time.monotonic() < deadline, status
        time.sleep(3)
    for name in RATES:
        assert any(line.split()[1:2] == [name] and "Success" in line for line in status.splitlines()), status

    with sqlite3.connect(pipeline / "mlflow.db") as db:
        rows = db.execute(
            "SELECT t.value, r.name, r.status, p.value FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
            "LEFT JOIN params p ON p.run_uuid = r.run_uuid AND p.key = 'learning_rate' "
            "WHERE t.key = 'dvc_exp_name' AND t.value LIKE 'lr-%'"
        ).fetchall()
    assert sorted(rows) == sorted(
        [(name, "train_cnn/lenet", "FINISHED", str(rate)) for name, rate in RATES.items()]
        + [(name, "evaluate/comparison", "FINISHED", None) for name in RATES]
    )
    table = dvc(pipeline, "exp", "show", "--md").stdout
    for name in RATES:
        assert name in table
