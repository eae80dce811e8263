"""A pytest plugin: in CI (``CI=true``), a test marked ``required_in_ci`` that is skipped fails.

Locally such a test may skip, saying why (Chromium not installed, say); CI installs what it
needs (``.ci/run``), so a skip there means the test silently stopped running.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "required_in_ci: must run, not skip, when CI=true (.ci/run installs its needs)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("required_in_ci") and os.environ.get("CI") == "true":
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"required in CI but skipped: {reason}"
