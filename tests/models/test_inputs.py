import numpy as np

from imgclf.data.parts import open_part
from imgclf.data.shards import save_parts
from imgclf.models.cnn import build_cnn
from imgclf.models.inputs import batches
from imgclf.models.training import class_weights, compile_model, fit, seed_everything, training_callbacks
from imgclf.params import FitParams
from tests.helpers import SMALL, make_imageset

PARAMS = FitParams(epochs=3, batch_size=7, learning_rate=0.01, class_weight="balanced")


def unbalanced(seed: int):
    data = make_imageset(n_per_class=20, seed=seed)
    return data.subset(np.flatnonzero((data.labels != 2) | (np.arange(len(data)) % 3 == 0)))  # 7 of class 2


def trained_weights(read) -> tuple[bytes, list[float]]:
    """Train SMALL for PARAMS' epochs with ``read(model, train, validation)`` doing the fitting."""
    seed_everything(0)
    train, validation = unbalanced(0), unbalanced(1)
    model = build_cnn(SMALL, train.image_shape, 3)
    compile_model(model, PARAMS)
    history = read(model, train, validation)
    return b"".join(np.asarray(w).tobytes() for w in model.get_weights()), history.history["val_loss"]


def test_streamed_batches_train_the_very_weights_of_keras_own_array_input(tmp_path):
    def arrays(model, train, validation):  # what fit did before the input pipelines
        return model.fit(train.images, train.labels, validation_data=(validation.images, validation.labels),
                         batch_size=PARAMS.batch_size, epochs=PARAMS.epochs, callbacks=training_callbacks(PARAMS),
                         class_weight=class_weights(train.labels, 3, PARAMS.class_weight), shuffle=True, verbose=0)

    def from_memory(model, train, validation):
        return fit(model, train, validation, PARAMS)

    def from_shards(model, train, validation):
        save_parts({"train": train, "validation": validation}, tmp_path / "prepared", tmp_path / "split", shard_mb=1)
        on_disk = [open_part(name, tmp_path / "prepared", tmp_path / "split") for name in ("train", "validation")]
        return fit(model, *on_disk, PARAMS)

    expected, expected_loss = trained_weights(arrays)
    for read in (from_memory, from_shards):
        weights, loss = trained_weights(read)
        assert weights == expected, f"{read.__name__} trained other weights than Keras' array input"
        assert loss == expected_loss


def test_each_epoch_is_a_new_permutation_in_batches_of_the_asked_size():
    data = make_imageset(n_per_class=10)
    dataset = batches(data, batch_size=8, shuffle=True, class_weight={0: 1.0, 1: 2.0, 2: 0.5})
    assert int(dataset.cardinality()) == 4
    epochs = []
    for _ in range(2):
        images, labels, weights = (np.concatenate(column) for column in zip(*[
            tuple(np.asarray(t) for t in batch) for batch in dataset]))
        assert [len(b[0]) for b in dataset] == [8, 8, 8, 6]
        order = [next(i for i in range(30) if (data.images[i] == image).all()) for image in images]
        assert sorted(order) == list(range(30))  # every image once
        np.testing.assert_array_equal(labels, data.labels[order])
        np.testing.assert_array_equal(weights, np.array([1.0, 2.0, 0.5])[labels])
        epochs.append(order)
    assert epochs[0] != list(range(30))
    in_order = np.concatenate([np.asarray(b[0]) for b in batches(data, batch_size=8)])
    np.testing.assert_array_equal(in_order, data.images)
