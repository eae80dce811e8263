"""Fixtures of the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import report_page


@pytest.fixture(scope="session")
def shared_page(tmp_path_factory):
    """``shared_page(n_models=3)``: the report page of ``tests.helpers.report_page`` for that many
    models, built once per test process and shared (the tests that take it only read it; a few
    seconds of charts each time saved)."""
    pages: dict[int, Path] = {}

    def page(n_models: int = 3) -> Path:
        if n_models not in pages:
            pages[n_models] = report_page(tmp_path_factory.mktemp(f"page-{n_models}-models"), n_models=n_models)
        return pages[n_models]
    return page
