"""log_model pins the distributions installed here (tensorflow or tensorflow-cpu, whichever it is)."""

import re
from importlib.metadata import PackageNotFoundError, packages_distributions, version

import mlflow
import numpy as np
import pytest

from imgclf.tracking.model_logging import log_model
from imgclf.tracking.store import use_experiment
from imgclf.tracking.tags import requirement


def installed_tensorflow() -> str:
    """``DIST==VERSION`` of the TensorFlow distribution installed here, found independently of
    :func:`requirement`: the one of tensorflow / tensorflow-cpu that provides the module."""
    present = []
    for distribution in ("tensorflow", "tensorflow-cpu"):
        try:
            present.append((distribution, version(distribution)))
        except PackageNotFoundError:
            pass
    assert present, "neither tensorflow nor tensorflow-cpu is installed"
    providers = {re.sub(r"[-_.]+", "-", name).lower() for name in packages_distributions()["tensorflow"]}
    assert present[0][0] in providers  # the distribution found is the one that ships `import tensorflow`
    return f"{present[0][0]}=={present[0][1]}"


def requirements_of(model_uri: str) -> list[str]:
    path = mlflow.pyfunc.get_model_dependencies(model_uri)  # the model's requirements.txt, downloaded
    assert path.endswith("requirements.txt")
    with open(path) as file:
        return [line.strip() for line in file if line.strip() and not line.startswith("#")]


def test_requirement_names_the_installed_distribution():
    assert requirement("tensorflow") == installed_tensorflow()
    assert requirement("keras") == f"keras=={version('keras')}"
    assert requirement("scikit-learn") == f"scikit-learn=={version('scikit-learn')}"
    assert requirement("skops") == f"skops=={version('skops')}"  # a distribution name, not in LIBRARIES
    with pytest.raises(LookupError, match="no-such-library-xyz is not installed"):
        requirement("no-such-library-xyz")


def test_keras_model_is_logged_with_its_pinned_requirements(store):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    use_experiment("exp")
    with mlflow.start_run():
        model_uri = log_model(model, "keras")
    assert model_uri.startswith("models:/")
    reqs = requirements_of(model_uri)
    assert installed_tensorflow() in reqs
    assert f"keras=={version('keras')}" in reqs and f"numpy=={version('numpy')}" in reqs
    # the other TensorFlow distribution is never pinned (it would install a second TensorFlow)
    other = "tensorflow-cpu" if installed_tensorflow().startswith("tensorflow==") else "tensorflow"
    assert not [r for r in reqs if r.startswith(f"{other}==")]


def test_sklearn_model_is_logged_with_its_pinned_requirements(store):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    use_experiment("exp")
    with mlflow.start_run():
        model_uri = log_model(model, "sklearn")
    reqs = requirements_of(model_uri)
    for library in ("scikit-learn", "numpy", "skops"):
        assert f"{library}=={version(library)}" in reqs
    assert not [r for r in reqs if r.startswith("tensorflow")]
