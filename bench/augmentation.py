"""Augmentation inside the model or in the input pipeline: which trains faster (issue #17, item 2).

The stages run the Keras augmentation layers inside the model (``build_cnn(augmentation=...)``),
where they run on the device that trains, in training only, and travel with nothing: the saved
model drops them. The alternative maps the same layers over the batches in tf.data
(``num_parallel_calls=AUTOTUNE``), so that on a CPU they may overlap with the previous training
step. Both train the catdog preset on the Dogs vs Cats configuration's augmentation (rotation
15 degrees, shifts, shear and zoom 0.1, flips) from the stage's own input pipeline
(``imgclf.models.inputs.batches``), on synthetic 64x64 RGB images in memory, each in a fresh
process, alternating; the first epoch (tracing) is left out of the time. It prints the medians
of the seconds per epoch and their ratio, pipeline / model.

    python bench/augmentation.py [--images 2048] [--epochs 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RUN = """
import json, sys, time
import keras, numpy as np, tensorflow as tf
from imgclf.data.dataset import ImageSet
from imgclf.models.cnn import augmentation_layers, build_cnn
from imgclf.models.inputs import batches
from imgclf.models.presets import layer_specs
from imgclf.models.training import compile_model, seed_everything
from imgclf.params import AugmentationParams, CnnParams

where, n, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seed_everything(0)
rng = np.random.default_rng(0)
data = ImageSet(rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), rng.integers(0, 2, n), ("cat", "dog"))
aug = AugmentationParams(rotation=15, width_shift=0.1, height_shift=0.1, shear=0.1, zoom=0.1, horizontal_flip=True)
params = CnnParams(architecture="catdog", batch_size=32, epochs=epochs)
model = build_cnn(layer_specs("catdog"), (64, 64, 3), 2, augmentation=aug if where == "model" else None)
compile_model(model, params)
dataset = batches(data, 32, shuffle_seed=0)
if where == "pipeline":
    layers = augmentation_layers(aug)
    def augmented(images, labels):
        x = tf.cast(images, tf.float32)
        for layer in layers:
            x = layer(x, training=True)
        return x, labels
    dataset = dataset.map(augmented, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
times = []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)
model.fit(dataset, epochs=epochs, callbacks=[Clock()], shuffle=False, verbose=0)
print(json.dumps(times[1:]))
"""


def run(where: str, images: int, epochs: int) -> float:
    """Seconds per epoch (after the first) with the augmentation ``where`` (model or pipeline)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-c", RUN, where, str(images), str(epochs)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return statistics.mean(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"model": [], "pipeline": []}
    for _ in range(args.repeats):
        for where in times:
            times[where].append(run(where, args.images, args.epochs))
    print(f"catdog, 64x64 RGB, {args.images} images, batch 32, {args.epochs - 1} timed epochs, {args.repeats} runs each, "
          f"{os.cpu_count()} cores")
    medians = {where: statistics.median(runs) for where, runs in times.items()}
    for where, runs in times.items():
        print(f"augmentation in the {where:<9} median {medians[where]:6.2f} s/epoch   runs "
              f"{', '.join(f'{t:.2f}' for t in runs)}")
    ratio = medians["pipeline"] / medians["model"]
    print(f"pipeline / model: {ratio:.3f} ({'the input pipeline is faster' if ratio < 1 else 'the model is faster'})")


if __name__ == "__main__":
    main()
