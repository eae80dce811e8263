"""Shared fixtures: small, real image sets built in memory, and a real MLflow store."""

from __future__ import annotations

import pytest

from imgclf.data.dataset import ImageSet
from tests.helpers import make_imageset

pytest_plugins = ["tests.ci_required"]

# The modules of the longest tests (2 to 3 minutes each on 2 cores), started first.
LONGEST_FIRST = ("tests.integration.test_sweep", "tests.integration.test_queue")
BESIDE_THE_BUILD = "tests.integration.test_multi_worker"  # two integration tests without the tiny pipeline


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For pytest-xdist's ``--dist loadgroup``: the tests that share a module-scoped fixture (a
    PostgreSQL server, a trained model) form one group, run by one worker, so that the fixture is
    built once; and the integration tests, the slowest, are handed out first, so that the quick
    unit tests fill in at the end rather than one worker finishing a long test alone."""
    for item in items:
        if any(defs[-1].scope == "module" for defs in item._fixtureinfo.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: (item.get_closest_marker("integration") is None,
                                 item.module.__name__ not in LONGEST_FIRST))
    # The first test needs the tiny pipeline, which one worker builds while the others wait for it
    # (tests/integration/conftest.py): the second worker starts on tests that need none instead.
    beside = [item for item in items if item.module.__name__ == BESIDE_THE_BUILD]
    for item in beside:  # one unit of work, both on that worker
        item.add_marker(pytest.mark.xdist_group(BESIDE_THE_BUILD))
    others = [item for item in items if item.module.__name__ != BESIDE_THE_BUILD]
    items[:] = others[:1] + beside + others[1:]


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

