"""Dataset files with pinned checksums: found in a mirror folder or the cache, else downloaded.

A file is used only once its sha256 matches the pinned value. A mirrored ``.gz`` file may have
been re-compressed (same content, another gzip header): then the sha256 of its decompressed
content must match a second pinned value. Downloads go to a temporary file that is renamed
only when complete and verified.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from imgclf.errors import PipelineError
from imgclf.outputs import sha256_file

CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, where it is published and its pinned hashes."""

    name: str
    url: str
    sha256: str
    content_sha256: str | None = None  # of the gunzipped content, for re-compressed mirrors


def cache_dir() -> Path:
    """Where downloads are kept: ``$IMGCLF_CACHE`` or ``~/.cache/imgclf``."""
    return Path(os.environ.get("IMGCLF_CACHE", Path.home() / ".cache" / "imgclf"))


def mirror_dir(mirror: str | None) -> Path | None:
    """The mirror folder: the parameter, else ``$IMGCLF_MIRROR``, else none."""
    chosen = mirror or os.environ.get("IMGCLF_MIRROR")
    return Path(chosen) if chosen else None


def sha256_gunzipped(path: Path) -> str:
    """sha256 of a gzip file's decompressed content; a corrupt file is an error naming it."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise PipelineError(f"{path}: truncated or corrupt gzip file ({exc})") from None
    return digest.hexdigest()


def verify(path: Path, spec: RemoteFile) -> dict[str, str]:
    """Check ``path`` against the pinned hashes; a record of what was checked, or an error."""
    actual = sha256_file(path)
    record = {"file": spec.name, "path": str(path), "sha256": actual}
    if actual == spec.sha256:
        return record
    if spec.content_sha256 and spec.name.endswith(".gz"):
        content = sha256_gunzipped(path)
        record["content_sha256"] = content
        if content == spec.content_sha256:
            record["note"] = "re-compressed copy: file hash differs, decompressed content matches"
            return record
    raise PipelineError(
        f"{path}: sha256 {actual} does not match the pinned {spec.sha256} for {spec.name}"
        + (" (nor does its decompressed content)" if spec.content_sha256 else "")
        + "; the file was not used"
    )


def download(url: str, dest: Path, timeout: float = 60.0) -> None:
    """Download ``url`` to ``dest`` through a temporary file renamed when complete."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out, CHUNK)
        os.replace(tmp, dest)
    except OSError as exc:
        raise PipelineError(
            f"cannot download {url} ({exc}); offline, put {dest.name} into a mirror folder "
            "(fetch.mirror in params.yaml, or IMGCLF_MIRROR)"
        ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def obtain(spec: RemoteFile, mirror: Path | None = None, cache: Path | None = None) -> tuple[Path, dict]:
    """A verified local copy of ``spec``: from the mirror, the cache, or a fresh download.

    A file that fails verification stops the stage; a downloaded one is deleted first.
    """
    cache = cache or cache_dir()
    for where, path in (("mirror", mirror / spec.name if mirror else None), ("cache", cache / spec.name)):
        if path is not None and path.is_file():
            return path, {**verify(path, spec), "from": where}
    path = cache / spec.name
    download(spec.url, path)
    try:
        return path, {**verify(path, spec), "from": spec.url}
    except PipelineError:
        path.unlink(missing_ok=True)
        raise
