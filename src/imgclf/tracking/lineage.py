"""From a saved model to the MLflow run that trained it, by the model file's hash.

``model.json`` holds nothing of a particular run, so that training again writes the same bytes
and ``dvc.lock`` does not change. Instead, the training run is tagged with the sha256 of the
model file it saved (and the URI of the MLflow model it logged: ``ModelRun.link`` in
:mod:`imgclf.tracking.runs`); ``evaluate`` finds the run
from the file. A model DVC restored from its cache is found too: its bytes are those of the run
that made them.
"""

from __future__ import annotations

from pathlib import Path

import mlflow

from imgclf.outputs import sha256_file
from imgclf.tracking.store import use_experiment

MODEL_TAG = "model_sha256"
URI_TAG = "model_uri"


def find_model_run(experiment: str, model_file: Path):
    """The latest finished run of ``experiment`` that saved ``model_file`` (an ``mlflow.entities.Run``),
    or None when this store has none (the model was trained against another store)."""
    experiment_id = use_experiment(experiment)
    runs = mlflow.MlflowClient().search_runs(
        [experiment_id], f"tags.{MODEL_TAG} = '{sha256_file(model_file)}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1,
    )
    return runs[0] if runs else None
