"""The package's rooms and which way their imports point: stages -> wings -> core.

The core (the params schema, layout, errors, outputs, tools) imports no wing. Each wing imports the core
and only the wings below it: data < models < tracking < evaluation < serving.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "imgclf"
WINGS = ["data", "models", "tracking", "evaluation", "serving"]
MAX_LINES = 300


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def room(path: Path) -> str:
    """The wing's name, or ``core`` for a top-level module and the params schema."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if parts[0] in WINGS else "core"


def imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "imgclf" and len(parts) > 1:
                rooms.add(parts[1] if parts[1] in WINGS else "core")
    return rooms


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_down(path):
    here = room(path)
    allowed = {"core"} | (set(WINGS[: WINGS.index(here) + 1]) if here in WINGS else set())
    wrong = imported_rooms(path) - allowed
    assert not wrong, f"{path.relative_to(PACKAGE)} ({here}) imports from {sorted(wrong)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_the_rule_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from imgclf.models.cnn import build_cnn\nimport imgclf.serving.predict\n")
    assert imported_rooms(bad) == {"models", "serving"}


def test_tests_mirror_the_wings():
    tests = Path(__file__).resolve().parent
    for wing in WINGS:
        sources = {p.stem for p in (PACKAGE / wing).glob("*.py") if p.stem != "__init__"}
        tested = {p.stem.removeprefix("test_") for p in (tests / wing).glob("test_*.py")}
        assert tested <= sources, f"tests/{wing} has tests of modules that {wing} does not have: {sorted(tested - sources)}"
