import subprocess

from imgclf.evaluation import pr_report
from imgclf.evaluation.charts import before_after_chart, confusion_before_after_chart

CELLS = [{"actual": a, "predicted": p, "count": c} for a, p, c in (("0", "0", 5), ("0", "1", 1), ("1", "0", 2), ("1", "1", 4))]


def test_plot_specs_are_the_chart_data_folders_of_dvc_yaml(tmp_path):
    (tmp_path / "dvc.yaml").write_text(
        "stages: {}\nplots:\n  - reports/plots/confusion: {template: confusion_counts, x: predicted, y: actual}\n"
        "  - reports/plots/history: {x: epoch, y: [loss, val_loss]}\n  - reports/figures\n"
    )
    assert pr_report.plot_specs(tmp_path / "dvc.yaml") == {
        "reports/plots/confusion": {"template": "confusion_counts", "x": "predicted", "y": "actual"},
        "reports/plots/history": {"x": "epoch", "y": ["loss", "val_loss"]},
    }


def test_changed_charts_compares_with_the_base_commit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "reports/plots/calibration"
    folder.mkdir(parents=True)
    for name in ("same", "changed", "removed"):
        (folder / f"{name}.json").write_text('[{"confidence": 0.5, "observed": 0.4}]')
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "add", "."], check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], check=True)
    (folder / "changed.json").write_text('[{"confidence": 0.5, "observed": 0.5}]')
    (folder / "removed.json").unlink()
    (folder / "added.json").write_text('[{"confidence": 0.9, "observed": 0.8}]')
    changed = pr_report.changed_charts("HEAD", {"reports/plots/calibration": {"x": "confidence", "y": "observed"}})
    assert changed == [
        ("reports/plots/calibration", "added", None, [{"confidence": 0.9, "observed": 0.8}]),
        ("reports/plots/calibration", "changed", [{"confidence": 0.5, "observed": 0.4}], [{"confidence": 0.5, "observed": 0.5}]),
        ("reports/plots/calibration", "removed", [{"confidence": 0.5, "observed": 0.4}], None),
    ]


def test_before_after_charts_are_drawn(tmp_path):
    rows = [{"epoch": 1, "loss": 1.0, "val_loss": 1.2}, {"epoch": 2, "loss": 0.5, "val_loss": 0.7}]
    before_after_chart(rows, rows[:1], "epoch", ["loss", "val_loss"], "history: m", tmp_path / "h.png")
    confusion_before_after_chart(CELLS, None, "confusion: m", tmp_path / "c.png")
    for png in ("h.png", "c.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_noise_band_says_whether_the_base_accuracy_lies_in_the_workspace_interval():
    after = {"accuracy": 0.95, "accuracy_ci_low": 0.93, "accuracy_ci_high": 0.97}
    assert pr_report.noise_band({"accuracy": 0.94}, after).endswith("inside it, within the noise of the test set")
    assert pr_report.noise_band({"accuracy": 0.90}, after).endswith("outside it, a real change")
    assert pr_report.noise_band({"accuracy": 0.90}, {"accuracy": 0.95}).startswith("no interval")
    assert pr_report.noise_band({}, after) == "a new model: nothing in the base to compare with"
    assert pr_report.noise_band({"accuracy": 0.90}, {}).startswith("a model removed")


def test_metrics_table_shows_base_workspace_and_change():
    lines = pr_report.metrics_table({"accuracy": 0.9, "log_loss": 0.3},
                                    {"accuracy": 0.95, "log_loss": 0.2, "accuracy_ci_low": 0.93, "accuracy_ci_high": 0.97})
    assert "| accuracy | 0.9000 | 0.9500 | +0.0500 |" in lines and "| log_loss | 0.3000 | 0.2000 | -0.1000 |" in lines
    assert "| ece |  |  |  |" in lines  # on neither side
    assert lines[-1].endswith("outside it, a real change")


def test_overlaid_kinds_are_drawn_on_one_axes_and_others_dashed(tmp_path):
    roc = [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 0.5, "tpr": 0.9}, {"fpr": 1.0, "tpr": 1.0}]
    history = [{"epoch": 1, "loss": 1.0, "val_loss": 1.2}, {"epoch": 2, "loss": 0.5, "val_loss": 0.7}]
    pr_report.chart_png("reports/plots/roc", {"x": "fpr", "y": "tpr"}, "m", roc, roc[::2], "main", tmp_path / "roc.png")
    pr_report.chart_png("reports/plots/history", {"x": "epoch", "y": ["loss", "val_loss"]}, "m", history, None, "main",
                        tmp_path / "history.png")
    pr_report.chart_png("reports/plots/confusion", {"template": "confusion_counts"}, "m", CELLS, CELLS, "main",
                        tmp_path / "confusion.png")
    for png in ("roc.png", "history.png", "confusion.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / png).stat().st_size > 5000
