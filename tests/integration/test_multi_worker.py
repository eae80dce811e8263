"""`distribution: multi_worker` for real: two `train_cnn` processes on 127.0.0.1, each in its own
copy of a tiny project (as two machines would be), each with its own TF_CONFIG."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest
import yaml

from imgclf.data.shards import save_parts
from imgclf.models.multi_worker import weights_digest
from tests.helpers import make_imageset
from tests.integration.tiny import REPO, all_runs, clean_env, store_client

pytestmark = pytest.mark.integration

TINY_CNN = {"architecture": [{"type": "conv", "filters": 4, "kernel": 3}, {"type": "max_pool"}, {"type": "flatten"}],
            "batch_size": 8, "learning_rate": 0.01, "early_stopping": None, "distribution": "multi_worker"}
DIGEST = re.compile(r"train_cnn tiny: worker (\d) of 2 replicas, (.*), weights sha256 ([0-9a-f]{64})")


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def project(root: Path, epochs: int) -> Path:
    """A copy of the project's code and params with one tiny multi-worker CNN and a split of
    make_imageset's 12x12 images (60 to train on, 30 to validate)."""
    for name in ("src", "stages"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["train_cnn"] = {"tiny": {**TINY_CNN, "epochs": epochs}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    save_parts({"train": make_imageset(n_per_class=20, seed=0), "validation": make_imageset(n_per_class=10, seed=1)},
               root / "data/prepared", root / "data/split")
    return root


def start_workers(tmp_path: Path, epochs: int) -> list[tuple[Path, subprocess.Popen, Path]]:
    """Two workers, each in its own project copy; their folders, processes and output files."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        root = project(tmp_path / f"machine{index}", epochs)
        log = root / "stage.log"
        env = clean_env(root, PYTHONUNBUFFERED="1",
                        TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        process = subprocess.Popen([sys.executable, "-m", "stages.train_cnn", "tiny"], cwd=root, env=env,
                                   stdout=log.open("w"), stderr=subprocess.STDOUT)
        workers.append((root, process, log))
    return workers


def stop(workers) -> None:
    for _, process, _ in workers:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_two_workers_train_one_model_that_the_chief_alone_saves_and_logs(tmp_path):
    workers = start_workers(tmp_path, epochs=3)
    try:
        codes = [process.wait(timeout=300) for _, process, _ in workers]
    finally:
        stop(workers)
    logs = [log.read_text() for _, _, log in workers]
    assert codes == [0, 0], "\n----\n".join(text[-3000:] for text in logs)
    found = [DIGEST.search(text) for text in logs]
    assert all(found), logs
    assert [m.group(1) for m in found] == ["0", "1"]
    assert found[0].group(2) == "chief" and found[1].group(2).startswith("not the chief")
    assert found[0].group(3) == found[1].group(3), "the workers ended with different weights"
    # Both printed the same metrics each epoch: computed over both shards, not each its own.
    epochs = [re.findall(r"^Epoch \d/3 - .*$", text, re.M) for text in logs]
    assert len(epochs[0]) == 3 and epochs[0] == epochs[1]

    chief, other = workers[0][0], workers[1][0]
    model_file = chief / "models/cnn/tiny/model.keras"
    assert weights_digest(keras.models.load_model(model_file)) == found[0].group(3)
    assert json.loads((chief / "models/cnn/tiny/history.json").read_text())["val_accuracy"][-1] > 0.9
    assert not (other / "models").exists() and not (other / "mlflow.db").exists()  # nothing written, nothing logged
    runs = all_runs(store_client(chief))
    assert len(runs) == 1
    run = runs[0]
    assert (run.info.run_name, run.info.status) == ("train_cnn/tiny", "FINISHED")
    assert run.data.params["distribution"] == "multi_worker" and run.data.tags.get("model_uri")
    history = store_client(chief).get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in history] == [0, 1, 2]


def test_a_killed_worker_makes_the_chief_fail_clearly_instead_of_hanging(tmp_path):
    workers = start_workers(tmp_path, epochs=500)
    (chief, chief_process, chief_log), (_, worker_process, worker_log) = workers
    try:
        deadline = time.monotonic() + 240
        while "Epoch 2/500" not in worker_log.read_text():  # training, past the first exchanges
            assert worker_process.poll() is None and chief_process.poll() is None, chief_log.read_text()[-3000:]
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.5)
        worker_process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        code = chief_process.wait(timeout=150)  # TimeoutExpired here means the chief hung
        waited = time.monotonic() - killed
    finally:
        stop(workers)
    text = chief_log.read_text()
    assert code == 1, text[-3000:]
    last = text.strip().splitlines()[-1]
    assert last.startswith("error: multi-worker training stopped: a worker of TF_CONFIG stopped answering"), text[-3000:]
    assert "Traceback" not in text
    print(f"the chief failed {waited:.1f} s after its peer was killed")
    assert not (chief / "models").exists()
    runs = all_runs(store_client(chief))
    assert [r.info.status for r in runs] == ["FAILED"]
