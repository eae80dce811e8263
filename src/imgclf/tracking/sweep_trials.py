"""A sweep's trials as DVC experiments: their overrides, the queue, and the results DVC keeps.

Every trial is ``dvc exp run -n <sweep>-<NNN> -S ...``: the configuration's overrides, the
sweep's fixed values, then the trial's. DVC records it (``dvc exp show``), so ``dvc exp apply
<sweep>-<NNN>`` brings any trial back into the workspace.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from imgclf.errors import STOPPED, PipelineError
from imgclf.params import parse_params
from imgclf.params.sweep import Sweep
from imgclf.tracking.dvc_queue import (
    dvc, queue_status, release_lost_tasks, start_workers, stop_workers, unowned_tasks,
)
from imgclf.tracking.experiment import apply, inline_yaml, load_config, overrides


def trial_name(sweep_name: str, number: int) -> str:
    """The DVC experiment name of trial ``number`` (from 0): ``<sweep>-007``."""
    return f"{sweep_name}-{number:03d}"


def base_config(sweep: Sweep) -> dict:
    """The configuration the trials start from (``configs/<experiment>.yaml``), or none."""
    return load_config(sweep.experiment) if sweep.experiment else {}


def trial_overrides(sweep: Sweep, config: dict, params: dict, values: dict) -> list[str]:
    """The ``-S`` values of one trial: configuration, then the sweep's ``set``, then ``values``."""
    extra = [f"{key}={inline_yaml(value)}" for key, value in {**sweep.set, **values}.items()]
    return overrides(config, params, extra)


def check_keys(sweep: Sweep, config: dict, params: dict, source: str) -> None:
    """Every key the sweep sets or varies, with each value it can take (a range's ends), must make
    a valid ``params.yaml``; the first that does not is one line naming it."""
    candidates = {f"set.{key}": [(key, value)] for key, value in sweep.set.items()}
    for key, values in sweep.params.items():
        ends = values if isinstance(values, list) else [values.low, values.high]
        if not isinstance(values, list) and values.type == "int":
            ends = [int(end) for end in ends]
        candidates[f"params.{key}"] = [(key, value) for value in ends]
    for where, pairs in candidates.items():
        for key, value in pairs:
            try:
                extra = [f"{k}={inline_yaml(v)}" for k, v in {**sweep.set, key: value}.items()]
                parse_params(apply(params, config, extra), "params.yaml")
            except PipelineError as exc:
                detail = str(exc).removeprefix("params.yaml: ")
                raise PipelineError(f"{source}: {where} = {value!r} is not valid in params.yaml: {detail}") from None


SHOW_WAIT_S, SHOW_PATIENCE_S = 2.0, 60.0


def workspace_vanished(message: str) -> bool:
    """Whether ``dvc exp show`` failed only on a queued experiment's files in ``.dvc/tmp/exps``
    (its temporary workspace, or its record under ``run/``) missing as it read them: an experiment
    was starting or had just finished, and the same command a moment later succeeds."""
    return "/.dvc/tmp/exps/" in message and ("does not exist" in message or "No such file or directory" in message)


def exp_show() -> list:
    """``dvc exp show --json``, after marking failed the experiments no worker is left to finish
    (:func:`~imgclf.tracking.dvc_queue.release_lost_tasks`; their records make it fail), tried
    again every :data:`SHOW_WAIT_S` seconds for up to :data:`SHOW_PATIENCE_S` while it fails on
    an experiment starting or finishing (:func:`workspace_vanished`)."""
    release_lost_tasks()
    deadline = time.monotonic() + SHOW_PATIENCE_S
    while True:
        try:
            return json.loads(dvc("exp", "show", "--json", "--force") or "[]")
        except PipelineError as exc:
            if not workspace_vanished(str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(SHOW_WAIT_S)


def experiments() -> dict[str, dict]:
    """The experiments of ``HEAD``, from ``dvc exp show --json``: name -> ``state`` (done, queued,
    running, failed) and ``data`` (params, metrics)."""
    return experiment_states(exp_show())


def experiment_states(shown: list) -> dict[str, dict]:
    """:func:`experiments` from ``dvc exp show --json``'s output. A name listed twice keeps its
    first entry, unless a later one is done: for a moment after a queued experiment finishes, DVC
    lists it both as running (its task not yet acknowledged) and as done (its result collected),
    while ``dvc queue status`` already says Success."""
    found: dict[str, dict] = {}
    for baseline in shown:
        for experiment in baseline.get("experiments") or []:
            executor, revs = experiment.get("executor") or {}, experiment.get("revs") or []
            if not experiment.get("name") or not revs:
                continue
            state = "done" if executor.get("state") in (None, "success") else executor["state"]
            if revs[0].get("error"):
                state = "failed"
            first = found.get(experiment["name"])
            if first is None or (state == "done" and first["state"] != "done"):
                found[experiment["name"]] = {"state": state, "data": revs[0].get("data") or {}}
    return found


def finished_experiments() -> dict[str, dict]:
    """The experiments DVC has completed: name -> their ``data``."""
    return {name: e["data"] for name, e in experiments().items() if e["state"] == "done"}


def settle_stale(trials, seen: dict[str, str]) -> list[str]:
    """Trials DVC calls running that no live process of theirs ran, now and at the previous look
    (``seen``, which this updates): their worker was killed, mid-trial or while DVC prepared the
    trial. ``dvc queue kill`` marks them failed, so that they are queued again (DVC refuses any that
    a live worker says it runs). The names it marked."""
    now = {rev: name for rev, name in unowned_tasks().items() if name in trials}
    stale = sorted({name for rev, name in now.items() if rev in seen})
    seen.clear()
    seen.update(now)
    if not stale:
        return []
    dvc("queue", "kill", *stale, check=False)
    status = queue_status()
    return [name for name in stale if status.get(name) != "Running"]


def metric_value(data: dict, sweep: Sweep, name: str) -> float:
    """The sweep's metric in a finished experiment's data; missing, an error naming the key."""
    try:
        node = data["metrics"][sweep.metric.file]["data"]
        for part in sweep.metric.key.split("."):
            node = node[part]
        return float(node)
    except (KeyError, TypeError, ValueError):
        raise PipelineError(f"experiment {name}: no metric {sweep.metric.key!r} in {sweep.metric.file} "
                            "(check metric.key in the sweep file)") from None


def queue_trials(trials: dict[str, list[str]], jobs: int) -> None:
    """Queue the trials (name -> overrides) not already queued or running, run them ``jobs`` at a
    time and wait. A trial whose worker was killed is marked failed (and queued again on resume);
    workers are started again when trials stay queued with none running for a minute (all the
    workers died; DVC's own worker count is not reliable on its file-system broker). Ctrl-C kills
    the running trials and stops the workers; the queued ones stay queued."""
    release_lost_tasks()
    status = queue_status()
    failed = [name for name in trials if status.get(name) == "Failed"]
    if failed:
        dvc("queue", "remove", *failed)  # a failed trial is queued afresh
    for name, items in trials.items():
        if status.get(name) not in ("Queued", "Running"):
            dvc("exp", "run", "--queue", "-n", name, *[arg for item in items for arg in ("-S", item)])
    start_workers(jobs)
    try:
        idle, unowned = 0, {}
        for tick in itertools.count(1):
            time.sleep(3)
            status = queue_status()
            waiting = [status[name] for name in trials if status.get(name) in ("Queued", "Running")]
            if not waiting:
                break
            if tick % 5 == 0 and "Running" in waiting:
                for name in settle_stale(trials, unowned):
                    print(f"trial {name}: its worker died; marked failed (RESUME=1 runs it again)", flush=True)
            idle = idle + 1 if "Running" not in waiting else 0
            if idle == 20:
                start_workers(jobs)
                idle = 0
    except STOPPED:  # Ctrl-C, or SIGTERM (kill, timeout, a CI job cancelled)
        running = [name for name, state in queue_status().items() if state == "Running" and name in trials]
        if running:
            dvc("queue", "kill", *running, check=False)
        raise
    finally:
        stop_workers()


def exp_run_command(name: str, items: list[str]) -> list[str]:
    """``dvc exp run --temp``: one trial, outside the workspace, now."""
    return ["dvc", "exp", "run", "--temp", "-n", name, *[arg for item in items for arg in ("-S", item)]]


def state_dir(root: Path = Path(".")) -> Path:
    """Where sweeps keep what lets them resume (git-ignored): ``sweeps/.state``."""
    return root / "sweeps" / ".state"
