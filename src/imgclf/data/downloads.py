"""Dataset files with pinned checksums: found in a mirror folder or the cache, else downloaded.

A file is used only once its sha256 matches the pinned value. A mirrored ``.gz`` file may have
been re-compressed (same content, another gzip header): then the sha256 of its decompressed
content must match a second pinned value. Downloads are pooch's: retried, streamed to a
temporary file in the cache that is renamed only when complete and its hash checked.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import pooch

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


def download(spec: RemoteFile, cache: Path, timeout: float = 60.0, retries: int = 3) -> Path:
    """Download ``spec`` into ``cache`` with pooch: ``retries`` more tries after a failure,
    ``timeout`` seconds per connection or read, the pinned file sha256 checked before the
    temporary file is renamed (a ``.gz`` file with a pinned content hash is checked by
    :func:`verify` afterwards, as a re-compressed copy may be served). Nothing is left
    behind by a failed download; the error names the URL and the mirror folder."""
    known = None if spec.content_sha256 else f"sha256:{spec.sha256}"
    store = pooch.create(path=cache, base_url="", registry={spec.name: known},
                         urls={spec.name: spec.url}, retry_if_failed=retries)
    downloader = pooch.HTTPDownloader(progressbar=False, timeout=timeout)
    try:
        return Path(store.fetch(spec.name, downloader=downloader))
    except OSError as exc:  # requests' errors (refused, timeout, HTTP status, bad URL) are OSErrors
        text = " ".join(str(exc).split()) or type(exc).__name__
        errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)  # "[Errno 111] Connection refused"
        raise download_error(spec, errno.group(0) if errno else text) from None
    except ValueError as exc:  # pooch: the downloaded file's hash is not the pinned one
        got = re.search(r"but got (\w+)", str(exc))
        raise download_error(spec, f"its sha256 {got.group(1) if got else '(another)'} does not match "
                                   f"the pinned {spec.sha256} for {spec.name}; the file was not used") from None


def download_error(spec: RemoteFile, problem: str) -> PipelineError:
    """A failed download, on one line: the URL, what went wrong, and the way round it."""
    return PipelineError(
        f"cannot download {spec.url} ({problem}); put {spec.name} into a mirror folder "
        "(fetch.mirror in params.yaml, or IMGCLF_MIRROR)"
    )


def obtain(
    spec: RemoteFile, mirror: Path | None = None, cache: Path | None = None,
    timeout: float = 60.0, retries: int = 3,
) -> tuple[Path, dict]:
    """A verified local copy of ``spec``: from the mirror, the cache, or a fresh download
    (``timeout`` seconds per connection or read, ``retries`` more tries after a failure).

    A file that fails verification stops the stage; a downloaded one is deleted first.
    """
    cache = cache or cache_dir()
    for where, path in (("mirror", mirror / spec.name if mirror else None), ("cache", cache / spec.name)):
        if path is not None and path.is_file():
            return path, {**verify(path, spec), "from": where}
    path = download(spec, cache, timeout, retries)
    try:
        return path, {**verify(path, spec), "from": spec.url}
    except PipelineError as exc:  # checked here when a re-compressed copy may be served
        path.unlink(missing_ok=True)
        raise download_error(spec, str(exc).removeprefix(f"{path}: ")) from None
