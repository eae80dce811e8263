"""The tracking store checked at a stage's start, before any work: a store that is down, never
answers, refuses the credentials or is misspelt stops the stage within seconds, on one line
naming the URI, instead of after minutes of MLflow's retries and the training lost. A store
that stops answering later, in a stage that keeps nothing locally (``evaluate``: it re-runs in
seconds), stops it on one line too (:func:`store_must_answer`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from imgclf.errors import PipelineError
from imgclf.tracking.store import tracking_uri
from imgclf.tracking.journal import STORE_ERRORS, kept_runs, problem_line
from imgclf.tracking.orphans import end_orphaned_runs_quietly

# MLflow's own HTTP client retries 7 times with exponential backoff (about 4 minutes against a
# server that is down) and waits up to 120 s for each answer. A stage that checked its store
# bounds both for the rest of the run: 2 retries (a few seconds) and 30 s per request. Values
# the user set in the environment win.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
CREDENTIALS = "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN"
DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}



def check_tracking_store(params) -> str:
    """Check the store of this run (:func:`tracking_uri`) for the experiment of ``params``
    (``Params``) within ``params.mlflow.check_timeout`` seconds, then upload the runs kept
    locally while it was away (:func:`upload_kept_runs`) and end KILLED the runs left RUNNING
    by a process of this host that was killed outright (:mod:`orphans`); its URI. Raises
    :class:`PipelineError`, one line naming the URI, when it cannot be used."""
    uri = tracking_uri()
    check_store(uri, params.mlflow.experiment, params.mlflow.check_timeout)
    if kept_runs():
        upload_kept_runs()
    end_orphaned_runs_quietly(params.mlflow.experiment, uri)
    return uri


def upload_kept_runs() -> None:
    """Upload the runs kept locally while the store was away (``make sync``), in a process of
    its own: what it loads to do so (the kept models) is no input of this stage's outputs.
    Raises :class:`PipelineError` when it fails, after its own one-line message."""
    if subprocess.run([sys.executable, "-m", "imgclf.tracking.sync"]).returncode:
        raise PipelineError("the runs kept in mlflow_spool could not be uploaded (above); fix the store or "
                            "run `make sync` once it works")


def check_store(uri: str, experiment: str, timeout: float) -> None:
    """Raise :class:`PipelineError` naming ``uri`` unless the store answers within ``timeout``
    seconds: an ``http(s)`` server MLflow's REST API, with the credentials MLflow would send; a
    database's host and port a TCP connection; a SQLite or file store a writable folder.

    For an ``http(s)`` store, also bounds MLflow's own retries (:data:`HTTP_DEFAULTS`).
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.split("+")[0]
    if scheme in ("http", "https"):
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        problem = _within(timeout, _http_problem, uri, experiment, timeout)
    elif scheme in DATABASE_PORTS:
        problem = _within(timeout, _tcp_problem, uri, DATABASE_PORTS[scheme], timeout)
    elif scheme == "sqlite":
        problem = _sqlite_problem(uri)
    elif scheme == "file" or (scheme == "" and ":" not in uri) or len(scheme) == 1:  # a path, C:\ too
        problem = _folder_problem(Path(parts.path if scheme == "file" else uri), missing_ok=True)
    elif scheme.startswith("databricks"):
        problem = None  # Databricks' own authentication and client: nothing to check cheaply
    else:
        problem = (f"{f'unknown scheme {scheme}://' if scheme else 'no scheme'} (use http://host:port, "
                   "https://..., sqlite:///path/mlflow.db or a database URI)")
    if problem:
        raise PipelineError(f"MLflow tracking store {_shown(uri)}: {problem}")


def _shown(uri: str) -> str:
    """``uri`` with any password replaced by ``***``."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def _within(timeout: float, check, *args) -> str | None:
    """``check(*args)``, given ``timeout`` seconds in all: name resolution has no timeout of its
    own, so the check runs in a thread that is left behind when it takes longer."""
    result: list[str | None] = []

    def run() -> None:
        try:
            result.append(check(*args))
        except Exception as exc:  # noqa: BLE001 - any failure is a message, not a traceback
            result.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return result[0] if result else f"no answer within {timeout:g} s (check_timeout in params.yaml's mlflow section)"


def _network_problem(exc: BaseException, host: str, timeout: float) -> str:
    """What went wrong in ``exc`` (a ``requests`` or socket error) reaching ``host``, in a few words."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return f"cannot resolve the host {host} ({seen.strerror or seen}); is it spelled right?"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused; is the tracking server running there?"
        if isinstance(seen, (TimeoutError, requests.Timeout)):
            return f"the server did not answer within {timeout:g} s (check_timeout in params.yaml's mlflow section)"
        seen = seen.__cause__ or seen.__context__
    lines = str(exc).splitlines()
    return f"cannot connect: {type(exc).__name__}{': ' + lines[0][:300] if lines else ''}"


def _tcp_problem(uri: str, default_port: int, timeout: float) -> str | None:
    """Why a TCP connection to the host and port of ``uri`` fails, or None."""
    parts = urlsplit(uri)
    host = parts.hostname
    if not host:
        return "no host name"
    try:
        port = parts.port or default_port
    except ValueError:
        return "the port is not a number"
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return _network_problem(exc, host, timeout)
    return None


def _http_problem(uri: str, experiment: str, timeout: float) -> str | None:
    """Why MLflow's REST API at ``uri`` cannot be used, or None: one plain request, no retries."""
    host = urlsplit(uri).hostname
    if not host:
        return "no host name"
    env = os.environ
    headers, auth = {}, None
    if env.get("MLFLOW_TRACKING_USERNAME") and env.get("MLFLOW_TRACKING_PASSWORD"):
        auth = (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"])
    elif env.get("MLFLOW_TRACKING_TOKEN"):
        headers["Authorization"] = f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"
    insecure = env.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() in ("true", "1")
    verify = False if insecure else env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True
    try:
        response = requests.get(f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/get-by-name",
                                params={"experiment_name": experiment}, headers=headers, auth=auth, verify=verify,
                                cert=env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH"), timeout=timeout)
    except requests.RequestException as exc:
        return _network_problem(exc, host, timeout)
    return _response_problem(response, bool(auth or headers))


def _response_problem(response: requests.Response, sent_credentials: bool) -> str | None:
    """Why an answer of MLflow's ``experiments/get-by-name`` is not a working store, or None."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = f"HTTP {response.status_code} {response.reason}".strip()
    if response.status_code in (401, 403):
        if sent_credentials:
            return f"{status}: the server refused the credentials of {CREDENTIALS} (or their permissions)"
        return f"{status}: the server wants credentials; set {CREDENTIALS}"
    if response.status_code == 200 and isinstance(body, dict):
        return None
    if response.status_code == 404 and isinstance(body, dict) and body.get("error_code") == "RESOURCE_DOES_NOT_EXIST":
        return None  # a new experiment: MLflow creates it
    if body is None:
        kind = response.headers.get("Content-Type", "no content type")
        return f"{status} with {kind}, not MLflow's API (a login page, a proxy or another service?)"
    message = str(body.get("message") or "").strip() if isinstance(body, dict) else ""
    return f"{status}: {message.splitlines()[0][:300]}" if message else status


def _sqlite_problem(uri: str) -> str | None:
    """Why the SQLite database of ``uri`` (``sqlite:///relative`` or ``sqlite:////absolute``)
    cannot be written, or None."""
    path = uri.removeprefix("sqlite://").split("?")[0]
    if path in ("", "/", "/:memory:"):
        return None
    database = Path(path[1:])
    if database.exists() and not os.access(database, os.W_OK):
        return f"the database {database} is read-only"
    return _folder_problem(database.parent, missing_ok=False)


def _folder_problem(folder: Path, missing_ok: bool) -> str | None:
    """Why no file can be created in ``folder`` (or, ``missing_ok``, the nearest folder above
    it that exists, as MLflow creates the rest), or None."""
    if missing_ok:
        folder = next((f for f in (folder.absolute(), *folder.absolute().parents) if f.exists()), Path("/"))
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"the folder {folder} is not writable ({exc.strerror or exc})"
    return None


@contextmanager
def store_must_answer(stage: str) -> Iterator[None]:
    """Turn the store stopping to answer inside the block into one line naming it and what to do:
    for a stage whose work is cheap to redo and that DVC re-runs, as it did not finish."""
    try:
        yield
    except STORE_ERRORS as exc:
        raise PipelineError(f"MLflow store {tracking_uri()} stopped answering during {stage} ({problem_line(exc)}); "
                            f"the training runs are kept: run `dvc repro` again once it answers ({stage} alone "
                            "re-runs)") from None
