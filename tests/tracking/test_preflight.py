"""The tracking store's check at a stage's start, against real sockets and servers on loopback."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pytest

from imgclf.data.shards import save_parts
from imgclf.errors import PipelineError
from imgclf.tracking.preflight import HTTP_DEFAULTS, check_store, store_must_answer
from imgclf.tracking.store import embedded_store_uri
from tests.helpers import make_imageset
from tests.integration.tiny import clean_env

REPO = Path(__file__).resolve().parents[2]


def refused_port() -> int:
    """A loopback port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers; its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # kept open, never read nor answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Requests to loopback go straight there, whatever proxy the environment names."""
    monkeypatch.setenv("NO_PROXY", "*")


@contextmanager
def answering_server(status: int, body: bytes = b'{"error_code": "TEST", "message": "test server"}',
                     seen: list | None = None) -> Iterator[str]:
    """An ``http.server`` on loopback answering every GET with ``status`` and ``body`` (JSON
    unless it starts with ``<``), noting each request's path and Authorization header in
    ``seen``; its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if seen is not None:
                seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if body.startswith(b"<") else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def failure(uri: str, timeout: float = 5.0) -> str:
    """The one-line message ``check_store`` stops with."""
    with pytest.raises(PipelineError) as caught:
        check_store(uri, "exp", timeout)
    message = str(caught.value)
    assert uri in message and "\n" not in message
    return message


def test_a_refused_port_is_named():
    uri = f"http://127.0.0.1:{refused_port()}"
    start = time.monotonic()
    assert "connection refused" in failure(uri)
    assert time.monotonic() - start < 2


def test_a_refused_database_port_is_named():
    assert "connection refused" in failure(f"postgresql://user@127.0.0.1:{refused_port()}/mlflow")


def test_a_server_that_never_answers_times_out_within_the_limit():
    with silent_server() as uri:
        start = time.monotonic()
        message = failure(uri, timeout=1.5)
        elapsed = time.monotonic() - start
    assert "answer within 1.5 s" in message
    assert elapsed < 1.5 + 2


def test_credentials_are_asked_for_on_401_and_403(monkeypatch):
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for status in (401, 403):
        with answering_server(status) as uri:
            message = failure(uri)
        assert f"HTTP {status}" in message and "wants credentials" in message
        assert "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN" in message


def test_the_credentials_mlflow_would_send_are_sent(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "t0ken")
    seen: list = []
    with answering_server(401, seen=seen) as uri:
        message = failure(uri)
    assert "refused the credentials" in message
    assert seen == [("/api/2.0/mlflow/experiments/get-by-name?experiment_name=exp", "Bearer t0ken")]


def test_another_http_error_is_reported_with_its_status():
    with answering_server(500) as uri:
        message = failure(uri)
    assert "HTTP 500" in message and "credentials" not in message


def test_a_server_that_answers_passes():
    new = b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no experiment exp"}'
    with answering_server(404, new) as uri:  # a new experiment: MLflow creates it
        check_store(uri, "exp", 5.0)
    with answering_server(200, b'{"experiment": {"experiment_id": "1"}}') as uri:
        check_store(uri, "exp", 5.0)


def test_a_web_server_that_is_not_mlflow_is_named():
    with answering_server(404, b"<html>Not Found</html>") as uri:
        assert "not MLflow's API" in failure(uri)
    with answering_server(200, b"<html>Please log in</html>") as uri:
        assert "not MLflow's API" in failure(uri)


def test_an_unresolvable_host_is_named():
    uri = "http://no-such-host.invalid:5000"
    start = time.monotonic()
    message = failure(uri)
    assert "cannot resolve the host no-such-host.invalid" in message
    assert time.monotonic() - start < 5.0 + 2


@pytest.mark.parametrize("uri", ["htp://127.0.0.1:5000", "ftp://127.0.0.1/mlflow", "127.0.0.1:5000",
                                 "localhost:5000"])
def test_a_wrong_scheme_is_named(uri):
    assert "scheme" in failure(uri)


def test_the_embedded_store_passes_in_a_writable_folder(store):
    check_store(embedded_store_uri(), "exp", 5.0)
    check_store(f"file://{store / 'mlruns'}", "exp", 5.0)  # a file store MLflow will create


def failure_as_a_user(uri: str) -> str:
    """``failure(uri)`` as a user who is not root (root writes into read-only folders): in a
    forked child that gives up root's rights first."""
    if os.geteuid() != 0:
        return failure(uri)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            check_store(uri, "exp", 5.0)
            message = "no error"
        except BaseException as exc:  # noqa: BLE001
            message = f"{type(exc).__name__}: {exc}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(child, 0)
    assert message.startswith("PipelineError: ") and uri in message and "\n" not in message, message
    return message


def test_a_read_only_folder_for_the_embedded_store_is_named():
    top = Path(tempfile.mkdtemp(prefix="store-check-"))  # reachable by the unprivileged child
    try:
        top.chmod(0o755)
        folder = top / "ro"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        assert "is not writable" in failure_as_a_user(f"sqlite:///{folder / 'mlflow.db'}")
        assert "is not writable" in failure_as_a_user(f"file://{folder / 'mlruns'}")
    finally:
        shutil.rmtree(top)


def test_a_missing_folder_for_the_embedded_store_is_named(tmp_path):
    assert "does not exist" in failure(f"sqlite:///{tmp_path / 'nowhere' / 'mlflow.db'}")


def test_mlflow_retries_are_bounded_unless_the_user_set_them(monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "77")
    with answering_server(200) as uri:
        check_store(uri, "exp", 5.0)
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == HTTP_DEFAULTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "77"


def test_train_baselines_stops_at_once_with_one_line_when_the_server_is_down(tmp_path):
    work = tmp_path / "work"
    for name in ("src", "stages"):
        shutil.copytree(REPO / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "params.yaml", work / "params.yaml")
    save_parts({"train": make_imageset(seed=0), "validation": make_imageset(seed=1)},
               work / "data" / "prepared", work / "data" / "split")
    uri = f"http://127.0.0.1:{refused_port()}"
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "stages.train_baselines"], cwd=work,
                            env=clean_env(work, MLFLOW_TRACKING_URI=uri, NO_PROXY="*"), capture_output=True, text=True,
                            timeout=30)
    elapsed = time.monotonic() - start
    print(f"train_baselines stopped after {elapsed:.1f} s")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and uri in lines[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert elapsed < 10
    assert not (work / "models").exists()


def test_a_store_that_stops_answering_during_evaluate_is_one_line(monkeypatch):
    uri = f"http://127.0.0.1:{refused_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(PipelineError) as error:
        with store_must_answer("evaluate"):
            mlflow.MlflowClient(uri).search_runs(["0"])  # the real client against a store gone away
    message = str(error.value)
    assert message.startswith(f"MLflow store {uri} stopped answering during evaluate (") and "\n" not in message
    assert "run `dvc repro` again once it answers" in message
