"""The tf.data input pipelines Keras trains and validates from.

:func:`batches` reads a batch's pixels from where the images live (:meth:`ShardedPart.take`:
the prepared shards on disk, or an ``ImageSet`` in memory) in tf.data's parallel map, in order
(``deterministic``), and prefetches: a part larger than memory trains as one held whole.

Training shuffles the images' positions, not their pixels: a full permutation at 8 bytes an
image, drawn anew each epoch from a fixed seed (``reshuffle_each_iteration``), so every run
sees the same sequence of orders. Keras' own array input (``fit(x, y, shuffle=True)``), which
the stages used before, draws its permutation with TensorFlow's global seed inside a pipeline
it rebuilds each epoch, and so repeats the first epoch's order in every epoch.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from imgclf.models.cnn import augmentation_layers
from imgclf.params import AugmentationParams


class Images(Protocol):
    """What an input pipeline reads: an ``ImageSet`` in memory or a ``ShardedPart`` on disk."""

    labels: np.ndarray
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, ...]: ...

    def __len__(self) -> int: ...

    def take(self, positions: np.ndarray) -> np.ndarray: ...


def batches(data: Images, batch_size: int, shuffle_seed: int | None = None,
            class_weight: dict[int, float] | None = None, shard: tuple[int, int] | None = None):
    """``(images, labels[, sample weights])`` batches of ``data`` as a ``tf.data.Dataset``: in
    order, or reshuffled each epoch from ``shuffle_seed``; ``class_weight`` as sample weights.

    ``shard`` ``(count, index)``: only every ``count``-th position of that order from ``index``
    on, dealt out before any pixels are read, so that ``count`` workers with the same seed read
    disjoint images and their ``k``-th batches together are the ``k``-th batch of ``count`` times
    the size. The order is first cut to a multiple of ``count`` (at most ``count - 1`` images
    left out, other ones each epoch when shuffled) so that every worker takes as many steps."""
    import tensorflow as tf

    shape = tuple(data.image_shape)
    labels = tf.constant(data.labels)
    weights = None if class_weight is None else tf.constant(
        np.array([class_weight[int(k)] for k in data.labels], np.float32))
    positions = tf.data.Dataset.range(len(data))
    if shuffle_seed is not None:
        positions = positions.shuffle(len(data), seed=shuffle_seed, reshuffle_each_iteration=True)
    if shard is not None:
        count, index = shard
        positions = positions.take(len(data) - len(data) % count).shard(count, index)

    def with_images(where):
        images = tf.numpy_function(data.take, [where], tf.uint8, stateful=False)
        images.set_shape((None, *shape))
        columns = (images, tf.gather(labels, where))
        return columns if weights is None else (*columns, tf.gather(weights, where))

    return (positions.batch(batch_size)
            .map(with_images, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


def augmented(dataset, params: AugmentationParams):
    """``dataset``'s images through the augmentation layers ``params`` asks for, in tf.data's
    parallel map (in order): what ``augmentation.in_pipeline`` runs instead of the model."""
    import tensorflow as tf

    layers = augmentation_layers(params)

    def transform(images, *rest):
        x = tf.cast(images, tf.float32)
        for layer in layers:
            x = layer(x, training=True)
        return (x, *rest)

    return dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
