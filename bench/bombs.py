"""What decompression bombs cost ``preprocess``: a folder of JPEGs with and without a few PNG bombs.

Each bomb is a valid 8-bit grayscale PNG of 25,000 x 25,000 black pixels (625 MB decoded, about
600 KB on disk). With ``preprocess.max_pixels`` (its default) they are refused from their header;
``--unlimited`` also runs the folder with the limit lifted, which decodes them as before the check.
Each run is ``imgclf.data.preparing.prepare`` after ``fetch_image_folder``, in its own process
(files in the page cache), timing ``prepare`` and reporting the process's peak resident memory.

    python bench/bombs.py [--n 120] [--bombs 4] [--unlimited]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
SIDE = 25_000


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_pngs(folder: Path, count: int) -> None:
    """``count`` different bomb PNGs (same pixels, a different tEXt note), half per class."""
    compressor, row = zlib.compressobj(), bytes(SIDE + 1)  # filter byte 0, then a black row
    idat = b"".join(compressor.compress(row) for _ in range(SIDE)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 0, 0, 0, 0)
    for i in range(count):
        note = png_chunk(b"tEXt", f"Comment\0bomb {i}".encode())
        body = png_chunk(b"IHDR", ihdr) + note + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
        (folder / f"{'cat' if i % 2 else 'dog'}.bomb{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def child(folder: Path, work: Path, max_pixels: int | None) -> None:
    """Fetch and prepare ``folder`` as the stages do; print seconds, peak RSS and what was skipped."""
    from imgclf.data.fetching import fetch_image_folder
    from imgclf.data.preparing import prepare
    from imgclf.params import FetchParams, PreprocessParams

    for path in folder.iterdir():  # warm the page cache: measure decoding, not the disk
        path.read_bytes()
    manifest = fetch_image_folder(FetchParams(source="image_folder", path=str(folder)), work)
    limit = {} if max_pixels is None else {"max_pixels": max_pixels}
    params = PreprocessParams(image_size=(50, 50), max_bad_fraction=0.5, **limit)
    start = time.perf_counter()
    _, quality = prepare(work, manifest, params)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "skipped": len(quality["bad"])}))


def measure(folder: Path, tmp: Path, max_pixels: int | None = None) -> dict:
    """One ``child`` run in a fresh process."""
    work = Path(tempfile.mkdtemp(dir=tmp))
    command = [sys.executable, __file__, "--child", str(folder), "--work", str(work)]
    if max_pixels is not None:
        command += ["--max-pixels", str(max_pixels)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120, help="synthetic 375x500 JPEGs")
    parser.add_argument("--bombs", type=int, default=4)
    parser.add_argument("--unlimited", action="store_true", help="also run with the limit lifted (slow, GBs)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--max-pixels", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.max_pixels)
        return
    from preprocess import make_jpegs  # bench/preprocess.py, beside this file

    with tempfile.TemporaryDirectory(prefix="bench-bombs-") as tmp:
        clean, bombed = Path(tmp) / "clean", Path(tmp) / "bombed"
        clean.mkdir()
        make_jpegs(clean, args.n)
        shutil.copytree(clean, bombed)
        bomb_pngs(bombed, args.bombs)
        runs = {"JPEGs only": measure(clean, Path(tmp)), "with bombs": measure(bombed, Path(tmp))}
        if args.unlimited:
            runs["bombs, no limit"] = measure(bombed, Path(tmp), max_pixels=2**62)
    base = runs["JPEGs only"]
    print(f"preprocess of {args.n} JPEGs (375x500) to 50x50 grayscale, "
          f"with {args.bombs} PNG bombs of {SIDE:,} x {SIDE:,}")
    for name, r in runs.items():
        print(f"  {name:<16} {r['seconds']:7.2f} s ({r['seconds'] / base['seconds']:6.2f}x)  "
              f"peak RSS {r['peak_mb']:6.0f} MB ({r['peak_mb'] / base['peak_mb']:.2f}x)  {r['skipped']} skipped")


if __name__ == "__main__":
    main()
