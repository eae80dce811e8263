import gzip
import http.server
import threading
from functools import partial

import pytest

from imgclf.data.downloads import RemoteFile, obtain, verify
from imgclf.outputs import sha256_file
from imgclf.errors import PipelineError


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on loopback serving tmp_path/served."""
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def gz(path, content: bytes, mtime: int = 0):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as f:
        f.write(content)


def test_download_verifies_and_caches(server, tmp_path):
    root, url = server
    (root / "data.bin").write_bytes(b"real bytes")
    spec = RemoteFile("data.bin", url + "data.bin", sha256_file(root / "data.bin"))
    path, record = obtain(spec, cache=tmp_path / "cache")
    assert path.read_bytes() == b"real bytes" and record["from"] == url + "data.bin"
    (root / "data.bin").unlink()  # cached: no second download
    assert obtain(spec, cache=tmp_path / "cache")[1]["from"] == "cache"


def test_download_with_wrong_checksum_is_deleted(server, tmp_path):
    root, url = server
    (root / "data.bin").write_bytes(b"tampered")
    spec = RemoteFile("data.bin", url + "data.bin", "0" * 64)
    with pytest.raises(PipelineError, match="does not match the pinned 0000.*the file was not used"):
        obtain(spec, cache=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_unreachable_download_says_how_to_mirror(tmp_path):
    spec = RemoteFile("x.gz", "http://127.0.0.1:9/x.gz", "0" * 64)
    with pytest.raises(PipelineError, match="cannot download .*put x.gz into a mirror folder"):
        obtain(spec, cache=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*"))


def test_recompressed_mirror_copy_accepted_by_content_hash(tmp_path):
    original, mirror = tmp_path / "orig", tmp_path / "mirror"
    original.mkdir(), mirror.mkdir()
    gz(original / "f.gz", b"payload", mtime=1)
    gz(mirror / "f.gz", b"payload", mtime=2)  # same content, other header
    import hashlib

    spec = RemoteFile("f.gz", "http://unused/f.gz", sha256_file(original / "f.gz"), hashlib.sha256(b"payload").hexdigest())
    path, record = obtain(spec, mirror=mirror, cache=tmp_path / "cache")
    assert record["from"] == "mirror" and "re-compressed" in record["note"]
    assert record["sha256"] != spec.sha256 and record["content_sha256"] == spec.content_sha256


def test_content_mismatch_and_corrupt_gzip_are_errors(tmp_path):
    gz(tmp_path / "f.gz", b"other payload")
    spec = RemoteFile("f.gz", "http://unused", "1" * 64, "2" * 64)
    with pytest.raises(PipelineError, match="nor does its decompressed content"):
        verify(tmp_path / "f.gz", spec)
    (tmp_path / "f.gz").write_bytes((tmp_path / "f.gz").read_bytes()[:15])
    with pytest.raises(PipelineError, match="f.gz: truncated or corrupt gzip"):
        verify(tmp_path / "f.gz", spec)
