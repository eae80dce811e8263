"""Image geometry and colour with OpenCV: resize to the target size, grayscale or RGB."""

from __future__ import annotations

import cv2
import numpy as np

from imgclf.dataset import ImageSet

CHANNELS = {"grayscale": 1, "rgb": 3}


def convert_color(image: np.ndarray, color: str) -> np.ndarray:
    """One HWC uint8 image (1 or 3 channels, RGB order) to ``color``; output is HWC."""
    channels = image.shape[-1]
    if color == "grayscale" and channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., np.newaxis]
    if color == "rgb" and channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return image


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize one HWC image to ``(height, width)``: area averaging to shrink, bilinear to grow."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(image, (width, height), interpolation=interpolation)
    return resized.reshape(height, width, image.shape[-1])


def prepare_images(data: ImageSet, size: tuple[int, int], color: str) -> ImageSet:
    """Every image of ``data`` resized to ``size`` and converted to ``color``."""
    out = np.empty((len(data), size[0], size[1], CHANNELS[color]), dtype=np.uint8)
    for i, image in enumerate(data.images):
        out[i] = resize_image(convert_color(image, color), size)
    return ImageSet(out, data.labels, data.class_names, data.given_split)
