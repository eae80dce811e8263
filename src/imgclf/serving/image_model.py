"""One object that classifies encoded images (JPEG, PNG, ... bytes) with a trained model: the
``predict`` command calls it, and ``evaluate`` logs it as the MLflow model it registers, which
``mlflow models serve`` serves. The command and the server cannot disagree.

Each item is decoded as ``preprocess`` decodes files (``imgclf.data.decoding``: the header's
width x height checked against ``preprocess.max_pixels`` first, then OpenCV, then
``imgclf.data.images.fit_to_size``) at the image size, colour and fit recorded in the model's
``model.json``. The answer: the predicted class, the probability of each class (``p_<class>``),
``uncertain`` when it falls inside the grey zone (``evaluate.grey_zone``), and ``error``. An
item that cannot be used (not base64, empty, not an image, a JPEG cut short, too many pixels)
gets its reason in ``error`` and nulls elsewhere; the other items are answered.

The logged model is a *model from code*: MLflow runs this file to build it (the last lines), with
the model's folder as its artifact and this package as its code, so nothing is pickled.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from imgclf.data.decoding import decode_bytes
from imgclf.errors import PipelineError
from imgclf.evaluation.metrics import answered
from imgclf.models.loading import LoadedModel, load_model

INPUT = "image"  # the one input column: base64 text (JSON requests) or bytes
ARTIFACT = "model"  # the model's folder (model.json and its model file) inside the MLflow model


def item_bytes(item: Any) -> tuple[bytes | None, str | None]:
    """One input item to the encoded image's bytes, or ``(None, reason)``. Bytes are taken as they
    are, a ``Path`` is read (the ``predict`` command); text is base64 (JSON requests), whitespace
    and a ``data:image/...;base64,`` prefix allowed."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item), None
    if isinstance(item, Path):
        try:
            return item.read_bytes(), None
        except OSError as exc:
            return None, f"unreadable ({exc.strerror or exc})"
    # A JSON null: NaN from "dataframe_records", the text "None" from "inputs" (MLflow's conversion;
    # as base64 it would be 3 bytes, never an image).
    if not isinstance(item, str) or item == "None":
        return None, "no image (expected base64 text)"
    text = item.split(",", 1)[1] if item.startswith("data:") and "," in item else item
    try:
        return base64.b64decode("".join(text.split()), validate=True), None
    except (binascii.Error, ValueError) as exc:
        return None, f"not base64 ({exc})"


class ImageModel(mlflow.pyfunc.PythonModel):
    """A trained model (``imgclf.models.loading``) that classifies encoded images."""

    def __init__(self) -> None:
        self.loaded: LoadedModel | None = None  # set by load_context or from_directory
        self.grey_zone: tuple[float, float] = (0.0, 1.0)
        self.size, self.color, self.fit, self.max_pixels = (0, 0), "grayscale", "stretch", 0
        self._lock = threading.Lock()  # the server predicts from several threads; Keras one batch at a time

    @classmethod
    def from_directory(cls, directory: Path, grey_zone: Sequence[float], max_pixels: int | None = None) -> "ImageModel":
        """The model saved in ``directory``; ``max_pixels`` when its ``model.json`` records none
        (else the schema's default)."""
        model = cls()
        model.setup(load_model(Path(directory)), grey_zone, max_pixels)
        return model

    def load_context(self, context) -> None:
        """What MLflow calls when it loads the logged model: its folder and its configuration."""
        config = context.model_config or {}
        self.setup(load_model(Path(context.artifacts[ARTIFACT])), config["grey_zone"], config["max_pixels"])

    def setup(self, loaded: LoadedModel, grey_zone: Sequence[float], max_pixels: int | None) -> None:
        prep = loaded.meta.get("preprocess")
        if prep is None:
            raise PipelineError(f"model {loaded.name}: no preprocessing recorded in its model.json; re-run its training stage")
        if max_pixels is None:
            from imgclf.params import PreprocessParams

            max_pixels = PreprocessParams().max_pixels
        self.loaded, self.grey_zone = loaded, (float(grey_zone[0]), float(grey_zone[1]))
        self.size, self.color, self.fit = tuple(prep["image_size"]), prep["color"], prep.get("fit", "stretch")
        self.max_pixels = int(prep.get("max_pixels", max_pixels))

    @property
    def class_names(self) -> list[str]:
        return [str(name) for name in self.loaded.meta["class_names"]]

    @property
    def columns(self) -> list[str]:
        """The answer's columns: ``predicted``, ``p_<class>`` for each class, ``uncertain``, ``error``."""
        return ["predicted", *(f"p_{name}" for name in self.class_names), "uncertain", "error"]

    def decode(self, item: Any) -> tuple[np.ndarray | None, str | None]:
        """One input item to the image the model sees, or ``(None, reason)``."""
        data, reason = item_bytes(item)
        if data is None:
            return None, reason
        return decode_bytes(data, self.size, self.color, self.fit, max_pixels=self.max_pixels)

    def classify(self, items: Sequence[Any]) -> pd.DataFrame:
        """One row per item, in order (see :attr:`columns`); nulls where an item has an ``error``."""
        names, images, reasons = self.class_names, [], []
        for item in items:
            image, reason = self.decode(item)
            reasons.append(reason)
            if image is not None:
                images.append(image)
        if images:
            with self._lock:
                proba = self.loaded.predict_proba(np.stack(images))
        else:
            proba = np.empty((0, len(names)))
        sure = answered(proba, *self.grey_zone)
        rows, decoded = [], iter(range(len(images)))
        for reason in reasons:
            if reason:
                rows.append([None] * (len(names) + 2) + [reason])
                continue
            i = next(decoded)
            rows.append([names[int(proba[i].argmax())], *map(float, proba[i]), not bool(sure[i]), None])
        return pd.DataFrame(rows, columns=self.columns, dtype=object)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """MLflow's entry point: a frame with an ``image`` column (a list or a series also do)."""
        if isinstance(model_input, pd.DataFrame):
            if INPUT not in model_input.columns:
                raise PipelineError(f"no {INPUT!r} column in the input (got {list(model_input.columns)})")
            model_input = model_input[INPUT]
        return self.classify(list(model_input))


# MLflow builds the logged model by running this file (models from code) under a name of its own:
# the model it gets is the package's class, the one ``predict`` uses. Imported, this sets nothing.
if __name__ != "imgclf.serving.image_model":
    from imgclf.serving.image_model import ImageModel as PackageImageModel

    mlflow.models.set_model(PackageImageModel())
