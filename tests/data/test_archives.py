import io
import tarfile
import zipfile

import pytest

from imgclf.data.archives import safe_extract
from imgclf.errors import PipelineError
from imgclf.params import FetchParams

LIMIT = FetchParams().max_archive_bytes


def tar_with(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def file_info(name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_good_zip_and_tar_extract(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("cat/1.jpg", b"jpeg")
    safe_extract(tmp_path / "a.zip", tmp_path / "out_zip", LIMIT)
    assert (tmp_path / "out_zip/cat/1.jpg").read_bytes() == b"jpeg"
    tar_with(tmp_path / "a.tar.gz", [file_info("dog/2.jpg", b"jpeg2")])
    safe_extract(tmp_path / "a.tar.gz", tmp_path / "out_tar", LIMIT)
    assert (tmp_path / "out_tar/dog/2.jpg").read_bytes() == b"jpeg2"


@pytest.mark.parametrize("name", ["../evil.jpg", "/etc/evil.jpg", "cat/../../evil.jpg"])
def test_path_traversal_rejected(tmp_path, name):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr(name, b"x")
    with pytest.raises(PipelineError, match="unsafe member path"):
        safe_extract(tmp_path / "a.zip", tmp_path / "out", LIMIT)
    tar_with(tmp_path / "a.tar.gz", [file_info(name)])
    with pytest.raises(PipelineError, match="unsafe member path"):
        safe_extract(tmp_path / "a.tar.gz", tmp_path / "out", LIMIT)
    assert not (tmp_path / "evil.jpg").exists()


def test_links_rejected(tmp_path):
    link = tarfile.TarInfo("cat/link.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar_with(tmp_path / "a.tar.gz", [file_info("cat/1.jpg"), (link, None)])
    with pytest.raises(PipelineError, match="member 'cat/link.jpg' is a link"):
        safe_extract(tmp_path / "a.tar.gz", tmp_path / "out", LIMIT)
    assert not (tmp_path / "out/cat/1.jpg").exists()  # nothing written before the check
    info = zipfile.ZipInfo("cat/link.jpg")
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(PipelineError, match="is a symbolic link"):
        safe_extract(tmp_path / "a.zip", tmp_path / "out", LIMIT)


def test_decompression_bomb_rejected(tmp_path):
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cat/big.jpg", b"\0" * 5_000_000)
    assert (tmp_path / "bomb.zip").stat().st_size < 20_000
    with pytest.raises(PipelineError, match="over the 1,000,000-byte limit"):
        safe_extract(tmp_path / "bomb.zip", tmp_path / "out", max_bytes=1_000_000)
    assert not list((tmp_path / "out").iterdir())


def test_corrupt_archive_named(tmp_path):
    (tmp_path / "bad.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(PipelineError, match="bad.tar.gz: truncated or corrupt archive"):
        safe_extract(tmp_path / "bad.tar.gz", tmp_path / "out", LIMIT)
