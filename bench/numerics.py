"""What pinned numerics cost: training time with ``numerics.portable: true`` against ``false``.

    python bench/numerics.py [--repeats 3] [--epochs 5] [--only lenet]

Runs the real stages (``python -m stages.train_baselines`` and ``python -m stages.train_cnn``,
each a fresh process, as DVC runs them) in a temporary copy of the project on the prepared
split in ``data/prepared`` and ``data/split`` (run ``make repro`` first), alternating pinned and unpinned runs, for
the default LeNet and a larger CNN (the Fashion-MNIST tutorial's Conv-BatchNorm blocks). Each
CNN trains a fixed number of epochs (no early stopping), so both runs do the same work. Prints
the medians and their ratio, pinned / unpinned: above 1, the pins cost that much.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKLOADS = {
    "train_baselines (logreg, mlp)": ["stages.train_baselines"],
    "train_cnn lenet": ["stages.train_cnn", "lenet"],
    "train_cnn fashion_bn (larger)": ["stages.train_cnn", "fashion_bn"],
}


def project_copy(root: Path, epochs: int) -> None:
    """The code, the params (both CNNs at a fixed number of epochs) and the split, in ``root``."""
    for name in ("src", "stages"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for part in ("prepared", "split"):  # the shards of images, and the split's index files into them
        shutil.copytree(REPO / "data" / part, root / "data" / part)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    lenet = {**params["train_cnn"]["lenet"], "epochs": epochs, "early_stopping": None}
    params["train_cnn"] = {"lenet": lenet, "fashion_bn": {**lenet, "architecture": "fashion_bn"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def set_portable(root: Path, portable: bool) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["numerics"] = {**params.get("numerics", {}), "portable": portable}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def timed(root: Path, command: list[str]) -> float:
    """Seconds for one stage process, start to exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    env.update(PYTHONPATH=str(root / "src"), MLFLOW_TRACKING_URI=f"sqlite:///{root / 'bench.db'}")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", *command], cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"bench/numerics.py: {' '.join(command)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--only", default="", help="run only the workloads whose label contains this (e.g. lenet)")
    args = parser.parse_args()
    if not (REPO / "data" / "split" / "train.npy").exists():
        sys.exit("bench/numerics.py: no data/split/train.npy; run `make repro` first")
    print(f"{os.cpu_count()} cores; {args.repeats} runs of each, alternating; CNNs {args.epochs} epochs")
    with tempfile.TemporaryDirectory(prefix="bench-numerics-") as tmp:
        root = Path(tmp)
        project_copy(root, args.epochs)
        for label, command in WORKLOADS.items():
            if args.only not in label:
                continue
            times: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.repeats):
                for portable in (True, False):
                    set_portable(root, portable)
                    times[portable].append(timed(root, command))
            pinned, free = statistics.median(times[True]), statistics.median(times[False])
            print(f"{label:<32} pinned {pinned:7.2f} s   unpinned {free:7.2f} s   ratio {pinned / free:.3f}"
                  f"   (minima {min(times[True]):.2f} / {min(times[False]):.2f} s)")


if __name__ == "__main__":
    main()
