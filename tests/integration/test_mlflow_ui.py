"""The MLflow UI over the pipeline's store, in a real headless Chromium."""

from __future__ import annotations

import json

import pytest

from imgclf.evaluation.screenshots import FLAGS, chromium
from tests.integration.mlflow_server import mlflow_server

pytestmark = pytest.mark.integration


def as_shown(value: float) -> str:
    """A metric as the UI prints it (JavaScript's number formatting): 0.688889, 1."""
    text = repr(value)
    return text.removesuffix(".0")


@pytest.mark.required_in_ci
@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt install chromium; CI installs it)")
def test_every_model_run_is_listed_with_its_test_accuracy(pipeline, tmp_path):
    from playwright.sync_api import sync_playwright

    metrics = json.loads((pipeline / "reports/metrics.json").read_text())
    index = json.loads((pipeline / "mlflow_runs.json").read_text())
    experiment_id, runs = index["experiment_id"], index["runs"]
    model_runs = {name.split("/")[1]: run_id for name, run_id in runs.items() if name.split("/")[1] in metrics}
    assert set(model_runs) == set(metrics)

    with mlflow_server(f"sqlite:///{pipeline / 'mlflow.db'}", pipeline / "mlartifacts", tmp_path / "server.log") as url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{url}/#/experiments/{experiment_id}/runs")
        for name in runs:
            page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
        page.screenshot(path=tmp_path / "runs.png", full_page=True)
        for model, run_id in model_runs.items():
            page.goto(f"{url}/#/experiments/{experiment_id}/runs/{run_id}")
            page.get_by_text("test_accuracy", exact=True).first.wait_for(timeout=60_000)
            shown = page.inner_text("body")
            assert f"test_accuracy\n{as_shown(metrics[model]['accuracy'])}\n" in shown, model
        page.screenshot(path=tmp_path / "run.png", full_page=True)
        browser.close()
    print(f"screenshots: {tmp_path / 'runs.png'}, {tmp_path / 'run.png'}")
    assert (tmp_path / "runs.png").stat().st_size > 10_000
