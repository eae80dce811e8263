"""What a no-op ``dvc repro`` costs, against the 1.2 s target (#17).

Run in a repository whose pipeline is up to date (``make repro`` first). Alternates, run after
run, three commands and prints their medians:

- ``dvc repro`` as installed (ruamel.yaml with libyaml's C parser, ``ruamel.yaml.clib``);
- the same with the C parser hidden, as DVC runs without ``ruamel.yaml.clib``;
- the floor: Python starting and importing DVC's command line, nothing else.

    python bench/noop_repro.py [--runs 7]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

PURE = "import sys; sys.modules['_ruamel_yaml'] = None; from dvc.cli import main; sys.exit(main(['repro']))"
COMMANDS = {
    "dvc repro (C parser)": [sys.executable, "-c", "import sys; from dvc.cli import main; sys.exit(main(['repro']))"],
    "dvc repro (pure-Python parser)": [sys.executable, "-c", PURE],
    "floor: python -c 'import dvc.cli'": [sys.executable, "-c", "import dvc.cli"],
}


def timed(command: list[str]) -> float:
    """Seconds ``command`` took; it must succeed and, for repro, find nothing to do."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "Running stage" in done.stdout:
        sys.exit(f"bench/noop_repro.py: {command[-1][:60]}... did not run as a no-op (run `make repro` first):\n"
                 f"{done.stdout[-500:]}{done.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command, alternated")
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"no-op dvc repro, medians of {args.runs} alternated runs ({platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}):")
    for name, median in medians.items():
        print(f"  {name:<36} {median:6.2f} s  (min {min(times[name]):.2f} s)")
    installed = medians["dvc repro (C parser)"]
    print(f"  C parser / pure-Python parser: {installed / medians['dvc repro (pure-Python parser)']:.2f}; "
          f"target 1.2 s: {'met' if installed <= 1.2 else 'not met'} ({installed:.2f} s)")


if __name__ == "__main__":
    main()
