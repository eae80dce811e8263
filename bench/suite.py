"""Where the test suite's time goes: the test command run once, the CPU of every process it
starts sampled twice a second, and totalled by what each process is.

    python bench/suite.py [--target 480] [--interval 0.5] [-- COMMAND ...]   # default: make test

Prints the wall time against issue #17's target for the suite (8 minutes on 2 cores) as a
ratio, the CPU seconds of each kind of process (a stage, DVC, the pytest workers, an MLflow
server, ...), and how busy the cores were: sampled CPU / (wall x cores). Any process started
after the command counts, its own children or not (DVC's queue workers and the servers the
tests start detach themselves). A process that lives less than one interval may be missed, and
the CPU a process spends in its last interval is: the rows are a floor.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time

import psutil

# The first of these found in a process's command line names its kind.
KINDS = (
    ("exp queue-worker", "dvc queue worker"), ("exec-run", "dvc exec-run (a queued experiment)"),
    ("exp run", "dvc exp run"), ("exp show", "dvc exp show"), ("dvc queue", "dvc queue"),
    ("bin/dvc", "dvc (other commands)"), ("huey", "mlflow server job runner"),
    ("uvicorn", "mlflow server"), ("mlflow server", "mlflow server"), ("mlflow", "mlflow (other)"), ("postgres", "postgres"),
    ("chromium", "chromium"), ("qemu-", "qemu"), ("pip install", "pip install"),
    ("exec(eval(sys.stdin", "pytest-xdist worker"), ("pytest", "pytest"),
)


def kind(cmdline: list[str]) -> str:
    """What a process is, from its command line: ``stage evaluate``, ``imgclf.tracking.sweep``,
    ``dvc exp run``, ...; else its program's name."""
    if "-m" in cmdline[:-1]:
        module = cmdline[cmdline.index("-m") + 1]
        if module.startswith("stages."):
            return f"stage {module.removeprefix('stages.')}"
        if module.startswith("imgclf."):
            return module
    line = " ".join(cmdline)
    for needle, name in KINDS:
        if needle in line:
            return name
    return os.path.basename(cmdline[0]) if cmdline else "?"


def sample(since: float, seen: dict) -> None:
    """Record the CPU seconds so far of every process started at or after ``since``."""
    for process in psutil.process_iter(["create_time", "cmdline", "cpu_times"]):
        info = process.info
        if info["create_time"] is None or info["create_time"] < since or info["cpu_times"] is None:
            continue
        key = (process.pid, info["create_time"])
        cpu = info["cpu_times"].user + info["cpu_times"].system
        if key in seen:
            seen[key][1] = cpu
        else:
            seen[key] = [kind(info["cmdline"] or []), cpu]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=float, default=480.0, help="the suite's target, in seconds of wall time")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two looks at the processes")
    parser.add_argument("command", nargs="*", default=["make", "test"], help="what to run (default: make test)")
    args = parser.parse_args()

    start, seen = time.time(), {}
    child = subprocess.Popen(args.command)
    while child.poll() is None:
        sample(start - 1.0, seen)
        time.sleep(args.interval)
    wall = time.time() - start

    totals, counts = collections.Counter(), collections.Counter()
    for name, cpu in seen.values():
        totals[name] += cpu
        counts[name] += 1
    cpu, cores = sum(totals.values()), os.cpu_count() or 1
    print(f"\n{' '.join(args.command)}: exit {child.returncode}, wall {wall:,.1f} s; target {args.target:,.0f} s; "
          f"wall / target {wall / args.target:.2f}")
    print(f"sampled CPU {cpu:,.1f} s over {cores} cores: busy {cpu / (wall * cores):.0%}\n")
    print(f"| {'process kind':<40} | {'CPU s':>8} | {'share':>6} | {'processes':>9} | {'CPU s each':>10} |")
    print(f"| {'-' * 40} | {'-' * 7}: | {'-' * 5}: | {'-' * 8}: | {'-' * 9}: |")
    for name, seconds in totals.most_common():
        if seconds >= 0.5:
            print(f"| {name:<40} | {seconds:>8,.1f} | {seconds / cpu:>6.1%} | {counts[name]:>9} | "
                  f"{seconds / counts[name]:>10.1f} |")
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
