"""The stage wrapper, in real processes: exit codes and messages, a SIGTERM that leaves its
MLflow run KILLED, and a quick exit that loses nothing."""

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow

from imgclf.tracking.store import tracking_uri

REPO = Path(__file__).resolve().parents[1]


def stage_process(body: str, root: Path) -> subprocess.Popen:
    """A Python process running ``body`` (a stage's code) in ``root``."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(body)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_pipeline_error_prints_its_message_and_exits_1(store):
    process = stage_process("""
        from imgclf.errors import PipelineError, run_stage
        def main():
            raise PipelineError("params.yaml: split.train must be between 0 and 1")
        run_stage(main)
    """, store)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1
    assert stderr.strip() == "error: params.yaml: split.train must be between 0 and 1"


def test_sigterm_during_a_stage_leaves_its_run_killed(store):
    """A real process, a real signal: the stage's run ends KILLED and it exits 143."""
    process = stage_process(f"""
        import time
        import yaml
        from imgclf.errors import run_stage
        from imgclf.params import parse_params
        from imgclf.tracking.runs import model_run

        def main():
            raw = yaml.safe_load(open({str(REPO / "params.yaml")!r}))
            with model_run(parse_params(raw), "train_cnn", "slow", {{}}) as run:
                print(run.run_id, flush=True)
                time.sleep(60)

        run_stage(main)
    """, store)
    run_id = process.stdout.readline().strip()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "error: stopped by SIGTERM" in stderr and "Traceback" not in stderr
    mlflow.set_tracking_uri(tracking_uri())
    assert mlflow.get_run(run_id).info.status == "KILLED"


def test_quick_exit_skips_the_last_collections_but_keeps_every_write(store):
    """The stage's exit freezes the heap (no final garbage collections); its MLflow run, its
    files and the exit handlers registered before it all still complete."""
    process = stage_process(f"""
        import atexit, gc, json, yaml
        from imgclf.errors import run_stage
        from imgclf.params import parse_params
        from imgclf.tracking.runs import model_run
        atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))

        def main():
            params = parse_params(yaml.safe_load(open({str(REPO / "params.yaml")!r})))
            with model_run(params, "train_cnn", "quick", {{}}) as run:
                run.log_metric("accuracy", 0.5)
            with open("out.json", "w") as f:
                json.dump({{"run_id": run.run_id}}, f)

        run_stage(main)
    """, store)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    frozen = int(stdout.split("frozen at exit:")[1])
    assert frozen > 1000
    run_id = json.loads((store / "out.json").read_text())["run_id"]
    mlflow.set_tracking_uri(tracking_uri())
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["accuracy"] == 0.5
