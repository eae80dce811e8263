"""Time and peak memory of each data stage as the dataset grows (issue #17, item 3).

For each size it writes a folder of synthetic 64x64 RGB JPEGs (Kaggle's flat layout,
``cat.N.jpg`` / ``dog.N.jpg``, every image distinct), then runs in a fresh workspace, as DVC
starts them: ``stages.fetch``, ``stages.preprocess`` (64x64 RGB), ``stages.split`` (70/15/15)
and one epoch of ``stages.train_cnn`` on the tutorial's ``catdog`` preset (no early stopping).
It prints each stage's wall time and peak RSS (the stage process's own ``ru_maxrss``), the
prepared pixels' size for scale, and how much each stage's peak grew from the smallest size to
the largest against the growth of the data.

Issue #17's target: every stage's peak RSS flat in the dataset size (bounded by a shard and the
model), under 1.5 GB at 200,000 images.

    python bench/scale.py [--sizes 10000 50000 200000] [--cache DIR] [--until split]

``--cache DIR`` keeps the generated folders there (``DIR/N``) and reuses them on the next run;
``--until STAGE`` stops after that stage (``split``: the data stages alone, minutes not hours).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from workspace import make_workspace, timed

SIZE = 64
STAGES = (("fetch", ("-m", "stages.fetch")), ("preprocess", ("-m", "stages.preprocess")),
          ("split", ("-m", "stages.split")), ("train_cnn", ("-m", "stages.train_cnn", "catdog")))
TARGET_MB = 1536


def make_folder(folder: Path, n: int, chunk: int = 1000) -> None:
    """``n`` distinct 64x64 RGB JPEGs in ``folder``, half cats, half dogs: blocky 8x8 colour
    fields (the class shifts the red channel, so there is something to learn) with noise."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        fields = rng.integers(0, 200, (count, 8, 8, 3), dtype=np.int16)
        images = np.repeat(np.repeat(fields, 8, axis=1), 8, axis=2) + rng.integers(0, 48, (count, SIZE, SIZE, 3))
        for k in range(count):
            i = start + k
            image = images[k]
            if i % 2:
                image[..., 2] += 40  # OpenCV writes BGR: index 2 is red
            ok, data = cv2.imencode(".jpg", np.clip(image, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
            (folder / f"{'dog' if i % 2 else 'cat'}.{i}.jpg").write_bytes(data.tobytes())


def folder_of(cache: Path, n: int) -> Path:
    """``cache/n``, written unless a complete one is there."""
    folder = cache / str(n)
    done = folder / ".complete"
    if not done.exists():
        make_folder(folder, n)
        done.touch()
    return folder


def params_for(folder: Path):
    """The workspace's params.yaml edit: the folder at 64x64 RGB, one CNN (catdog) for one epoch."""
    def change(params: dict) -> None:
        params["fetch"].update(source="image_folder", path=str(folder))
        params["preprocess"].update(image_size=[SIZE, SIZE], color="rgb")
        params["split"].update(keep_given=False)
        params["train_cnn"] = {"catdog": {"architecture": "catdog", "epochs": 1, "batch_size": 32,
                                          "early_stopping": None}}
    return change


def measure(folder: Path, n: int, workspace: Path, stages) -> dict[str, tuple[float, float]]:
    """Each of ``stages``' (seconds, peak MB) on the ``n`` images of ``folder``."""
    make_workspace(workspace, params_for(folder))
    results = {}
    for name, args in stages:
        results[name] = timed(workspace, *args)
        print(f"  {n:>7} images  {name:<10} {results[name][0]:7.1f} s  peak RSS {results[name][1]:6.0f} MB", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000, 200000])
    parser.add_argument("--cache", type=Path, help="keep the generated JPEG folders here (DIR/N)")
    parser.add_argument("--until", choices=[name for name, _ in STAGES], default=STAGES[-1][0],
                        help="the last stage to run")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    stages = STAGES[:[name for name, _ in STAGES].index(args.until) + 1]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        cache = args.cache or Path(tmp) / "folders"
        print(f"synthetic {SIZE}x{SIZE} RGB JPEGs, sizes {sizes}, on {os.cpu_count()} cores")
        table = {n: measure(folder_of(cache, n), n, Path(tmp) / f"workspace-{n}", stages) for n in sizes}
    pixels_mb = {n: n * SIZE * SIZE * 3 / 2**20 for n in sizes}
    print(f"\n{'images':>8} {'pixels MB':>10} " + " ".join(f"{name + ' s / MB':>22}" for name, _ in stages))
    for n in sizes:
        print(f"{n:>8} {pixels_mb[n]:>10.0f} " + " ".join(
            f"{table[n][name][0]:>11.1f} / {table[n][name][1]:>7.0f}" for name, _ in stages))
    small, large = sizes[0], sizes[-1]
    if large > small:
        print(f"\nfrom {small} to {large} images the data grows {large / small:.0f}x "
              f"({pixels_mb[large] - pixels_mb[small]:.0f} MB of pixels); each stage's peak RSS grows by:")
        for name, _ in stages:
            grown = table[large][name][1] - table[small][name][1]
            verdict = "flat" if grown < 0.1 * (pixels_mb[large] - pixels_mb[small]) else "grows with the data"
            print(f"  {name:<10} {grown:+7.0f} MB ({verdict}); at {large}: {table[large][name][1]:.0f} MB "
                  f"(target under {TARGET_MB} MB: {'met' if table[large][name][1] < TARGET_MB else 'not met'})")


if __name__ == "__main__":
    main()
