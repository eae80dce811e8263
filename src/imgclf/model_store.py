"""Saving trained models with their description, and loading them back for evaluation.

A model directory holds the model file and ``model.json``: its name, framework, class names,
input shape and MLflow run id. Keras models are ``.keras`` files loaded with ``safe_mode=True``.
scikit-learn models are skops files, loaded trusting only scikit-learn's own types and
:data:`TRUSTED_TYPES`; no pickle is ever loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imgclf.errors import PipelineError
from imgclf.outputs import read_json, write_json

META_FILE = "model.json"
FILES = {"keras": "model.keras", "sklearn": "model.skops"}
# Types skops does not trust by default that our pipelines hold: the project's own pixel
# scaling (imgclf.baselines) and the optimiser state scikit-learn's MLPClassifier keeps.
TRUSTED_TYPES = [
    "imgclf.baselines.flatten_and_scale",
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


@dataclass
class LoadedModel:
    """A trained model and its description, with one way to get class probabilities."""

    meta: dict[str, Any]
    model: Any

    @property
    def name(self) -> str:
        return self.meta["name"]

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, K)`` in float64 for uint8 NHWC images; rows sum to 1."""
        if self.meta["framework"] == "keras":
            from imgclf.training import predict_proba

            return predict_proba(self.model, images)
        p = self.model.predict_proba(images).astype(np.float64)
        return p / p.sum(axis=1, keepdims=True)


def load_model(directory: Path) -> LoadedModel:
    """Load the model saved in ``directory``."""
    meta_path = directory / META_FILE
    if not meta_path.exists():
        raise PipelineError(f"{meta_path}: no model here (run its training stage first)")
    meta = read_json(meta_path)
    path = directory / meta["file"]
    if meta["framework"] == "keras":
        import keras

        from imgclf import applications, cnn  # noqa: F401  (registers the project's Keras layers)

        model = keras.saving.load_model(path, safe_mode=True)
    else:
        import skops.io

        untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
        if untrusted:
            raise PipelineError(f"{path}: refusing to load untrusted types {untrusted}")
        model = skops.io.load(path, trusted=TRUSTED_TYPES)
    return LoadedModel(meta, model)
