import tarfile
import zipfile

import numpy as np
import pytest

from imgclf.errors import PipelineError
from imgclf.data.fetching import fetch_image_folder, load_source
from imgclf.data.preparing import prepare
from imgclf.data.parts import load_prepared
from imgclf.outputs import atomic_dir
from imgclf.params import FetchParams, PreprocessParams
from imgclf.data.splitting import keep_given_split
from tests.helpers import write_jpeg


def photo_folder(root, per_class=4, splits=("",)):
    for split in splits:
        for label, value in (("cat", 40), ("dog", 200)):
            for i in range(per_class):
                write_jpeg(root / split / label / f"{i}.jpg", value=value + i)
    return root


def test_folder_to_prepared_images_with_quality_report(tmp_path):
    photos = photo_folder(tmp_path / "photos")
    (photos / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    (photos / "cat" / "copy.jpg").write_bytes((photos / "cat" / "0.jpg").read_bytes())
    out = tmp_path / "raw"
    out.mkdir()
    manifest = fetch_image_folder(FetchParams(source="image_folder", path=str(photos)), out)
    assert manifest["class_counts"] == {"cat": 5, "dog": 5}
    assert manifest["duplicates"] == [["cat/0.jpg", "cat/copy.jpg"]]
    index, quality = prepare(out, manifest, PreprocessParams(image_size=(20, 20), max_bad_fraction=0.2), prepared := tmp_path / "prepared")
    data = load_prepared(prepared)
    assert (index.sources == ["cat/0.jpg", "cat/1.jpg", "cat/2.jpg", "cat/3.jpg", "cat/copy.jpg",
                              "dog/0.jpg", "dog/1.jpg", "dog/2.jpg", "dog/3.jpg"]).all()
    assert data.images.shape == (9, 20, 20, 1) and data.class_counts() == {"cat": 5, "dog": 4}
    assert quality["bad"] == [{"path": "dog/broken.jpg", "reason": "truncated JPEG (no end-of-image marker)"}]
    with pytest.raises(PipelineError, match=r"1 of 10 images could not be used \(10.0%, over preprocess.max_bad_fraction 0.05\): dog/broken.jpg"):
        prepare(out, manifest, PreprocessParams(image_size=(20, 20), max_bad_fraction=0.05), tmp_path / "prepared2")


def test_zip_of_given_splits_and_class_selection(tmp_path):
    photos = photo_folder(tmp_path / "photos", per_class=3, splits=("train", "test"))
    write_jpeg(photos / "train" / "bird" / "0.jpg")
    write_jpeg(photos / "test" / "bird" / "0.jpg")
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as zf:
        for f in photos.rglob("*.jpg"):
            zf.write(f, f.relative_to(photos))
    out = tmp_path / "raw"
    out.mkdir()
    params = FetchParams(source="image_folder", path=str(tmp_path / "photos.zip"), classes=["dog", "cat"], max_per_class=2)
    manifest = fetch_image_folder(params, out)
    assert manifest["class_names"] == ["dog", "cat"] and manifest["given_splits"] == {"test": 4, "train": 4}
    assert (out / "images" / "train" / "cat" / "0.jpg").exists()
    index, _ = prepare(out, manifest, PreprocessParams(image_size=(8, 8), color="rgb"), tmp_path / "prepared")
    data = load_prepared(tmp_path / "prepared")
    assert {k: len(v) for k, v in keep_given_split(index, 0.5, seed=0).items()} == {"train": 2, "validation": 2, "test": 4}
    with pytest.raises(PipelineError, match="cannot hold out 0.25 of 4 images stratified by class"):
        keep_given_split(data, 0.25, seed=0)
    parts = keep_given_split(data, 0.5, seed=0)
    assert {k: len(v) for k, v in parts.items()} == {"train": 2, "validation": 2, "test": 4}
    assert data.class_names == ("dog", "cat") and (data.labels[data.given_split == "test"] == [1, 1, 0, 0]).all()


def test_an_archive_fetched_as_the_stage_does_is_prepared_from_its_final_place(tmp_path):
    photos = photo_folder(tmp_path / "photos", per_class=2)
    with tarfile.open(tmp_path / "photos.tar.gz", "w:gz") as tar:
        tar.add(photos, arcname="photos")  # one folder wrapping the classes, as published archives do
    params = FetchParams(source="image_folder", path=str(tmp_path / "photos.tar.gz"))
    with atomic_dir(tmp_path / "raw") as out:  # written in a temporary folder, then moved into place
        manifest = fetch_image_folder(params, out)
    assert manifest["class_names"] == ["cat", "dog"] and "root" not in manifest
    index, quality = prepare(tmp_path / "raw", manifest, PreprocessParams(image_size=(8, 8)), tmp_path / "prepared")
    assert len(index) == 4 and len(load_prepared(tmp_path / "prepared")) == 4 and quality["bad"] == []


def test_unknown_class_in_folder(tmp_path):
    photos = photo_folder(tmp_path / "photos", per_class=1)
    with pytest.raises(PipelineError, match="unknown class 'horse'; the classes are cat, dog"):
        fetch_image_folder(FetchParams(source="image_folder", path=str(photos), classes=["cat", "horse"]), tmp_path)


def test_keep_given_needs_train_and_test(imageset):
    with pytest.raises(PipelineError, match="gives no train/test split"):
        keep_given_split(imageset, 0.1, 0)


def test_load_source_reads_any_fetch_source_at_the_target_size(tmp_path):
    photos = photo_folder(tmp_path / "photos", per_class=3)
    params = FetchParams(source="image_folder", path=str(photos), classes=["dog", "cat"])
    (tmp_path / "work").mkdir()
    folder = load_source(params, PreprocessParams(image_size=(16, 12), color="rgb"), tmp_path / "work")
    assert folder.images.shape == (6, 16, 12, 3) and folder.class_names == ("dog", "cat")
    assert folder.images[folder.labels == 0].mean() > folder.images[folder.labels == 1].mean() + 100  # dog (bright) is class 0
    (tmp_path / "work2").mkdir()
    digits = load_source(FetchParams(source="digits"), PreprocessParams(image_size=(28, 28)), tmp_path / "work2")
    assert digits.images.shape == (1797, 28, 28, 1) and len(digits.class_names) == 10


def test_a_folder_is_decoded_a_shard_at_a_time_and_reads_back_as_in_one_shard(tmp_path):
    photos = photo_folder(tmp_path / "photos", per_class=12)
    (photos / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")  # in the second shard's files
    raw = tmp_path / "raw"
    raw.mkdir()
    manifest = fetch_image_folder(FetchParams(source="image_folder", path=str(photos)), raw)
    size = dict(image_size=(128, 128), color="rgb", max_bad_fraction=0.1)  # 48 KiB an image: 21 in 1 MiB
    many, quality = prepare(raw, manifest, PreprocessParams(**size, shard_mb=1), tmp_path / "many")
    one, _ = prepare(raw, manifest, PreprocessParams(**size), tmp_path / "one")
    assert len(list((tmp_path / "many").glob("shard-*.npy"))) == 2 and len(list((tmp_path / "one").glob("shard-*.npy"))) == 1
    assert quality["bad"] == [{"path": "dog/broken.jpg", "reason": "truncated JPEG (no end-of-image marker)"}]
    in_shards, in_one = load_prepared(tmp_path / "many"), load_prepared(tmp_path / "one")
    np.testing.assert_array_equal(in_shards.images, in_one.images)
    assert in_shards.class_counts() == {"cat": 12, "dog": 12} and (in_shards.labels == in_one.labels).all()
    assert (many.sources == one.sources).all() and "dog/broken.jpg" not in many.sources
    assert in_shards.content_sha256() == in_one.content_sha256()
