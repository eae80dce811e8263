"""Shared fixtures: small, real image sets built in memory, and a real MLflow store."""

from __future__ import annotations

import pytest

from imgclf.data.dataset import ImageSet
from tests.helpers import make_imageset

pytest_plugins = ["tests.ci_required"]


@pytest.fixture
def imageset() -> ImageSet:
    return make_imageset()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A real MLflow SQLite store in a temporary repository root (``DVC_ROOT``), for this
    process and the stage processes it starts."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    return tmp_path
