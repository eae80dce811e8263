"""A stage logging to a real ``mlflow server`` through ``MLFLOW_TRACKING_URI``."""

from __future__ import annotations

import shutil
import subprocess
import sys

import mlflow
import pytest

from imgclf.data.parts import load_part
from tests.integration.mlflow_server import mlflow_server
from imgclf.tracking.lineage import find_model_run
from tests.integration.tiny import clean_env

pytestmark = pytest.mark.integration


def test_a_stage_logs_runs_and_models_to_a_tracking_server(pipeline, tmp_path):
    work = tmp_path / "work"  # a copy: the shared pipeline's models keep pointing at its own store
    for name in ("src", "stages", "data/prepared", "data/split"):
        shutil.copytree(pipeline / name, work / name)
    shutil.copy2(pipeline / "params.yaml", work / "params.yaml")
    previous = mlflow.get_tracking_uri()
    with mlflow_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts", tmp_path / "server.log") as url:
        result = subprocess.run([sys.executable, "-m", "stages.train_baselines"], cwd=work,
                                env=clean_env(work, MLFLOW_TRACKING_URI=url), capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        client = mlflow.MlflowClient(tracking_uri=url)
        runs = {}
        try:
            mlflow.set_tracking_uri(url)
            for name in ("logreg", "mlp"):  # each found on the server from its model file, as evaluate does
                runs[name] = find_model_run("image-classification", work / f"models/baselines/{name}/model.skops")
                run = client.get_run(runs[name].info.run_id)
                assert run.info.run_name == f"train_baselines/{name}" and run.info.status == "FINISHED"
                assert 0.0 <= run.data.metrics["val_accuracy"] <= 1.0 and run.data.params["fetch.source"] == "mnist5k"
            # The model went through the server's artifact proxy and loads back from it.
            model = mlflow.sklearn.load_model(runs["logreg"].data.tags["model_uri"])
        finally:
            mlflow.set_tracking_uri(previous)
        test = load_part("test", pipeline / "data/prepared", pipeline / "data/split")
        assert model.predict(test.images[:5]).shape == (5,)
    assert list((tmp_path / "artifacts").rglob("*.skops")), "no model file reached the server's artifact store"
    assert not (work / "mlflow.db").exists()  # nothing went to an embedded store
