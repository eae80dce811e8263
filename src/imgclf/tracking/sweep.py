"""Run a sweep file (``sweeps/NAME.yaml``): its trials as DVC experiments, compared in MLflow.

    python -m imgclf.tracking.sweep NAME [--resume]        (make sweep NAME=... [RESUME=1])

grid and random sweeps queue their trials (``dvc exp run --queue -n NAME-NNN -S ...``) and run them
``jobs`` at a time (``dvc queue start -j``); an optuna sweep runs its trials one after another
(``dvc exp run --temp``), each drawn by TPE from the results so far. Every trial is a DVC
experiment (``dvc exp apply NAME-NNN`` reproduces it) and an MLflow run under the sweep's parent
run. The trials table and charts are written to ``reports/sweeps/NAME/`` and logged on the parent.

A sweep keeps its state in ``sweeps/.state/`` (git-ignored): stopped (Ctrl-C, a killed worker),
it resumes with ``--resume`` without running finished trials again.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from pathlib import Path

import yaml

from imgclf.errors import STOPPED, PipelineError, run_stage
from imgclf.params import parse_params
from imgclf.params.sweep import SWEEPS, Sweep, load_sweep
from imgclf.tracking.dvc_queue import outputs_missing_from_cache, queue_status
from imgclf.tracking.experiment import apply, inline_yaml
from imgclf.tracking.sweep_trials import (
    base_config, check_keys, finished_experiments, metric_value, queue_trials, state_dir,
    trial_name, trial_overrides,
)


def grid_values(sweep: Sweep) -> list[dict]:
    """Every combination of the listed values, the first key varying slowest."""
    keys = list(sweep.params)
    return [dict(zip(keys, combination)) for combination in itertools.product(*(sweep.params[k] for k in keys))]


def run_queued(sweep: Sweep, name: str, overrides_of) -> list[dict]:
    """A grid or random sweep through DVC's queue; one row per trial."""
    from imgclf.tracking.sweep_optuna import random_values

    values = grid_values(sweep) if sweep.method == "grid" else random_values(sweep)
    trials = {trial_name(name, number): v for number, v in enumerate(values)}
    finished = finished_experiments()
    todo = {trial: overrides_of(v) for trial, v in trials.items() if trial not in finished}
    print(f"sweep {name}: {len(trials)} trials, {len(trials) - len(todo)} already finished", flush=True)
    if todo:
        queue_trials(todo, sweep.jobs)
        finished = finished_experiments()
    failed = {trial for trial, state in queue_status().items() if state == "Failed"}
    rows = []
    for number, (trial, v) in enumerate(trials.items()):
        value = metric_value(finished[trial], sweep, trial) if trial in finished else None
        state = "COMPLETE" if trial in finished else "FAIL" if trial in failed else "MISSING"
        rows.append({"sweep": name, "number": number, "name": trial, "state": state, "value": value, "params": v})
    return rows


def run_optuna(sweep: Sweep, name: str, overrides_of, experiment: str) -> list[dict]:
    """An Optuna sweep; one row per trial that counts (an interrupted one is replaced by its re-run)."""
    from imgclf.tracking.sweep_optuna import interrupted, run_study

    study = run_study(sweep, name, overrides_of, experiment)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        if interrupted(study, trial) or trial.state.name not in ("COMPLETE", "PRUNED", "FAIL"):
            continue
        rows.append({"sweep": name, "number": trial.number, "name": trial.user_attrs["dvc_exp_name"],
                     "state": trial.state.name, "params": trial.params,
                     # a pruned trial's value in Optuna is its last epoch's, not the sweep's metric
                     "value": trial.value if trial.state.name == "COMPLETE" else None,
                     "epochs": dict(trial.intermediate_values)})
    return rows


def load_state(name: str, digest: str, resume: bool) -> dict:
    """The sweep's saved state. Without ``resume``, a sweep started before is an error (so that no
    one mixes two searches by accident); with it, so is a sweep file changed since."""
    path = state_dir() / f"{name}.json"
    if not path.is_file():
        return {"sweep_sha256": digest, "parent_run_id": None}
    state = json.loads(path.read_text())
    if not resume:
        raise PipelineError(f"sweep {name!r} was started before ({path}): make sweep NAME={name} RESUME=1 "
                            f"continues it; to start again, delete {path}" + (" and its .db" if path.with_suffix(".db").exists() else "")
                            + " and the experiments (dvc exp remove)")
    if state["sweep_sha256"] != digest:
        raise PipelineError(f"{SWEEPS}/{name}.yaml changed since the sweep started; put it back or start "
                            f"again (delete {path})")
    return state


def save_state(name: str, state: dict) -> None:
    path = state_dir() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")


def run_sweep(name: str, resume: bool = False) -> list[dict]:
    """Run (or resume) sweep ``name`` from the repository root; its rows, best first."""
    from imgclf.tracking.sweep_outputs import best_row, sorted_rows, write_outputs
    from imgclf.tracking.sweep_runs import close_parent, open_parent, record_sweep

    source = f"{SWEEPS}/{name}.yaml"
    sweep = load_sweep(name)
    params = yaml.safe_load(Path("params.yaml").read_text())
    config = base_config(sweep)
    check_keys(sweep, config, params, source)
    missing = outputs_missing_from_cache()
    if missing:
        raise PipelineError(f"sweep {name}: {', '.join(missing[:3])}{' and more' if len(missing) > 3 else ''} "
                            "(recorded in dvc.lock) not in DVC's cache: run `make repro` or `dvc pull` first; a "
                            "trial whose stages DVC's run-cache restores needs them")
    fixed = [f"{key}={inline_yaml(value)}" for key, value in sweep.set.items()]
    experiment = parse_params(apply(params, config, fixed), f"params.yaml with {source}").mlflow.experiment
    state = load_state(name, hashlib.sha256(Path(source).read_bytes()).hexdigest(), resume)
    state["parent_run_id"] = open_parent(experiment, name, sweep, state["parent_run_id"])
    save_state(name, state)

    def overrides_of(values: dict) -> list[str]:
        return trial_overrides(sweep, config, params, values)

    try:
        if sweep.method == "optuna":
            rows = run_optuna(sweep, name, overrides_of, experiment)
        else:
            rows = run_queued(sweep, name, overrides_of)
    except STOPPED as exc:
        close_parent(state["parent_run_id"], "KILLED")
        how = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        print(f"sweep {name}: {how}; make sweep NAME={name} RESUME=1 resumes it", file=sys.stderr)
        raise
    except BaseException:
        close_parent(state["parent_run_id"], "FAILED")
        raise
    outputs = write_outputs(name, rows, sweep)
    best = best_row(rows, sweep)
    # A queued trial that failed (or whose worker died) is run again by RESUME=1; an Optuna trial
    # that failed on its own counts as tried (TPE learns from it), like a pruned one.
    unfinished = [row["name"] for row in rows if row["state"] not in ("COMPLETE", "PRUNED")]
    unfinished = unfinished if sweep.method != "optuna" else []
    # The parent's params (MLflow never changes a logged param) are the best trial's once all are done.
    record_sweep(experiment, state["parent_run_id"], rows, None if unfinished else best, sweep, outputs)
    close_parent(state["parent_run_id"], "FAILED" if unfinished else "FINISHED")
    print((outputs / "trials.md").read_text())
    if unfinished:
        raise PipelineError(f"sweep {name}: trials {', '.join(unfinished)} did not finish (dvc queue logs NAME shows "
                            f"why); make sweep NAME={name} RESUME=1 runs them again")
    if best is not None:
        print(f"best: {best['name']} {sweep.metric.key} = {best['value']:.6g}; reproduce it with "
              f"`dvc exp apply {best['name']} && dvc repro`")
    return sorted_rows(rows, sweep)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run sweeps/NAME.yaml: its trials as DVC experiments.")
    parser.add_argument("sweep", metavar="NAME")
    parser.add_argument("--resume", action="store_true", help="continue a stopped sweep, keeping its finished trials")
    args = parser.parse_args()
    run_sweep(args.sweep, args.resume)


if __name__ == "__main__":
    run_stage(main)
