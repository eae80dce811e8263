"""A tiny copy of the project in a temporary git repository, and helpers to drive DVC in it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import mlflow
import yaml
from mlflow.entities import ViewType

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODELS = {"logreg", "mlp", "lenet", "transfer"}

# A few hundred images and one or two epochs: every stage runs for real, quickly.
TINY = {
    ("fetch", "max_per_class"): 30,
    ("train_cnn", "lenet", "epochs"): 2,
    ("transfer", "pretrain", "epochs"): 2,
    ("transfer", "frozen", "epochs"): 1,
    ("transfer", "fine_tune", "epochs"): 1,
}


def project_files() -> list[str]:
    """What a clone holds: tracked files and untracked ones git does not ignore."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [f for f in out if (REPO / f).is_file()]


def set_param(root: Path, keys: tuple[str, ...], value) -> None:
    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text())
    node = params
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def clean_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment a user's shell gives commands in ``root``: no MLflow, DVC or pytest settings
    of ours (MLflow behaves differently under ``PYTEST_CURRENT_TEST``), the virtual environment
    first on PATH, the copy's own sources importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_", "PYTEST_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(root / "src")
    return {**env, **extra}


def dvc(root: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "dvc"), *args], cwd=root, env=clean_env(root, **env),
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def stages_run(result: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", result.stdout))


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@contextlib.contextmanager
def back_to_commit(root: Path):
    """Whatever the block changes in ``root``, undone after it as the next test expects: the
    tracked files (params, dvc.lock, the reports git keeps) from git, less the reports and models
    git does not know (a removed model's plot data), the outputs DVC keeps from its cache, and the
    run index (never committed) as it was. Cheaper than a ``dvc repro`` back to the committed
    params, which would run ``evaluate`` again (its uncached reports keep DVC's run-cache from
    restoring it)."""
    index = (root / "mlflow_runs.json").read_bytes()
    try:
        yield root
    finally:
        git(root, "checkout", "--", ".")
        git(root, "clean", "-fdq", "--", "reports", "models")
        dvc(root, "checkout", "--force")
        (root / "mlflow_runs.json").write_bytes(index)


def make_pipeline(root: Path) -> Path:
    """Copy the project into ``root`` with the TINY settings, commit it and run ``dvc repro``."""
    for name in project_files():
        if name == "dvc.lock" or name.startswith(("data/raw", "data/prepared", "data/split", "models/", "reports/")):
            continue
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    for keys, value in TINY.items():
        set_param(root, keys, value)
    git(root, "init", "-q")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny")
    first = dvc(root, "repro")
    assert stages_run(first) == {
        "fetch", "preprocess", "split", "train_baselines", "train_cnn@lenet", "pretrain", "transfer", "evaluate"
    }
    git(root, "add", "-A")  # what a user commits: dvc.lock, metrics, plots data, run index
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny run")
    return root


def copy_pipeline(source: Path, target: Path) -> Path:
    """A copy of the tiny pipeline at ``source`` in the empty folder ``target``, its own in every
    way: the MLflow store records absolute paths (each run's artifact location, each logged
    model's), which are made to point into ``target``."""
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    old, new = str(source), str(target)
    with contextlib.closing(sqlite3.connect(target / "mlflow.db")) as db, db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for _, column, kind, *_ in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                if "CHAR" in kind.upper() or "TEXT" in kind.upper():
                    db.execute(f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) WHERE instr("{column}", ?)',
                               (old, new, old))
    for path in (target / "mlartifacts").rglob("MLmodel"):
        path.write_text(path.read_text().replace(old, new))
    return target


def store_client(root: Path) -> mlflow.MlflowClient:
    """MLflow's client on the pipeline's embedded store."""
    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")


def all_runs(client: mlflow.MlflowClient, filter_string: str = "") -> list:
    """The store's runs matching ``filter_string``: of every experiment, deleted ones too."""
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs, token = [], None
    while True:
        page = client.search_runs(experiments, filter_string, run_view_type=ViewType.ALL, max_results=1000,
                                  page_token=token)
        runs += page
        token = page.token
        if not token:
            return runs
