"""Images per second for turning JPEG files into 50x50 grayscale arrays, four ways.

- pipeline: ``imgclf.data.decoding.decode_images`` (what the preprocess stage runs);
- PIL loop: one process, ``Image.open(...).convert("L").resize(...)``, as the tutorial does;
- bare OpenCV: a thread pool of ``cv2.imread(..., IMREAD_REDUCED_GRAYSCALE_k)`` + ``cv2.resize``;
- stage: the whole ``python -m stages.preprocess`` as DVC starts it (interpreter start, imports,
  reading params.yaml and fetch's file list, decoding, hashing, writing the shards), timed
  from outside in a workspace that ``python -m stages.fetch`` made from the same files;
- bare OpenCV program: the bare OpenCV method as a whole process timed the same way
  (interpreter start, importing NumPy and OpenCV, reading the file list), the stage's
  like-for-like reference.

Each method runs in its own process (files already in the page cache from a warm-up read),
so its peak resident memory is its own. The methods run in turn, ``--repeat`` rounds, and each
keeps its fastest run: on a second of work, two runs of one method differed by a quarter.

    python bench/preprocess.py [--n 5000] [--folder DIR] [--size 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from workspace import REPO, make_workspace, timed

sys.path.insert(0, str(REPO / "src"))


def make_jpegs(folder: Path, n: int) -> list[Path]:
    """``n`` synthetic 375x500 photos: smooth gradients, shapes and noise (about 40 KB each)."""
    import cv2

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:375, 0:500]
    paths = []
    for i in range(n):
        base = (np.sin(xx / (20 + i % 30)) * 60 + np.cos(yy / (15 + i % 20)) * 60 + 128)
        image = np.stack([base, base[::-1], base[:, ::-1]], axis=-1)
        image += rng.normal(0, 12, image.shape)
        image = np.clip(image, 0, 255).astype(np.uint8)
        cv2.circle(image, (int(rng.integers(50, 450)), int(rng.integers(50, 325))), 40, (255, 255, 255), -1)
        path = folder / f"{'cat' if i % 2 else 'dog'}.{i}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def run_pipeline(paths: list[Path], size: int, max_pixels: int) -> np.ndarray:
    from imgclf.data.decoding import decode_images

    images, _ = decode_images(paths, (size, size), "grayscale", progress=False, max_pixels=max_pixels)
    return images


def run_pil(paths: list[Path], size: int) -> np.ndarray:
    from PIL import Image

    out = np.empty((len(paths), size, size), np.uint8)
    for i, path in enumerate(paths):
        with Image.open(path) as image:
            out[i] = np.asarray(image.convert("L").resize((size, size)))
    return out


def run_opencv(paths: list[Path], size: int) -> np.ndarray:
    from concurrent.futures import ThreadPoolExecutor

    import cv2

    out = np.empty((len(paths), size, size), np.uint8)
    flag = cv2.IMREAD_REDUCED_GRAYSCALE_4  # 375x500 / 4 = 93x125, still above 50x50

    def work(i: int) -> None:
        out[i] = cv2.resize(cv2.imread(str(paths[i]), flag), (size, size), interpolation=cv2.INTER_AREA)

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(work, range(len(paths))))
    return out


METHODS = {"pipeline": run_pipeline, "pil": run_pil, "opencv": run_opencv}


def time_stage(folder: Path, size: int, workspace: Path, listing: Path, repeat: int) -> dict:
    """``python -m stages.fetch`` (untimed), then ``python -m stages.preprocess`` timed, in a
    workspace whose params.yaml reads ``folder`` at ``size`` x ``size`` grayscale; the
    interpreter start with the stage's imports alone, for scale; and the bare OpenCV method as
    a whole program, timed from outside like the stage; the fastest of ``repeat`` runs of each."""

    def change(params: dict) -> None:
        params["fetch"].update(source="image_folder", path=str(folder))
        params["preprocess"].update(image_size=[size, size], color="grayscale")

    make_workspace(workspace, change)
    timed(workspace, "-m", "stages.fetch")
    stage, program = [], []
    for _ in range(repeat):
        stage.append(timed(workspace, "-m", "stages.preprocess"))
        program.append(timed(workspace, __file__, "--child", "opencv", "--listing", str(listing), "--size", str(size),
                             "--no-warm-up")[0])  # the files are in the page cache: the stage has just read them
    seconds, peak_mb = min(stage)
    program = min(program)
    images = json.loads((workspace / "data" / "prepared" / "manifest.json").read_text())["images"]
    return {"method": "stage", "images": images, "seconds": seconds, "peak_mb": peak_mb,
            "startup": timed(workspace, "-c", "import stages.preprocess")[0], "opencv_program": program}


def own_peak_mb() -> float:
    """This process's peak RSS since it started this program (Linux ``VmHWM``: unlike
    ``ru_maxrss`` it does not carry over the forking parent's memory across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def child(method: str, listing: Path, size: int, warm_up: bool = True) -> None:
    paths = [Path(p) for p in listing.read_text().split("\n") if p]
    for path in paths if warm_up else ():  # warm the page cache: measure decoding, not the disk
        path.read_bytes()
    run = METHODS[method]
    if method == "pipeline":  # preprocess.max_pixels' default, read before the timing (it imports pydantic)
        from imgclf.params import PreprocessParams

        run = functools.partial(run_pipeline, max_pixels=PreprocessParams().max_pixels)
    start = time.perf_counter()
    run(paths, size)
    seconds = time.perf_counter() - start
    peak_mb = own_peak_mb()
    print(json.dumps({"method": method, "images": len(paths), "seconds": seconds, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="synthetic JPEGs to make (without --folder)")
    parser.add_argument("--folder", type=Path, help="use the JPEGs under this folder instead")
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each method keeps its fastest run")
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--listing", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-warm-up", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.listing, args.size, warm_up=not args.no_warm_up)
        return
    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as tmp:
        if args.folder:
            paths = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
            what = f"{len(paths)} JPEGs from {args.folder}"
        else:
            (Path(tmp) / "jpegs").mkdir()
            paths = make_jpegs(Path(tmp) / "jpegs", args.n)
            what = f"{len(paths)} synthetic 375x500 JPEGs"
        listing = Path(tmp) / "listing.txt"
        listing.write_text("\n".join(map(str, paths)))
        folder = args.folder or Path(tmp) / "jpegs"  # not tmp itself: the workspace must not be scanned
        results = {}
        for _, method in itertools.product(range(args.repeat), METHODS):
            out = subprocess.run(
                [sys.executable, __file__, "--child", method, "--listing", str(listing), "--size", str(args.size)],
                capture_output=True, text=True, check=True,
            ).stdout
            run = json.loads(out.strip().splitlines()[-1])
            if method not in results or run["seconds"] < results[method]["seconds"]:
                results[method] = run
        results["stage"] = time_stage(folder, args.size, Path(tmp) / "workspace", listing, args.repeat)
    print(f"{what} to {args.size}x{args.size} grayscale on {os.cpu_count()} cores (page cache warm)")
    rate = {m: r["images"] / r["seconds"] for m, r in results.items()}
    for method, r in results.items():
        print(f"  {method:<9} {rate[method]:8.0f} images/s  {r['seconds']:6.2f} s  peak RSS {r['peak_mb']:6.0f} MB")
    print(f"pipeline / PIL loop:    {rate['pipeline'] / rate['pil']:.2f}x (target at least 3x)")
    print(f"pipeline / bare OpenCV: {rate['pipeline'] / rate['opencv']:.2f} (target at least 0.95)")
    print(f"stage / bare OpenCV:    {rate['stage'] / rate['opencv']:.2f} (target at least 0.9; "
          f"{results['stage']['startup']:.2f} s of the stage's {results['stage']['seconds']:.2f} s is the "
          "interpreter starting and importing the stage)")
    program = results["stage"]["opencv_program"]
    print(f"stage / bare OpenCV program, both whole processes: {program / results['stage']['seconds']:.2f} "
          f"(target at least 0.9; the program took {program:.2f} s)")
    print(f"25,000 images at the pipeline's rate: {25000 / rate['pipeline']:.1f} s (target under 15 s)")


if __name__ == "__main__":
    main()
