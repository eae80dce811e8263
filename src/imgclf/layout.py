"""Where each stage reads and writes, relative to the repository root (mirrors dvc.yaml)."""

from pathlib import Path

RAW = Path("data/raw")
PREPARED = Path("data/prepared")
SPLIT = Path("data/split")
IMAGES_FILE = "images.npz"
MANIFEST_FILE = "manifest.json"

BASELINES = Path("models/baselines")
CNN = Path("models/cnn")
PRETRAINED = Path("models/pretrained")
TRANSFER = Path("models/transfer")

METRICS = Path("reports/metrics.json")
PLOTS = Path("reports/plots")
FIGURES = Path("reports/figures")
RUN_INDEX = Path("reports/mlflow_runs.json")


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
