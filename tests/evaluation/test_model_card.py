"""The model card's Markdown against a known evaluation."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from imgclf import layout
from imgclf.evaluation.confidence import accuracy_interval
from imgclf.evaluation.metrics import classification_metrics, grey_zone
from imgclf.evaluation.model_card import CardFacts, dataset_facts, model_card, per_example, stage_params
from imgclf.data.shards import save_parts
from imgclf.outputs import sha256_file, write_json
from imgclf.params import EvaluateParams, load_params

REPO = Path(__file__).resolve().parents[2]
NAMES = ("cat", "dog", "fox")
NUMERICS = {
    "portable": True, "python": "3.11.7", "libraries": {"keras": "3.15.1", "numpy": "2.4.6"},
    "pins": {"OMP_NUM_THREADS": "2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "blas": [{"internal_api": "openblas", "architecture": "Haswell", "num_threads": 1, "version": "0.3.30"}],
}
VERDICT = {"model": "lenet", "select_by": "accuracy", "value": 0.8, "gate": {"accuracy >= 0.5": True},
           "gate_passed": True, "registered_model": "image-classifier"}
DATA = {"source": "mnist", "prepared_sha256": "a" * 64, "split": {"train": 420, "validation": 90, "test": 90},
        "test_sha256": "b" * 64}


def known_evaluation() -> tuple[np.ndarray, np.ndarray]:
    """90 test images, 3 classes; 72 right (80 %), the wrong ones split between the other classes."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    predicted = np.where(np.arange(90) % 5 == 0, (y + 1) % 3, y)
    proba = rng.dirichlet(np.ones(3), size=90) * 0.3
    proba[np.arange(90), predicted] += 0.7
    return y, proba


def facts(verdict: dict = VERDICT, numerics: dict | None = NUMERICS) -> CardFacts:
    y, proba = known_evaluation()
    metrics = classification_metrics(y, proba, NAMES)
    zone = grey_zone(y, proba, *EvaluateParams().grey_zone)
    metrics.update({"grey_zone_coverage": zone["coverage"], "grey_zone_accuracy": zone["accuracy_kept"],
                    "temperature": 1.5, "ece_scaled": 0.0123, "log_loss_scaled": 0.4567})
    return CardFacts("lenet", "train_cnn", {"epochs": 2, "learning_rate": 0.001}, {"image_size": [28, 28], "color": "grayscale",
                     "fit": "stretch"}, NAMES, y, proba, metrics, DATA, numerics, verdict)


def test_card_states_data_params_metrics_with_intervals_calibration_hardware_and_limits():
    card_facts = facts()
    card = model_card(card_facts, EvaluateParams(), seed=42)
    y, proba = known_evaluation()
    assert card.startswith("# Model card: lenet\n\nRegistered as `image-classifier` (alias `candidate`): best by accuracy; "
                           "gate: accuracy >= 0.5 (passed).\n")
    assert "- Source: `mnist`; classes (3): cat, dog, fox." in card
    assert "- Images per split part: train 420, validation 90, test 90." in card
    assert f"prepared images (content) `{'a' * 64}`; test split file `{'b' * 64}`" in card
    assert "## Parameters (`train_cnn`)\n\n```yaml\nepochs: 2\nlearning_rate: 0.001\n```" in card
    low, high = accuracy_interval(y, proba.argmax(axis=1), level=0.95, resamples=1000, seed=42)
    assert low < 0.8 < high
    assert f"| accuracy | 0.8000 | [{low:.4f}, {high:.4f}] |" in card
    assert "On the 90 test images; 95% intervals: seeded percentile bootstrap (1000 resamples, seed 42)." in card
    rows = [line for line in card.splitlines() if line.startswith(("| log_loss |", "| brier |", "| grey_zone_accuracy |"))]
    assert len(rows) == 3
    for line in rows:
        value, interval = line.split(" | ")[1:3]
        bounds = [float(b) for b in interval.strip("[] |").split(", ")]
        assert bounds[0] < float(value) < bounds[1], line
    assert f"ECE {0.0123:.4f}, log loss 0.4567" in card and "T = 1.500" in card
    coverage, kept = card_facts.metrics["grey_zone_coverage"], card_facts.metrics["grey_zone_accuracy"]
    assert f"the model answers {coverage:.1%} of the test images and is right on {kept:.1%} of those" in card
    assert "- CPU only (no accelerator); Python 3.11.7; keras 3.15.1, numpy 2.4.6." in card
    assert "OMP_NUM_THREADS=2, ONEDNN_MAX_CPU_ISA=AVX2" in card and "openblas Haswell 1 thread(s)" in card
    assert "It knows only these 3 classes" in card and "resized to 28x28 grayscale pixels" in card
    assert f"Measured on 90 test images from the same source: the accuracy interval is {100 * (high - low):.1f} percentage points wide" in card
    assert model_card(facts(), EvaluateParams(), seed=42) == card  # same inputs, same card
    assert model_card(facts(), EvaluateParams(confidence_level=0.8), seed=42) != card


def test_per_example_values_average_to_the_metrics():
    y, proba = known_evaluation()
    metrics = classification_metrics(y, proba, NAMES)
    for name, values in per_example(y, proba).items():
        assert values.mean() == pytest.approx(metrics[name], abs=1e-6), name


def test_card_of_a_model_that_was_not_registered_and_of_a_machine_bound_run():
    failed = {**VERDICT, "gate": {"accuracy >= 0.95": False}, "gate_passed": False, "registered_model": None}
    bound = {**NUMERICS, "portable": False, "pins": {}, "machine_bound": {"model": "Some CPU", "cores": 8}}
    card = model_card(facts(failed, bound), EvaluateParams(), seed=0)
    assert "Not registered: best by accuracy, gate failed; gate: accuracy >= 0.95 (failed)." in card
    assert "Not portable: the numbers are bound to this CPU (Some CPU, 8 cores)." in card
    assert "Not recorded" in model_card(facts(numerics=None), EvaluateParams(), seed=0)
    elsewhere = model_card(dataclasses.replace(facts(), in_store=False), EvaluateParams(), seed=0)
    assert "Not registered: best by accuracy, gate passed, but the MLflow run that logged it is not in this store" in elsewhere


def test_dataset_facts_read_the_manifests_and_hash_the_test_split(tmp_path, monkeypatch, imageset):
    monkeypatch.chdir(tmp_path)
    save_parts({"test": imageset}, layout.PREPARED, layout.SPLIT)
    write_json(layout.PREPARED / layout.MANIFEST_FILE, {"content_sha256": "c" * 64})
    write_json(layout.SPLIT / "split.json", {part: {"images": n} for part, n in (("train", 7), ("validation", 2), ("test", 3))})
    found = dataset_facts("mnist")
    assert found == {"source": "mnist", "prepared_sha256": "c" * 64, "split": {"train": 7, "validation": 2, "test": 3},
                     "test_sha256": sha256_file(layout.split_file("test"))}


def test_stage_params_are_the_models_entry_of_params_yaml():
    params = load_params(REPO / "params.yaml")
    assert stage_params(params, "train_cnn", "lenet") == params.train_cnn["lenet"].model_dump(mode="json")
    logreg = stage_params(params, "train_baselines", "logreg")
    assert logreg["name"] == "logreg" and logreg["kind"] == "logistic_regression"
    assert "fine_tune" in stage_params(params, "transfer", "transfer")
