"""Safe extraction of ``.zip`` and ``.tar.gz`` archives of images.

Rejected, with the member named: absolute paths, ``..`` components, links (a link could point
outside the target), devices, and archives whose members add up to more than ``max_bytes``
(decompression bombs). Nothing is written unless every member passes.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from imgclf.errors import PipelineError

def is_archive(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".zip" or path.name.endswith((".tar.gz", ".tgz", ".tar")))


def _check_name(archive: Path, name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    drive = bool(pure.parts) and ":" in pure.parts[0]  # C:\... from a Windows zip
    if pure.is_absolute() or drive or ".." in pure.parts:
        raise PipelineError(f"{archive}: unsafe member path {name!r} (absolute or with '..')")


def _check_total(archive: Path, total: int, max_bytes: int) -> None:
    if total > max_bytes:
        raise PipelineError(
            f"{archive}: members add up to {total:,} bytes, over the {max_bytes:,}-byte limit (decompression bomb?)"
        )


def safe_extract(archive: Path, target: Path, max_bytes: int) -> None:
    """Extract ``archive`` into ``target`` after checking every member (``fetch.max_archive_bytes``)."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    _check_name(archive, info.filename)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise PipelineError(f"{archive}: member {info.filename!r} is a symbolic link")
                _check_total(archive, sum(i.file_size for i in infos), max_bytes)
                for info in infos:
                    if info.is_dir():
                        continue
                    dest = target / info.filename
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
        else:
            with tarfile.open(archive) as tar:
                members = tar.getmembers()
                for member in members:
                    _check_name(archive, member.name)
                    if member.issym() or member.islnk():
                        raise PipelineError(f"{archive}: member {member.name!r} is a link")
                    if not (member.isfile() or member.isdir()):
                        raise PipelineError(f"{archive}: member {member.name!r} is not a regular file")
                _check_total(archive, sum(m.size for m in members), max_bytes)
                tar.extractall(target, members=members, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise PipelineError(f"{archive}: truncated or corrupt archive ({exc})") from None
