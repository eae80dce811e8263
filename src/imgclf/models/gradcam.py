"""Grad-CAM: where in an image a Keras CNN looked to score a class (Selvaraju et al., 2017).

The last Conv2D layer is found automatically, also inside a nested base (the transfer models
and ``keras.applications`` bases). Its feature maps are weighted by the mean gradient of the
class's score (the output layer's logit, before softmax or sigmoid), summed, kept positive and
resized to the image. Pure functions: the model is not changed.
"""

from __future__ import annotations

import cv2
import keras
import numpy as np


def last_conv_path(model: keras.Model) -> list[keras.layers.Layer]:
    """The nested models leading to the last Conv2D layer of ``model``, then that layer; empty if none."""
    for layer in reversed(model.layers):
        if isinstance(layer, keras.Model):
            inner = last_conv_path(layer)
            if inner:
                return [layer, *inner]
        elif isinstance(layer, keras.layers.Conv2D):
            return [layer]
    return []


def _conv_and_output(model: keras.Model, path: list[keras.layers.Layer], x, upto: keras.layers.Layer | None = None):
    """Symbolic ``(conv output, output)`` of ``model`` on tensor ``x``; the output is the input of
    ``upto`` when given. A nested model on the path is split the same way, so the layers of
    ``model`` around it must form a chain (as ``build_cnn`` and ``build_transfer_model`` make)."""
    head = path[0]
    end = upto.input if upto is not None else model.output
    if len(path) == 1:
        return keras.Model(model.inputs, [head.output, end])(x)
    conv = None
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if layer is upto:
            break
        if layer is head:
            conv, x = _conv_and_output(head, path[1:], x)
        else:
            x = layer(x)
    return conv, x


def gradcam_model(model: keras.Model) -> keras.Model:
    """A model from ``model``'s images to (last conv layer's maps, the output layer's input)."""
    path = last_conv_path(model)
    if not path:
        raise ValueError(f"model {model.name!r} has no Conv2D layer: Grad-CAM needs a CNN")
    inputs = keras.Input(shape=model.input_shape[1:], name="image")
    return keras.Model(inputs, _conv_and_output(model, path, inputs, upto=model.layers[-1]), name="gradcam")


def class_scores(model: keras.Model, features, classes: np.ndarray):
    """Each image's score for its class in ``classes``: the logit of the output Dense layer (for one
    sigmoid unit, +logit for class 1 and -logit for class 0)."""
    import tensorflow as tf

    output = model.layers[-1]
    logits = tf.matmul(features, output.kernel) + output.bias
    if logits.shape[-1] == 1:
        return logits[:, 0] * tf.constant(np.where(classes == 1, 1.0, -1.0), logits.dtype)
    return tf.gather(logits, tf.constant(classes), axis=1, batch_dims=1)


def gradcam(model: keras.Model, images: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
    """Grad-CAM heat maps ``(N, H, W)`` in [0, 1] at the images' size, for ``classes`` (default:
    each image's predicted class). ``images``: NHWC as the model takes them (uint8 for this
    project's models, which rescale inside). An image whose map is all zero stays zero."""
    import tensorflow as tf

    if not isinstance(model.layers[-1], keras.layers.Dense):
        raise ValueError(f"model {model.name!r} does not end with a Dense layer: no class score for Grad-CAM")
    split = gradcam_model(model)
    x = tf.convert_to_tensor(np.asarray(images), tf.float32)
    with tf.GradientTape() as tape:
        conv, features = split(x, training=False)
        if classes is None:
            probabilities = model.layers[-1](features)
            classes = (probabilities.numpy()[:, 0] >= 0.5).astype(int) if probabilities.shape[-1] == 1 \
                else probabilities.numpy().argmax(axis=1)
        scores = class_scores(model, features, np.asarray(classes))
    grads = tape.gradient(scores, conv)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cams = tf.nn.relu(tf.reduce_sum(conv * weights, axis=-1)).numpy().astype(np.float32)
    height, width = images.shape[1:3]
    maps = np.stack([cv2.resize(cam, (width, height), interpolation=cv2.INTER_LINEAR) for cam in cams])
    maps = np.clip(maps, 0.0, None)
    peak = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0)


def overlay(image: np.ndarray, heat_map: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """``image`` (HxWx1 or HxWx3, uint8) with ``heat_map`` (HxW in [0, 1]) in OpenCV's JET colours
    over it: an RGB uint8 image of the same size."""
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    heat = cv2.applyColorMap(np.uint8(np.round(255 * np.clip(heat_map, 0.0, 1.0))), cv2.COLORMAP_JET)
    return cv2.addWeighted(rgb.astype(np.uint8), 1.0 - alpha, cv2.cvtColor(heat, cv2.COLOR_BGR2RGB), alpha, 0.0)
