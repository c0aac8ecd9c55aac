"""Slow documents on one host: ``python -m benchmarks.one_host [--documents 40] [--slow 2] [--slow-seconds 12]
[--hanging 1] [--timeout 20]``.

A policy host (iubenda, termly and the like) serves many services' documents from one host name, and `track` asks
one page at a time per site: every slow page then delays all the others. The same documents are tracked on a
fresh data directory twice: all on one host, then each on a host name of its own (the stand-in live sites,
``tests/standin/sites.py``, reached as an HTTP proxy). Among them ``--slow`` pages answer after ``--slow-seconds``,
``--hanging`` answer only after ``[wayback] timeout_seconds`` (``--timeout``, so they time out and are asked 3
times in all), and one answers 500 three times (retried twice, then FAILED); the others answer at once. Prints
each run's wall time and its last progress line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.track import REPO_ROOT, RunMeasure, print_table, run_track

sys.path.insert(0, str(REPO_ROOT / "tests"))  # the stand-ins are imported as standin.* (see tests/conftest.py)

from standin.legal_text import policy_page  # noqa: E402
from standin.pages import Page, failing, slow  # noqa: E402
from standin.sites import StandinSites  # noqa: E402
from standin.sites_cli import write_services  # noqa: E402


def pages(options: argparse.Namespace) -> list[Page]:
    """The documents' pages in the plan's order: the hard ones spread evenly among the others."""
    hard = [slow(policy_page("p", "slow"), options.slow_seconds)] * options.slow
    hard += [slow(policy_page("p", "hanging"), options.timeout + 2)] * options.hanging
    hard += [failing(policy_page("p", "failing"), times=3)]
    plain = [policy_page("p", "plain")] * (options.documents - len(hard))
    step = max(1, len(plain) // len(hard))
    ordered = []
    for number, page in enumerate(plain):
        ordered.append(page)
        if number % step == step - 1 and hard:
            ordered.append(hard.pop(0))
    return ordered + hard


def measure(name: str, urls: list[str], pages: list[Page], timeout: float) -> RunMeasure:
    with tempfile.TemporaryDirectory(prefix="one-host-benchmark-") as scratch, StandinSites() as sites:
        config, data = Path(scratch) / "config", Path(scratch) / "data"
        for url, page in zip(urls, pages, strict=True):
            sites.set_page(url, page)
        write_services(config, urls)
        (config / "settings.toml").write_text(f"[wayback]\ntimeout_seconds = {timeout}\n")
        return run_track(name, config, data, sites.proxy_url, sites)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.one_host", description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=40, help="documents in all")
    parser.add_argument("--slow", type=int, default=2, help="pages answering after --slow-seconds")
    parser.add_argument("--slow-seconds", type=float, default=12)
    parser.add_argument("--hanging", type=int, default=1, help="pages answering only after the timeout")
    parser.add_argument("--timeout", type=float, default=20, help="[wayback] timeout_seconds of the runs")
    options = parser.parse_args(argv)
    served = pages(options)
    print(f"{len(served)} documents; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    one_host = [f"http://policies.test/legal/doc-{number:03d}" for number in range(len(served))]
    own_hosts = [f"http://host-{number:03d}.test/legal/doc-{number:03d}" for number in range(len(served))]
    measures = []
    for name, urls in (("one host", one_host), (f"{len(served)} hosts", own_hosts)):
        started = time.strftime("%H:%M:%S", time.gmtime())
        print(f"{name}: started {started} UTC, load average {os.getloadavg()[0]:.1f}", flush=True)
        measures.append(measure(name, urls, served, options.timeout))
    print_table(measures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
