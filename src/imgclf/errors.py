"""The pipeline's one exception type and the wrapper that turns it into a clean exit."""

from __future__ import annotations

import sys
from collections.abc import Callable


class PipelineError(Exception):
    """A problem with the user's input (a file, a parameter, a class) worth a plain message."""


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's ``main``; a :class:`PipelineError` prints ``error: ...`` and exits 1."""
    try:
        main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
