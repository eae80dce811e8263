import json
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mlflow
import pytest
import yaml

from imgclf.tracking.run_index import run_url, write_run_index
from imgclf.tracking.runs import add_to_finished_run, model_run
from imgclf.tracking.store import repo_root, tracking_uri, use_experiment
from imgclf.tracking.tags import content_hash, flatten, params_hash, pipeline_params
from imgclf.errors import PipelineError, StageKilled
from imgclf.params import parse_params

REPO = Path(__file__).resolve().parents[2]


def params_for(experiment: str = "exp"):
    """The repository's params.yaml with another experiment name."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["mlflow"]["experiment"] = experiment
    return parse_params(raw)


def test_default_store_is_sqlite_at_repo_root(store):
    assert tracking_uri() == f"sqlite:///{store / 'mlflow.db'}"


def test_env_overrides_store(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri() == "http://127.0.0.1:5000"


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_store_of_a_dvc_temporary_workspace_is_the_main_repository(store, monkeypatch):
    workspace = store / ".dvc" / "tmp" / "exps" / "tmpab12cd"
    workspace.mkdir(parents=True)
    monkeypatch.setenv("DVC_ROOT", str(workspace))
    assert repo_root() == workspace
    assert tracking_uri() == f"sqlite:///{store / 'mlflow.db'}"


def test_model_run_logs_params_tags_and_status(store):
    data = store / "train.npz"
    data.write_bytes(b"pixels")
    params = params_for()
    with model_run(params, "train_cnn", "cnn", {"fit": {"lr": 0.1}}, [data]) as opened:
        run_id = opened.run_id
        mlflow.log_metric("accuracy", 0.5)
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "train_cnn/cnn"
    assert run.data.params == {"fit.lr": "0.1", "seed": "42", "fetch.source": "mnist5k", "fetch.classes": "None",
                               "preprocess.image_size": "[28, 28]", "preprocess.color": "grayscale"}
    tags = run.data.tags
    assert tags["stage"] == "train_cnn" and tags["model"] == "cnn" and "git_commit" in tags
    assert tags["dataset_sha256"] == content_hash([data]) and len(tags["dataset_sha256"]) == 64
    assert tags["params_sha256"] == params_hash({**pipeline_params(params), "fit.lr": 0.1})
    assert tags["version.scikit-learn"] and tags["version.keras"] and tags["version.mlflow"] == mlflow.__version__
    assert tags["version.tensorflow"] and tags["version.python"].count(".") == 2
    assert (store / "mlflow.db").exists()
    assert mlflow.get_experiment_by_name("exp").artifact_location == (store / "mlartifacts").as_uri()


def test_hashes_change_with_content_and_settings(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    a.write_bytes(b"1")
    b.write_bytes(b"1")
    assert content_hash([a]) != content_hash([b])  # the name counts
    first = content_hash([a])
    a.write_bytes(b"2")
    assert content_hash([a]) != first
    assert params_hash({"x": 1, "y": 2}) == params_hash({"y": 2, "x": 1})
    assert params_hash({"x": 1}) != params_hash({"x": 2})


def test_run_index_lists_the_stage_runs(store):
    with model_run(params_for(), "s", "m", {}) as opened:
        run_id = opened.run_id
        pass
    path = store / "mlflow_runs.json"
    write_run_index(path, "exp", {"s/m": run_id}, {"name": "image-classifier", "version": 2})
    index = json.loads(path.read_text())
    assert index == {"experiment": "exp", "experiment_id": mlflow.get_experiment_by_name("exp").experiment_id,
                     "store": "mlflow.db", "runs": {"s/m": run_id},
                     "registered": {"name": "image-classifier", "version": 2}}
    assert mlflow.get_run(index["runs"]["s/m"]).info.run_name == "s/m"
    assert run_url("http://h:5000/", "3", "abc") == "http://h:5000/#/experiments/3/runs/abc"


def create_experiment_in_subprocess(root: str) -> str:
    os.environ["DVC_ROOT"] = root
    return use_experiment("raced")


def test_concurrent_processes_create_one_experiment(store):
    use_experiment("first")  # the store's tables exist, as `make queue` ensures
    with ProcessPoolExecutor(4) as pool:
        ids = list(pool.map(create_experiment_in_subprocess, [str(store)] * 4))
    assert len(set(ids)) == 1
    names = [e.name for e in mlflow.search_experiments()]
    assert names.count("raced") == 1


def test_failed_block_marks_run_failed(store):
    with pytest.raises(RuntimeError):
        with model_run(params_for(), "s", "m", {}) as opened:
            run_id = opened.run_id
            raise RuntimeError("boom")
    assert mlflow.get_run(run_id).info.status == "FAILED"


def test_stopped_block_marks_run_killed(store):
    with pytest.raises(StageKilled):
        with model_run(params_for(), "s", "m", {}) as opened:
            run_id = opened.run_id
            raise StageKilled(signal.SIGTERM)
    assert mlflow.get_run(run_id).info.status == "KILLED"


def test_finished_run_gets_metrics_and_artifacts_keeping_its_times(store, tmp_path):
    with model_run(params_for(), "s", "m", {}) as opened:
        run_id = opened.run_id
        pass
    before = mlflow.get_run(run_id).info
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "c.png").write_bytes(b"png")
    add_to_finished_run("exp", run_id, {"test_accuracy": 0.9}, tmp_path / "charts", "evaluation")
    run = mlflow.get_run(run_id)
    assert run.data.metrics["test_accuracy"] == 0.9 and run.info.status == "FINISHED"
    assert run.info.end_time == before.end_time
    assert [a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "evaluation")] == ["evaluation/c.png"]
    with pytest.raises(PipelineError, match="MLflow run 0123 is not in the store"):
        add_to_finished_run("exp", "0123", {}, tmp_path / "charts", "evaluation")
