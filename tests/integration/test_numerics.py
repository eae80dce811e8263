"""Another machine, played on this one: what a second machine would change (the cores a process
may use, the instruction set oneDNN picks, OpenBLAS's kernel, thread counts from the
environment) must not change a bit of the models or metrics while ``numerics`` pins them, and
does change them without the pins (so this test can fail).

The runs work on a clone of the tiny pipeline that shares its DVC cache, so the shared pipeline
is left as it is for the other tests.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imgclf.numerics import cpuinfo
from tests.integration.tiny import clean_env, dvc, git, set_param

pytestmark = pytest.mark.integration

# What a different machine brings, set from outside; the pins must win over every one of them.
ANOTHER_MACHINE = {"ONEDNN_MAX_CPU_ISA": "AVX", "TF_ENABLE_ONEDNN_OPTS": "1", "OPENBLAS_CORETYPE": "Sandybridge", "OMP_NUM_THREADS": "1",
                   "OPENBLAS_NUM_THREADS": "2", "TF_NUM_INTRAOP_THREADS": "4"}
OUTPUTS = ("models/cnn/lenet/model.keras", "models/cnn/lenet/model.json", "models/baselines/logreg/model.skops",
           "models/baselines/mlp/model.skops", "reports/metrics.json")


@pytest.fixture(scope="module")
def clone(pipeline, tmp_path_factory) -> Path:
    """A git clone of the tiny pipeline with its outputs checked out from the pipeline's DVC cache."""
    root = tmp_path_factory.mktemp("numerics") / "repo"
    subprocess.run(["git", "clone", "-q", str(pipeline), str(root)], check=True)
    dvc(root, "cache", "dir", "--local", str(pipeline / ".dvc" / "cache"))
    dvc(root, "checkout")
    return root


def run(root: Path, module: str, *args: str, one_core: bool = False, **env: str) -> None:
    """One stage, as DVC runs it, optionally pinned to one core and with extra environment."""
    command = [sys.executable, "-m", module, *args]
    if one_core:
        command = ["taskset", "-c", "0", *command]
    result = subprocess.run(command, cwd=root, env=clean_env(root, **env), capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stderr[-3000:]}"


def fingerprint(root: Path, stages: tuple[str, ...], elsewhere: bool = False) -> dict[str, str]:
    """Retrain ``stages`` (``elsewhere``: as another machine would) and hash what they wrote."""
    for stage in stages:
        run(root, *stage.split(), **({"one_core": True, **ANOTHER_MACHINE} if elsewhere else {}))
    return hashes(root)


def hashes(root: Path) -> dict[str, str]:
    """The SHA-256 of each of ``OUTPUTS`` in ``root``."""
    return {path: hashlib.sha256((root / path).read_bytes()).hexdigest() for path in OUTPUTS if (root / path).exists()}


def another_machine(root: Path, stages: tuple[str, ...]) -> dict[str, str]:
    return fingerprint(root, stages, elsewhere=True)


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
def test_pinned_numerics_give_the_same_bits_on_another_machine(clone):
    """What `dvc repro` made here and committed (the clone's checked-out outputs), made again bit for
    bit by the stages run as another machine would run them."""
    dvc(clone, "checkout", "--force")  # the committed outputs, whatever another test of this module left
    here = hashes(clone)
    there = another_machine(clone, ("stages.train_baselines", "stages.train_cnn lenet", "stages.evaluate"))
    assert set(here) == set(OUTPUTS)
    assert here == there, {path: "differs" for path in here if here[path] != there.get(path)}


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
def test_without_the_pins_another_machine_gives_other_weights(clone):
    set_param(clone, ("numerics", "portable"), False)
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "machine-bound")
    try:
        stages = ("stages.train_cnn lenet",)
        here, there = fingerprint(clone, stages), another_machine(clone, stages)
        assert here["models/cnn/lenet/model.keras"] != there["models/cnn/lenet/model.keras"]
        meta = (clone / "models/cnn/lenet/model.json").read_text()
        assert '"machine_bound"' in meta and '"ONEDNN_MAX_CPU_ISA": "AVX"' in meta
    finally:
        set_param(clone, ("numerics", "portable"), True)


def test_a_stage_says_when_a_pin_replaces_the_environment(clone):
    result = subprocess.run([sys.executable, "-c", "import stages"], cwd=clone, capture_output=True, text=True,
                            env=clean_env(clone, ONEDNN_MAX_CPU_ISA="AVX512_CORE"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ("numerics: ONEDNN_MAX_CPU_ISA=AVX512_CORE from the environment replaced by the "
                                     "pinned AVX2 (numerics.portable: false keeps the environment's)")


PROBE = Path(__file__).with_name("kernel_probe.py")
# A CPU model of the other vendor, for QEMU to answer CPUID as: AVX2 and FMA, as the pins allow.
OTHER_VENDOR = {"GenuineIntel": "EPYC-Milan", "AuthenticAMD": "Skylake-Client"}


def kernel_hashes(*prefix: str) -> dict[str, str]:
    """What :mod:`kernel_probe` prints for the project's params.yaml (``prefix``: run it under QEMU)."""
    command = [*prefix, sys.executable, str(PROBE), str(PROBE.parents[2] / "params.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=clean_env(PROBE.parents[2]))
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.required_in_ci
@pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-x86_64 (Debian's qemu-user) is not installed")
def test_the_pinned_kernels_give_the_same_bits_on_an_intel_and_an_amd_cpu():
    """Intel and AMD CPUs, with the same instruction set, get different kernels from oneDNN when an
    operation has two threads (seen: other LeNet weights on an AMD EPYC than on Intel). Here a
    training step's kernels run on this CPU and under QEMU as a CPU of the other vendor."""
    vendor = cpuinfo().get("vendor_id", "")
    model = OTHER_VENDOR.get(vendor)
    assert model, f"not an Intel or AMD x86-64 CPU: {vendor!r}"
    here, there = kernel_hashes(), kernel_hashes("qemu-x86_64", "-cpu", model)
    assert here == there, {name: "differs" for name in here if here[name] != there.get(name)}
