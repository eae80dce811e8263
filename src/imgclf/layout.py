"""Where each stage reads and writes, relative to the repository root.

``dvc.yaml`` declares the same paths; ``tests/test_pipeline_definition.py`` checks that it does.
"""

from pathlib import Path

DATA, MODELS, REPORTS = Path("data"), Path("models"), Path("reports")

RAW = DATA / "raw"  # fetch: images.npz (array sources) or files.csv (image folders), manifest.json
PREPARED = DATA / "prepared"  # preprocess: images.npz at the target size and colour
SPLIT = DATA / "split"  # split: train / validation / test .npz and split.json
IMAGES_FILE = "images.npz"  # an array source, and the prepared images
FILES_FILE = "files.csv"  # an image folder's index of files
MANIFEST_FILE = "manifest.json"

BASELINES, CNN = MODELS / "baselines", MODELS / "cnn"  # a folder per model: <name>/
PRETRAINED, TRANSFER = MODELS / "pretrained", MODELS / "transfer"

# evaluate's outputs, and preprocess's data-quality report
METRICS, REGISTRY, NUMERICS = REPORTS / "metrics.json", REPORTS / "registry.json", REPORTS / "numerics.json"
PLOTS, FIGURES = REPORTS / "plots", REPORTS / "figures"  # chart data (git), PNG charts (DVC)
SUMMARY, PAGE = REPORTS / "summary.md", REPORTS / "index.html"
MODEL_CARD = REPORTS / "model_card.md"  # the best model's card (also the registered version's description)
DATA_QUALITY = REPORTS / "data_quality.json"

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
