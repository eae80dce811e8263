"""Logging a trained model as an MLflow model of the active run, with its requirements."""

from __future__ import annotations

from pathlib import Path

import mlflow

from imgclf.tracking.tags import requirement


def log_model(model, framework: str) -> str:
    """Log ``model`` as an MLflow model of the active run, with pinned requirements; its URI
    (``models:/m-...``, what the registry gate registers).

    The requirements are the distributions installed here (``tensorflow`` or
    ``tensorflow-cpu``, whichever trained the model); giving them skips MLflow's slow
    requirement inference.
    """
    if framework == "keras":
        reqs = [requirement(library) for library in ("tensorflow", "keras", "numpy")]
        return mlflow.keras.log_model(model, name="model", pip_requirements=reqs).model_uri
    else:
        import imgclf
        from imgclf.models.store import TRUSTED_TYPES

        reqs = [requirement(library) for library in ("scikit-learn", "numpy", "skops")]
        return mlflow.sklearn.log_model(
            model, name="model", pip_requirements=reqs, skops_trusted_types=TRUSTED_TYPES,
            code_paths=[str(Path(imgclf.__file__).parent)],
        ).model_uri
