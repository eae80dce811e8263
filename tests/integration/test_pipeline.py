"""The real `dvc repro` on a tiny configuration, in a temporary git repository.

The module's tests share one pipeline run and go in order: outputs, MLflow store, no-op
re-run, a CNN parameter change, a forced re-run and a bad parameter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from tests.integration.tiny import (BIN, MODELS, all_runs, back_to_commit, clean_env, dvc, git, set_param, stages_run,
                                   store_client)

pytestmark = pytest.mark.integration


def read_metrics(root: Path) -> dict:
    return json.loads((root / "reports" / "metrics.json").read_text())


def test_every_stage_wrote_its_outputs(pipeline):
    manifest = json.loads((pipeline / "data/raw/manifest.json").read_text())
    assert manifest["images"] == 300 and set(manifest["class_counts"].values()) == {30}
    split = json.loads((pipeline / "data/split/split.json").read_text())
    assert {k: v["images"] for k, v in split.items()} == {"train": 210, "validation": 45, "test": 45}
    for path in ("models/baselines/logreg/model.skops", "models/cnn/lenet/model.keras",
                 "models/pretrained/model.keras", "models/transfer/model.keras"):
        assert (pipeline / path).stat().st_size > 0, path
    metrics = read_metrics(pipeline)
    assert set(metrics) == MODELS
    for name, values in metrics.items():
        assert 0.0 <= values["accuracy"] <= 1.0 and values["log_loss"] > 0
        assert {f"recall_{d}" for d in range(10)} <= set(values)
        for kind in ("confusion", "calibration", "lift"):
            assert (pipeline / f"reports/figures/{name}/{kind}.png").exists()
            assert (pipeline / f"reports/plots/{kind}/{name}.json").exists()
    summary = (pipeline / "reports/summary.md").read_text()
    page = (pipeline / "reports/index.html").read_text()
    for name in MODELS:
        assert f"| {name} |" in summary and f'id="model-{name}"' in page and f'href="#model-{name}"' in page
    assert "98.9%" in summary  # LeNet on MNIST digits: the tutorial's figure beside ours
    # Chance is 0.1: the tiny models must have learnt something.
    assert metrics["logreg"]["accuracy"] > 0.5


def test_mlflow_store_has_one_finished_run_per_model(pipeline):
    client = store_client(pipeline)
    # the runs of the pipeline's own `dvc repro`, not of the experiments and sweeps other tests ran in it
    stored = [run for run in all_runs(client) if not {"dvc_exp_name", "sweep", "sweep_role"} & run.data.tags.keys()]
    runs = {run.info.run_name: run.info.status for run in stored}
    tested = {run.info.run_name for run in stored if "test_accuracy" in run.data.metrics}
    epochs = sum(len(client.get_metric_history(run.info.run_id, "val_accuracy"))
                 for run in stored if run.info.run_name == "transfer/transfer")
    tags = {key: value for run in stored if run.info.run_name == "train_cnn/lenet" for key, value in run.data.tags.items()}
    assert runs == {
        "train_baselines/logreg": "FINISHED", "train_baselines/mlp": "FINISHED", "train_cnn/lenet": "FINISHED",
        "pretrain/digits": "FINISHED", "transfer/transfer": "FINISHED", "evaluate/comparison": "FINISHED",
    }
    assert tested == {"train_baselines/logreg", "train_baselines/mlp", "train_cnn/lenet", "transfer/transfer"}
    scored = [run.data.metrics for run in stored if run.info.run_name in tested]  # the validation split's, unprefixed
    assert all(0 < m["validation_accuracy"] <= 1 and "test_validation_accuracy" not in m for m in scored)
    assert epochs == 2  # one frozen epoch, one fine-tuning epoch, continuous steps
    assert tags["stage"] == "train_cnn" and len(tags["git_commit"]) == 40
    assert len(tags["dataset_sha256"]) == 64 and len(tags["params_sha256"]) == 64 and tags["version.keras"]


def test_run_index_leads_from_the_results_to_their_runs(pipeline):
    """mlflow_runs.json, beside the store and never committed, names the run behind each result; each
    training run is tagged with the hash of the model file it saved, which is how evaluate found it."""
    assert "mlflow_runs.json" not in subprocess.run(["git", "ls-files"], cwd=pipeline, capture_output=True,
                                                    text=True, check=True).stdout
    indexed = json.loads((pipeline / "mlflow_runs.json").read_text())["runs"]
    client = store_client(pipeline)
    for name, run_id in indexed.items():
        run = client.get_run(run_id)
        assert (run.info.run_name, run.info.status) == (name, "FINISHED")
    assert set(indexed) == {"train_baselines/logreg", "train_baselines/mlp", "train_cnn/lenet", "pretrain/digits",
                            "transfer/transfer", "evaluate/comparison"}
    lenet = client.get_run(indexed["train_cnn/lenet"]).data.tags
    model = pipeline / "models/cnn/lenet/model.keras"
    assert lenet["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert lenet["model_uri"].startswith("models:/") and lenet["numerics.portable"] == "True"
    assert lenet["numerics.ONEDNN_MAX_CPU_ISA"] == "AVX2" and lenet["cpu.model"]
    meta = json.loads((pipeline / "models/cnn/lenet/model.json").read_text())
    assert "mlflow_run_id" not in meta and meta["numerics"]["pins"]["OPENBLAS_CORETYPE"] == "Haswell"


def test_registry_gate_registers_only_a_passing_model(pipeline, tmp_path):
    client = store_client(pipeline)
    verdict = json.loads((pipeline / "reports/registry.json").read_text())
    assert verdict["gate_passed"] is False  # tiny models miss the default accuracy >= 0.95
    assert "version" not in verdict and client.search_registered_models() == []
    card = (pipeline / "reports/model_card.md").read_text()  # the best model's card, registered or not
    assert card.startswith(f"# Model card: {verdict['model']}\n\nNot registered: best by accuracy, gate failed")
    assert "registry.json" in dvc(pipeline, "metrics", "show").stdout

    with back_to_commit(pipeline):
        set_param(pipeline, ("evaluate", "registry", "gate"), {"accuracy": {"min": 0.2}})
        result = dvc(pipeline, "repro")
        assert stages_run(result) == {"evaluate"}
        verdict = json.loads((pipeline / "reports/registry.json").read_text())
        metrics = read_metrics(pipeline)
        best = max(metrics, key=lambda name: metrics[name]["accuracy"])
        assert verdict["gate_passed"] is True and verdict["model"] == best
        version = client.get_model_version_by_alias("image-classifier", "candidate")
        index = json.loads((pipeline / "mlflow_runs.json").read_text())
        assert index["registered"] == {"name": "image-classifier", "version": int(version.version)}
        # What is registered is the image model evaluate logged (tests/integration/test_serving.py serves one).
        names = {run_id: name for name, run_id in index["runs"].items()}
        assert names[version.run_id] == "evaluate/comparison" and version.tags["model"] == best
        assert names[version.tags["training_run"]].endswith(f"/{best}")
        logged = urlparse(client.get_model_version_download_uri("image-classifier", version.version)).path
        mlmodel = yaml.safe_load((Path(logged) / "MLmodel").read_text())
        pyfunc = mlmodel["flavors"]["python_function"]
        assert pyfunc["loader_module"] == "mlflow.pyfunc.loaders.code_model"  # a model from code: nothing pickled
        assert pyfunc["config"] == {"grey_zone": [0.25, 0.75], "max_pixels": 178_956_970}
        assert json.loads(mlmodel["signature"]["inputs"]) == [{"type": "string", "name": "image", "required": True}]
        assert (Path(logged) / "serving_input_example.json").exists()
        card = (pipeline / "reports/model_card.md").read_text()
        assert version.description == card  # read back through MlflowClient from the real store
        assert card.startswith(f"# Model card: {best}\n\nRegistered as `image-classifier` (alias `candidate`)")
        for section in ("## Data", "## Parameters", "## Test metrics", "## Calibration and grey zone",
                        "## Hardware and numerics", "## Known limits"):
            assert f"\n{section}" in card
        assert "- Images per split part: train 210, validation 45, test 45." in card
        assert re.search(r"\| accuracy \| [0-9.]+ \| \[[0-9.]+, [0-9.]+\] \|", card)
        artifact = client.download_artifacts(version.run_id, "model_card.md", str(tmp_path))
        assert Path(artifact).read_text() == card


def test_second_repro_runs_nothing(pipeline):
    result = dvc(pipeline, "repro")
    assert stages_run(result) == set()
    assert "up to date" in dvc(pipeline, "status").stdout


def test_cnn_parameter_reruns_only_cnn_and_evaluate(pipeline):
    before = read_metrics(pipeline)
    set_param(pipeline, ("train_cnn", "lenet", "learning_rate"), 0.002)
    try:
        result = dvc(pipeline, "repro")
        assert stages_run(result) == {"train_cnn@lenet", "evaluate"}
        after = read_metrics(pipeline)
        assert after["logreg"] == before["logreg"]
        assert after["lenet"] != before["lenet"]
        assert "train_cnn.lenet.learning_rate" in dvc(pipeline, "params", "diff", "HEAD").stdout
        check_pull_request_report(pipeline)
    finally:
        git(pipeline, "checkout", "params.yaml")
    # Back to the committed value: DVC's run-cache restores the earlier CNN without training.
    restored = dvc(pipeline, "repro")
    assert stages_run(restored) == {"evaluate"}
    assert "Stage 'train_cnn@lenet' is cached - skipping run" in restored.stdout
    assert read_metrics(pipeline) == before


def check_pull_request_report(pipeline: Path) -> None:
    """`make report`'s command after the learning-rate change: its params, metrics, charts, run links."""
    server = "http://mlflow.example.org:5000"
    result = subprocess.run([sys.executable, "-m", "imgclf.evaluation.pr_report", "--base", "HEAD"], cwd=pipeline,
                            env=clean_env(pipeline, MLFLOW_TRACKING_URI=server), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = (pipeline / "reports/pr.md").read_text()
    assert re.search(r"\| params.yaml \| train_cnn.lenet.learning_rate +\| 0.001 +\| 0.002 +\|", report)
    assert re.search(r"\| reports/metrics.json +\| lenet.accuracy ", report)
    assert re.search(r"\| logreg\.accuracy ", report) is None  # unchanged, so not in the diff
    assert "### calibration: lenet" in report and "### calibration: logreg" not in report
    assert "### confusion: lenet" in report and (pipeline / "reports/pr/confusion_lenet.png").stat().st_size > 5000
    assert (pipeline / "reports/pr/calibration_lenet.png").exists()
    index = json.loads((pipeline / "mlflow_runs.json").read_text())
    lenet_run = index["runs"]["train_cnn/lenet"]
    assert f"| train_cnn/lenet | [{lenet_run}]({server}/#/experiments/{index['experiment_id']}/runs/{lenet_run}) |" in report


def test_a_second_cnn_is_its_own_stage_run_and_column(pipeline):
    small = {
        "architecture": [{"type": "conv", "filters": 4, "kernel": 3}, {"type": "global_avg_pool"}],
        "epochs": 1, "augmentation": {"rotation": 10, "zoom": 0.1}, "reduce_lr": {"patience": 0},
    }
    with back_to_commit(pipeline):
        set_param(pipeline, ("train_cnn", "small"), small)
        result = dvc(pipeline, "repro")
        assert stages_run(result) == {"train_cnn@small", "evaluate"}
        assert set(read_metrics(pipeline)) == MODELS | {"small"}
        assert (pipeline / "models/cnn/small/model.keras").exists()
    assert set(read_metrics(pipeline)) == MODELS and not (pipeline / "models/cnn/small").exists()
    assert stages_run(dvc(pipeline, "repro")) == set()  # back where it was: nothing to run


def test_killed_stage_leaves_its_run_killed_and_its_outputs_untouched(pipeline):
    """SIGTERM to `dvc repro`'s process group mid-training, as a CI timeout or `kill` sends it."""
    model = (pipeline / "models/cnn/lenet/model.keras").read_bytes()
    lock = (pipeline / "dvc.lock").read_text()
    set_param(pipeline, ("train_cnn", "lenet", "epochs"), 500)
    set_param(pipeline, ("train_cnn", "lenet", "early_stopping"), None)
    try:
        process = subprocess.Popen([str(BIN / "dvc"), "repro", "train_cnn@lenet"], cwd=pipeline, env=clean_env(pipeline),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        run_id = wait_for_training_run(pipeline, process)
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=120)[0]
    finally:
        git(pipeline, "checkout", "params.yaml")
    assert process.returncode != 0
    assert "error: stopped by SIGTERM" in output
    assert store_client(pipeline).get_run(run_id).info.status == "KILLED"
    assert not list((pipeline / "models/cnn").glob(".*.tmp"))  # the half-built model folder is gone
    assert not (pipeline / "models/cnn/lenet").exists()  # DVC removed the old output before running
    assert (pipeline / "dvc.lock").read_text() == lock
    # Nothing is lost: the old model comes back from DVC's cache, without training.
    restored = dvc(pipeline, "repro")
    assert stages_run(restored) == set() and "Stage 'train_cnn@lenet' is cached" in restored.stdout
    assert (pipeline / "models/cnn/lenet/model.keras").read_bytes() == model
    assert (pipeline / "dvc.lock").read_text() == lock


def wait_for_training_run(root: Path, process: subprocess.Popen, timeout: float = 300) -> str:
    """The id of the running train_cnn/lenet run, once it has logged an epoch."""
    client = store_client(root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        running = all_runs(client, "attributes.run_name = 'train_cnn/lenet' AND attributes.status = 'RUNNING'")
        logged = [run.info.run_id for run in running if "loss" in run.data.metrics]
        if logged:
            return logged[0]
        time.sleep(0.5)
    raise AssertionError("no running train_cnn/lenet run appeared")


def test_forced_repro_gives_identical_metrics(pipeline):
    before = (pipeline / "reports" / "metrics.json").read_text()
    result = dvc(pipeline, "repro", "--force")
    assert len(stages_run(result)) == 8
    assert (pipeline / "reports" / "metrics.json").read_text() == before


def test_plots_render(pipeline, tmp_path):
    dvc(pipeline, "plots", "show", "-o", str(tmp_path / "show"))
    html = (tmp_path / "show" / "index.html").read_text()
    for name in MODELS:
        assert f"reports/plots/confusion/{name}.json" in html
    dvc(pipeline, "plots", "diff", "HEAD", "-o", str(tmp_path / "diff"))
    assert "reports/plots/roc/lenet.json" in (tmp_path / "diff" / "index.html").read_text()


def test_make_repro_stops_on_a_bad_parameter_before_dvc_deletes_a_model(pipeline):
    model = pipeline / "models" / "cnn" / "lenet"
    files = {path: path.read_bytes() for path in sorted(model.rglob("*")) if path.is_file()}
    assert files
    set_param(pipeline, ("train_cnn", "lenet", "learnin_rate"), 0.002)
    (pipeline / ".venv").symlink_to(BIN.parent)  # what `make install` made
    try:
        result = subprocess.run(["make", "-o", ".venv/.installed", "repro"],  # -o: never reinstall the shared .venv
                                cwd=pipeline, env=clean_env(pipeline), capture_output=True, text=True, timeout=300)
    finally:
        (pipeline / ".venv").unlink()
        git(pipeline, "checkout", "params.yaml")
    assert result.returncode != 0
    error, = [line for line in result.stderr.splitlines() if not line.startswith("make")]  # one line, then make's
    assert error.startswith("error: params.yaml: train_cnn.lenet.learnin_rate: unknown key")
    assert "Traceback" not in result.stdout + result.stderr
    assert not stages_run(result)
    assert {path: path.read_bytes() for path in sorted(model.rglob("*")) if path.is_file()} == files


def test_bad_parameter_fails_naming_the_key(pipeline):
    lock = (pipeline / "dvc.lock").read_text()
    with back_to_commit(pipeline):  # the plain `dvc repro` deletes models/cnn/lenet before the stage fails
        set_param(pipeline, ("train_cnn", "lenet", "epochs"), 0)
        result = dvc(pipeline, "repro", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "error: params.yaml: train_cnn.lenet.epochs: Input should be greater than 0 (got 0)" in output
    assert "Traceback" not in output
    assert (pipeline / "dvc.lock").read_text() == lock


def test_failed_evaluate_keeps_the_committed_reports(pipeline):
    reports = {path: (pipeline / path).read_bytes() for path in
               ("reports/metrics.json", "reports/registry.json", "reports/summary.md", "reports/numerics.json",
                "reports/model_card.md")}
    set_param(pipeline, ("evaluate", "registry", "gate"), {"ece": {"maximum": 0.05}})
    try:
        result = dvc(pipeline, "repro", check=False)
    finally:
        git(pipeline, "checkout", "params.yaml")
    assert result.returncode != 0
    assert "evaluate.registry.gate.ece.maximum: unknown key" in result.stdout + result.stderr
    for path, content in reports.items():
        assert (pipeline / path).read_bytes() == content, path
    assert len(list((pipeline / "reports/plots/confusion").glob("*.json"))) == len(MODELS)


def test_image_folder_source_and_new_photo_reruns_fetch(pipeline):
    import cv2
    import numpy as np

    photos = pipeline / "data" / "external"
    for split in ("train", "test"):
        for label, value in (("cat", 30), ("dog", 220)):
            for i in range(6):
                path = photos / split / label / f"{label}.{i}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), np.full((40 + i, 50, 3), value + i, np.uint8))
    (photos / "train" / "dog" / "dog.99.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    set_param(pipeline, ("fetch", "source"), "image_folder")
    set_param(pipeline, ("split", "keep_given"), True)
    set_param(pipeline, ("preprocess", "max_bad_fraction"), 0.1)
    try:
        first = dvc(pipeline, "repro", "split")
        assert stages_run(first) == {"fetch", "preprocess", "split"}
        split = json.loads((pipeline / "data/split/split.json").read_text())
        assert split["test"]["class_counts"] == {"cat": 6, "dog": 6}
        assert split["train"]["images"] + split["validation"]["images"] == 12  # 13 files, the broken one skipped
        quality = json.loads((pipeline / "reports/data_quality.json").read_text())
        assert quality["bad"] == [{"path": "train/dog/dog.99.jpg", "reason": "truncated JPEG (no end-of-image marker)"}]

        cv2.imwrite(str(photos / "test" / "cat" / "cat.50.jpg"), np.full((40, 40, 3), 10, np.uint8))
        again = dvc(pipeline, "repro", "split")
        assert stages_run(again) == {"fetch", "preprocess", "split"}
        split = json.loads((pipeline / "data/split/split.json").read_text())
        assert split["test"]["class_counts"] == {"cat": 7, "dog": 6}
    finally:
        git(pipeline, "checkout", "params.yaml")
        for path in ("train", "test"):
            shutil.rmtree(photos / path)


def test_named_configuration_runs_as_a_dvc_experiment(pipeline):
    (pipeline / "configs" / "tiny.yaml").write_text(
        "description: a faster LeNet\nneeds: nothing\nset:\n  train_cnn:\n    lenet: {learning_rate: 0.003}\n"
    )
    with back_to_commit(pipeline):  # the experiment's results are applied to the workspace
        result = subprocess.run([sys.executable, "-m", "imgclf.tracking.experiment", "tiny"], cwd=pipeline, env=clean_env(pipeline),
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert set(re.findall(r"Running stage '([^']+)'", result.stdout + result.stderr)) == {"train_cnn@lenet", "evaluate"}
        assert "tiny" in dvc(pipeline, "exp", "show", "--md").stdout
        tagged = {run.info.run_name for run in all_runs(store_client(pipeline), "tags.dvc_exp_name = 'tiny'")}
        assert tagged == {"train_cnn/lenet", "evaluate/comparison"}
