"""Running a trained Keras model: class probabilities, and what its first conv layers see.

Kept apart from ``training`` so that a training edit does not re-run ``evaluate``.
"""

from __future__ import annotations

import keras
import numpy as np


BATCH = 512


def predict_proba(model: keras.Model, images) -> np.ndarray:
    """Class probabilities ``(N, K)`` in float64, rows summing to 1; a sigmoid unit gives two columns.
    ``images``: an array, or anything sliced like one (a split part read from its shards a batch at
    a time).

    Batches of :data:`BATCH` through ``predict_on_batch``: the very numbers of ``model.predict(images,
    batch_size=512)``, without the data pipeline ``predict`` builds at every call (some 0.2 s, which a
    served request of one image would wait).
    """
    batches = [np.asarray(model.predict_on_batch(images[i:i + BATCH])) for i in range(0, len(images), BATCH)]
    p = np.concatenate(batches).astype(np.float64)
    if p.shape[1] == 1:
        return np.hstack([1.0 - p, p])
    return p / p.sum(axis=1, keepdims=True)


def conv_activations(model: keras.Model, images: np.ndarray, layers: int = 2) -> list[tuple[str, np.ndarray]]:
    """Outputs of the first ``layers`` Conv2D layers for ``images``, nested bases included."""
    found: list[tuple[keras.Model, keras.layers.Layer]] = []

    def walk(m: keras.Model) -> None:
        for layer in m.layers:
            if len(found) >= layers:
                return
            if isinstance(layer, keras.Model):
                walk(layer)
            elif isinstance(layer, keras.layers.Conv2D):
                found.append((m, layer))

    walk(model)
    return [(layer.name, keras.Model(owner.inputs, layer.output).predict(images, verbose=0)) for owner, layer in found]
