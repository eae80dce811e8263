"""An Optuna study whose trials are DVC experiments, run one at a time with ``dvc exp run --temp``.

The study lives in ``sweeps/.state/<sweep>.db`` (SQLite), so an interrupted sweep resumes: finished
trials are kept, an interrupted one is run again with the same values. Pruning watches the trial
from outside: while it trains, the model's MLflow run is read every few seconds and each epoch's
validation metric is reported to Optuna; when the median pruner says so, the experiment is stopped
(SIGINT, as Ctrl-C would) and the trial is PRUNED. The stages know nothing of Optuna.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import mlflow
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from imgclf.errors import STOPPED
from imgclf.params.sweep import Pruning, Range, Sweep
from imgclf.tools import tool_env
from imgclf.tracking.store import tracking_uri, use_experiment
from imgclf.tracking.sweep_trials import exp_run_command, finished_experiments, metric_value, state_dir, trial_name

optuna.logging.set_verbosity(optuna.logging.WARNING)


def distribution(values: list | Range) -> BaseDistribution:
    """Optuna's distribution for a sweep parameter: a list is categorical, a range a float or int one."""
    if isinstance(values, list):
        return CategoricalDistribution(values)
    if values.type == "int":
        return IntDistribution(int(values.low), int(values.high), log=values.log, step=int(values.step or 1))
    return FloatDistribution(values.low, values.high, log=values.log, step=values.step)


def distributions(sweep: Sweep) -> dict[str, BaseDistribution]:
    return {key: distribution(values) for key, values in sweep.params.items()}


def random_values(sweep: Sweep) -> list[dict]:
    """``sweep.trials`` seeded random draws (Optuna's RandomSampler): the same on every run."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=sweep.seed))
    return [study.ask(distributions(sweep)).params for _ in range(sweep.trials)]


def storage_url(name: str) -> str:
    path = state_dir() / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


def open_study(sweep: Sweep, name: str) -> optuna.Study:
    """The sweep's study, created or loaded from its SQLite file."""
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=sweep.pruning.startup_trials,
                                          n_warmup_steps=sweep.pruning.warmup_epochs)
              if sweep.pruning else optuna.pruners.NopPruner())
    return optuna.create_study(study_name=name, storage=storage_url(name), load_if_exists=True,
                               direction=sweep.metric.direction, pruner=pruner)


def epoch_values(experiment_id: str, trial: str, pruning: Pruning) -> list[tuple[int, float]]:
    """(epoch, value) of the watched metric in the trial's MLflow run so far (none before it starts)."""
    client = mlflow.MlflowClient(tracking_uri())
    runs = client.search_runs([experiment_id], f"tags.dvc_exp_name = '{trial}' and attributes.run_name = '{pruning.run}'",
                              max_results=1, order_by=["attributes.start_time DESC"])
    if not runs:
        return []
    return sorted((m.step, m.value) for m in client.get_metric_history(runs[0].info.run_id, pruning.metric))


def interruptible() -> None:
    """In a trial's process before it starts: SIGINT stops it, even when the sweep itself was
    started with SIGINT ignored (``nohup make sweep ... &`` from a script: a shell without job
    control starts background commands so), which the trial would otherwise inherit, and pruning
    would not stop it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_trial(study: optuna.Study, trial: optuna.Trial, sweep: Sweep, items: list[str], experiment_id: str) -> TrialState:
    """Run one trial's experiment, reporting epochs to Optuna and pruning it when told; its state."""
    name = trial.user_attrs["dvc_exp_name"]
    process = subprocess.Popen(exp_run_command(name, items), env=tool_env(), start_new_session=True,
                               preexec_fn=interruptible)
    reported = -1

    def report() -> None:
        nonlocal reported
        for step, value in epoch_values(experiment_id, name, sweep.pruning):
            if step > reported:
                trial.report(value, step)
                reported = step

    try:
        while process.poll() is None:
            time.sleep(sweep.pruning.poll_seconds if sweep.pruning else 1.0)
            if sweep.pruning and process.poll() is None:
                report()
                if trial.should_prune():
                    os.killpg(process.pid, signal.SIGINT)
                    process.wait()
                    print(f"trial {name}: pruned at epoch {reported}", flush=True)
                    return TrialState.PRUNED
    except STOPPED:  # Ctrl-C, or SIGTERM, which the trial's own session does not get
        os.killpg(process.pid, signal.SIGINT)
        process.wait()
        raise
    if sweep.pruning:
        report()  # every epoch, so that later trials are compared with this one's
    return TrialState.COMPLETE if process.returncode == 0 else TrialState.FAIL


def settle_interrupted(study: optuna.Study, sweep: Sweep) -> None:
    """Trials a stopped sweep left RUNNING: told their result if DVC finished them, else failed and
    queued again with the same values."""
    finished = None
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        finished = finished if finished is not None else finished_experiments()
        name = trial.user_attrs.get("dvc_exp_name")
        if name in finished:
            study.tell(trial.number, metric_value(finished[name], sweep, name))
        else:
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})


def counted(study: optuna.Study) -> int:
    """Trials that use up the budget: completed, pruned or failed on their own (not interrupted)."""
    return sum(1 for t in study.get_trials(deepcopy=False) if not interrupted(study, t)
               and t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))


def interrupted(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
    """A trial stopped with the sweep and run again later under another number."""
    return any(t.user_attrs.get("retry_of") == trial.number for t in study.get_trials(deepcopy=False))


def next_trial_number(study: optuna.Study) -> int:
    """The number ``study.ask()`` gives next: the oldest trial queued again, else a new one. (Not
    ``len(study.trials)``, which counts the queued trial too, so that the retry and the trial after
    it were seeded alike, and drew the same values.)"""
    waiting = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))]
    return min(waiting, default=len(study.trials))


def run_study(sweep: Sweep, name: str, overrides_of, experiment: str) -> optuna.Study:
    """Run the Optuna sweep until ``sweep.trials`` trials are done; ``overrides_of(values)`` gives
    a trial's ``-S`` values. The sampler is TPE seeded with ``seed + trial number``, so a resumed
    study draws what an uninterrupted one would have."""
    study = open_study(sweep, name)
    settle_interrupted(study, sweep)
    experiment_id = use_experiment(experiment)
    while counted(study) < sweep.trials:
        study.sampler = optuna.samplers.TPESampler(seed=sweep.seed + next_trial_number(study))
        trial = study.ask(distributions(sweep))
        trial.set_user_attr("dvc_exp_name", trial_name(name, trial.number))
        print(f"trial {trial_name(name, trial.number)}: {trial.params}", flush=True)
        state = run_trial(study, trial, sweep, overrides_of(trial.params), experiment_id)
        if state == TrialState.COMPLETE:
            data = finished_experiments()[trial_name(name, trial.number)]
            study.tell(trial, metric_value(data, sweep, trial_name(name, trial.number)))
        else:
            study.tell(trial, state=state)
    return study
