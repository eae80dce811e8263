"""MLflow runs left RUNNING by a process that died without ending them.

A stage stopped by SIGTERM or Ctrl-C ends its run KILLED itself (:func:`~imgclf.tracking.runs.model_run`);
one killed by SIGKILL (the kernel's out-of-memory killer, ``kill -9``, ``dvc queue kill --force``)
cannot, and its run would stay RUNNING forever. So every model run is tagged with the process
that logs it (:func:`process_tags`), and :func:`end_orphaned_runs`, called when a stage checks
its store and by ``make queue``, ends KILLED (end time: now) the RUNNING runs of this host whose
process no longer exists. Runs of other hosts, or of another PID namespace (a container) on
this one, are left alone: their processes cannot be seen from here.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
from mlflow.entities import ViewType

from imgclf.tracking.journal import STORE_ERRORS, now_ms, problem_line
from imgclf.tracking.store import tracking_uri

HOST_TAG = "process.host"
PID_TAG = "process.pid"
NAMESPACE_TAG = "process.pid_namespace"  # Linux: which PID numbering the pid belongs to
STARTED_TAG = "process.started"  # Linux: boot id and start time, so that a reused pid is not taken for it


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def pid_namespace() -> str:
    """This process's PID namespace (``pid:[4026531836]``), or "" where there is none to read."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """The state letter and start time (clock ticks since boot) of process ``pid`` from
    ``/proc/<pid>/stat``; None when there is no such file."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text[text.rfind(")") + 2:].split()  # the name, in parentheses, may hold spaces
    return fields[0], fields[19]


def started(pid: int) -> str:
    """When process ``pid`` started, as ``<boot id>/<ticks since boot>``; "" where ``/proc`` does not say."""
    stat, boot = _stat(pid), _read("/proc/sys/kernel/random/boot_id")
    return f"{boot}/{stat[1]}" if stat and boot else ""


def process_tags(pid: int | None = None) -> dict[str, str]:
    """The tags naming process ``pid`` (default: this one) on this host."""
    pid = os.getpid() if pid is None else pid
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(pid), NAMESPACE_TAG: pid_namespace(),
            STARTED_TAG: started(pid)}


def process_exists(pid: int, start: str = "") -> bool:
    """Whether process ``pid`` runs on this host: not a zombie, and, when ``start`` is given
    (:func:`started`), the same process, not a later one that got its pid."""
    stat = _stat(pid)
    if stat is not None:
        return stat[0] != "Z" and (not start or started(pid) == start)
    if os.path.isdir("/proc/self"):  # Linux: no /proc/<pid>, no process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's, or a platform where signal 0 means something else: alive
    return True


def orphaned(tags: dict[str, str]) -> bool:
    """Whether a RUNNING run with ``tags`` was logged by a process of this host (and PID
    namespace) that no longer exists. Runs without the process tags never are."""
    if tags.get(HOST_TAG) != socket.gethostname() or tags.get(NAMESPACE_TAG, "") != pid_namespace():
        return False
    try:
        pid = int(tags[PID_TAG])
    except (KeyError, ValueError):
        return False
    return pid != os.getpid() and not process_exists(pid, tags.get(STARTED_TAG, ""))


def _empty_sqlite(uri: str) -> bool:
    """Whether ``uri`` is a SQLite store whose file does not exist yet (nothing to look at,
    and nothing to create)."""
    parts = urlsplit(uri)
    path = uri.removeprefix("sqlite://").split("?")[0][1:]
    return parts.scheme.startswith("sqlite") and bool(path) and path != ":memory:" and not Path(path).exists()


def end_orphaned_runs(experiment: str, uri: str | None = None) -> list[str]:
    """End KILLED, with the end time now, the RUNNING runs of ``experiment`` in the store ``uri``
    (default :func:`tracking_uri`) that :func:`orphaned` says were left by a dead process of
    this host; their ids. One search of the store; says on stderr which runs it ended."""
    uri = uri or tracking_uri()
    if _empty_sqlite(uri):
        return []
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    ended, token = [], None
    host = socket.gethostname().replace("'", "")
    while True:
        page = client.search_runs([found.experiment_id], f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'",
                                  run_view_type=ViewType.ALL, max_results=1000, page_token=token)
        for run in page:
            if orphaned(run.data.tags):
                client.set_terminated(run.info.run_id, "KILLED", end_time=now_ms())
                ended.append(run.info.run_id)
                print(f"MLflow run {run.info.run_id} ({run.info.run_name}) was left RUNNING by process "
                      f"{run.data.tags[PID_TAG]}, which no longer exists; ended it KILLED", file=sys.stderr, flush=True)
        token = page.token
        if not token:
            return ended


def end_orphaned_runs_quietly(experiment: str, uri: str | None = None) -> list[str]:
    """:func:`end_orphaned_runs`, a store error being one line on stderr instead of a failure:
    it is housekeeping, never a reason to stop a stage."""
    try:
        return end_orphaned_runs(experiment, uri)
    except STORE_ERRORS as exc:
        print(f"could not look for orphaned MLflow runs ({problem_line(exc)})", file=sys.stderr, flush=True)
        return []
