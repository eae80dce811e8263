"""What a run records beside its metrics: flattened parameters, the git state, library versions,
and hashes of the data and settings it used."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from imgclf.numerics import installed
from imgclf.outputs import sha256_file
from imgclf.tracking.store import repo_root


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys: ``{"a": {"b": 1}}`` becomes ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def git_state() -> dict[str, str]:
    """The commit the workspace is on and whether it has uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo_root(), capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {"git_commit": git("rev-parse", "HEAD"), "git_dirty": str(bool(git("status", "--porcelain")))}
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"git_commit": "unknown", "git_dirty": "unknown"}


LIBRARIES = {
    "imgclf": ("imgclf",), "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos"),
    "keras": ("keras",), "scikit-learn": ("scikit-learn",), "numpy": ("numpy",),
    "mlflow": ("mlflow",), "dvc": ("dvc",), "opencv": ("opencv-python-headless", "opencv-python"),
}


def requirement(library: str) -> str:
    """A pinned pip requirement for ``library`` (a key of :data:`LIBRARIES` or a distribution
    name) as installed here: ``tensorflow-cpu==2.21.0`` or ``tensorflow==2.21.0``, whichever it is."""
    found = installed(LIBRARIES.get(library, (library,)))
    if found is None:
        raise LookupError(f"{library} is not installed")
    return f"{found[0]}=={found[1]}"


def library_versions() -> dict[str, str]:
    """``version.<library>`` tags: Python and the libraries that shape a result."""
    tags = {"version.python": platform.python_version()}
    for library, distributions in LIBRARIES.items():
        found = installed(distributions)
        if found is not None:
            tags[f"version.{library}"] = found[1]
    return tags


def content_hash(paths: Sequence[Path]) -> str:
    """sha256 over the files' names and contents: the data a run read, in one value."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{Path(path).name}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def params_hash(params: Mapping[str, Any]) -> str:
    """sha256 of the logged parameters, key-sorted: equal hashes, equal settings."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def pipeline_params(params) -> dict[str, Any]:
    """The pipeline-wide settings every model run shares (``Params``), under their
    ``params.yaml`` names: seed, data source, image size and colour."""
    return {"seed": params.seed, "fetch.source": params.fetch.source, "fetch.classes": params.fetch.classes,
            "preprocess.image_size": list(params.preprocess.image_size), "preprocess.color": params.preprocess.color}


def numerics_tags(numerics) -> dict[str, str]:
    """Where a run ran and what pinned its arithmetic (``NumericsParams``): the CPU, the pins, the
    BLAS kernel and thread counts in use."""
    from imgclf.numerics import cpu, record

    found, machine = record(numerics), cpu()
    tags = {"numerics.portable": str(numerics.portable), "cpu.model": machine["model"], "cpu.flags": machine["flags"][:5000]}
    tags.update({f"numerics.{name}": value for name, value in found["pins"].items()})
    for library in found["blas"]:
        tags[f"numerics.{library['internal_api']}"] = f"{library.get('architecture') or ''} {library['num_threads']} threads".strip()
    return tags
