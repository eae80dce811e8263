"""Saving trained models with their description (``imgclf.models.loading`` reads them back).

A model directory holds the model file and ``model.json``: its name, framework, class names,
input shape and MLflow run id. Keras models are ``.keras`` files loaded with ``safe_mode=True``.
scikit-learn models are skops files, loaded trusting only scikit-learn's own types and
:data:`TRUSTED_TYPES`; no pickle is ever loaded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from imgclf.outputs import reproducible_zip, write_json

META_FILE = "model.json"
UNDATED = "1980-01-01@00:00:00"  # a .keras file's save date, fixed: the bytes depend on the weights only
FILES = {"keras": "model.keras", "sklearn": "model.skops"}
# Types skops does not trust by default that our pipelines hold: the project's own pixel
# scaling (imgclf.models.baselines) and the optimiser state scikit-learn's MLPClassifier keeps.
TRUSTED_TYPES = [
    "imgclf.models.baselines.flatten_and_scale",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
]


def model_meta(name: str, stage: str, data, preprocess=None, **extra) -> dict[str, Any]:
    """What ``model.json`` says of a model trained on ``data`` (images in memory or on disk): its name, stage,
    classes and input shape, and the preprocessing (``PreprocessParams``) that predicting new
    images must repeat. Nothing of a particular run: its MLflow run is found by the model file's
    hash (``imgclf.tracking.lineage``), so that a re-run writes the same bytes."""
    meta = {"name": name, "stage": stage,
            "class_names": list(data.class_names), "input_shape": list(data.image_shape), **extra}
    if preprocess is not None:
        meta["preprocess"] = preprocess.model_dump(include={"image_size", "color", "fit"})
    return meta


def save_model(directory: Path, model: Any, framework: str, meta: dict[str, Any]) -> Path:
    """Write ``model`` and ``model.json`` into ``directory`` (created); the model file's path.

    The model file holds no date and no memory address: the same weights give the same bytes.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILES[framework]
    if framework == "keras":
        model.save(path)
        reproducible_zip(path, _undated_keras)
    else:
        import skops.io  # imports scikit-learn: only where it is needed

        skops.io.dump(model, path)
        reproducible_zip(path, _numbered_skops)
    write_json(directory / META_FILE, {**meta, "framework": framework, "file": path.name})
    return path


def _renumber(text: str, pattern: str, numbers: dict[str, str]) -> str:
    """``text`` with the number each match of ``pattern`` holds (its group ``id``) replaced by
    its rank of first appearance in ``numbers``, which is shared across calls."""
    def rank(match: re.Match) -> str:
        number = numbers.setdefault(match.group("id"), str(len(numbers)))
        start, end = match.span("id")
        return match.group(0)[: start - match.start()] + number + match.group(0)[end - match.start():]

    return re.sub(pattern, rank, text)


def _undated_keras(entries: dict[str, bytes]) -> dict[str, bytes]:
    """A ``.keras`` file's entries with the save date fixed and the ids of shared objects (memory
    addresses) numbered in order."""
    metadata = json.loads(entries["metadata.json"])
    metadata["date_saved"] = UNDATED
    config = _renumber(entries["config.json"].decode(), r'"shared_object_id": (?P<id>\d+)', {})
    return {**entries, "metadata.json": json.dumps(metadata).encode(), "config.json": config.encode()}


def _numbered_skops(entries: dict[str, bytes]) -> dict[str, bytes]:
    """A skops file's entries with its object ids and array files (skops takes both from memory
    addresses) numbered in the order the schema names them."""
    numbers: dict[str, str] = {}
    schema = _renumber(entries["schema.json"].decode(), r'"__id__": (?P<id>\d+)', numbers)
    schema = _renumber(schema, r'"(?P<id>\d+)\.npy"', numbers)
    renamed = {f"{numbers.get(name.removesuffix('.npy'), name.removesuffix('.npy'))}.npy" if name.endswith(".npy") else name: data
               for name, data in entries.items() if name != "schema.json"}
    return {**dict(sorted(renamed.items())), "schema.json": schema.encode()}
