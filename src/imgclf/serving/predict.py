"""Classify your own images with any trained model of the pipeline.

    python -m imgclf.serving.predict MODEL_DIR IMAGE_OR_FOLDER_OR_GLOB [...] [--out predictions.csv] [--explain DIR]

Each image gets the preprocessing the model was trained with (recorded in its ``model.json``);
an image whose header declares more pixels than ``preprocess.max_pixels`` (the model's, else the
schema's default) is refused undecoded.
The table and CSV give the predicted class, the probability of every class, and ``uncertain``
when the answer falls in the grey zone. An unreadable file is reported in its row.
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

from imgclf.errors import PipelineError, run_stage
from imgclf.evaluation.metrics import answered
from imgclf.data.decoding import decode_image
from imgclf.data.folders import IMAGE_SUFFIXES
from imgclf.models.loading import LoadedModel, load_model
from imgclf.outputs import atomic_path
from imgclf.params import EvaluateParams, PreprocessParams


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
    band (``evaluate.grey_zone``), error. ``explain``: a folder for Grad-CAM overlays."""
    model = load_model(model_dir)
    prep = model.meta.get("preprocess")
    if prep is None:
        raise PipelineError(f"{model_dir}/model.json: no preprocessing recorded; re-run its training stage")
    names = model.meta["class_names"]
    size = tuple(prep["image_size"])
    max_pixels = prep.get("max_pixels", PreprocessParams().max_pixels)
    rows, images, decoded_paths = [], [], []
    for path in paths:
        image, reason = decode_image(path, size, prep["color"], prep.get("fit", "stretch"), max_pixels=max_pixels)
        rows.append({"file": str(path), "error": reason or ""})
        if image is not None:
            images.append(image)
            decoded_paths.append(path)
    proba = model.predict_proba(np.stack(images)) if images else np.empty((0, len(names)))
    if explain is not None and images:
        write_explanations(model, np.stack(images), decoded_paths, explain)
    decoded = iter(range(len(images)))
    for row in rows:
        if row["error"]:
            row.update({"predicted": "", "uncertain": "", **{f"p_{n}": np.nan for n in names}})
            continue
        p = proba[next(decoded)]
        row.update({
            "predicted": names[int(p.argmax())],
            "uncertain": not bool(answered(p[np.newaxis], *grey_zone)[0]),
            **{f"p_{n}": round(float(v), 4) for n, v in zip(names, p)},
        })
    columns = ["file", "predicted", *[f"p_{n}" for n in names], "uncertain", "error"]
    return pd.DataFrame(rows, columns=columns)


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
    print(table.to_string(index=False))
    print(f"\n{len(table)} images, {int((table['error'] != '').sum())} unreadable; written to {args.out}")


if __name__ == "__main__":
    run_stage(main)
