import numpy as np

from imgclf.models.baselines import build_baseline, flatten_and_scale
from imgclf.params import LogisticRegressionParams, MLPParams
from tests.helpers import make_imageset


def test_flatten_and_scale():
    images = np.full((2, 3, 3, 1), 255, np.uint8)
    out = flatten_and_scale(images)
    assert out.shape == (2, 9) and out.dtype == np.float32 and (out == 1.0).all()


def test_each_kind_learns_a_separable_task():
    train, test = make_imageset(seed=0), make_imageset(seed=1)
    for params in (
        LogisticRegressionParams(name="lr", kind="logistic_regression", C=1.0),
        MLPParams(name="mlp", kind="mlp", hidden_layer_sizes=[16], early_stopping=False, max_iter=300),
    ):
        model = build_baseline(params, seed=0).fit(train.images, train.labels)
        assert model.score(test.images, test.labels) > 0.9
        proba = model.predict_proba(test.images)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_mlp_hyperparameters_reach_the_classifier():
    params = MLPParams(name="m", kind="mlp", hidden_layer_sizes=[128, 64], alpha=0.01)
    classifier = build_baseline(params, seed=3)[-1]
    assert classifier.hidden_layer_sizes == (128, 64)
    assert classifier.alpha == 0.01 and classifier.random_state == 3
