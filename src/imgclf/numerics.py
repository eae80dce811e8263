"""Pinned numerics: the same bits from the same inputs on any x86-64 machine.

Floating-point results depend on more than code and data: which kernel a library picks for the
CPU (oneDNN by instruction set, OpenBLAS by core type) and how many threads split a sum. The
libraries read these settings once, when they load, from environment variables, so
:func:`pin_from_params_file` sets them from ``params.yaml``'s ``numerics`` section before a
stage imports NumPy, scikit-learn or TensorFlow (``stages/__init__.py`` calls it).
:func:`record` says what a run actually used.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from imgclf.params.numerics import NumericsParams


def pins(numerics: NumericsParams) -> dict[str, str]:
    """The environment variables the libraries read, with the pinned values; none when not portable."""
    if not numerics.portable:
        return {}
    return {
        "ONEDNN_MAX_CPU_ISA": numerics.onednn_max_isa,
        "TF_ENABLE_ONEDNN_OPTS": "1" if numerics.onednn_opts else "0",
        "OPENBLAS_CORETYPE": numerics.openblas_coretype,
        "OPENBLAS_NUM_THREADS": str(numerics.blas_threads),
        "OMP_NUM_THREADS": str(numerics.omp_threads),
        "TF_NUM_INTRAOP_THREADS": str(numerics.intra_op_threads),
        "TF_NUM_INTEROP_THREADS": str(numerics.inter_op_threads),
    }


def apply_pins(numerics: NumericsParams) -> list[str]:
    """Set the pins in this process's environment; one line for each value the environment had
    set otherwise (the pinned value wins)."""
    notes = []
    for name, value in pins(numerics).items():
        if os.environ.get(name, value) != value:
            notes.append(f"numerics: {name}={os.environ[name]} from the environment replaced by the pinned {value} "
                         "(numerics.portable: false keeps the environment's)")
        os.environ[name] = value
    return notes


def pin_from_params_file(path: str | Path = "params.yaml") -> None:
    """Apply ``params.yaml``'s ``numerics`` section, if it reads. Call before NumPy, scikit-learn or
    TensorFlow is imported. A broken file is left for the stage's own ``load_params`` to report."""
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        numerics = NumericsParams.model_validate(raw.get("numerics") or {}) if isinstance(raw, dict) else None
    except (OSError, yaml.YAMLError, ValidationError):
        return
    if numerics is None:
        return
    if any(name in sys.modules for name in ("numpy", "tensorflow")):
        raise RuntimeError("imgclf.numerics: pins applied after NumPy or TensorFlow loaded; apply them first")
    for note in apply_pins(numerics):
        print(note, file=sys.stderr)


def pin_for_model(recorded: dict[str, Any] | None) -> list[str]:
    """Set the pins a model's training recorded (its ``model.json``'s ``numerics``), so that a
    process that only loads the model (``predict``, ``mlflow models serve``) computes as its
    stages did. Only before TensorFlow loads, which reads them then; afterwards, nothing is set.
    One line for each value the environment had set otherwise (the model's value wins)."""
    if "tensorflow" in sys.modules or not recorded:
        return []
    notes = []
    for name, value in (recorded.get("pins") or {}).items():
        if os.environ.get(name, value) != value:
            notes.append(f"numerics: {name}={os.environ[name]} from the environment replaced by {value}, "
                         "the value the model was trained and evaluated with")
        os.environ[name] = value
    return notes


def installed(candidates: Sequence[str]) -> tuple[str, str] | None:
    """The first of ``candidates`` (distribution names of one library) that is installed, and
    its version; None if none is."""
    from importlib.metadata import PackageNotFoundError, version

    for distribution in candidates:
        try:
            return distribution, version(distribution)
        except PackageNotFoundError:
            continue
    return None


# The distributions whose versions can change a number.
NUMERIC_LIBRARIES = ("numpy", "scipy", "scikit-learn", "tensorflow", "tensorflow-cpu", "keras", "opencv-python-headless")


def cpuinfo() -> dict[str, str]:
    """Linux's /proc/cpuinfo as fields (``model name``, ``flags``, ``vendor_id``, ...); empty elsewhere."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return {}
    return {key.strip(): value.strip() for key, value in (line.split(":", 1) for line in lines if ":" in line)}


def cpu() -> dict[str, str]:
    """The CPU's model name and instruction-set flags (Linux's /proc/cpuinfo; elsewhere what
    ``platform`` knows)."""
    fields = cpuinfo()
    if not fields:
        return {"model": platform.processor() or platform.machine(), "flags": ""}
    return {"model": fields.get("model name", platform.machine()), "flags": fields.get("flags", "")}


def blas_in_use() -> list[dict[str, Any]]:
    """Every BLAS and OpenMP library loaded, with its kernel and thread count (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    keep = ("internal_api", "version", "architecture", "num_threads")
    return sorted(({k: info[k] for k in keep if k in info} for info in threadpool_info()),
                  key=lambda info: tuple(str(info.get(k)) for k in keep))


def record(numerics: NumericsParams) -> dict[str, Any]:
    """What determined this process's numbers: the pins and the kernels and threads in use. With
    ``portable`` it holds nothing machine-specific, so equal records mean equal bits; without, it
    names the CPU, since the numbers are then bound to it."""
    libraries = dict(filter(None, (installed([name]) for name in NUMERIC_LIBRARIES)))
    found = {"portable": numerics.portable, "pins": pins(numerics), "blas": blas_in_use(),
             "python": platform.python_version(), "libraries": libraries}
    if not numerics.portable:
        found["machine_bound"] = {**cpu(), "cores": os.cpu_count(),
                                  **{name: os.environ[name] for name in pins(NumericsParams()) if name in os.environ}}
    return found
