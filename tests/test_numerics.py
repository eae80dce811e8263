import subprocess
import sys
from pathlib import Path

import yaml

from imgclf.numerics import apply_pins, cpu, pins, record
from imgclf.params import NumericsParams

REPO = Path(__file__).resolve().parents[1]


def test_pins_are_fixed_counts_and_portable_kernels():
    assert pins(NumericsParams()) == {
        "ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "0", "OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "2", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
    }
    assert pins(NumericsParams(portable=False)) == {}


def test_a_pin_wins_over_the_environment_and_says_so(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Zen")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the pinned value already: nothing to say
    notes = apply_pins(NumericsParams())
    assert notes == ["numerics: OPENBLAS_CORETYPE=Zen from the environment replaced by the pinned Haswell "
                     "(numerics.portable: false keeps the environment's)"]
    import os

    assert os.environ["OPENBLAS_CORETYPE"] == "Haswell" and os.environ["TF_NUM_INTRAOP_THREADS"] == "1"


def test_stages_pin_before_numpy_loads(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["numerics"]["intra_op_threads"] = 3
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    code = ("import sys, os; sys.path.insert(0, sys.argv[1]); import stages; "
            "print('numpy' in sys.modules, os.environ['TF_NUM_INTRAOP_THREADS'], os.environ['ONEDNN_MAX_CPU_ISA'])")
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], cwd=tmp_path, capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src")}).stdout
    assert out.split() == ["False", "3", "AVX2"]


def test_a_broken_params_file_is_left_to_the_stage_to_report(tmp_path):
    (tmp_path / "params.yaml").write_text("numerics: {portable: maybe}\n")
    code = "import sys, os; sys.path.insert(0, sys.argv[1]); import stages; print(os.environ.get('ONEDNN_MAX_CPU_ISA'))"
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], cwd=tmp_path, capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src")}).stdout
    assert out.split() == ["None"]


def test_the_record_names_the_machine_only_when_the_numbers_depend_on_it():
    portable = record(NumericsParams())
    assert portable["pins"]["ONEDNN_MAX_CPU_ISA"] == "AVX2" and "machine_bound" not in portable
    assert {"numpy", "keras"} <= set(portable["libraries"])
    bound = record(NumericsParams(portable=False))
    assert bound["machine_bound"]["model"] == cpu()["model"] and bound["pins"] == {}
