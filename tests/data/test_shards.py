import numpy as np
import pytest

from imgclf import layout
from imgclf.data.parts import gather, load_part, load_prepared, open_part
from imgclf.data.shards import INDEX_FILE, index_content_sha256, load_index, save_parts, save_rows, shard_name, write_shards
from imgclf.data.splitting import duplicates_across, keep_given_split, stratified_split
from imgclf.errors import PipelineError
from tests.helpers import make_imageset

MIB = 2**20


@pytest.fixture
def two_mib():
    """600 images of 32x32 RGB (3 KiB each, 1.8 MiB in all): two shards at shard_mb 1."""
    data = make_imageset(n_per_class=200, n_classes=3, size=32, channels=3, seed=4)
    data.images[7] = data.images[3]  # a pair of duplicates in one class
    return data


def test_shards_are_bounded_and_read_back_exactly(tmp_path, two_mib):
    index = write_shards(tmp_path, two_mib, shard_mb=1, sources=np.array([f"f{i}.jpg" for i in range(600)]))
    shards = sorted(tmp_path.glob("shard-*.npy"))
    assert [s.name for s in shards] == [shard_name(0), shard_name(1)]
    assert all(np.load(s, mmap_mode="r").nbytes <= MIB for s in shards)
    assert [len(np.load(s, mmap_mode="r")) for s in shards] == [341, 259]  # 1 MiB // 3,072 bytes
    back = load_prepared(tmp_path)
    np.testing.assert_array_equal(back.images, two_mib.images)
    np.testing.assert_array_equal(back.labels, two_mib.labels)
    assert back.class_names == two_mib.class_names
    assert (index.pixel_digests == two_mib.pixel_digests).all() and index.sources[599] == "f599.jpg"
    assert index_content_sha256(index, (32, 32, 3)) == two_mib.content_sha256()
    assert load_index(tmp_path).class_counts() == two_mib.class_counts()


def test_gather_takes_rows_across_shards_in_the_order_asked(tmp_path, two_mib):
    write_shards(tmp_path, two_mib, shard_mb=1)
    rows = np.array([599, 0, 340, 341, 5, 341])
    part = gather(tmp_path, rows)
    np.testing.assert_array_equal(part.images, two_mib.images[rows])
    np.testing.assert_array_equal(part.labels, two_mib.labels[rows])
    assert (part.pixel_digests == two_mib.pixel_digests[rows]).all()
    assert gather(tmp_path, np.array([], dtype=np.int64)).images.shape == (0, 32, 32, 3)


def test_an_open_part_is_indexed_as_the_array_of_its_images_is(tmp_path, two_mib):
    """What evaluate reads a batch, a gallery or one image at a time, across the two shards."""
    parts = {"test": two_mib}
    save_parts(parts, tmp_path / "prepared", tmp_path / "split", shard_mb=1)
    part, images = open_part("test", tmp_path / "prepared", tmp_path / "split"), two_mib.images
    for index in (slice(None), slice(300, 400), slice(-3, None), np.array([599, 0, 341]), np.array([], dtype=int)):
        np.testing.assert_array_equal(part[index], images[index])
    np.testing.assert_array_equal(part[341], images[341])
    np.testing.assert_array_equal(part[np.int64(-1)], images[-1])
    assert part[7].shape == (32, 32, 3) and part[:0].shape == (0, 32, 32, 3)


def test_a_split_of_the_index_alone_gathers_the_same_parts_as_a_split_in_memory(tmp_path, two_mib):
    write_shards(tmp_path / "prepared", two_mib, shard_mb=1)
    on_index = stratified_split(load_index(tmp_path / "prepared"), 0.7, 0.15, 0.15, seed=3)
    in_memory = stratified_split(two_mib, 0.7, 0.15, 0.15, seed=3)
    (tmp_path / "split").mkdir()
    for name, part in on_index.items():
        save_rows(layout.split_file(name, tmp_path / "split"), part)
        loaded = load_part(name, tmp_path / "prepared", tmp_path / "split")
        np.testing.assert_array_equal(loaded.images, in_memory[name].images)
        np.testing.assert_array_equal(loaded.labels, in_memory[name].labels)
    assert duplicates_across(on_index) == duplicates_across(in_memory) == 0


def test_the_given_split_is_kept_in_the_index(tmp_path):
    data = make_imageset(n_per_class=10, n_classes=2)
    given = np.array(["train", "test"] * 10)
    data = type(data)(data.images, data.labels, data.class_names, given)
    index = write_shards(tmp_path, data, shard_mb=1)
    assert (load_index(tmp_path).given_split == given).all()
    parts = keep_given_split(index, 0.2, seed=0)
    assert {k: len(v) for k, v in parts.items()} == {"train": 8, "validation": 2, "test": 10}
    assert (load_prepared(tmp_path).given_split == given).all()


def test_save_parts_writes_what_preprocess_and_split_would(tmp_path):
    parts = {"train": make_imageset(seed=1), "test": make_imageset(n_per_class=5, seed=2)}
    save_parts(parts, tmp_path / "prepared", tmp_path / "split")
    for name, part in parts.items():
        np.testing.assert_array_equal(load_part(name, tmp_path / "prepared", tmp_path / "split").images, part.images)


def test_missing_or_inconsistent_files_name_the_file_and_the_stage_to_run(tmp_path, two_mib):
    with pytest.raises(PipelineError, match=f"{INDEX_FILE}: not found \\(run preprocess first\\)"):
        load_index(tmp_path)
    with pytest.raises(PipelineError, match="train.npy: not found \\(run split first\\)"):
        load_part("train", tmp_path, tmp_path / "split")
    write_shards(tmp_path, two_mib, shard_mb=1)
    with pytest.raises(PipelineError, match="test rows: rows outside the 600 prepared images"):
        gather(tmp_path, np.array([0, 600]), "test rows")
    shard = tmp_path / shard_name(1)
    shard.write_bytes(shard.read_bytes()[:-3072])  # its last image lost: the header still says 259
    with pytest.raises(PipelineError, match=f"{shard_name(1)}: cut short \\(re-run preprocess\\)"):
        gather(tmp_path, np.array([341, 599]))
    np.save(tmp_path / shard_name(1), np.zeros((3, 32, 32, 3), np.uint8))  # not what the index says
    with pytest.raises(PipelineError, match=f"{shard_name(1)}: holds uint8 \\(3, 32, 32, 3\\), the index says uint8 \\(259, 32, 32, 3\\)"):
        gather(tmp_path, np.array([599]))
    (tmp_path / shard_name(0)).unlink()
    with pytest.raises(PipelineError, match=f"{shard_name(0)}: not found"):
        gather(tmp_path, np.array([0]))
    (tmp_path / "split").mkdir()
    np.save(tmp_path / "split" / "train.npy", np.array([1, 2]))
    with pytest.raises(PipelineError, match=f"{shard_name(0)}: not found"):  # when opened, before any training
        open_part("train", tmp_path, tmp_path / "split")
    np.save(tmp_path / "split" / "test.npy", np.zeros((2, 2)))
    with pytest.raises(PipelineError, match="test.npy: not a valid split part: float64 \\(2, 2\\)"):
        load_part("test", tmp_path, tmp_path / "split")
