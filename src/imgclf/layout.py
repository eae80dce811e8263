"""Where each stage reads and writes, relative to the repository root.

``dvc.yaml`` declares the same paths; ``tests/test_pipeline_definition.py`` checks that it does.
"""

from pathlib import Path

RAW = Path("data/raw")
PREPARED = Path("data/prepared")
SPLIT = Path("data/split")
IMAGES_FILE = "images.npz"  # an array source, and the prepared images
FILES_FILE = "files.csv"  # an image folder's index of files
MANIFEST_FILE = "manifest.json"

BASELINES = Path("models/baselines")
CNN = Path("models/cnn")
PRETRAINED = Path("models/pretrained")
TRANSFER = Path("models/transfer")

METRICS = Path("reports/metrics.json")
PLOTS = Path("reports/plots")
FIGURES = Path("reports/figures")
SUMMARY = Path("reports/summary.md")
PAGE = Path("reports/index.html")
REGISTRY = Path("reports/registry.json")
DATA_QUALITY = Path("reports/data_quality.json")
NUMERICS = Path("reports/numerics.json")

# Local tracking state beside mlflow.db, never committed: the runs behind the latest results.
RUN_INDEX = Path("mlflow_runs.json")


def split_file(name: str) -> Path:
    """The ``.npz`` of one split part: ``train``, ``validation`` or ``test``."""
    return SPLIT / f"{name}.npz"


def model_dirs(baseline_names: list[str], cnn_names: list[str]) -> list[Path]:
    """Every trained model's folder, in evaluation order: baselines, CNNs, transfer."""
    return [
        *(BASELINES / name for name in baseline_names),
        *(CNN / name for name in cnn_names),
        TRANSFER,
    ]
