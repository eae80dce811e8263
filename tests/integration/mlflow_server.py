"""Real servers on loopback for the duration of a test: ``mlflow server``, or any command
(``make serve``) that answers a health URL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.integration.tiny import BIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(command: Sequence[str], health: str, log: Path, timeout: float = 90.0, cwd: Path | None = None,
            env: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run ``command`` in a session of its own until ``health`` answers 200, and yield; stop it,
    and every process it started, afterwards."""
    with open(log, "w") as out:
        server = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                  env=dict(env) if env is not None else None, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{' '.join(command)} did not answer {health} (exit {server.poll()}):\n"
                                     f"{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, log: Path, timeout: float = 90.0) -> Iterator[str]:
    """Start ``mlflow server`` over ``backend_uri`` (artifacts proxied into ``artifacts``) and
    yield its URL once ``/health`` answers; stop it, and its workers, afterwards."""
    port = free_port()
    command = [str(BIN / "mlflow"), "server", "--backend-store-uri", backend_uri, "--artifacts-destination",
               str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/health", log, timeout, env=env):
        yield url
