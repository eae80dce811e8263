import numpy as np

from imgclf.data.parts import open_part
from imgclf.data.shards import save_parts
from imgclf.models.cnn import build_cnn
from imgclf.models.inputs import batches
from imgclf.models.training import compile_model, fit, seed_everything
from imgclf.params import AugmentationParams, FitParams
from tests.helpers import SMALL, make_imageset

PARAMS = FitParams(epochs=3, batch_size=7, learning_rate=0.01, class_weight="balanced")


def unbalanced(seed: int):
    data = make_imageset(n_per_class=20, seed=seed)
    return data.subset(np.flatnonzero((data.labels != 2) | (np.arange(len(data)) % 3 == 0)))  # 7 of class 2


def trained(train, validation, seed: int = 0) -> tuple[bytes, list[float]]:
    seed_everything(0)
    model = build_cnn(SMALL, train.image_shape, 3)
    compile_model(model, PARAMS)
    history = fit(model, train, validation, PARAMS, seed=seed)
    return b"".join(np.asarray(w).tobytes() for w in model.get_weights()), history.history["val_loss"]


def test_streaming_from_the_shards_trains_the_weights_of_the_same_images_in_memory(tmp_path):
    train, validation = unbalanced(0), unbalanced(1)
    save_parts({"train": train, "validation": validation}, tmp_path / "prepared", tmp_path / "split", shard_mb=1)
    on_disk = [open_part(name, tmp_path / "prepared", tmp_path / "split") for name in ("train", "validation")]
    in_memory = trained(train, validation)
    assert trained(*on_disk) == in_memory
    assert trained(train, validation) == in_memory  # run to run
    assert trained(train, validation, seed=1)[0] != in_memory[0]  # the seed orders the batches


def rows_of(dataset, data) -> list[list[int]]:
    """Each batch of ``dataset`` as the positions in ``data`` of its images, checking its labels."""
    found = []
    for images, labels, *_ in dataset:
        where = [next(i for i in range(len(data)) if (data.images[i] == image).all()) for image in np.asarray(images)]
        np.testing.assert_array_equal(np.asarray(labels), data.labels[where])
        found.append(where)
    return found


def test_each_epoch_is_a_new_permutation_in_batches_of_the_asked_size_and_the_same_each_run():
    data = make_imageset(n_per_class=10)
    dataset = batches(data, batch_size=8, shuffle_seed=5, class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    first, second = rows_of(dataset, data), rows_of(dataset, data)
    assert [len(b) for b in first] == [8, 8, 8, 6]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(30))  # every image once an epoch
    assert first != second and sum(first, []) != list(range(30))
    again = batches(data, batch_size=8, shuffle_seed=5)
    assert rows_of(again, data) == first and rows_of(again, data) == second  # a new run, the same orders
    weights = np.concatenate([np.asarray(w) for *_, w in dataset])
    assert sorted(weights.tolist()) == sorted(np.array([1.0, 2.0, 0.5])[data.labels].tolist())
    assert sum(rows_of(batches(data, batch_size=8), data), []) == list(range(30))  # no seed: in order


class Recorded:
    """``data`` that notes every position its pixels are read at."""

    def __init__(self, data):
        self.data, self.read = data, []
        self.labels, self.class_names, self.image_shape = data.labels, data.class_names, data.image_shape

    def __len__(self) -> int:
        return len(self.data)

    def take(self, positions):
        self.read.extend(positions.tolist())
        return self.data.take(positions)


def test_workers_read_disjoint_shares_whose_batches_together_are_the_global_batches():
    """Two workers (multi-worker training's ``shard``) with the same seed: each reads only its
    own images, and their k-th batches of 4 together are the k-th batch of 8 of one reader."""
    data = make_imageset(n_per_class=10)  # 30 images: none left out for 2 workers
    workers = [Recorded(data), Recorded(data)]
    shares = [rows_of(batches(w, batch_size=4, shuffle_seed=5, shard=(2, i)), data) for i, w in enumerate(workers)]
    whole = rows_of(batches(data, batch_size=8, shuffle_seed=5), data)
    assert [sorted(a + b) for a, b in zip(*shares)] == [sorted(batch) for batch in whole]
    assert sorted(workers[0].read) == sorted(sum(shares[0], [])) and len(workers[0].read) == 15
    assert not set(workers[0].read) & set(workers[1].read)  # no image read twice
    four = [rows_of(batches(data, batch_size=2, shuffle_seed=5, shard=(4, i)), data) for i in range(4)]
    assert [len(sum(share, [])) for share in four] == [7, 7, 7, 7]  # cut to a multiple of 4: as many steps each


def test_augmentation_in_the_input_pipeline_leaves_the_model_plain_and_trains_the_same_each_run():
    augmentation = AugmentationParams(rotation=15, zoom=0.1, horizontal_flip=True, in_pipeline=True)
    train, validation = make_imageset(seed=0), make_imageset(seed=1)

    def weights(aug) -> bytes:
        seed_everything(0)
        model = build_cnn(SMALL, train.image_shape, 3, augmentation=aug)
        assert not [layer.name for layer in model.layers if layer.name.startswith("augment_")]
        compile_model(model, PARAMS)
        fit(model, train, validation, PARAMS, seed=0, augmentation=aug)
        return b"".join(np.asarray(w).tobytes() for w in model.get_weights())

    first = weights(augmentation)
    assert weights(augmentation) == first
    assert weights(None) != first  # the batches were transformed
    in_the_model = build_cnn(SMALL, train.image_shape, 3, augmentation=augmentation.model_copy(update={"in_pipeline": False}))
    assert [layer.name for layer in in_the_model.layers if layer.name.startswith("augment_")]
