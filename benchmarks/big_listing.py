"""A long listing of one text: the time and peak memory of a backfill over N CDX rows of one URL, all one digest.

    python -m benchmarks.big_listing [--captures 1000000] [--strategy bisect] [--refused]

An outside audit's case (2026-11-28): a page archived every few minutes for years with the same bytes. The
stand-in Wayback archive (``tests/standin/archive.py``, 127.0.0.1) lists N captures of the document's URL, one every
5 minutes from 2010 on, one body (one digest); it pages the listing as the real CDX server does (25,000 rows a
page, the resume key; the command waits up to 300 s for a page, which the stand-in makes from the whole
listing each time). Runs ``python -m policy_archive ... backfill`` once in a fresh data directory and prints
its exit status, wall time, CPU time and peak resident memory (the kernel's figures of the command's own process,
run by a small launcher: :mod:`benchmarks.own_usage`), the CPU time of the processes it started (Git), the replay
requests the archive answered and the command's last line.

``--refused``: the one body has no text (``empty``), so the one capture fetched is refused and its refusal
passed on to every other row, its twins (same digest), in one write to the catalog.

The stand-in runs in this process and builds every page's rows anew (its CPU competes with the command's on a
small machine); only the command's figures are printed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.own_usage import launched, read_usage
from benchmarks.shared import REPO_ROOT

# The stand-ins and the test pages live in tests/ (imported as top-level modules, as pytest does).
sys.path.insert(0, str(REPO_ROOT / "tests"))
from standin.archive import StandinArchive  # noqa: E402
from standin.cli import cli_command, cli_environment  # noqa: E402
from test_backfill_resilience import V1, page, ts  # noqa: E402
from test_fidelity import DOC, URL, configured  # noqa: E402

START = datetime(2010, 1, 1, tzinfo=UTC)


# A page that gives no text: every capture of it is refused ``empty``.
EMPTY = "<html><head><title>Privacy Policy</title></head><body><main></main></body></html>"


def fill(archive: StandinArchive, captures: int, refused: bool = False) -> None:
    # One bytes object: the stand-in holds N references to it.
    body = (EMPTY if refused else page(V1, "same")).encode("utf-8")
    for n in range(captures):
        archive.add_capture(URL, ts(START + timedelta(minutes=5 * n)), body)


def measure(archive: StandinArchive, strategy: str) -> None:
    config, data = configured(archive, Path(tempfile.mkdtemp(prefix="big-listing-")))
    settings = config / "settings.toml"
    # The stand-in makes each page from the whole listing (seconds at a million rows on a loaded machine).
    settings.write_text(re.sub(r"(?m)^timeout_seconds = .*$", "timeout_seconds = 300", settings.read_text()))
    command = cli_command(config, data, "backfill", DOC, "--strategy", strategy)
    output = data.parent / "output.txt"  # a file, not a pipe: nothing blocks the command while it is not read
    figures = data.parent / "rusage.txt"
    launcher = launched(figures, command)
    with output.open("w") as written:
        started = time.monotonic()
        subprocess.run(launcher, env=cli_environment(), cwd=REPO_ROOT, stdout=written, stderr=written, check=True)
        wall = time.monotonic() - started
    usage = read_usage(figures)
    lines = [line for line in output.read_text().splitlines() if line.strip()]
    print(f"exit {usage.exit_status}; wall {wall:.1f} s; CPU {usage.cpu_seconds:.1f} s")
    print(f"peak RSS {usage.peak_rss_mib:.0f} MiB; replay requests {archive.counts()['replay']}")
    print(f"processes it started (Git): CPU {usage.started_cpu_seconds:.1f} s")
    print(f"data directory {data}")
    for line in lines[-3:]:
        print(f"  | {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=1_000_000)
    parser.add_argument("--strategy", default="bisect")
    parser.add_argument("--refused", action="store_true", help="the one body gives no text: every row is refused")
    args = parser.parse_args()
    with StandinArchive().start() as archive:
        fill(archive, args.captures, args.refused)
        text = "no text (refused empty)" if args.refused else "a text"
        print(f"{args.captures:,} captures of {URL}, one digest, {text}; strategy {args.strategy}", flush=True)
        measure(archive, args.strategy)


if __name__ == "__main__":
    main()
