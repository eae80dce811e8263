import os
import sys
from pathlib import Path

import pytest

from imgclf.errors import PipelineError
from imgclf.tools import run_tool, tool_env


def test_interpreter_folder_comes_first_on_path(monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin")
    assert tool_env()["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]


def test_tools_beside_the_interpreter_run_without_the_environment_on_path(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run_tool(["python", "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=True)
    assert Path(result.stdout.strip()).parent == Path(sys.executable).parent


def test_missing_tool_is_an_error_naming_it():
    with pytest.raises(PipelineError, match="no-such-tool-xyz: not found beside"):
        run_tool(["no-such-tool-xyz", "--version"])
