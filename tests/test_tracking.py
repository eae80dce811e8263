import mlflow
import pytest

from imgclf import tracking
from imgclf.errors import PipelineError


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A real MLflow SQLite store in a temporary repository root."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    return tmp_path


def test_default_store_is_sqlite_at_repo_root(store):
    assert tracking.tracking_uri() == f"sqlite:///{store / 'mlflow.db'}"


def test_env_overrides_store(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking.tracking_uri() == "http://127.0.0.1:5000"


def test_flatten():
    assert tracking.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_model_run_logs_params_tags_and_status(store):
    with tracking.model_run("exp", "train_cnn", "cnn", {"fit": {"lr": 0.1}}) as run_id:
        mlflow.log_metric("accuracy", 0.5)
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "train_cnn/cnn"
    assert run.data.params == {"fit.lr": "0.1"}
    assert run.data.tags["stage"] == "train_cnn" and "git_commit" in run.data.tags
    assert (store / "mlflow.db").exists()
    assert mlflow.get_experiment_by_name("exp").artifact_location == (store / "mlartifacts").as_uri()


def test_failed_block_marks_run_failed(store):
    with pytest.raises(RuntimeError):
        with tracking.model_run("exp", "s", "m", {}) as run_id:
            raise RuntimeError("boom")
    assert mlflow.get_run(run_id).info.status == "FAILED"


def test_finished_run_gets_metrics_and_artifacts_keeping_its_times(store, tmp_path):
    with tracking.model_run("exp", "s", "m", {}) as run_id:
        pass
    before = mlflow.get_run(run_id).info
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "c.png").write_bytes(b"png")
    tracking.add_to_finished_run("exp", run_id, {"test_accuracy": 0.9}, tmp_path / "charts", "evaluation")
    run = mlflow.get_run(run_id)
    assert run.data.metrics["test_accuracy"] == 0.9 and run.info.status == "FINISHED"
    assert run.info.end_time == before.end_time
    assert [a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "evaluation")] == ["evaluation/c.png"]
    with pytest.raises(PipelineError, match="MLflow run 0123 is not in the store"):
        tracking.add_to_finished_run("exp", "0123", {}, tmp_path / "charts", "evaluation")
