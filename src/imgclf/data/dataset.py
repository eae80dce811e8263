"""``ImageSet``: labelled uint8 images in NHWC layout, with class names, saved as ``.npz``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from imgclf.errors import PipelineError
from imgclf.outputs import save_arrays


@dataclass(frozen=True)
class ImageSet:
    """Images ``(N, H, W, C)`` as uint8, integer labels ``(N,)`` and the class names.

    ``given_split`` optionally holds each image's split as its source published it
    (``train``, ``validation``, ``test``), for a split stage that keeps it.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    given_split: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 NHWC, got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but labels of shape {self.labels.shape}")
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.class_names):
            raise ValueError(f"labels must lie in [0, {len(self.class_names)})")
        if self.given_split is not None and self.given_split.shape != self.labels.shape:
            raise ValueError("given_split must have one entry per image")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, ...]:
        """``(H, W, C)``."""
        return self.images.shape[1:]

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The images at ``positions``, as a new array (what :class:`ShardedPart` reads from disk)."""
        return self.images[positions]

    def subset(self, index: np.ndarray) -> "ImageSet":
        """The images at ``index``, same classes (and their pixel digests, if already computed)."""
        split = None if self.given_split is None else self.given_split[index]
        part = ImageSet(self.images[index], self.labels[index], self.class_names, split)
        if "pixel_digests" in self.__dict__:
            part.__dict__["pixel_digests"] = self.pixel_digests[index]
        return part

    @cached_property
    def pixel_digests(self) -> np.ndarray:
        """Each image's :func:`pixel_digests`, computed once; :meth:`subset` hands the part its share."""
        return pixel_digests(self.images)

    def class_counts(self) -> dict[str, int]:
        """Number of images per class name, every class listed."""
        return class_counts(self.labels, self.class_names)

    def content_sha256(self) -> str:
        """A hash of pixels, labels, class names and given split: equal data, equal hash."""
        return content_sha256(self.images.shape[1:], self.class_names, self.pixel_digests, self.labels,
                              self.given_split)


def class_counts(labels: np.ndarray, class_names: tuple[str, ...]) -> dict[str, int]:
    """Number of ``labels`` per class name, every class listed."""
    counts = np.bincount(labels, minlength=len(class_names))
    return {name: int(n) for name, n in zip(class_names, counts)}


def pixel_digests(images: np.ndarray) -> np.ndarray:
    """A 16-byte BLAKE2b digest of each image's pixels, as an ``(N,)`` array of bytes: equal for
    pixel-identical images, distinct otherwise but for a chance of 2**-128 a pair."""
    return np.array([hashlib.blake2b(memoryview(np.ascontiguousarray(image)).cast("B"), digest_size=16).digest()
                     for image in images], dtype="S16")


def content_sha256(image_shape: tuple[int, ...], class_names: tuple[str, ...], digests: np.ndarray,
                   labels: np.ndarray, given_split: np.ndarray | None) -> str:
    """A hash of a data set from its images' shape and :func:`pixel_digests`, labels, class names and
    given split: what an :class:`ImageSet` in memory and prepared shards on disk (whose index keeps
    the digests) both compute, without reading the pixels twice."""
    digest = hashlib.sha256()
    digest.update(repr((tuple(int(d) for d in image_shape), tuple(class_names), len(labels))).encode())
    digest.update(np.ascontiguousarray(digests, dtype="S16").tobytes())
    digest.update(np.asarray(labels).astype("<i8").tobytes())
    if given_split is not None:
        digest.update("\n".join(given_split.tolist()).encode())
    return digest.hexdigest()


def save_imageset(path: str | Path, data: ImageSet) -> None:
    """Write ``data`` to ``path`` (``.npz``) atomically."""
    extra = {} if data.given_split is None else {"given_split": data.given_split.astype(str)}
    save_arrays(
        path,
        images=data.images,
        labels=data.labels.astype(np.int64),
        class_names=np.array(data.class_names, dtype=str),
        **extra,
    )


def load_imageset(path: str | Path) -> ImageSet:
    """Read an ``ImageSet`` written by :func:`save_imageset`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            split = f["given_split"] if "given_split" in f.files else None
            return ImageSet(f["images"], f["labels"], tuple(str(c) for c in f["class_names"]), split)
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found (run the stage that makes it first)") from None
    except (KeyError, ValueError, OSError) as exc:
        raise PipelineError(f"{path}: not a valid image set: {exc}") from None
