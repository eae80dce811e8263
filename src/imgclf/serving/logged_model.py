"""The image model (:mod:`imgclf.serving.image_model`) as an MLflow model: its signature, an input
example, pinned requirements. ``evaluate`` logs it for the model that passes the registry gate and
registers that."""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, DataType, Schema

import imgclf
from imgclf.outputs import read_json
from imgclf.serving import image_model
from imgclf.tracking.tags import requirement

NAME = "image_model"  # the logged model's name in its run
# What the served code imports, beside the framework's own libraries.
LIBRARIES = ("mlflow", "numpy", "pandas", "opencv", "scikit-learn", "pydantic", "pyyaml")
FRAMEWORK_LIBRARIES = {"keras": ("tensorflow", "keras"), "sklearn": ("skops",)}


def signature(class_names: Sequence[str]) -> ModelSignature:
    """In: one ``image`` column of base64 text. Out: ``predicted``, ``p_<class>`` per class,
    ``uncertain`` and ``error``, all but ``error`` null for an item that has one."""
    outputs = [ColSpec(DataType.string, "predicted", required=False),
               *(ColSpec(DataType.double, f"p_{name}", required=False) for name in class_names),
               ColSpec(DataType.boolean, "uncertain", required=False), ColSpec(DataType.string, "error", required=False)]
    return ModelSignature(inputs=Schema([ColSpec(DataType.string, image_model.INPUT)]), outputs=Schema(outputs))


def png_base64(image: np.ndarray) -> str:
    """One ``(H, W, C)`` uint8 image (grayscale or RGB) as base64 PNG text: lossless, so decoding
    it gives the image back."""
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 and image.shape[2] == 3 else image
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError(f"could not encode an image of shape {image.shape} as PNG")
    return base64.b64encode(encoded.tobytes()).decode("ascii")


def requirements(framework: str) -> list[str]:
    """The pinned distributions the served model imports, as installed here."""
    return [requirement(library) for library in (*LIBRARIES, *FRAMEWORK_LIBRARIES[framework])]


def log_image_model(directory: Path, grey_zone: Sequence[float], max_pixels: int, examples: Sequence[np.ndarray]) -> str:
    """Log the model saved in ``directory`` as an image model of the active run, answering
    inside ``grey_zone`` as uncertain and refusing images over ``max_pixels`` (unless its
    ``model.json`` records its own limit); ``examples`` (images as the model sees them) become the
    input example. Its URI (``models:/m-...``)."""
    meta = read_json(Path(directory) / "model.json")
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "imgclf"  # this package, which the served model imports first
        shutil.copytree(Path(imgclf.__file__).parent, code, ignore=shutil.ignore_patterns("__pycache__"))
        info = mlflow.pyfunc.log_model(
            name=NAME,
            python_model=Path(image_model.__file__),  # a model from code: nothing pickled
            artifacts={image_model.ARTIFACT: str(directory)},
            model_config={"grey_zone": [float(v) for v in grey_zone], "max_pixels": int(max_pixels)},
            code_paths=[str(code)],
            signature=signature([str(name) for name in meta["class_names"]]),
            input_example=pd.DataFrame({image_model.INPUT: [png_base64(image) for image in examples]}),
            pip_requirements=requirements(meta["framework"]),
        )
    return info.model_uri
