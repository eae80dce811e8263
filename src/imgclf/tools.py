"""Running the command-line tools installed beside this interpreter (dvc, git)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from imgclf.errors import PipelineError


def tool_env() -> dict[str, str]:
    """The environment with this interpreter's ``bin`` folder first on ``PATH``, so that ``dvc``
    and the ``python`` of the stages DVC starts are the virtual environment's, activated or not."""
    folder, path = str(Path(sys.executable).parent), os.environ.get("PATH")
    return {**os.environ, "PATH": os.pathsep.join([folder, path]) if path else folder}


def run_tool(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(args)`` with :func:`tool_env`; a missing tool is an error naming it."""
    try:
        return subprocess.run(args, env=tool_env(), **kwargs)
    except FileNotFoundError:
        raise PipelineError(f"{args[0]}: not found beside {sys.executable} or on PATH; install the project "
                            "(make install) or activate its virtual environment") from None
