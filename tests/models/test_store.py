import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skops.io

from imgclf.data.parts import open_part
from imgclf.data.shards import save_parts
from imgclf.models.baselines import build_baseline
from imgclf.models.cnn import build_cnn
from imgclf.errors import PipelineError
from imgclf.models.loading import load_model
from imgclf.models.store import save_model
from imgclf.models.presets import layer_specs
from imgclf.params import CnnParams, LogisticRegressionParams
from tests.helpers import make_imageset


def test_sklearn_round_trip(tmp_path, imageset):
    model = build_baseline(LogisticRegressionParams(name="lr", kind="logistic_regression"), 0)
    model.fit(imageset.images, imageset.labels)
    save_model(tmp_path / "lr", model, "sklearn", {"name": "lr", "class_names": list(imageset.class_names)})
    loaded = load_model(tmp_path / "lr")
    assert loaded.name == "lr" and loaded.meta["file"] == "model.skops"
    np.testing.assert_allclose(loaded.predict_proba(imageset.images), model.predict_proba(imageset.images), rtol=1e-6)


def test_keras_round_trip(tmp_path):
    data = make_imageset(n_classes=2)
    model = build_cnn(layer_specs(CnnParams(architecture=[{"type": "flatten"}]).architecture), data.images.shape[1:], 2)
    save_model(tmp_path / "k", model, "keras", {"name": "k"})
    loaded = load_model(tmp_path / "k")
    assert loaded.predict_proba(data.images).shape == (len(data), 2)


def test_a_part_read_from_its_shards_gets_the_probabilities_of_its_images_in_memory(tmp_path, imageset):
    """What evaluate does: the test part stays on disk, a CNN reads it a batch at a time."""
    save_parts({"test": imageset}, tmp_path / "prepared", tmp_path / "split")
    part = open_part("test", tmp_path / "prepared", tmp_path / "split")
    cnn = build_cnn(layer_specs(CnnParams(architecture=[{"type": "flatten"}]).architecture), imageset.images.shape[1:], 3)
    save_model(tmp_path / "k", cnn, "keras", {"name": "k"})
    baseline = build_baseline(LogisticRegressionParams(name="lr", kind="logistic_regression"), 0)
    baseline.fit(imageset.images, imageset.labels)
    save_model(tmp_path / "lr", baseline, "sklearn", {"name": "lr"})
    for directory in (tmp_path / "k", tmp_path / "lr"):
        loaded = load_model(directory)
        np.testing.assert_array_equal(loaded.predict_proba(part), loaded.predict_proba(imageset.images))


class NotAModel:
    """A type no one declared trusted."""


def test_untrusted_types_are_refused(tmp_path):
    directory = tmp_path / "evil"
    save_model(directory, {"x": 1}, "sklearn", {"name": "evil"})
    skops.io.dump(NotAModel(), directory / "model.skops")
    with pytest.raises(PipelineError, match=r"refusing to load untrusted types \['tests.models.test_store.NotAModel'\]"):
        load_model(directory)


def test_missing_model_is_named(tmp_path):
    with pytest.raises(PipelineError, match="model.json: no model here"):
        load_model(tmp_path)


def test_keras_model_with_project_layers_loads_in_a_fresh_process(tmp_path):
    """Models using the project's own layers (shear augmentation, application input) load in a
    process that has not built them, as evaluate and predict do."""

    from imgclf.models.applications import application_base
    from imgclf.params import AugmentationParams, HeadParams
    from imgclf.models.transfer import build_transfer_model

    base = application_base("MobileNetV2", None, (20, 20, 1))
    model = build_transfer_model(base, 2, HeadParams(units=4), AugmentationParams(shear=0.1, rotation=10))
    save_model(tmp_path / "m", model, "keras", {"name": "m"})
    code = f"from imgclf.models.loading import load_model; print(load_model(__import__('pathlib').Path({str(tmp_path / 'm')!r})).name)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("m")


def test_saved_models_hold_no_date_nor_memory_address(tmp_path):
    """The same model saved from two processes gives the same bytes (keras: save date and shared
    object ids; skops: object ids and array names), and loads back."""
    code = r"""
import sys, hashlib
from pathlib import Path
import keras, numpy as np
from sklearn.neural_network import MLPClassifier
from imgclf.models.store import save_model
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("adam", "mse")
out = Path(sys.argv[1])
save_model(out / "k", model, "keras", {"name": "k", "stage": "s"})
x = np.random.default_rng(0).normal(size=(20, 4)); y = np.arange(20) % 2
save_model(out / "s", MLPClassifier((3,), max_iter=5, random_state=0).fit(x, y), "sklearn", {"name": "s", "stage": "s"})
"""
    hashes = []
    for i in range(2):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / str(i))], check=True, capture_output=True,
                       cwd=Path(__file__).resolve().parents[2])
        hashes.append([(tmp_path / str(i) / f).read_bytes() for f in ("k/model.keras", "s/model.skops")])
    assert hashes[0] == hashes[1]
    assert load_model(tmp_path / "0" / "s").model.n_iter_ == 5 and load_model(tmp_path / "0" / "k").model.count_params() == 10
