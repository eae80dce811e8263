import numpy as np
import pytest

from imgclf.data.dataset import ImageSet, load_imageset, save_imageset
from imgclf.errors import PipelineError


def test_save_load_round_trip(tmp_path, imageset):
    save_imageset(tmp_path / "d.npz", imageset)
    loaded = load_imageset(tmp_path / "d.npz")
    np.testing.assert_array_equal(loaded.images, imageset.images)
    np.testing.assert_array_equal(loaded.labels, imageset.labels)
    assert loaded.class_names == imageset.class_names
    assert loaded.content_sha256() == imageset.content_sha256()


def test_content_hash_changes_with_a_pixel(imageset):
    changed = imageset.images.copy()
    changed[0, 0, 0, 0] ^= 1
    assert ImageSet(changed, imageset.labels, imageset.class_names).content_sha256() != imageset.content_sha256()


def test_pixel_digests_tell_identical_images_apart_from_others_and_carry_into_a_subset(imageset):
    images = imageset.images.copy()
    images[1] = images[0]
    images[2, 0, 0, 0] = images[0, 0, 0, 0] ^ 1
    images[2, 1:] = images[0, 1:]
    images[2, 0, 1:] = images[0, 0, 1:]
    data = ImageSet(images, imageset.labels, imageset.class_names)
    digests = data.pixel_digests
    assert digests[0] == digests[1] and digests[0] != digests[2]  # one pixel apart
    index = np.array([2, 0, 1])
    part = data.subset(index)
    assert "pixel_digests" in part.__dict__  # handed over, not hashed again
    fresh = ImageSet(part.images, part.labels, part.class_names).pixel_digests
    np.testing.assert_array_equal(part.pixel_digests, fresh)


def test_class_counts_lists_every_class():
    data = ImageSet(np.zeros((3, 2, 2, 1), np.uint8), np.array([0, 0, 2]), ("a", "b", "c"))
    assert data.class_counts() == {"a": 2, "b": 0, "c": 1}


def test_invalid_sets_are_rejected():
    with pytest.raises(ValueError, match="uint8 NHWC"):
        ImageSet(np.zeros((2, 4, 4), np.uint8), np.array([0, 1]), ("a", "b"))
    with pytest.raises(ValueError, match="labels must lie"):
        ImageSet(np.zeros((2, 4, 4, 1), np.uint8), np.array([0, 2]), ("a", "b"))


def test_missing_and_corrupt_files_name_the_path(tmp_path):
    with pytest.raises(PipelineError, match="missing.npz: not found"):
        load_imageset(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(PipelineError, match="bad.npz: not a valid image set"):
        load_imageset(bad)
