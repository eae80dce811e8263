"""Real servers on loopback for the duration of a test: ``mlflow server``, or any command
(``make serve``) that answers a health URL; and a crash of one (:func:`kill_server`)."""

from __future__ import annotations

import contextlib
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

SERVERS: dict[str, subprocess.Popen] = {}  # the running servers by health URL, for kill_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL ``process`` and every process of its session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def serving(command: Sequence[str], health: str, log: Path, timeout: float = 90.0, cwd: Path | None = None,
            env: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run ``command`` in a session of its own until ``health`` answers 200, and yield; stop it,
    and every process it started, afterwards (unless :func:`kill_server` crashed it already)."""
    with open(log, "a") as out:
        server = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                  env=dict(env) if env is not None else None, start_new_session=True)
    SERVERS[health] = server
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
        SERVERS.pop(health, None)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(server)


@contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, log: Path, timeout: float = 90.0,
                  port: int | None = None) -> Iterator[str]:
    """Start ``mlflow server`` over ``backend_uri`` (artifacts proxied into ``artifacts``) on
    ``port`` (a free one by default) and yield its URL once ``/health`` answers; stop it, and
    its workers, afterwards."""
    port = port or free_port()
    command = [str(BIN / "mlflow"), "server", "--backend-store-uri", backend_uri, "--artifacts-destination",
               str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # as the README's team server: no job runners
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/health", log, timeout, env=env):
        yield url


def kill_server(url: str) -> None:
    """SIGKILL the ``mlflow server`` at ``url`` and its workers, as a crash would."""
    kill_group(SERVERS[f"{url}/health"])
