"""Loading a trained model and its ``model.json`` back, for evaluation and prediction.

Keras models are loaded with ``safe_mode=True``; scikit-learn's skops files trusting only
scikit-learn's own types and :data:`imgclf.models.store.TRUSTED_TYPES`. No pickle is loaded.
A Keras model loaded in a process where TensorFlow has not loaded yet first sets the numerics
pins its training recorded (:func:`imgclf.numerics.pin_for_model`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imgclf.errors import PipelineError
from imgclf.models.store import META_FILE, TRUSTED_TYPES
from imgclf.numerics import pin_for_model
from imgclf.outputs import read_json


@dataclass
class LoadedModel:
    """A trained model and its description, with one way to get class probabilities."""

    meta: dict[str, Any]
    model: Any

    @property
    def name(self) -> str:
        return self.meta["name"]

    def predict_proba(self, images) -> np.ndarray:
        """Class probabilities ``(N, K)`` in float64 for uint8 NHWC images; rows sum to 1.

        ``images``: an array, or anything sliced like one (a split part read from its shards). A
        Keras model reads it a batch at a time; a scikit-learn model takes it whole, in memory
        (its numbers depend on the batch, and the baselines hold their parts in memory anyway).
        """
        if self.meta["framework"] == "keras":
            from imgclf.models.inference import predict_proba

            return predict_proba(self.model, images)
        p = self.model.predict_proba(np.asarray(images[:])).astype(np.float64)
        return p / p.sum(axis=1, keepdims=True)


def load_model(directory: Path) -> LoadedModel:
    """Load the model saved in ``directory``."""
    meta_path = directory / META_FILE
    if not meta_path.exists():
        raise PipelineError(f"{meta_path}: no model here (run its training stage first)")
    meta = read_json(meta_path)
    path = directory / meta["file"]
    if meta["framework"] == "keras":
        for note in pin_for_model(meta.get("numerics")):  # before TensorFlow loads, if it has not
            print(note, file=sys.stderr)
        import keras

        from imgclf.models import applications, cnn  # noqa: F401  (registers the project's Keras layers)

        model = keras.saving.load_model(path, safe_mode=True)
    else:
        import skops.io

        untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
        if untrusted:
            raise PipelineError(f"{path}: refusing to load untrusted types {untrusted}")
        model = skops.io.load(path, trusted=TRUSTED_TYPES)
    return LoadedModel(meta, model)
