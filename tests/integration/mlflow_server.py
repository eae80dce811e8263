"""A real ``mlflow server`` on loopback for the duration of a test."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.tiny import BIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, log: Path, timeout: float = 90.0,
                  port: int | None = None) -> Iterator[str]:
    """Start ``mlflow server`` over ``backend_uri`` (artifacts proxied into ``artifacts``) on
    ``port`` (a free one by default) and yield its URL once ``/health`` answers; stop it, and
    its workers, afterwards (SIGKILL them: :func:`kill_server`)."""
    port = port or free_port()
    command = [str(BIN / "mlflow"), "server", "--backend-store-uri", backend_uri, "--artifacts-destination",
               str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    with open(log, "a") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    SERVERS[f"http://127.0.0.1:{port}"] = server
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"mlflow server did not come up on {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        SERVERS.pop(url, None)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(server)


SERVERS: dict[str, subprocess.Popen] = {}


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def kill_server(url: str) -> None:
    """SIGKILL the server at ``url`` started by :func:`mlflow_server` and its workers, as a crash would."""
    kill_group(SERVERS[url])
