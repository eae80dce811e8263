"""A real trained model folder, shared by the serving tests."""

import numpy as np
import pytest

from imgclf.models.baselines import build_baseline
from imgclf.models.store import save_model
from imgclf.params import LogisticRegressionParams


@pytest.fixture
def model_dir(tmp_path):
    """A real logistic regression on 16x16 grayscale: dark images are 'cat', bright ones 'dog'."""
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, (20, 16, 16, 1))
    bright = rng.integers(190, 255, (20, 16, 16, 1))
    images, labels = np.concatenate([dark, bright]).astype(np.uint8), np.repeat([0, 1], 20)
    model = build_baseline(LogisticRegressionParams(name="lr", kind="logistic_regression"), 0).fit(images, labels)
    directory = tmp_path / "model"
    save_model(directory, model, "sklearn", {
        "name": "lr", "class_names": ["cat", "dog"], "input_shape": [16, 16, 1],
        "preprocess": {"image_size": [16, 16], "color": "grayscale", "fit": "stretch"},
    })
    return directory
