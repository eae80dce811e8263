"""One tiny pipeline run, shared by every integration test of the session."""

from pathlib import Path

import pytest

from tests.integration.tiny import make_pipeline


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> Path:
    """A tiny copy of the project, committed, after a full ``dvc repro`` (also committed)."""
    return make_pipeline(tmp_path_factory.mktemp("pipeline"))
