"""Rendering benchmark: ``python -m benchmarks.render [--sites 20] [--delay-ms 300] [--mode auto]``.

Serves ``--sites`` stand-in single-page applications (``tests/standin/scripted_policy.py``, :func:`add_scripted_policy`:
a script shell whose external script fetches the policy as JSON and shows it ``--delay-ms`` later), one per
site, and runs the real command line, ``policy-archive track``, once in a subprocess on a fresh data directory.
With ``auto`` every page is fetched over HTTP, found to be a shell and rendered; with ``always`` it is rendered
straight away. Needs the ``browser`` extra and Chromium.

Measured: wall time of the run (Python start-up, browser start, crawl, extraction, Git); the crawl's span (first
request to last answer in the stand-in's log); rendered pages per second over that span and over the wall time;
the peak memory of the run's whole process tree (Python, Playwright's driver, Chromium's processes), as the
sum of each process's proportional set size (PSS: shared pages divided among the processes sharing them), from
``/proc/PID/smaps_rollup`` sampled every 50 ms; the most Chromium processes alive at once; versions recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the stand-ins are imported as standin.* (see tests/conftest.py)

from standin.scripted_policy import add_scripted_policy, scripted_policy_data  # noqa: E402
from standin.sites import StandinSites  # noqa: E402

from benchmarks.track import commit_count  # noqa: E402


@dataclass(frozen=True)
class RenderMeasure:
    mode: str
    pages: int
    exit_status: int
    wall_seconds: float
    crawl_seconds: float
    pages_per_second_crawl: float
    pages_per_second_wall: float
    peak_tree_pss_mib: float
    peak_chromium_processes: int
    versions_recorded: int
    requests: int


class TreeMemory:
    """Samples the summed PSS of a process and all its descendants, and how many of them are Chromium."""

    def __init__(self, root: int):
        self.root = root
        self.peak_kib = 0
        self.peak_chromium = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            tree = _descendants(self.root) | {self.root}
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(pid) for pid in tree))
            self.peak_chromium = max(self.peak_chromium, sum(_is_chromium(pid) for pid in tree))


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def _descendants(root: int) -> set[int]:
    children, found, stack = _children_map(), set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_chromium(pid: int) -> bool:
    try:
        return b"chrom" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False


def write_config(directory: Path, urls: list[str], mode: str) -> Path:
    (directory / "services").mkdir(parents=True)
    (directory / "settings.toml").write_text("[wayback]\ntimeout_seconds = 30\n")
    for url in urls:
        service = url.split("/")[2].removesuffix(".test")
        (directory / "services" / f"{service}.toml").write_text(
            f'name = "{service.title()}"\n[documents.privacy-policy]\nurl = "{url}"\nrender = "{mode}"\n'
        )
    return directory


def run(sites_count: int, delay_ms: int, mode: str) -> RenderMeasure:
    with StandinSites() as sites, tempfile.TemporaryDirectory(prefix="render-bench-") as work:
        urls = [
            add_scripted_policy(sites, f"spa-{n:03d}.test", scripted_policy_data(f"spa-{n:03d}.test"), delay_ms)
            for n in range(sites_count)
        ]
        config, data = write_config(Path(work) / "config", urls, mode), Path(work) / "data"
        env = {**os.environ, "http_proxy": sites.proxy_url, "no_proxy": "", "PYTHONPATH": str(REPO_ROOT)}
        command = [sys.executable, "-m", "policy_archive", "--config", str(config), "--data", str(data), "track"]
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with TreeMemory(process.pid) as memory:
            _, stderr = process.communicate()
        wall = time.monotonic() - started
        if process.returncode != 0:
            sys.stderr.write(stderr.decode(errors="replace"))
        log = sites.requests()
        crawl = max(entry.finished for entry in log) - min(entry.started for entry in log) if log else 0.0
        versions = commit_count(data / "versions")
        return RenderMeasure(
            mode=mode,
            pages=sites_count,
            exit_status=process.returncode,
            wall_seconds=round(wall, 2),
            crawl_seconds=round(crawl, 2),
            pages_per_second_crawl=round(versions / crawl, 2) if crawl else 0.0,
            pages_per_second_wall=round(versions / wall, 2),
            peak_tree_pss_mib=round(memory.peak_kib / 1024, 1),
            peak_chromium_processes=memory.peak_chromium,
            versions_recorded=versions,
            requests=len(log),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=20, help="single-page applications, one per site")
    parser.add_argument("--delay-ms", type=int, default=300, help="how long each page waits to show its text")
    parser.add_argument("--mode", choices=("auto", "always"), default="auto", help="the documents' render mode")
    parser.add_argument("--json", action="store_true", help="print the measure as JSON")
    options = parser.parse_args(argv)
    measure = run(options.sites, options.delay_ms, options.mode)
    if options.json:
        print(json.dumps(asdict(measure), indent=1))
    else:
        for key, value in asdict(measure).items():
            print(f"{key:>24}: {value}")
    return 0 if measure.exit_status == 0 and measure.versions_recorded == measure.pages else 1


if __name__ == "__main__":
    sys.exit(main())
