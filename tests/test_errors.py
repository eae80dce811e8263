"""The stage wrapper: exit codes and messages, and a quick exit that loses nothing."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow

from imgclf import tracking

REPO = Path(__file__).resolve().parents[1]


def run_script(body: str, root: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(DVC_ROOT=str(root), PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body)], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300)


def test_pipeline_error_prints_its_message_and_exits_1(tmp_path):
    result = run_script("""
        from imgclf.errors import PipelineError, run_stage
        def main():
            raise PipelineError("params.yaml: split.train must be between 0 and 1")
        run_stage(main)
    """, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: params.yaml: split.train must be between 0 and 1"


def test_quick_exit_skips_the_last_collections_but_keeps_every_write(tmp_path, monkeypatch):
    """The stage's exit freezes the heap (no final garbage collections); its MLflow run, its
    files and the exit handlers registered before it all still complete."""
    result = run_script(f"""
        import atexit, gc, json, mlflow, yaml
        from imgclf.errors import run_stage
        from imgclf.params import parse_params
        from imgclf.tracking import model_run
        atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))

        def main():
            params = parse_params(yaml.safe_load(open({str(REPO / "params.yaml")!r})))
            with model_run(params, "train_cnn", "quick", {{}}) as run_id:
                mlflow.log_metric("accuracy", 0.5)
            with open("out.json", "w") as f:
                json.dump({{"run_id": run_id}}, f)

        run_stage(main)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    frozen = int(result.stdout.split("frozen at exit:")[1])
    assert frozen > 1000
    run_id = json.loads((tmp_path / "out.json").read_text())["run_id"]
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    mlflow.set_tracking_uri(tracking.tracking_uri())
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["accuracy"] == 0.5
