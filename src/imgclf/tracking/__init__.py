"""The tracking wing: MLflow's store, one run per model with its tags, logged models, the run
index, the registry gate and DVC experiments (configurations and the queue)."""

import os as _os

# Set before any module of this wing imports MLflow.
_os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
_os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
