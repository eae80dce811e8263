"""``python -m imgclf.tracking.queue``: prepare the store for DVC's experiment queue."""

from __future__ import annotations

from imgclf.errors import run_stage
from imgclf.params import load_params
from imgclf.tracking.store import tracking_uri, use_experiment


def main() -> None:
    """Create the store and the experiment of ``params.yaml``
    now, before parallel workers (``dvc queue start -j N``) would race to create them."""
    experiment = load_params().mlflow.experiment
    print(f"MLflow store {tracking_uri()}, experiment {experiment!r} (id {use_experiment(experiment)})")


if __name__ == "__main__":
    run_stage(main)
