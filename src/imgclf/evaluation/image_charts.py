"""Charts of images: a grid of images on one Axes, the misclassified gallery, the feature maps.

A grid draws each image as its own ``AxesImage`` on a single Axes: the same picture as an Axes
per image, several times faster to draw (a 68-image grid: 0.26 s against 0.75 s).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from imgclf.evaluation.charts import save_figure


def image_style(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An NHWC image as ``imshow`` takes it: grey for one channel, in colour for three."""
    return (image[..., 0], "gray") if image.shape[-1] == 1 else (image, None)


GRID_GAP = 0.08  # between images of a grid, in image widths


def image_grid_panel(images: list[tuple[np.ndarray, str | None]], titles: list[str], columns: int,
                     title_space: float, fontsize: float, ax: Axes | None = None) -> list[AxesImage]:
    """Images (each a 2-D map with its colour map, or RGB with None) in rows of ``columns`` on one
    Axes, each titled above in ``title_space`` (in image heights); the drawn images, each coloured
    over its own range as ``imshow`` alone draws it."""
    ax = plt.subplots()[1] if ax is None else ax
    drawn = []
    pitch_x, pitch_y = 1 + GRID_GAP, 1 + GRID_GAP + title_space
    for i, ((image, cmap), title) in enumerate(zip(images, titles)):
        row, column = divmod(i, columns)
        height, width = image.shape[:2]
        w, h = (1.0, height / width) if width >= height else (width / height, 1.0)
        left, top = column * pitch_x + (1 - w) / 2, row * pitch_y + title_space + (1 - h) / 2
        drawn.append(ax.imshow(image, cmap=cmap, extent=(left, left + w, top + h, top), interpolation="nearest"))
        if title:
            ax.text(column * pitch_x + 0.5, row * pitch_y + title_space - 0.02, title, ha="center", va="bottom",
                    fontsize=fontsize)
    rows = max(1, -(-len(images) // columns))
    ax.set_xlim(-GRID_GAP / 2, columns * pitch_x - GRID_GAP / 2)
    ax.set_ylim(rows * pitch_y, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    return drawn


def _grid_figure(rows: int, columns: int, title_space: float, inches: float) -> tuple[plt.Figure, Axes]:
    """A figure that an image grid fills, ``inches`` an image width."""
    fig = plt.figure(figsize=(columns * (1 + GRID_GAP) * inches, rows * (1 + GRID_GAP + title_space) * inches))
    return fig, fig.add_axes((0, 0, 1, 1))


def gallery_chart(images: np.ndarray, y_true: np.ndarray, proba: np.ndarray, class_names: tuple[str, ...],
                  title: str, path: Path) -> None:
    """A grid of test images with their true class, the prediction and its probability."""
    columns, title_space = 4, 0.3
    fig, ax = _grid_figure(max(1, -(-len(images) // columns)), columns, title_space, 2.0)
    titles = []
    for label, p in zip(y_true, proba):
        predicted = int(p.argmax())
        titles.append(f"true {class_names[label]}\npredicted {class_names[predicted]} ({p[predicted]:.2f})")
    image_grid_panel([image_style(image) for image in images], titles, columns, title_space, 9, ax=ax)
    if not len(images):
        ax.text(0.5, 0.5, "no misclassified test image", fontsize=12, transform=ax.transAxes, ha="center")
    fig.suptitle(f"{title}: misclassified test images (seeded sample)", y=1.02)
    save_figure(fig, path)


def feature_maps_chart(activations: list[tuple[str, np.ndarray]], images: np.ndarray, title: str, path: Path,
                       channels: int = 8) -> None:
    """For each image (rows): the image, then the first ``channels`` maps of each conv layer."""
    cells, titles = [], []
    for r in range(len(images)):
        cells.append(image_style(images[r]))
        titles.append("")
        for name, maps in activations:
            for c in range(min(channels, maps.shape[-1])):
                cells.append((maps[r, ..., c], "viridis"))
                titles.append(f"{name}[{c}]" if r == 0 else "")
    columns = len(cells) // max(1, len(images))
    title_space = 0.2
    fig, ax = _grid_figure(len(images), columns, title_space, 1.2)
    image_grid_panel(cells, titles, columns, title_space, 7, ax=ax)
    fig.suptitle(f"{title}: feature maps of the first convolutional layers", y=1.04)
    save_figure(fig, path)
