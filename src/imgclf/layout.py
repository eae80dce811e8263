"""Where each stage reads and writes, relative to the repository root.

``dvc.yaml`` declares the same paths; ``tests/test_pipeline_definition.py`` checks that it does.
"""

from pathlib import Path

DATA, MODELS, REPORTS = Path("data"), Path("models"), Path("reports")

RAW = DATA / "raw"  # fetch: images.npz (array sources) or files.csv (image folders), manifest.json
PREPARED = DATA / "prepared"  # preprocess: .npy shards at the target size and colour, index.npz
SPLIT = DATA / "split"  # split: train / validation / test .npy (rows of the prepared images), split.json
IMAGES_FILE = "images.npz"  # an array source's images
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


def split_file(name: str, folder: Path = SPLIT) -> Path:
    """The rows of one split part (``train``, ``validation`` or ``test``) in the prepared images."""
    return folder / f"{name}.npy"


def data_files(*parts: str) -> list[Path]:
    """The files that identify the data a stage reads: the prepared images' manifest (with their
    content hash) and the rows of the split ``parts``."""
    return [PREPARED / MANIFEST_FILE, *(split_file(name) for name in parts)]


def model_dirs(baseline_names: list[str], cnn_names: list[str]) -> list[Path]:
    """Every trained model's folder, in evaluation order: baselines, CNNs, transfer."""
    return [
        *(BASELINES / name for name in baseline_names),
        *(CNN / name for name in cnn_names),
        TRANSFER,
    ]
