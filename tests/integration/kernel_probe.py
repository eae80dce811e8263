"""The kernels of one LeNet training step under a params file's numerics pins, as SHA-256 hashes.

``python tests/integration/kernel_probe.py params.yaml`` prints one JSON object: the hash of each
layer's output and of each gradient. Run under ``qemu-x86_64 -cpu <model>``, it shows what a CPU of
that model computes (QEMU answers the program's CPUID questions as that model would)."""

import hashlib
import json
import sys

from imgclf.numerics import pin_from_params_file

pin_from_params_file(sys.argv[1])  # before NumPy and TensorFlow load, as in a stage

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

rng = np.random.default_rng(0)
images = tf.constant(rng.standard_normal((32, 28, 28, 1)), tf.float32)
conv1 = tf.Variable(rng.standard_normal((5, 5, 1, 20)) * 0.1, dtype=tf.float32)
conv2 = tf.Variable(rng.standard_normal((5, 5, 20, 50)) * 0.1, dtype=tf.float32)
dense = tf.Variable(rng.standard_normal((800, 500)) * 0.05, dtype=tf.float32)


@tf.function  # a graph, as Keras trains: the kernels a training step runs
def step():
    with tf.GradientTape() as tape:
        first = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(images, conv1, 1, "VALID")), 2, 2, "VALID")
        second = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(first, conv2, 1, "VALID")), 2, 2, "VALID")
        out = tf.matmul(tf.reshape(second, (32, -1)), dense)
        loss = tf.reduce_sum(out * out)
    return {"conv1": first, "conv2": second, "dense": out,
            **dict(zip(("grad_conv1", "grad_conv2", "grad_dense"), tape.gradient(loss, [conv1, conv2, dense])))}


print(json.dumps({name: hashlib.sha256(np.ascontiguousarray(value.numpy()).tobytes()).hexdigest()
                  for name, value in step().items()}))
