"""Classify your own images with any trained model of the pipeline.

    python -m imgclf.serving.predict MODEL_DIR IMAGE_OR_FOLDER_OR_GLOB [...] [--out predictions.csv] [--explain DIR]

Each image gets the preprocessing the model was trained with (recorded in its ``model.json``);
an image whose header declares more pixels than ``preprocess.max_pixels`` (the model's, else the
schema's default) is refused undecoded.
The table and CSV give the predicted class, the probability of every class, and ``uncertain``
when the answer falls in the grey zone. An unreadable file is reported in its row. The rows come
from the object the registered model serves (``imgclf.serving.image_model``), so this command and
``mlflow models serve`` answer alike.
``--explain DIR`` writes a Grad-CAM overlay ``<stem>_gradcam.png`` per readable image (Keras
CNNs; a baseline has none, which one line says).
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from imgclf.data.folders import IMAGE_SUFFIXES
from imgclf.errors import PipelineError, run_stage
from imgclf.models.loading import LoadedModel
from imgclf.outputs import atomic_path
from imgclf.params import EvaluateParams
from imgclf.serving.image_model import ImageModel


def expand(inputs: list[str]) -> list[Path]:
    """Files, folders (their images, recursively) and glob patterns, in a stable order."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(ch in item for ch in "*?["):
            found += sorted(Path(p) for p in glob.glob(item, recursive=True))
        else:
            found.append(path)
    if not found:
        raise PipelineError(f"no images found in {' '.join(inputs)}")
    return found


def write_explanations(model: LoadedModel, images: np.ndarray, paths: list[Path], directory: Path) -> list[Path]:
    """A Grad-CAM overlay of each image for its predicted class, ``directory/<stem>_gradcam.png``
    at the model's input size; the files written (none for a baseline, which one line says)."""
    if model.meta["framework"] != "keras":
        print(f"predict: --explain: {model.name} is a baseline ({model.meta['framework']}); Grad-CAM needs a Keras CNN, "
              "no heat maps written")
        return []
    from imgclf.models.gradcam import gradcam, last_conv_path, overlay

    if not last_conv_path(model.model):
        print(f"predict: --explain: {model.name} has no convolutional layer; Grad-CAM needs a CNN, no heat maps written")
        return []
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for image, heat, path in zip(images, gradcam(model.model, images), paths):
        target = directory / f"{path.stem}_gradcam.png"
        _, png = cv2.imencode(".png", cv2.cvtColor(overlay(image, heat), cv2.COLOR_RGB2BGR))
        with atomic_path(target) as tmp:
            tmp.write_bytes(png.tobytes())
        written.append(target)
    return written


def predict(model_dir: Path, paths: list[Path], grey_zone: tuple[float, float],
            explain: Path | None = None) -> pd.DataFrame:
    """One row per file: predicted class, probability per class, ``uncertain`` inside the ``grey_zone``
    band (``evaluate.grey_zone``), error; nulls where there is an error. The rows are those the
    served model gives (:class:`~imgclf.serving.image_model.ImageModel`, the same object).
    ``explain``: a folder for Grad-CAM overlays."""
    served = ImageModel.from_directory(model_dir, grey_zone)
    table = served.classify(paths)
    table.insert(0, "file", [str(path) for path in paths])
    if explain is not None:
        decoded = [(image, path) for path in paths if (image := served.decode(path)[0]) is not None]
        if decoded:
            write_explanations(served.loaded, np.stack([image for image, _ in decoded]), [p for _, p in decoded], explain)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description="Classify images with a trained model of the pipeline.")
    parser.add_argument("model_dir", type=Path, help="e.g. models/cnn/lenet or models/baselines/logreg")
    parser.add_argument("images", nargs="+", help="files, folders or glob patterns")
    parser.add_argument("--out", type=Path, default=Path("predictions.csv"))
    parser.add_argument("--explain", type=Path, metavar="DIR",
                        help="write a Grad-CAM overlay <stem>_gradcam.png per image into DIR (Keras CNNs)")
    band = EvaluateParams().grey_zone
    parser.add_argument("--grey-zone", type=float, nargs=2, default=band, metavar=("LOW", "HIGH"),
                        help=f"the abstain band (default: evaluate.grey_zone's default, {band[0]} {band[1]})")
    args = parser.parse_args()
    table = predict(args.model_dir, expand(args.images), tuple(args.grey_zone), args.explain)
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    shown = table.copy()  # the CSV keeps every digit, as the server answers; the screen shows four
    for column in (c for c in table.columns if c.startswith("p_")):
        shown[column] = table[column].map(lambda v: v if v is None else round(v, 4))
    print(shown.to_string(index=False))
    print(f"\n{len(table)} images, {int(table['error'].notna().sum())} unreadable; written to {args.out}")


if __name__ == "__main__":
    run_stage(main)
