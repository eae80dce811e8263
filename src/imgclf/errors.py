"""The pipeline's exception types and the wrapper that turns them into a clean exit."""

from __future__ import annotations

import atexit
import gc
import signal
import sys
from collections.abc import Callable


class PipelineError(Exception):
    """A problem with the user's input (a file, a parameter, a class) worth a plain message."""


class StageKilled(BaseException):
    """The stage was told to stop (SIGTERM, e.g. ``dvc queue kill`` or a CI timeout).

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` swallows it;
    context managers on the way out still run (open MLflow runs end KILLED, temporary outputs
    are removed).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


STOPPED = (KeyboardInterrupt, StageKilled)  # ``except STOPPED``: Ctrl-C, or SIGTERM in a stage


def _raise_killed(signum: int, frame: object) -> None:
    raise StageKilled(signum)


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's ``main``.

    A :class:`PipelineError` prints ``error: ...`` and exits 1. SIGTERM raises
    :class:`StageKilled` inside ``main``; it and Ctrl-C exit ``128 + signal``, as a shell would
    report, after the ``with`` blocks on the way out have run.

    The process then skips the interpreter's last garbage collections (``gc.freeze`` at exit):
    with TensorFlow and MLflow loaded they take over a second, and by then every output file
    is closed, every MLflow write committed and the exit handlers have run.
    """
    signal.signal(signal.SIGTERM, _raise_killed)
    atexit.register(gc.freeze)
    try:
        main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except StageKilled as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
