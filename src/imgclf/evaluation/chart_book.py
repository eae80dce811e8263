"""PNG charts drawn again only when what they show changed.

A chart is a function of its data, of the code that draws it and of the libraries under that
code. When all three are those of a PNG the previous evaluation wrote, the PNG is copied from
there, byte for byte, instead of being drawn again: a sweep over one CNN's learning rate redraws
that CNN's charts, not every model's. Beside each model's folder of figures, a manifest
``<model>.charts.json`` records, for every PNG, the key of what it was drawn from and its SHA-256;
a PNG that is missing, or whose bytes are not the recorded ones, is drawn again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib
import numpy as np
from pydantic import BaseModel

from imgclf.outputs import read_json, sha256_file, write_json

# The libraries whose versions can change a chart's pixels (matplotlib draws, Pillow writes the
# PNG, scikit-learn's Display classes lay out some panels, NumPy computes what they plot).
LIBRARIES = ("matplotlib", "numpy", "pillow", "scikit-learn")


def _feed(value, sha) -> None:
    """Feed ``value`` to ``sha`` as bytes that differ whenever the value does (type, shape and
    order included). Anything else than data is refused, so that no input is silently ignored."""
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        sha.update(f"a{array.dtype.str}{array.shape}".encode())
        sha.update(array.tobytes())
    elif isinstance(value, BaseModel):
        sha.update(b"m" + type(value).__qualname__.encode() + value.model_dump_json().encode())
    elif isinstance(value, Mapping):
        sha.update(f"d{len(value)}".encode())
        for key in sorted(value, key=repr):
            _feed(key, sha)
            _feed(value[key], sha)
    elif isinstance(value, (list, tuple)):
        sha.update(f"l{len(value)}".encode())
        for item in value:
            _feed(item, sha)
    elif isinstance(value, str):
        sha.update(f"s{len(value.encode())}:".encode() + value.encode())
    elif value is None or isinstance(value, (bool, int, float)):
        sha.update(f"v{type(value).__name__}{value!r};".encode())
    else:
        raise TypeError(f"chart_book: cannot key a chart on a {type(value).__name__}")


def fingerprint(*values) -> str:
    """The SHA-256 of ``values`` (NumPy arrays, mappings, sequences, strings, numbers, None, pydantic models)."""
    sha = hashlib.sha256()
    _feed(list(values), sha)
    return sha.hexdigest()


@functools.cache
def drawing_code() -> str:
    """What draws every chart besides its data: this package's sources, the libraries' versions and
    matplotlib's settings (a user's ``matplotlibrc`` changes fonts and sizes)."""
    sources = [(path.name, path.read_bytes().hex()) for path in sorted(Path(__file__).parent.glob("*.py"))]
    versions = [(name, importlib.metadata.version(name)) for name in LIBRARIES]
    settings = repr(sorted((key, repr(value)) for key, value in matplotlib.rcParams.items()))
    return fingerprint(sources, versions, settings)


class ChartBook:
    """The PNGs of one model's folder of figures, each drawn or, when its key is unchanged, copied
    from the previous evaluation's folder (``previous``, None: draw everything)."""

    def __init__(self, folder: Path, previous: Path | None = None):
        self.folder = folder
        self.entries: dict[str, dict[str, str]] = {}
        self.drawn: list[str] = []
        self.reused: list[str] = []
        self._previous = previous
        manifest = previous and manifest_path(previous)
        self._recorded = read_json(manifest) if manifest and manifest.is_file() else {}

    def draw(self, chart: Callable[..., None], *args, **kwargs) -> None:
        """``chart(*args, **kwargs)``, whose arguments that are paths are the PNGs it writes (in this
        book's folder), unless the previous folder holds each of them drawn from the same key."""
        names = [a.name for a in (*args, *kwargs.values()) if isinstance(a, Path)]
        inputs = ([a for a in args if not isinstance(a, Path)],
                  {k: v for k, v in kwargs.items() if not isinstance(v, Path)})
        key = fingerprint(drawing_code(), chart.__module__, chart.__qualname__, names, inputs)
        if all(self._unchanged(name, key) for name in names):
            for name in names:  # checked against its recorded SHA-256 already
                shutil.copyfile(self._previous / name, self.folder / name)
                self.entries[name] = self._recorded[name]
            self.reused += names
        else:
            chart(*args, **kwargs)
            self.drawn += names
            for name in names:
                self.entries[name] = {"drawn_from": key, "sha256": sha256_file(self.folder / name)}

    def _unchanged(self, name: str, key: str) -> bool:
        entry = self._recorded.get(name)
        if self._previous is None or not entry or entry.get("drawn_from") != key:
            return False
        path = self._previous / name
        return path.is_file() and sha256_file(path) == entry.get("sha256")

    def save(self) -> None:
        """Write the manifest beside the folder."""
        write_json(manifest_path(self.folder), self.entries)


def manifest_path(folder: Path) -> Path:
    """Where the manifest of the figures in ``folder`` is kept: beside it, so that the folder holds only PNGs."""
    return folder.parent / f"{folder.name}.charts.json"
