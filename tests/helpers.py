"""Test helpers shared by every wing's tests: small, real image sets, JPEG files and PNG bombs."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from imgclf.data.dataset import ImageSet
from imgclf.models.presets import layer_specs
from imgclf.params import CnnParams

# A CNN small enough to train in a second on make_imageset's 12x12 images.
SMALL = layer_specs(CnnParams(architecture=[
    {"type": "conv", "filters": 4, "kernel": 3}, {"type": "max_pool"}, {"type": "flatten"},
]).architecture)


def make_imageset(n_per_class: int = 20, n_classes: int = 3, size: int = 12, channels: int = 1, seed: int = 0) -> ImageSet:
    """Images whose class is visible: class k lights up the k-th horizontal band, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    images = rng.integers(0, 60, size=(len(labels), size, size, channels), dtype=np.uint8)
    band = size // n_classes
    for i, label in enumerate(labels):
        images[i, label * band:(label + 1) * band] += 180
    names = tuple(f"class{k}" for k in range(n_classes))
    return ImageSet(images, labels.astype(np.int64), names)


def write_jpeg(path: Path, height: int = 60, width: int = 80, value: int = 128, color=(0, 0, 255)) -> Path:
    """A real JPEG file: a grey picture with a coloured top-left quarter (BGR ``color``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((height, width, 3), value, np.uint8)
    cv2.rectangle(image, (0, 0), (width // 2, height // 2), color, -1)
    assert cv2.imwrite(str(path), image)
    return path


def report_page(directory: Path, n_models: int = 3, n_classes: int = 4, n_per_class: int = 30,
                model_names: list[str] | None = None, class_names: tuple[str, ...] | None = None,
                image_shape: tuple[int, int, int] = (28, 28, 1)) -> Path:
    """A real report page (``directory/index.html``) from a small seeded evaluation of
    ``n_models`` models of growing skill (``model_names``, else ``model_<i>``), the first with
    learning curves and images of ``image_shape``."""
    from imgclf.evaluation.comparison import write_comparison
    from imgclf.evaluation.ranking import ranking
    from imgclf.evaluation.report import ModelEvaluation, write_model_report
    from imgclf.params import EvaluateParams

    settings = EvaluateParams(calibration_bins=10, lift_bins=5, bootstrap_resamples=200)
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(n_classes), n_per_class)
    images = rng.integers(0, 255, (len(y), *image_shape), dtype=np.uint8)
    names = class_names or tuple(f"class {k}" for k in range(n_classes))
    model_names = model_names or [f"model_{i}" for i in range(n_models)]
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "accuracy": [0.5, 0.7, 0.8],
               "val_accuracy": [0.4, 0.6, 0.7]}
    results, correct = {}, {}
    for i in range(n_models):
        proba = rng.dirichlet(np.ones(n_classes), size=len(y))
        proba[np.arange(len(y)), y] += 0.3 * (i + 1)
        proba /= proba.sum(axis=1, keepdims=True)
        model = ModelEvaluation(model_names[i], y, proba, names, history=history if i == 0 else None,
                                images=images if i == 0 else None)
        results[model.name] = write_model_report(model, settings, 0, directory / "plots", directory / "figures")
        correct[model.name] = proba.argmax(axis=1) == y
    ranked = ranking(results, correct, "accuracy", settings, 0)
    write_comparison(results, {}, ranked, directory / "plots", directory / "figures", "test data", 0.95,
                     directory / "summary.md", directory / "index.html")
    return directory / "index.html"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int) -> bytes:
    """A valid 8-bit grayscale PNG of ``side`` x ``side`` black pixels, its rows deflated by zlib:
    a decompression bomb (13,400 x 13,400 is 180 MB decoded, about 175 KB encoded)."""
    compressor, row = zlib.compressobj(9), bytes(side + 1)  # filter byte 0, then a black row
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
