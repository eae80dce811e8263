"""Classify your own images with any trained model of the pipeline.

    python -m imgclf.serving.predict MODEL_DIR IMAGE_OR_FOLDER_OR_GLOB [...] [--out predictions.csv]

Each image gets the preprocessing the model was trained with (recorded in its ``model.json``);
an image whose header declares more pixels than ``preprocess.max_pixels`` (the model's, else the
schema's default) is refused undecoded.
The table and CSV give the predicted class, the probability of every class, and ``uncertain``
when the answer falls in the grey zone. An unreadable file is reported in its row. The rows come
from the object the registered model serves (``imgclf.serving.image_model``), so this command and
``mlflow models serve`` answer alike.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import pandas as pd

from imgclf.data.folders import IMAGE_SUFFIXES
from imgclf.errors import PipelineError, run_stage
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


def predict(model_dir: Path, paths: list[Path], grey_zone: tuple[float, float]) -> pd.DataFrame:
    """One row per file: predicted class, probability per class, ``uncertain`` inside the ``grey_zone``
    band (``evaluate.grey_zone``), error; nulls where there is an error. The rows are those the
    served model gives (:class:`~imgclf.serving.image_model.ImageModel`, the same object)."""
    table = ImageModel.from_directory(model_dir, grey_zone).classify(paths)
    table.insert(0, "file", [str(path) for path in paths])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description="Classify images with a trained model of the pipeline.")
    parser.add_argument("model_dir", type=Path, help="e.g. models/cnn/lenet or models/baselines/logreg")
    parser.add_argument("images", nargs="+", help="files, folders or glob patterns")
    parser.add_argument("--out", type=Path, default=Path("predictions.csv"))
    band = EvaluateParams().grey_zone
    parser.add_argument("--grey-zone", type=float, nargs=2, default=band, metavar=("LOW", "HIGH"),
                        help=f"the abstain band (default: evaluate.grey_zone's default, {band[0]} {band[1]})")
    args = parser.parse_args()
    table = predict(args.model_dir, expand(args.images), tuple(args.grey_zone))
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    shown = table.copy()  # the CSV keeps every digit, as the server answers; the screen shows four
    for column in (c for c in table.columns if c.startswith("p_")):
        shown[column] = table[column].map(lambda v: v if v is None else round(v, 4))
    print(shown.to_string(index=False))
    print(f"\n{len(table)} images, {int(table['error'].notna().sum())} unreadable; written to {args.out}")


if __name__ == "__main__":
    run_stage(main)
