import gzip
import hashlib
import http.server
import socket
import threading
import time
from functools import partial

import pytest

from imgclf.data.downloads import RemoteFile, obtain, verify
from imgclf.outputs import sha256_file
from imgclf.errors import PipelineError

QUICK = {"timeout": 2.0, "retries": 0}  # one try, a short wait: what a test can afford


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``state`` makes it fail the first requests (HTTP 503) or answer late."""

    def __init__(self, *args, state, **kwargs):
        self.state = state
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.state["requests"] += 1
        time.sleep(self.state["delay"])
        if self.state["fail"] > 0:
            self.state["fail"] -= 1
            self.send_error(503, "busy")
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on loopback serving tmp_path/served: (folder, base URL, state)."""
    root = tmp_path / "served"
    root.mkdir()
    state = {"requests": 0, "fail": 0, "delay": 0.0}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root), state=state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", state
    httpd.shutdown()
    httpd.server_close()


def gz(path, content: bytes, mtime: int = 0):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as f:
        f.write(content)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_download_verifies_and_caches(server, tmp_path):
    root, url, state = server
    (root / "data.bin").write_bytes(b"real bytes")
    spec = RemoteFile("data.bin", url + "data.bin", sha256_file(root / "data.bin"))
    path, record = obtain(spec, cache=tmp_path / "cache", **QUICK)
    assert path == tmp_path / "cache" / "data.bin" and path.read_bytes() == b"real bytes"
    assert record["from"] == url + "data.bin" and record["sha256"] == spec.sha256
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["data.bin"]  # no temporary file left
    (root / "data.bin").unlink()  # cached: no second download
    assert obtain(spec, cache=tmp_path / "cache")[1]["from"] == "cache" and state["requests"] == 1


def test_download_with_wrong_checksum_is_refused_and_leaves_nothing(server, tmp_path):
    root, url, state = server
    (root / "data.bin").write_bytes(b"tampered")
    spec = RemoteFile("data.bin", url + "data.bin", "0" * 64)
    actual = hashlib.sha256(b"tampered").hexdigest()
    with pytest.raises(PipelineError, match=rf"cannot download {url}data.bin \(its sha256 {actual} does not match "
                                            r"the pinned 0000.*the file was not used\); put data.bin into a mirror folder"):
        obtain(spec, cache=tmp_path / "cache", timeout=2.0, retries=1)
    assert state["requests"] == 2  # retried once, refused both times
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_failed_try_is_retried(server, tmp_path):
    root, url, state = server
    (root / "data.bin").write_bytes(b"real bytes")
    state["fail"] = 1  # the first request gets HTTP 503
    spec = RemoteFile("data.bin", url + "data.bin", sha256_file(root / "data.bin"))
    path, record = obtain(spec, cache=tmp_path / "cache", timeout=2.0, retries=1)
    assert path.read_bytes() == b"real bytes" and state["requests"] == 2


def test_http_error_names_the_url_and_the_mirror(server, tmp_path):
    _, url, _ = server
    spec = RemoteFile("gone.bin", url + "gone.bin", "0" * 64)
    with pytest.raises(PipelineError, match=rf"cannot download {url}gone.bin \(404 .*\); put gone.bin into a mirror folder"):
        obtain(spec, cache=tmp_path / "cache", **QUICK)
    assert list((tmp_path / "cache").iterdir()) == []


def test_unreachable_download_says_how_to_mirror_quickly(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/x.gz"
    spec = RemoteFile("x.gz", url, "0" * 64)
    start = time.monotonic()
    with pytest.raises(PipelineError, match=r"cannot download .*put x.gz into a mirror folder \(fetch.mirror") as caught:
        obtain(spec, cache=tmp_path / "cache", **QUICK)
    assert time.monotonic() - start < 5 and "\n" not in str(caught.value)
    assert f"cannot download {url} ([Errno 111] Connection refused)" in str(caught.value)
    assert not list((tmp_path / "cache").glob("*"))


def test_a_server_that_does_not_answer_times_out(server, tmp_path):
    root, url, state = server
    (root / "slow.bin").write_bytes(b"late")
    state["delay"] = 3.0
    spec = RemoteFile("slow.bin", url + "slow.bin", sha256_file(root / "slow.bin"))
    start = time.monotonic()
    with pytest.raises(PipelineError, match=rf"cannot download {url}slow.bin .*timed out"):
        obtain(spec, cache=tmp_path / "cache", timeout=0.5, retries=0)
    assert time.monotonic() - start < 2.5
    assert not list((tmp_path / "cache").glob("*"))


def test_downloaded_gzip_is_checked_by_content_hash_too(server, tmp_path):
    root, url, _ = server
    gz(tmp_path / "orig.gz", b"payload", mtime=1)
    gz(root / "f.gz", b"payload", mtime=2)  # served re-compressed: same content, other header
    spec = RemoteFile("f.gz", url + "f.gz", sha256_file(tmp_path / "orig.gz"), hashlib.sha256(b"payload").hexdigest())
    path, record = obtain(spec, cache=tmp_path / "cache", **QUICK)
    assert record["from"] == url + "f.gz" and "re-compressed" in record["note"]
    gz(root / "g.gz", b"other payload")
    other = RemoteFile("g.gz", url + "g.gz", spec.sha256, spec.content_sha256)
    with pytest.raises(PipelineError, match=rf"cannot download {url}g.gz \(sha256 .*nor does its decompressed content.*\); put g.gz"):
        obtain(other, cache=tmp_path / "cache", **QUICK)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["f.gz"]


def test_recompressed_mirror_copy_accepted_by_content_hash(tmp_path):
    original, mirror = tmp_path / "orig", tmp_path / "mirror"
    original.mkdir(), mirror.mkdir()
    gz(original / "f.gz", b"payload", mtime=1)
    gz(mirror / "f.gz", b"payload", mtime=2)  # same content, other header
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


def test_a_cached_file_that_fails_verification_stops(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "data.bin").write_bytes(b"stale")
    spec = RemoteFile("data.bin", "http://unused/data.bin", "0" * 64)
    with pytest.raises(PipelineError, match=r"cache[/\\]data.bin: sha256 .* does not match the pinned 0000"):
        obtain(spec, cache=tmp_path / "cache", **QUICK)
