import json

import numpy as np
import pytest

from imgclf.errors import PipelineError
from imgclf.evaluation.metrics import grey_zone
from imgclf.evaluation.report import ModelEvaluation, check_same_classes, write_model_report
from imgclf.params import EvaluateParams

SETTINGS = EvaluateParams(calibration_bins=10, lift_bins=5)


def confident_proba(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Random probabilities with the true class always on top."""
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(n_classes), size=len(y))
    proba[np.arange(len(y)), y] += 1.0
    return proba / proba.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_report_writes_charts_and_plot_data(tmp_path, n_classes):
    y = np.repeat(np.arange(n_classes), 25)
    names = tuple(f"c{k}" for k in range(n_classes))
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
    model = ModelEvaluation("m", y, confident_proba(y, n_classes), names, history=history)
    metrics = write_model_report(model, SETTINGS, 0, tmp_path / "plots", tmp_path / "figs")
    assert metrics["accuracy"] == 1.0 and metrics["grey_zone_coverage"] <= 1.0
    assert metrics["accuracy_ci_low"] == metrics["accuracy_ci_high"] == 1.0  # no mistake to resample
    assert "validation_accuracy" not in metrics and "temperature" not in metrics  # no validation split given
    for png_name in ("confusion", "confusion_normalized", "calibration", "lift", "roc_pr", "grey_zone", "learning_curves"):
        png = tmp_path / "figs" / "m" / f"{png_name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    for kind in ("confusion", "calibration", "lift", "gains", "roc", "pr", "grey_zone", "history"):
        assert json.loads((tmp_path / "plots" / kind / "m.json").read_text())
    assert json.loads((tmp_path / "plots" / "history" / "m.json").read_text())[1] == {
        "epoch": 2, "loss": 0.5, "val_loss": 0.7, "accuracy": 0.8, "val_accuracy": 0.7}
    cells = json.loads((tmp_path / "plots" / "confusion" / "m.json").read_text())
    assert len(cells) == n_classes**2 and sum(c["count"] for c in cells) == len(y)
    lift = json.loads((tmp_path / "plots" / "lift" / "m.json").read_text())
    assert len(lift) == 5 and lift[-1]["lift"] == 1.0
    gains = json.loads((tmp_path / "plots" / "gains" / "m.json").read_text())
    assert gains[0] == {"population_fraction": 0.0, "gain": 0.0} and [g["gain"] for g in gains[1:]] == [r["gain"] for r in lift]


def test_grey_band_comes_from_the_settings(tmp_path):
    y = np.repeat([0, 1], 50)
    proba = confident_proba(y, 2)
    settings = EvaluateParams(calibration_bins=10, lift_bins=5, grey_zone=(0.4, 0.9))
    metrics = write_model_report(ModelEvaluation("m", y, proba, ("a", "b")), settings, 0, tmp_path / "plots",
                                 tmp_path / "figs")
    zone = grey_zone(y, proba, 0.4, 0.9)
    assert zone != grey_zone(y, proba, 0.25, 0.75)
    assert (metrics["grey_zone_coverage"], metrics["grey_zone_accuracy"]) == (zone["coverage"], zone["accuracy_kept"])


def test_class_mismatch_is_named():
    with pytest.raises(PipelineError, match=r"model 'cnn' was trained on classes \['0', '1'\]"):
        check_same_classes("cnn", ["0", "1"], ("cat", "dog"))


def test_validation_accuracy_is_scored_on_the_validation_split(tmp_path):
    y = np.repeat([0, 1], 25)
    validation = (np.array([0, 0, 1, 1]), np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]]))  # 3 of 4 right
    model = ModelEvaluation("m", y, confident_proba(y, 2), ("a", "b"), validation=validation)
    metrics = write_model_report(model, SETTINGS, 0, tmp_path / "plots", tmp_path / "figs")
    assert metrics["accuracy"] == 1.0 and metrics["validation_accuracy"] == 0.75 and metrics["temperature"] > 0
    unscaled = EvaluateParams(calibration_bins=10, lift_bins=5, temperature_scaling=False)
    metrics = write_model_report(model, unscaled, 0, tmp_path / "plots", tmp_path / "figs")
    assert metrics["validation_accuracy"] == 0.75 and "temperature" not in metrics and "log_loss_scaled" not in metrics


def test_gallery_feature_maps_and_temperature_scaling(tmp_path):
    from imgclf.models.cnn import build_cnn, feature_extractor
    from imgclf.models.presets import layer_specs
    from imgclf.params import HeadParams
    from imgclf.models.inference import conv_activations
    from imgclf.models.transfer import build_transfer_model

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (40, 28, 28, 1), dtype=np.uint8)
    y = np.repeat([0, 1, 2, 3], 10)
    proba = rng.dirichlet(np.ones(4), size=40)
    model = build_transfer_model(feature_extractor(build_cnn(layer_specs("lenet"), (28, 28, 1), 10)), 4, HeadParams())
    maps = conv_activations(model, images[:3])  # conv layers live inside the nested base
    assert [(n, a.shape) for n, a in maps] == [("conv_1", (3, 24, 24, 20)), ("conv_2", (3, 8, 8, 50))]
    model = ModelEvaluation("m", y, proba, ("a", "b", "c", "d"), images=images, validation=(y, proba), feature_maps=maps)
    metrics = write_model_report(model, SETTINGS, 0, tmp_path / "plots", tmp_path / "figs")
    for png in ("misclassified", "feature_maps", "calibration_scaled"):
        assert (tmp_path / "figs" / "m" / f"{png}.png").stat().st_size > 5000
    assert metrics["temperature"] > 0 and metrics["log_loss_scaled"] <= metrics["log_loss"] + 1e-6


def test_gallery_shows_the_gradcam_overlay_of_the_misclassified_images(tmp_path):
    from imgclf.evaluation.curves import misclassified_sample
    from imgclf.models.cnn import build_cnn
    from imgclf.models.gradcam import gradcam
    from imgclf.models.presets import layer_specs

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (40, 28, 28, 1), dtype=np.uint8)
    y = np.repeat([0, 1, 2, 3], 10)
    proba = rng.dirichlet(np.ones(4), size=40)
    cnn = build_cnn(layer_specs("lenet"), (28, 28, 1), 4)
    explained: list[np.ndarray] = []

    def explain(shown: np.ndarray) -> np.ndarray:
        explained.append(shown)
        return gradcam(cnn, shown)

    plain = ModelEvaluation("m", y, proba, ("a", "b", "c", "d"), images=images)
    write_model_report(plain, SETTINGS, 0, tmp_path / "plots", tmp_path / "plain")
    overlaid = ModelEvaluation("m", y, proba, ("a", "b", "c", "d"), images=images, explain=explain)
    write_model_report(overlaid, SETTINGS, 0, tmp_path / "plots", tmp_path / "overlaid")
    assert len(explained) == 1 and np.array_equal(explained[0], images[misclassified_sample(y, proba, 16, 0)])
    gallery = (tmp_path / "overlaid" / "m" / "misclassified.png").read_bytes()
    assert gallery[:8] == b"\x89PNG\r\n\x1a\n" and gallery != (tmp_path / "plain" / "m" / "misclassified.png").read_bytes()
    assert (tmp_path / "overlaid" / "m" / "confusion.png").read_bytes() == (tmp_path / "plain" / "m" / "confusion.png").read_bytes()
