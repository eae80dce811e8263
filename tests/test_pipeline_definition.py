"""``dvc.yaml`` against the code: every module a stage runs is a dependency of that stage, and
every path ``imgclf.layout`` names is one the pipeline declares.

A stage's modules are found by reading its script and following every ``imgclf`` import, those
inside functions too (a lazy import runs as surely as a top-level one), through the packages'
``__init__`` files that hold code. Editing any of them must re-run the stage, so each must be
in its ``deps``; a listed module the stage never imports is reported too (it re-runs the stage
for nothing).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from imgclf import layout

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
DVC_YAML = yaml.safe_load((REPO / "dvc.yaml").read_text())


def module_file(name: str) -> Path | None:
    """The file of module ``name`` (``imgclf.data.sources``), or None if it is not one of ours."""
    root = REPO if name.split(".")[0] == "stages" else SRC
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def has_code(init: Path) -> bool:
    """Whether a package's ``__init__.py`` does more than carry a docstring."""
    body = ast.parse(init.read_text()).body
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body)


def imported_names(path: Path) -> set[str]:
    """Every ``imgclf`` module ``path`` imports, anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("imgclf")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imgclf"):
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names
                      if module_file(f"{node.module}.{alias.name}") is not None}
    return names


def loaded_files(module: str) -> set[Path]:
    """The files that running ``python -m module`` may execute: the closure of its imports,
    with the ``__init__.py`` of every package on the way that holds code."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        packages = [".".join(parts[:i]) for i in range(1, len(parts))]
        for found in [module_file(p) for p in packages] + [module_file(name)]:
            if found is None or found in seen:
                continue
            if found.name == "__init__.py" and not has_code(found):
                continue
            seen.add(found)
            todo += sorted(imported_names(found))
    return seen


def stage_commands() -> dict[str, tuple[str, list[str]]]:
    """``{stage: (module it runs, its deps)}`` for every stage of ``dvc.yaml``."""
    found = {}
    for stage, spec in DVC_YAML["stages"].items():
        spec = spec.get("do", spec)
        module = spec["cmd"].split()[2]
        found[stage] = (module, [str(d) for d in spec.get("deps", [])])
    return found


@pytest.mark.parametrize("stage", sorted(stage_commands()))
def test_every_module_a_stage_runs_is_one_of_its_deps(stage):
    module, deps = stage_commands()[stage]
    code = {f.relative_to(REPO).as_posix() for f in loaded_files(module)}
    listed = {d for d in deps if d.endswith(".py")}
    assert not code - listed, f"dvc.yaml stage {stage!r} does not list {sorted(code - listed)} in its deps"
    assert not listed - code, f"dvc.yaml stage {stage!r} lists {sorted(listed - code)}, which it never imports"


def test_the_check_sees_lazy_imports_and_package_inits():
    files = {f.relative_to(REPO).as_posix() for f in loaded_files("stages.evaluate")}
    assert "src/imgclf/models/applications.py" in files  # imported inside load_model
    assert "src/imgclf/__init__.py" in files  # sets the Keras backend: it has code
    assert "src/imgclf/data/__init__.py" not in files  # only a docstring


def declared_paths() -> set[str]:
    """Every output and dependency path of ``dvc.yaml``."""
    paths = set()
    for spec in DVC_YAML["stages"].values():
        spec = spec.get("do", spec)
        for key in ("outs", "metrics", "deps"):
            for entry in spec.get(key, []):
                paths.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return paths


def test_every_layout_path_is_declared_in_dvc_yaml():
    declared = declared_paths()
    named = {value.as_posix() for value in vars(layout).values() if isinstance(value, Path)}
    named |= {layout.split_file(part).as_posix() for part in ("train", "validation", "test")}
    named -= {layout.CNN.as_posix()}  # declared per CNN: models/cnn/${key}
    named -= {layout.RUN_INDEX.as_posix()}  # local tracking state, deliberately not a DVC output
    named -= {layout.DATA.as_posix(), layout.MODELS.as_posix(), layout.REPORTS.as_posix()}  # the folders above
    assert "models/cnn/${key}" in declared
    assert not named - declared, f"imgclf.layout names paths dvc.yaml does not declare: {sorted(named - declared)}"


def test_a_stage_runs_the_code_of_its_own_copy_of_the_repository(tmp_path):
    """A queued experiment runs in DVC's temporary copy: its stages must import that copy's
    ``src/``, the code DVC hashed, not the installed (workspace's) one."""
    copy = tmp_path / "copy"
    shutil.copytree(REPO / "stages", copy / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SRC / "imgclf", copy / "src" / "imgclf", ignore=shutil.ignore_patterns("__pycache__"))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    printed = subprocess.run([sys.executable, "-c", "import stages, imgclf; print(imgclf.__file__)"], cwd=copy,
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(printed) == copy / "src" / "imgclf" / "__init__.py"
