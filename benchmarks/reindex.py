"""Benchmark of re-indexing the kept captures into a new catalog (issue 11): captures per second and peak memory.

    python -m benchmarks.reindex                          # 300 then 3,000 live captures of ~60 KB
    python -m benchmarks.reindex --captures 20            # a quick run

Each store is one WARC file of live captures of one document (a ~60 KB policy page whose last paragraph changes
every tenth capture), written by the real capture store. `repair` then runs as the real command line in a child
process on the data directory, which has no catalog: it re-indexes every capture (reading, extracting,
cataloguing) and its peak memory is the child's maximum resident set as the kernel reports it on exit
(``wait4``). A figure that stays flat when the number of captures grows is what "bounded memory" means here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.export import report
from policy_archive.archive.captures import CaptureStore
from policy_archive.config.settings import CrawlSettings
from policy_archive.records import Capture, Source, payload_sha1

URL = "https://acme.example/privacy"
PARAGRAPH = "We process personal data for the purposes described here, and keep it only as long as needed. " * 6


def revision_page(number: int) -> bytes:
    """A ~60 KB policy page whose last paragraph changes every tenth capture."""
    paragraphs = "".join(f"<p>{n}. {PARAGRAPH}</p>" for n in range(100)) + f"<p>Revision {number // 10}.</p>"
    return f"<html><head><title>Privacy Policy</title></head><body><main>{paragraphs}</main></body></html>".encode()


def write_store(root: Path, count: int, page: Callable[[int], bytes] = revision_page) -> tuple[Path, Path]:
    """A configuration declaring ``acme/privacy-policy`` and a data directory holding only its captures: ``count``
    live captures a day apart, the n-th with the bytes ``page(n)``."""
    config, data = root / "config", root / "data"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text("")
    (config / "services" / "acme.toml").write_text(f'name = "ACME"\n[documents.privacy-policy]\nurl = "{URL}"\n')
    store = CaptureStore(data / "captures", max_page_bytes=CrawlSettings.max_page_bytes)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    for number in range(count):
        body = page(number)
        at = start + timedelta(days=number)
        capture = Capture("acme/privacy-policy", Source.LIVE, URL, URL, at, 200, "text/html", body, payload_sha1(body))
        store.write(capture)
    store.close()
    return config, data


def timed_repair(
    config: Path, data: Path, *, checkout: Path | None = None, status: int = 0
) -> tuple[float, float, str]:
    """Seconds, peak resident memory (MB) and the `repaired:` line of one `repair` run (from the source tree
    ``checkout``, another release's, when given), which must exit with ``status``."""
    command = [sys.executable, "-m", "policy_archive", "--config", str(config), "--data", str(data), "repair"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=checkout)
    assert process.stderr is not None
    said = process.stderr.read()
    _, exited, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(exited) != status:
        raise SystemExit(f"repair exited {os.waitstatus_to_exitcode(exited)}, not {status}: {said}")
    line = next((line for line in said.splitlines() if line.startswith("repaired:")), "nothing repaired")
    return elapsed, usage.ru_maxrss / 1024, line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", default="300,3000", help="comma-separated store sizes, in captures")
    arguments = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {arguments}", flush=True)
    for count in (int(size) for size in arguments.captures.split(",")):
        with tempfile.TemporaryDirectory(prefix="policy-archive-reindex-bench-") as workdir:
            config, data = write_store(Path(workdir), count)
            size = sum(path.stat().st_size for path in (data / "captures").iterdir()) / 1e6
            seconds, peak, line = timed_repair(config, data)
            report(
                str(count),
                f"{count:,} captures ({size:.2f} MB of WARC) in {seconds:.1f} s = {count / seconds:,.1f} captures/s, "
                f"peak {peak:,.0f} MB",
            )
            report("", line)


if __name__ == "__main__":
    main()
