import os
import subprocess
import sys
from pathlib import Path

import pytest

from imgclf.errors import PipelineError
from imgclf.params.sweep import parse_sweep
from imgclf.tracking.sweep import grid_values, load_state, save_state

REPO = Path(__file__).resolve().parents[2]


def test_a_grid_is_every_combination_first_key_slowest():
    sweep = parse_sweep({"method": "grid", "metric": {"key": "lenet.accuracy", "direction": "maximize"},
                         "params": {"a": [1, 2], "b": ["x", "y", "z"]}}, "s.yaml")
    assert grid_values(sweep) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                                  {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]


def test_a_started_sweep_resumes_only_when_asked_and_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_state("s", "abc", resume=False) == {"sweep_sha256": "abc", "parent_run_id": None}
    save_state("s", {"sweep_sha256": "abc", "parent_run_id": "r1"})
    with pytest.raises(PipelineError, match=r"sweep 's' was started before \(sweeps/.state/s.json\): make sweep NAME=s "
                                            r"RESUME=1 continues it"):
        load_state("s", "abc", resume=False)
    assert load_state("s", "abc", resume=True)["parent_run_id"] == "r1"
    with pytest.raises(PipelineError, match=r"sweeps/s.yaml changed since the sweep started"):
        load_state("s", "abd", resume=True)


def test_a_bad_sweep_file_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "bad.yaml").write_text(
        "method: grid\nmetric: {key: lenet.accuracy, direction: maximize}\nparams: {train_cnn.lenet.epochs: [1]}\njobz: 2\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run([sys.executable, "-m", "imgclf.tracking.sweep", "bad"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "error: sweeps/bad.yaml: jobz: unknown key (check the spelling)\n"
