"""Image geometry and colour with OpenCV: fit to the target size, grayscale or RGB."""

from __future__ import annotations

import cv2
import numpy as np

from imgclf.data.dataset import ImageSet

CHANNELS = {"grayscale": 1, "rgb": 3}


def convert_color(image: np.ndarray, color: str) -> np.ndarray:
    """One HWC uint8 image (1 or 3 channels, RGB order) to ``color``; output is HWC."""
    channels = image.shape[-1]
    if color == "grayscale" and channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., np.newaxis]
    if color == "rgb" and channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return image


def fit_to_size(image: np.ndarray, size: tuple[int, int], fit: str) -> np.ndarray:
    """An HW or HWC image resized to ``size`` = (height, width), as HWC.

    ``stretch`` ignores the aspect ratio; ``crop`` takes the centred region of the target's
    aspect ratio; ``pad`` letterboxes with black. Area averaging when shrinking, bilinear
    when growing; an image already at ``size`` is returned as it is.
    """
    height, width = size
    h, w = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    if (h, w) == (height, width):
        return image.reshape(height, width, channels)
    if fit == "crop":
        scale = min(h / height, w / width)
        ch, cw = round(height * scale), round(width * scale)
        top, left = (h - ch) // 2, (w - cw) // 2
        image, h, w = image[top:top + ch, left:left + cw], ch, cw
    if fit == "pad":
        scale = min(height / h, width / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        inner = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        out = np.zeros((height, width, *image.shape[2:]), dtype=image.dtype)
        top, left = (height - nh) // 2, (width - nw) // 2
        out[top:top + nh, left:left + nw] = inner.reshape(nh, nw, *image.shape[2:])
        return out.reshape(height, width, channels)
    interpolation = cv2.INTER_AREA if h * w > height * width else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation).reshape(height, width, channels)


def prepare_images(data: ImageSet, size: tuple[int, int], color: str, fit: str) -> ImageSet:
    """Every image of ``data`` converted to ``color`` and fitted to ``size`` (``preprocess.fit``)."""
    out = np.empty((len(data), size[0], size[1], CHANNELS[color]), dtype=np.uint8)
    for i, image in enumerate(data.images):
        out[i] = fit_to_size(convert_color(image, color), size, fit)
    return ImageSet(out, data.labels, data.class_names, data.given_split)
