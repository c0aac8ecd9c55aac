"""Benchmark of re-indexing damaged WARC files (reading past damage, ``CaptureStore.kept``): what survives, and
the time and memory the resynchronising scan takes on ordinary and on hostile damage.

    python -m benchmarks.damaged_warcs                        # 3,000 captures; 16 MiB of each hostile filler
    python -m benchmarks.damaged_warcs --captures 50 --mib 1  # a quick run

1. A WARC file of archive captures written by the real capture store (one in seven rendered, one in five
   reached through an archived redirect) is read intact, then with 50 zero bytes written into 10 capture records
   chosen at random: every other capture must come back, and the time should not grow.
2. Hostile fillers put before an intact WARC file: gzip's magic number ``1f 8b 08`` repeated (a candidate member
   every 3 bytes), random bytes, and the first 200 bytes of a gzip member that opens with a WARC header repeated
   (every candidate passes the first look and is tried by warcio). The captures after the filler must come back;
   the time is the scan's, which should grow with the filler's size only.
CPU seconds are the process's own (``time.process_time``); peak memory is the process's maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_archive.archive.captures import CaptureStore, DamagedRecord, StoredCapture
from policy_archive.archive.kept_captures import KeptCapture
from policy_archive.config.settings import CrawlSettings
from policy_archive.records import Capture, Source, payload_sha1

URL = "https://acme.example/privacy"
WHEN = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)


def archive_capture(number: int) -> Capture:
    """Capture ``number`` of the store: a page of 80 paragraphs naming it, rendered or redirected now and then."""
    body = "".join(f"<p>Capture {number}, paragraph {line}: we keep your data.</p>" for line in range(80)).encode()
    at = WHEN + timedelta(days=number)
    fetched = f"http://127.0.0.1:9/web/{at:%Y%m%d%H%M%S}id_/{URL}"
    hops = ()
    if number % 5 == 0:
        moved = b"moved"
        hops = (
            Capture(
                "acme/privacy-policy", Source.WAYBACK, URL + "-old", fetched + "-old", at - timedelta(hours=1), 301,
                "text/html", moved, payload_sha1(moved), headers=(("Location", fetched),),
            ),
        )  # fmt: skip
    return Capture(
        "acme/privacy-policy", Source.WAYBACK, URL, fetched, at, 200, "text/html", body, payload_sha1(body),
        headers=(("Content-Type", "text/html"),), hops=hops,
        rendered=b"<html><body>" + body + b"</body></html>" if number % 7 == 0 else None,
    )  # fmt: skip


def read_all(directory: Path) -> tuple[int, int, float]:
    """Captures and damaged records read back from ``directory``'s WARC files, and the CPU seconds it took."""
    started = time.process_time()
    kept = list(CaptureStore(directory, max_page_bytes=CrawlSettings.max_page_bytes).kept())
    seconds = time.process_time() - started
    return (
        sum(isinstance(item, KeptCapture) for item in kept),
        sum(isinstance(item, DamagedRecord) for item in kept),
        seconds,
    )


def ordinary_damage(root: Path, count: int) -> list[str]:
    store = CaptureStore(root, max_page_bytes=CrawlSettings.max_page_bytes)
    stored: list[StoredCapture] = [store.write(archive_capture(number)) for number in range(count)]
    store.close()
    (path,) = store.warc_files()
    lines = [
        f"intact, {path.stat().st_size / 2**20:.1f} MiB: %d captures read back, %d damaged stretches named, %.2f s CPU"
        % read_all(root)
    ]
    data = bytearray(path.read_bytes())
    for where in random.Random(5).sample(stored, min(10, count)):
        data[where.offset + 100 : where.offset + 150] = bytes(50)
    path.write_bytes(bytes(data))
    hit = min(10, count)
    lines.append(
        f"{hit} records zeroed: %d captures read back, %d damaged stretches named, %.2f s CPU" % read_all(root)
    )
    return lines


def hostile_fillers(mib: int) -> dict[str, bytes]:
    size = mib * 2**20
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    opening = b"WARC/1.1\r\nWARC-Type: response\r\n" + os.urandom(300)
    looks_like_a_record = (compressor.compress(opening) + compressor.flush(zlib.Z_SYNC_FLUSH))[:200]
    return {
        "1f 8b 08 repeated": b"\x1f\x8b\x08" * (size // 3),
        "random bytes": random.Random(1).randbytes(size),
        "members opening like a WARC record, cut at 200 bytes": looks_like_a_record * (size // 200),
    }


def hostile_damage(root: Path, mib: int) -> list[str]:
    store = CaptureStore(root, max_page_bytes=CrawlSettings.max_page_bytes)
    for number in range(4):
        store.write(archive_capture(number))
    store.close()
    (path,) = store.warc_files()
    intact = path.read_bytes()
    lines = []
    for name, filler in hostile_fillers(mib).items():
        path.write_bytes(filler + intact)
        lines.append(
            f"{mib} MiB of {name}, then 4 captures: %d captures read back, %d damaged stretches named, %.2f s CPU"
            % read_all(root)
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=3000, help="captures in the ordinary store")
    parser.add_argument("--mib", type=int, default=16, help="size of each hostile filler, in MiB")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for line in ordinary_damage(root / "ordinary", arguments.captures) + hostile_damage(
            root / "hostile", arguments.mib
        ):
            print(line, flush=True)
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
