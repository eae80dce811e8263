import gzip
import pickle
import tarfile

import numpy as np
import pytest

from imgclf.data.dataset import ImageSet
from imgclf.data.downloads import RemoteFile
from imgclf.outputs import sha256_file
from imgclf.errors import PipelineError
from imgclf.data.sources import (
    BUILTIN, cap_per_class, cifar10_dataset, csv_dataset, idx_dataset, keras_npz_dataset, select_classes,
)
from tests.helpers import make_imageset


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def pinned(path, url="http://127.0.0.1:1/unused"):
    return RemoteFile(path.name, url, sha256_file(path))


def test_mnist5k_is_the_embedded_real_digits():
    data = BUILTIN["mnist5k"]()
    assert data.images.shape == (5000, 28, 28, 1) and data.images.dtype == np.uint8
    assert set(data.class_counts().values()) == {500}
    assert data.images.max() == 255


def test_digits_scaled_to_full_range():
    data = BUILTIN["digits"]()
    assert data.images.shape == (1797, 8, 8, 1) and data.images.max() == 255


def test_idx_files_from_a_mirror(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 255, (6, 28, 28)), "train_labels": np.array([0, 1, 2, 0, 1, 2]),
        "test_images": rng.integers(0, 255, (3, 28, 28)), "test_labels": np.array([2, 1, 0]),
    }
    files = {}
    for key, array in arrays.items():
        write_idx(tmp_path / f"{key}.gz", array)
        files[key] = pinned(tmp_path / f"{key}.gz")
    data, records = idx_dataset(files, ("a", "b", "c"), mirror=tmp_path)
    assert data.images.shape == (9, 28, 28, 1)
    np.testing.assert_array_equal(data.images[6:, ..., 0], arrays["test_images"])
    assert data.given_split.tolist() == ["train"] * 6 + ["test"] * 3
    assert {r["from"] for r in records} == {"mirror"}


def test_truncated_idx_names_the_file(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros((4, 28, 28)))
    with gzip.open(path, "rb") as f:
        content = f.read()
    with gzip.open(path, "wb") as f:
        f.write(content[:-100])
    from imgclf.data.readers import read_idx

    with pytest.raises(PipelineError, match=r"x.gz: .* bytes where its header \(4, 28, 28\) needs"):
        read_idx(path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(PipelineError, match="x.gz: truncated or corrupt"):
        read_idx(path)


def test_keras_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((4, 28, 28), np.uint8), y_train=np.array([0, 1, 0, 1]),
             x_test=np.ones((2, 28, 28), np.uint8), y_test=np.array([1, 0]))
    data, _ = keras_npz_dataset(pinned(path), ("zero", "one"), mirror=tmp_path)
    assert len(data) == 6 and data.class_names == ("zero", "one")
    assert data.given_split.tolist().count("test") == 2


def write_cifar(path, n_per_batch=4, batches=2):
    rng = np.random.default_rng(1)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    members = {"cifar-10-batches-py/batches.meta": {b"label_names": names}}
    for i in range(1, batches + 1):
        members[f"cifar-10-batches-py/data_batch_{i}"] = {
            b"data": rng.integers(0, 255, (n_per_batch, 3072), dtype=np.uint8), b"labels": [4, 7, 4, 7][:n_per_batch]}
    members["cifar-10-batches-py/test_batch"] = {
        b"data": rng.integers(0, 255, (n_per_batch, 3072), dtype=np.uint8), b"labels": [7, 4, 1, 2][:n_per_batch]}
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            blob = tmp = path.parent / "member"
            tmp.write_bytes(pickle.dumps(obj))
            tar.add(blob, arcname=name)
    return members


def test_cifar10_tarball_and_deer_vs_horse(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    members = write_cifar(path)
    data, _ = cifar10_dataset(pinned(path), mirror=tmp_path)
    assert data.images.shape == (12, 32, 32, 3)
    first = members["cifar-10-batches-py/data_batch_1"][b"data"][0]
    np.testing.assert_array_equal(data.images[0, :, :, 0].ravel(), first[:1024])  # red plane
    pair = select_classes(data, ["deer", "horse"])
    assert pair.class_names == ("deer", "horse")
    assert pair.labels.tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 1, 0]
    assert select_classes(data, [4, 7]).class_names == ("deer", "horse")


def test_cifar_pickle_with_code_is_refused(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    evil = tmp_path / "member"
    evil.write_bytes(pickle.dumps({b"label_names": [print]}))
    with tarfile.open(path, "w:gz") as tar:
        tar.add(evil, arcname="cifar-10-batches-py/batches.meta")
        tar.add(evil, arcname="cifar-10-batches-py/test_batch")
    with pytest.raises(PipelineError, match="refusing to unpickle builtins.print"):
        cifar10_dataset(pinned(path), mirror=tmp_path)


def test_digit_recognizer_csv(tmp_path):
    path = tmp_path / "train.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [f"{d}," + ",".join(str((d * 20 + i) % 256) for i in range(784)) for d in (3, 7)]
    path.write_text("\n".join([header, *rows]) + "\n")
    data, _ = csv_dataset(path)
    assert data.images.shape == (2, 28, 28, 1) and data.labels.tolist() == [3, 7]
    path.write_text("label,pixel0\n1,0\n")
    with pytest.raises(PipelineError, match=r"train.csv: missing columns \['pixel1'"):
        csv_dataset(path)


def test_unknown_class_and_index_are_named(imageset):
    with pytest.raises(PipelineError, match="unknown class 'zebra'; the classes are class0, class1, class2"):
        select_classes(imageset, ["class0", "zebra"])
    with pytest.raises(PipelineError, match="class index 9 out of range 0-2"):
        select_classes(imageset, [0, 9])


def test_cap_per_class_keeps_first_images_per_given_split():
    data = make_imageset(n_per_class=4, n_classes=2)
    split = np.array(["train", "test"] * 4)
    data = ImageSet(data.images, data.labels, data.class_names, split)
    capped = cap_per_class(data, 1)
    assert len(capped) == 4
    np.testing.assert_array_equal(capped.images[0], data.images[0])
