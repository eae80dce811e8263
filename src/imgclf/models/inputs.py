"""The tf.data input pipelines Keras trains and validates from.

:func:`batches` makes exactly the batches that Keras' own array input (``model.fit(x, y,
shuffle=True)``) would make from the images in memory: the same shuffled order each epoch, the
same batch sizes and the same class weights, since it is Keras' array adapter that orders and
batches them, run over the images' positions instead of their pixels. Each batch's pixels are
then read from where the images live (:meth:`ShardedPart.take`: the prepared shards on disk;
or an ``ImageSet`` in memory) in tf.data's parallel map, in order (``deterministic``), and
prefetched. So a part larger than memory trains with the batches, and the weights, of a part
held whole; the shuffle is a full permutation at 8 bytes an image, not a buffer of pixels.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Images(Protocol):
    """What an input pipeline reads: an ``ImageSet`` in memory or a ``ShardedPart`` on disk."""

    labels: np.ndarray
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, ...]: ...

    def __len__(self) -> int: ...

    def take(self, positions: np.ndarray) -> np.ndarray: ...


def batches(data: Images, batch_size: int, shuffle: bool = False,
            class_weight: dict[int, float] | None = None):
    """``(images, labels[, sample weights])`` batches of ``data`` as a ``tf.data.Dataset``."""
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    positions = np.arange(len(data), dtype=np.int64)
    adapter = ArrayDataAdapter(positions, data.labels, batch_size=batch_size, shuffle=shuffle,
                               class_weight=class_weight)
    shape = tuple(data.image_shape)

    def with_images(where, labels, *weights):
        images = tf.numpy_function(data.take, [where], tf.uint8, stateful=False)
        images.set_shape((None, *shape))
        return (images, labels, *weights)

    dataset = adapter.get_tf_dataset().map(with_images, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(adapter.num_batches))
    return dataset.prefetch(tf.data.AUTOTUNE)
