"""``python -m imgclf.tracking.queue [--jobs N]`` (``make queue``): prepare the store and the queue,
then run the queued experiments N at a time."""

from __future__ import annotations

import argparse

from imgclf.errors import run_stage
from imgclf.params import load_params
from imgclf.tracking.dvc_queue import release_lost_tasks, start_workers
from imgclf.tracking.orphans import end_orphaned_runs_quietly
from imgclf.tracking.store import tracking_uri, use_experiment


def main(argv: list[str] | None = None) -> None:
    """Create the store and the experiment of ``params.yaml`` now, before parallel workers
    (``dvc queue start -j N``) would race to create them; end KILLED the runs that experiments
    killed outright (SIGKILL) left RUNNING (:mod:`imgclf.tracking.orphans`); and mark failed the
    experiments DVC calls running with no worker left (:mod:`imgclf.tracking.dvc_queue`). With
    ``--jobs N``, then start N workers (:func:`~imgclf.tracking.dvc_queue.start_workers`)."""
    parser = argparse.ArgumentParser(prog="python -m imgclf.tracking.queue", description=__doc__)
    parser.add_argument("--jobs", type=int, help="start this many workers on the queued experiments")
    jobs = parser.parse_args(argv).jobs
    experiment = load_params().mlflow.experiment
    print(f"MLflow store {tracking_uri()}, experiment {experiment!r} (id {use_experiment(experiment)})")
    end_orphaned_runs_quietly(experiment)
    release_lost_tasks()
    if jobs:
        start_workers(jobs)
        print(f"{jobs} queue worker(s) running; `dvc queue status` shows the experiments")


if __name__ == "__main__":
    run_stage(main)
