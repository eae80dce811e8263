"""scikit-learn baselines built from parameters; each takes raw uint8 NHWC images."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from imgclf.params import BaselineParams, LogisticRegressionParams


def flatten_and_scale(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` uint8 to ``(N, H*W*C)`` float32 in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def build_baseline(params: BaselineParams, seed: int) -> Pipeline:
    """A pipeline of pixel scaling and the classifier ``params`` describes."""
    if isinstance(params, LogisticRegressionParams):
        classifier = LogisticRegression(
            C=params.C, max_iter=params.max_iter, solver=params.solver, random_state=seed
        )
    else:
        classifier = MLPClassifier(
            hidden_layer_sizes=tuple(params.hidden_layer_sizes),
            activation=params.activation,
            alpha=params.alpha,
            learning_rate_init=params.learning_rate_init,
            batch_size=params.batch_size,
            max_iter=params.max_iter,
            early_stopping=params.early_stopping,
            random_state=seed,
        )
    return Pipeline([("scale", FunctionTransformer(flatten_and_scale)), ("classifier", classifier)])
