"""One tiny pipeline run, shared by every integration test of the session."""

import shutil
from pathlib import Path

import pytest
from filelock import FileLock

from tests.integration.tiny import copy_pipeline, make_pipeline


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory, worker_id) -> Path:
    """A tiny copy of the project, committed, after a full ``dvc repro`` (also committed).

    Built once per test run (pytest-xdist's recipe: the first worker to ask builds it under a
    lock in the run's shared temporary folder), each worker then working on its own copy: the
    tests change it (queued experiments, sweeps), and two workers must not meet there."""
    target = tmp_path_factory.mktemp("pipeline")
    if worker_id == "master":  # no pytest-xdist workers: build it in place
        return make_pipeline(target)
    built = tmp_path_factory.getbasetemp().parent / "tiny-pipeline"
    with FileLock(f"{built}.lock"):
        if not built.with_suffix(".ready").exists():
            shutil.rmtree(built, ignore_errors=True)  # a build that failed half-way
            built.mkdir()
            make_pipeline(built)
            built.with_suffix(".ready").touch()
    return copy_pipeline(built, target)
