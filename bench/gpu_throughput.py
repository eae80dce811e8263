"""Training throughput of one preset CNN, in images per second, on one device and dtype policy.

    python bench/gpu_throughput.py --device cpu|gpu --policy float32|mixed_float16 [--steps 30]

The model is the pipeline's own (``build_cnn`` and ``compile_model``, as ``train_cnn`` builds
it), by default the catdog preset on 64x64 RGB images, two classes. The images are random uint8
pixels fed by ``tf.data`` from memory, so the figure is the model's training speed, not the
input pipeline's. One untimed ``fit`` of ``--warmup`` steps traces and compiles the step; the
timed ``fit`` then runs ``--steps`` steps. ``--device cpu`` hides every GPU; ``--device gpu``
prints ``no GPU`` (and exits 0) when TensorFlow sees none. ``bench/gpu.sh`` runs all four rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "gpu"], required=True)
    parser.add_argument("--policy", choices=["float32", "mixed_float16", "mixed_bfloat16"], default="float32")
    parser.add_argument("--preset", default="catdog")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before TensorFlow loads
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from imgclf.models.cnn import build_cnn
    from imgclf.models.presets import layer_specs
    from imgclf.models.training import compile_model
    from imgclf.params import FitParams

    label = f"{args.device} {args.policy:<14}"
    gpus = tf.config.list_physical_devices("GPU")
    if args.device == "gpu" and not gpus:
        print(f"{label} no GPU (TensorFlow {tf.__version__} sees none)")
        return
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.batch * 4, args.size, args.size, 3), dtype=np.uint8)
    labels = rng.integers(0, 2, len(images))
    data = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(args.batch).prefetch(2)
    model = build_cnn(layer_specs(args.preset), (args.size, args.size, 3), 2, args.preset,
                      mixed_precision=None if args.policy == "float32" else args.policy)
    compile_model(model, FitParams(batch_size=args.batch))
    model.fit(data, steps_per_epoch=args.warmup, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    seconds = time.perf_counter() - start
    where = gpus[0].name if args.device == "gpu" else f"{os.cpu_count()} logical CPUs"
    print(f"{label} {args.steps * args.batch / seconds:9.0f} images/s  ({args.preset} {args.size}x{args.size} RGB, "
          f"batch {args.batch}, {args.steps} steps in {seconds:.2f} s, {where})")


if __name__ == "__main__":
    main()
