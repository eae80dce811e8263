import json

import numpy as np
import pytest

from imgclf.evaluation import charts, image_charts
from imgclf.evaluation.chart_book import ChartBook, fingerprint, manifest_path
from imgclf.evaluation.report import ModelEvaluation, write_model_report
from imgclf.params import EvaluateParams

SETTINGS = EvaluateParams(calibration_bins=10, lift_bins=5)
HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}


def evaluation(seed: int = 0) -> ModelEvaluation:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 12)
    images = rng.integers(0, 255, (36, 8, 8, 1), dtype=np.uint8)
    validation = (y, rng.dirichlet(np.ones(3), size=36))
    return ModelEvaluation("m", y, rng.dirichlet(np.ones(3), size=36), ("a", "b", "c"), history=HISTORY,
                           images=images, validation=validation)


def pngs(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.png"))}


def test_an_unchanged_model_gets_its_previous_charts_byte_for_byte_without_drawing_them(tmp_path, monkeypatch):
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "first")
    drawn = []
    for module in (charts, image_charts):  # nothing may draw
        monkeypatch.setattr(module, "save_figure", lambda fig, path, dpi=100: drawn.append(path))
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "second", previous=tmp_path / "first")
    assert drawn == []
    first, second = pngs(tmp_path / "first" / "m"), pngs(tmp_path / "second" / "m")
    assert len(first) == 9 and second == first  # the misclassified gallery and calibration_scaled too
    assert json.loads(manifest_path(tmp_path / "second" / "m").read_text()) == json.loads(
        manifest_path(tmp_path / "first" / "m").read_text())


def test_reused_charts_are_those_a_fresh_drawing_makes(tmp_path):
    """The copies are what drawing again would write: the manifest's keys cover every input."""
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "first")
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "reused", previous=tmp_path / "first")
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "fresh")
    assert pngs(tmp_path / "reused" / "m") == pngs(tmp_path / "fresh" / "m")


def test_new_predictions_redraw_what_they_change_and_keep_the_rest(tmp_path):
    write_model_report(evaluation(0), SETTINGS, 0, tmp_path / "plots", tmp_path / "first")
    before = pngs(tmp_path / "first" / "m")
    changed = evaluation(1)  # other probabilities and images, the same history
    write_model_report(changed, SETTINGS, 0, tmp_path / "plots", tmp_path / "second", previous=tmp_path / "first")
    after = pngs(tmp_path / "second" / "m")
    assert after["learning_curves.png"] == before["learning_curves.png"]
    assert after["calibration.png"] != before["calibration.png"] and after["roc_pr.png"] != before["roc_pr.png"]
    write_model_report(changed, SETTINGS, 0, tmp_path / "plots", tmp_path / "fresh")
    assert after == pngs(tmp_path / "fresh" / "m")


def test_a_previous_png_that_is_not_the_recorded_one_is_drawn_again(tmp_path):
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "first")
    good = (tmp_path / "first" / "m" / "lift.png").read_bytes()
    (tmp_path / "first" / "m" / "lift.png").write_bytes(b"not the chart")
    (tmp_path / "first" / "m" / "roc_pr.png").unlink()
    write_model_report(evaluation(), SETTINGS, 0, tmp_path / "plots", tmp_path / "second", previous=tmp_path / "first")
    assert (tmp_path / "second" / "m" / "lift.png").read_bytes() == good
    assert (tmp_path / "second" / "m" / "roc_pr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_chart_with_several_pngs_is_reused_only_when_all_are_there(tmp_path):
    y = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    book = ChartBook(tmp_path / "a" / "m")
    (tmp_path / "a" / "m").mkdir(parents=True)
    folder = tmp_path / "a" / "m"
    book.draw(charts.confusion_matrix_charts, *y, ("x", "z"), "m", folder / "confusion.png", folder / "norm.png")
    book.save()
    assert book.drawn == ["confusion.png", "norm.png"]
    (folder / "norm.png").unlink()
    again = ChartBook(tmp_path / "b" / "m", previous=folder)
    (tmp_path / "b" / "m").mkdir(parents=True)
    again.draw(charts.confusion_matrix_charts, *y, ("x", "z"), "m", tmp_path / "b" / "m" / "confusion.png",
               tmp_path / "b" / "m" / "norm.png")
    assert again.drawn == ["confusion.png", "norm.png"] and again.reused == []


def test_the_key_tells_values_types_and_shapes_apart_and_refuses_what_it_cannot_read():
    base = fingerprint(np.zeros((2, 3)), {"a": 1.0}, "t")
    assert base == fingerprint(np.zeros((2, 3)), {"a": 1.0}, "t")
    for other in [(np.zeros((3, 2)), {"a": 1.0}, "t"), (np.zeros((2, 3), np.float32), {"a": 1.0}, "t"),
                  (np.zeros((2, 3)), {"a": 1}, "t"), (np.zeros((2, 3)), {"b": 1.0}, "t"),
                  (np.zeros((2, 3)), {"a": 1.0}, "u"), (np.zeros((2, 3)), {"a": float(np.nextafter(1.0, 2.0))}, "t")]:
        assert fingerprint(*other) != base
    assert fingerprint(SETTINGS) != fingerprint(EvaluateParams(calibration_bins=12, lift_bins=5))
    with pytest.raises(TypeError, match="cannot key a chart on a object"):
        fingerprint(object())
