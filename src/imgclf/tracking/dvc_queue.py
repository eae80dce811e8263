"""DVC's experiment queue as the pipeline sees it: its status, this repository's workers, and the
tasks a worker took and never ran.

Three faults of DVC's queue (its workers are Celery workers on a broker of plain files, in
``.dvc/tmp/exps/celery``) are handled here:

- A worker told to stop while idle can linger until the next task is queued, take that task and
  exit without running it: ``dvc queue status`` then calls the experiment Running for ever, and
  ``dvc exp show`` fails on it. :func:`stop_workers` waits for the workers to be gone.
- ``dvc queue stop`` with no worker alive leaves its shutdown message in the broker, and the
  next worker of the same name reads it as it starts: it runs one experiment and exits, leaving
  the rest queued. :func:`stop_workers` only stops live workers, and :func:`start_workers`
  clears the control messages no live worker will read.
- Experiments whose worker died: :func:`release_lost_tasks` marks them failed, so that they can
  be queued again; with other workers alive, :func:`unowned_tasks` finds them. A worker killed
  while DVC prepares an experiment's temporary workspace, before its executor process starts,
  leaves a record that makes every ``dvc exp show`` fail until the experiment is marked failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from imgclf.errors import PipelineError
from imgclf.tools import run_tool
from imgclf.tracking.orphans import process_exists

STATES = ("Queued", "Running", "Success", "Failed")
CELERY = Path(".dvc") / "tmp" / "exps" / "celery"


def dvc(*args: str, check: bool = True) -> str:
    """``dvc ARGS``' standard output; a failure is an error with DVC's own message."""
    result = run_tool(["dvc", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise PipelineError(f"dvc {' '.join(args[:3])} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def queue_status(root: Path = Path(".")) -> dict[str, str]:
    """What ``dvc queue status`` lists, as name -> Queued, Running, Success or Failed (the latest
    task of a name last). Asked of DVC in this process: a sweep polls it every few seconds, and
    the command costs half a second of CPU (Python and DVC starting) against 15 ms here."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        tasks = repo.experiments.celery_queue.status()
    return {task["name"]: task["status"] for task in tasks if task.get("name") and task.get("status") in STATES}


def is_worker(pid: int) -> bool:
    """Whether ``pid`` is a live DVC queue worker: its command line says so where ``/proc`` shows
    it (Linux); elsewhere, whether the process exists."""
    if Path("/proc/self").exists():
        try:
            return b"queue-worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
    return process_exists(pid)


def worker_pids(root: Path = Path(".")) -> list[int]:
    """The live queue workers of the repository at ``root``, from the pid files DVC writes when it
    starts one (``.dvc/tmp/exps/celery/dvc-exp-worker-N.pid``)."""
    pids = []
    for pid_file in (root / CELERY).glob("dvc-exp-worker-*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if is_worker(pid):
            pids.append(pid)
    return sorted(pids)


def release_lost_tasks(root: Path = Path(".")) -> list[str]:
    """The experiments DVC calls Running while no worker of this repository is alive: nothing will
    ever run them. ``dvc queue kill`` marks them Failed (``dvc exp show`` works again, and they can
    be queued again), and each is named on one line. Their names."""
    if worker_pids(root):
        return []
    lost = [name for name, state in queue_status().items() if state == "Running"]
    if lost:
        dvc("queue", "kill", *lost, check=False)
    for name in lost:
        print(f"experiment {name}: DVC called it running but no worker is left to run it; marked failed, "
              "queue it again with dvc exp run --queue", file=sys.stderr, flush=True)
    return lost


def unowned_tasks(root: Path = Path(".")) -> dict[str, str]:
    """The experiments DVC calls Running that no live executor process of theirs runs: stash rev ->
    name. Lost ones (their worker was killed while it prepared the experiment, or with its
    executor), and, for a moment, a live worker's that it is preparing or collecting; ``dvc queue
    kill`` marks the first failed and refuses the second (it asks the workers what they run)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        queue = repo.experiments.celery_queue
        found = {}
        for entry in queue.iter_active():
            process = queue.proc.get(entry.stash_rev)
            if process is None or process.returncode is not None or not process_exists(process.pid):
                found[entry.stash_rev] = entry.name or entry.stash_rev
    return found


def start_workers(jobs: int, root: Path = Path(".")) -> None:
    """``dvc queue start -j jobs``; with no worker of this repository alive, the control messages
    left for earlier workers (a stop, status requests) are cleared first, or the new workers,
    which bear the same names, would obey them."""
    if not worker_pids(root):
        for message in (root / CELERY / "broker" / "in").glob("*_*.dvc-exp-*.celery.pidbox.msg"):
            message.unlink(missing_ok=True)
    # The workers inherit DVC's output: a pipe would keep whoever reads it waiting until they exit.
    with tempfile.TemporaryFile("w+") as out:
        result = run_tool(["dvc", "queue", "start", "-j", str(jobs)], stdout=out, stderr=subprocess.STDOUT, text=True)
        out.seek(0)
        said = out.read().strip()
    if result.returncode != 0:
        raise PipelineError(f"dvc queue start failed: {said}")


def stop_workers(root: Path = Path("."), grace: float = 20) -> None:
    """``dvc queue stop``, then wait until this repository's workers have exited. Those still there
    after ``grace`` seconds while no experiment runs are idle ones lingering, and are killed: left,
    they would take the next task queued and drop it. (A worker still running an experiment is
    left to finish it; it exits then.) With none alive, nothing is sent (see the module)."""
    if not worker_pids(root):
        return
    dvc("queue", "stop", check=False)
    deadline = time.monotonic() + grace
    while worker_pids(root) and time.monotonic() < deadline:
        time.sleep(1)
    if not worker_pids(root) or "Running" in queue_status().values():
        return
    for pid in worker_pids(root):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while worker_pids(root) and time.monotonic() < deadline:
        time.sleep(0.2)


def outputs_missing_from_cache(root: Path = Path(".")) -> list[str]:
    """The cached outputs ``dvc.lock`` records whose objects are not in DVC's cache (a fresh clone
    before ``dvc pull`` or ``make repro``). A queued experiment that DVC's run-cache restores a
    stage for reads the objects of that stage's dependencies as the lock file had them, and fails
    (``failed to load directory``) when they are missing."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return [str(out) for stage in repo.index.stages for out in stage.outs
                if out.use_cache and out.hash_info and out.hash_info.value
                and not repo.cache.local.exists(out.hash_info.value)]
