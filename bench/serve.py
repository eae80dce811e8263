"""Requests per second and latency of the served model, for batches of 1 and 32 images.

It starts ``mlflow models serve`` as ``make serve`` does (the virtual environment's ``bin`` on PATH,
``--env-manager local``) on a free port of 127.0.0.1, for ``models:/image-classifier@candidate`` of
the repository's store (``make repro`` registers it) or ``--model``, and waits for ``/ping``. Each
request is a JSON body of base64 JPEGs: the split's test digits written as JPEG files,
the same bodies over and over. For each batch size, after a few warm-up requests, one client sends
requests one after another over a kept-alive connection until ``--requests`` requests or
``--seconds`` seconds, whichever comes first, and the latency of each is timed from sending to the
last byte of the answer. It prints requests/s, images/s, p50 and p99 latency, then the same
batches through the model in this process (``mlflow.pyfunc.load_model``, no HTTP), which shows
what HTTP and JSON add. The server is stopped at the end.

    python bench/serve.py [--requests 1000] [--seconds 30] [--model URI]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # loopback only
BATCHES = (1, 32)
WARM_UP = 5


def jpeg_bodies(count: int) -> list[str]:
    """``count`` test digits of the pipeline's split as base64 JPEG files."""
    import cv2

    from imgclf.data.parts import load_part

    images = load_part("test", REPO / "data/prepared", REPO / "data/split").images[:count]
    encoded = [cv2.imencode(".jpg", image)[1].tobytes() for image in images]
    return [base64.b64encode(data).decode("ascii") for data in encoded]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def server(model: str, port: int, log: Path):
    """``mlflow models serve`` on ``HOST:port`` until ``/ping`` answers; stopped afterwards."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{REPO / 'mlflow.db'}")
    command = [str(BIN / "mlflow"), "models", "serve", "-m", model, "--env-manager", "local",
               "--host", HOST, "--port", str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=2)
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def load(port: int, body: bytes, size: int, requests: int, seconds: float) -> dict:
    """Requests one after another on one connection: how many, how fast, their latencies."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"Content-Type": "application/json"}

    def send() -> float:
        start = time.perf_counter()
        connection.request("POST", "/invocations", body, headers)
        response = connection.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {answer[:500]!r}")
        predictions = json.loads(answer)["predictions"]
        if len(predictions) != size or any(p["error"] for p in predictions):
            raise SystemExit(f"unexpected answer: {answer[:500]!r}")
        return elapsed

    for _ in range(WARM_UP):
        send()
    latencies, start = [], time.perf_counter()
    while len(latencies) < requests and time.perf_counter() - start < seconds:
        latencies.append(send())
    total = time.perf_counter() - start
    return {"requests": len(latencies), "seconds": total, "latencies": np.array(latencies)}


def in_process(model: str, images: list[str], requests: int, seconds: float) -> dict[int, dict]:
    """The same batches through the loaded model in this process: the work without HTTP or JSON."""
    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{REPO / 'mlflow.db'}"))
    loaded = mlflow.pyfunc.load_model(model)
    results = {}
    for size in BATCHES:
        frame = pd.DataFrame({"image": images[:size]})
        for _ in range(WARM_UP):
            loaded.predict(frame)
        latencies, start = [], time.perf_counter()
        while len(latencies) < requests and time.perf_counter() - start < seconds:
            began = time.perf_counter()
            loaded.predict(frame)
            latencies.append(time.perf_counter() - began)
        results[size] = {"requests": len(latencies), "seconds": time.perf_counter() - start,
                         "latencies": np.array(latencies)}
    return results


def line(label: str, size: int, r: dict) -> str:
    ms = r["latencies"] * 1000
    rate = r["requests"] / r["seconds"]
    return (f"  {label:<12} batch {size:>2}: {r['requests']:>5} requests in {r['seconds']:5.1f} s  "
            f"{rate:7.1f} req/s  {rate * size:7.1f} img/s  p50 {np.percentile(ms, 50):7.1f} ms  "
            f"p99 {np.percentile(ms, 99):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models:/image-classifier@candidate")
    parser.add_argument("--requests", type=int, default=1000, help="at most this many requests per batch size")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long per batch size")
    args = parser.parse_args()
    images = jpeg_bodies(max(BATCHES))
    bodies = {size: json.dumps({"inputs": {"image": images[:size]}}).encode() for size in BATCHES}
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        started = time.perf_counter()
        with server(args.model, port, Path(tmp) / "serve.log"):
            ready = time.perf_counter() - started
            served = {size: load(port, bodies[size], size, args.requests, args.seconds) for size in BATCHES}
    local = in_process(args.model, images, args.requests, args.seconds)
    print(f"{args.model} served on {HOST} by `mlflow models serve --env-manager local` (1 worker), "
          f"{os.cpu_count()} CPUs; ready in {ready:.1f} s")
    print(f"one client, requests one after another; test digits as JPEGs, {np.mean([len(i) for i in images]):.0f} "
          "characters of base64 each on average")
    for size in BATCHES:
        print(line("HTTP", size, served[size]))
    for size in BATCHES:
        print(line("in process", size, local[size]))


if __name__ == "__main__":
    main()
