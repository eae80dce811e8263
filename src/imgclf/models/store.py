"""Saving trained models with their description (``imgclf.models.loading`` reads them back).

A model directory holds the model file and ``model.json``: its name, framework, class names,
input shape and MLflow run id. Keras models are ``.keras`` files loaded with ``safe_mode=True``.
scikit-learn models are skops files, loaded trusting only scikit-learn's own types and
:data:`TRUSTED_TYPES`; no pickle is ever loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imgclf.outputs import write_json

META_FILE = "model.json"
FILES = {"keras": "model.keras", "sklearn": "model.skops"}
# Types skops does not trust by default that our pipelines hold: the project's own pixel
# scaling (imgclf.models.baselines) and the optimiser state scikit-learn's MLPClassifier keeps.
TRUSTED_TYPES = [
    "imgclf.models.baselines.flatten_and_scale",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
]


def model_meta(name: str, stage: str, run_id: str, data, preprocess=None, **extra) -> dict[str, Any]:
    """What ``model.json`` says of a model trained on ``data`` (an ImageSet): its name, stage,
    MLflow run, classes and input shape, and the preprocessing (``PreprocessParams``) that
    predicting new images must repeat."""
    meta = {"name": name, "stage": stage, "mlflow_run_id": run_id,
            "class_names": list(data.class_names), "input_shape": list(data.images.shape[1:]), **extra}
    if preprocess is not None:
        meta["preprocess"] = preprocess.model_dump(include={"image_size", "color", "fit"})
    return meta


def save_model(directory: Path, model: Any, framework: str, meta: dict[str, Any]) -> None:
    """Write ``model`` and ``model.json`` into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILES[framework]
    if framework == "keras":
        model.save(path)
    else:
        import skops.io  # imports scikit-learn: only where it is needed

        skops.io.dump(model, path)
    write_json(directory / META_FILE, {**meta, "framework": framework, "file": path.name})
