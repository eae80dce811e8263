"""A throw-away pipeline workspace for the benchmarks: params.yaml, and stages timed from outside.

A stage runs as DVC starts it (``python -m stages.NAME`` in the workspace, the repository's
sources importable); its wall time and peak resident memory are measured from outside.

The peak is the stage process's ``ru_maxrss``, which Linux carries across ``exec``: a process
forked from the benchmark starts with the benchmark's own resident memory (hundreds of MB once
it has generated images). So the stage is started by a small launcher process (a bare
interpreter, about 10 MB), and that is the floor of every figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

# Runs ``python ARGS`` (its stdout sent to stderr) and prints {"seconds", "status", "peak_mb"}.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(2, 1)
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "status": status, "peak_mb": usage.ru_maxrss / 1024}))
"""


def make_workspace(workspace: Path, change) -> Path:
    """``workspace`` with the repository's params.yaml after ``change(params)`` edited it in place."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    change(params)
    workspace.mkdir(parents=True)
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return workspace


def timed(workspace: Path, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``python ARGS`` run in ``workspace``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}
    log = workspace / "stage.log"  # a file, not a pipe: a chatty stage cannot fill it and stall
    with open(log, "w") as out:
        launched = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, *args], cwd=workspace, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=out, text=True)
    result = json.loads(launched.stdout) if launched.returncode == 0 else {"status": launched.returncode}
    if result["status"] != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"python {' '.join(args)} failed in {workspace} (status {result['status']}): {' / '.join(tail)}")
    return result["seconds"], result["peak_mb"]
