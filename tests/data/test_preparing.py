"""``preprocess`` on a folder with decompression bombs: refused from their header, never decoded."""

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from imgclf.params import PreprocessParams
from tests.helpers import write_jpeg

REPO = Path(__file__).resolve().parents[2]
BOMB_SIDE = 25_000  # 625 million pixels: 625 MB decoded as 8-bit grayscale, about 600 KB on disk
PEAK_LIMIT_MB = 300

# Runs fetch + preprocess as the stages do, in a fresh process whose peak memory is its own.
CHILD = """
import json, sys, time
from pathlib import Path
from imgclf.data.fetching import fetch_image_folder
from imgclf.data.preparing import prepare
from imgclf.data.parts import load_prepared
from imgclf.params import FetchParams, PreprocessParams

def peak_mb():
    # This process's own high-water mark (VmHWM: reset by exec; ru_maxrss keeps the forking
    # parent's, which is the whole test session's).
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


photos, raw = Path(sys.argv[1]), Path(sys.argv[2])
start = time.perf_counter()
manifest = fetch_image_folder(FetchParams(source="image_folder", path=str(photos)), raw)
_, quality = prepare(raw, manifest, PreprocessParams(image_size=(28, 28), max_bad_fraction=0.5), raw.parent / "prepared")
data = load_prepared(raw.parent / "prepared")
print(json.dumps({"seconds": time.perf_counter() - start, "shape": list(data.images.shape),
                  "counts": data.class_counts(), "bad": quality["bad"],
                  "peak_mb": peak_mb()}))
"""


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def zero_rows_idat(width: int, height: int) -> bytes:
    """The zlib stream of ``height`` black 8-bit grayscale rows (filter byte 0 each), compressed
    row by row so the raw image is never held in memory."""
    compressor = zlib.compressobj()
    row = bytes(width + 1)
    parts = [compressor.compress(row) for _ in range(height)]
    return b"".join(parts) + compressor.flush()


def bomb_png(width: int, height: int, idat: bytes, note: str) -> bytes:
    """A valid grayscale PNG of ``width`` x ``height`` (``idat`` from ``zero_rows_idat``); ``note``
    goes in a tEXt chunk so that bombs sharing pixels are still different files."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit, grayscale, no interlace
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"tEXt", b"Comment\0" + note.encode())
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def test_bombs_are_refused_from_their_header_and_good_images_kept(tmp_path):
    photos = tmp_path / "photos"
    for label, value in (("cat", 40), ("dog", 200)):
        for i in range(10):
            write_jpeg(photos / label / f"{i}.jpg", value=value + i)
    idat = zero_rows_idat(BOMB_SIDE, BOMB_SIDE)
    bombs = [f"{label}/bomb{i}.png" for label in ("cat", "dog") for i in range(2)]
    for name in bombs:
        (photos / name).write_bytes(bomb_png(BOMB_SIDE, BOMB_SIDE, idat, name))
    assert max((photos / name).stat().st_size for name in bombs) < 1_000_000
    (tmp_path / "raw").mkdir()
    result = subprocess.run([sys.executable, "-c", CHILD, str(photos), str(tmp_path / "raw")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"preprocess with {len(bombs)} bombs: {report['seconds']:.2f} s, peak RSS {report['peak_mb']:.0f} MB")
    pixels, limit = BOMB_SIDE * BOMB_SIDE, PreprocessParams().max_pixels
    reason = f"too many pixels ({BOMB_SIDE} x {BOMB_SIDE} = {pixels}, over preprocess.max_pixels {limit})"
    assert sorted(report["bad"], key=lambda b: b["path"]) == [{"path": n, "reason": reason} for n in sorted(bombs)]
    assert report["shape"] == [20, 28, 28, 1] and report["counts"] == {"cat": 10, "dog": 10}
    assert report["peak_mb"] < PEAK_LIMIT_MB
