import numpy as np
import pytest
import skops.io

from imgclf.baselines import build_baseline
from imgclf.cnn import build_cnn
from imgclf.errors import PipelineError
from imgclf.model_store import find_models, load_model, save_model
from imgclf.params import LogisticRegressionParams
from tests.conftest import make_imageset


def test_sklearn_round_trip(tmp_path, imageset):
    model = build_baseline(LogisticRegressionParams(name="lr", kind="logistic_regression"), 0)
    model.fit(imageset.images, imageset.labels)
    save_model(tmp_path / "lr", model, "sklearn", {"name": "lr", "class_names": list(imageset.class_names)})
    loaded = load_model(tmp_path / "lr")
    assert loaded.name == "lr" and loaded.meta["file"] == "model.skops"
    np.testing.assert_allclose(loaded.predict_proba(imageset.images), model.predict_proba(imageset.images), rtol=1e-6)


def test_keras_round_trip(tmp_path):
    data = make_imageset(n_classes=2)
    model = build_cnn([{"type": "flatten"}], data.images.shape[1:], 2)
    save_model(tmp_path / "k", model, "keras", {"name": "k"})
    loaded = load_model(tmp_path / "k")
    assert loaded.predict_proba(data.images).shape == (len(data), 2)


class NotAModel:
    """A type no one declared trusted."""


def test_untrusted_types_are_refused(tmp_path):
    directory = tmp_path / "evil"
    save_model(directory, {"x": 1}, "sklearn", {"name": "evil"})
    skops.io.dump(NotAModel(), directory / "model.skops")
    with pytest.raises(PipelineError, match=r"refusing to load untrusted types \['tests.test_model_store.NotAModel'\]"):
        load_model(directory)


def test_missing_model_and_discovery(tmp_path):
    with pytest.raises(PipelineError, match="no model here"):
        load_model(tmp_path)
    with pytest.raises(PipelineError, match="model directory not found"):
        find_models([tmp_path / "nope"])
    for name in ("b", "a"):
        (tmp_path / "root" / name).mkdir(parents=True)
        (tmp_path / "root" / name / "model.json").write_text("{}")
    assert [p.name for p in find_models([tmp_path / "root"])] == ["a", "b"]
