"""``python -m imgclf.tracking.queue``: prepare the store for DVC's experiment queue."""

from __future__ import annotations

from imgclf.errors import run_stage
from imgclf.params import load_params
from imgclf.tracking.orphans import end_orphaned_runs_quietly
from imgclf.tracking.store import tracking_uri, use_experiment


def main() -> None:
    """Create the store and the experiment of ``params.yaml`` now, before parallel workers
    (``dvc queue start -j N``) would race to create them; and end KILLED the runs that
    experiments killed outright (SIGKILL) left RUNNING (:mod:`imgclf.tracking.orphans`)."""
    experiment = load_params().mlflow.experiment
    print(f"MLflow store {tracking_uri()}, experiment {experiment!r} (id {use_experiment(experiment)})")
    end_orphaned_runs_quietly(experiment)


if __name__ == "__main__":
    run_stage(main)
