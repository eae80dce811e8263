"""A model's MLflow run kept on local disk when the store stops answering in the middle of it.

The first logging call that fails (the server died, the database behind it went away) turns the
run local: what was logged before and everything after, the model included, is written to
``mlflow_spool/<key>/`` beside the embedded store (:data:`SPOOL`), and the stage goes on.
``make sync``, or the next stage that finds the store working, uploads it once
(:mod:`imgclf.tracking.sync`). While its stage is still writing it, the stage holds the folder's
lock (``flock`` on ``writing.lock``, released by the system if the process dies), and a sync
leaves it for later: a run is never uploaded half-written, nor its folder deleted under the stage.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from mlflow.exceptions import MlflowException

from imgclf.outputs import read_json, write_json
from imgclf.tracking.store import store_root

SPOOL = "mlflow_spool"
RECORD = "run.json"
MODEL_DIR = "model"
LOCK = "writing.lock"
KEY_TAG = "run_key"  # on every model run: how a run kept locally finds its half in the store
# What a store that stopped answering raises: MLflow's own errors (after its retries, or an HTTP
# 5xx from a server whose database died), and the network's.
STORE_ERRORS = (MlflowException, requests.RequestException, ConnectionError, TimeoutError)


def spool_root() -> Path:
    """The folder of the runs kept locally: ``mlflow_spool`` beside the embedded store."""
    return store_root() / SPOOL


def now_ms() -> int:
    """The time in milliseconds, as MLflow stamps runs and metrics."""
    return int(time.time() * 1000)


@dataclass
class RunJournal:
    """Everything logged to one run, in the order MLflow needs it to log it again.

    ``metrics``: ``[key, value, timestamp (ms), step]`` rows; ``run_id``: the run in the store
    when it was created before the store went away (None when it never was); ``framework``:
    of the model saved in ``<folder>/model`` when it could not be logged.
    """

    key: str
    experiment: str
    run_name: str
    tags: dict[str, str]
    start_time: int
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[list[Any]] = field(default_factory=list)
    run_id: str | None = None
    status: str = "RUNNING"
    end_time: int | None = None
    framework: str | None = None
    store: str = ""
    problem: str = ""

    @property
    def folder(self) -> Path:
        return spool_root() / self.key

    def save(self) -> Path:
        """Write the record (atomically: a half-written one never looks valid); its folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self.folder / RECORD, asdict(self))
        return self.folder

    def hold(self) -> None:
        """Take the folder's lock for as long as this process writes the run (until :meth:`release`
        or the process's end), waiting for a sync that is uploading it: a sync leaves the run alone
        meanwhile."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = lock_folder(self.folder, wait=True)

    def release(self) -> None:
        """Let a sync take the run."""
        lock = getattr(self, "_lock", None)
        if lock is not None:
            os.close(lock)
            self._lock = None

    def save_model(self, model: Any, framework: str) -> None:
        """Keep ``model`` beside the record, to log it when the store is back."""
        from imgclf.models.store import save_model

        self.framework = framework
        save_model(self.folder / MODEL_DIR, model, framework, {"name": self.run_name, "stage": "spool"})

    @classmethod
    def load(cls, folder: Path) -> "RunJournal":
        return cls(**read_json(folder / RECORD))


def lock_folder(folder: Path, wait: bool = False) -> int | None:
    """An exclusive lock on ``folder`` (its open ``writing.lock``, to ``os.close`` when done); without
    ``wait``, None when another process holds it."""
    handle = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    return handle


def kept_runs() -> list[RunJournal]:
    """The runs waiting in :func:`spool_root`, oldest first."""
    records = sorted(spool_root().glob(f"*/{RECORD}"))
    return sorted((RunJournal.load(path.parent) for path in records), key=lambda journal: journal.start_time)


def problem_line(exc: BaseException) -> str:
    """``exc`` in a few words: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__
