"""Live tracking benchmark: ``python -m benchmarks.track [--sites 100] [--documents 10] [--page-bytes 50000]``.

Serves the stand-in live sites (``tests/standin/sites.py``: ``--sites`` sites of ``--documents`` documents of
~``--page-bytes`` bytes, all on 127.0.0.1, reached through the stand-in used as an HTTP proxy) and runs the
real command line, ``policy-archive track``, in a subprocess three times on a fresh data directory:

1. first run: every document fetched, extracted and recorded;
2. nothing changed: every request conditional (If-None-Match / If-Modified-Since), answered 304;
3. ``--changed`` (10 %) of the documents revised: those recorded, the others 304.

For each run: wall time, the run's own peak resident memory (``ru_maxrss`` of the command's own process:
:mod:`benchmarks.own_usage`; before 2026-11-29 the command was started from this process, whose memory the figure
then counted too, and then, till the review of that day, the figure was ``os.wait4``'s, the largest of the command
and the processes it started, such as Git: the same figures, measured), the crawl's span (first
request sent to last answer, from the stand-in's log: the rest of the wall time is start-up, extraction and
recording), commits added, and what the stand-in answered (requests by status, conditional requests, body bytes,
the most requests one site had in flight at once).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.own_usage import launched, read_usage

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))  # the stand-ins are imported as standin.* (see tests/conftest.py)

from standin.sites import StandinSites  # noqa: E402
from standin.sites_cli import write_services  # noqa: E402


@dataclass(frozen=True)
class RunMeasure:
    name: str
    exit_status: int
    wall_seconds: float
    crawl_seconds: float
    peak_rss_mib: float
    commits_added: int
    requests: int
    by_status: dict[str, int]
    conditional: int
    body_mib: float
    max_in_flight_per_site: int


def run_track(name: str, config: Path, data: Path, proxy_url: str, sites: StandinSites) -> RunMeasure:
    """One ``track`` run in a subprocess, measured; the stand-in's request log is cleared first."""
    sites.clear_log()
    env = {**os.environ, "http_proxy": proxy_url, "no_proxy": "", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "policy_archive", "--config", str(config), "--data", str(data), "track"]
    commits_before = commit_count(data / "versions")
    figures = data.parent / f"usage-{name.replace(' ', '-')}.txt"
    started = time.monotonic()
    process = subprocess.Popen(
        launched(figures, command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO_ROOT
    )
    assert process.stderr is not None
    stderr = process.stderr.read()  # the child's progress lines; read before waiting so the pipe never fills
    process.wait()
    wall = time.monotonic() - started
    process.stderr.close()
    usage = read_usage(figures)
    process.returncode = usage.exit_status
    if process.returncode != 0:
        sys.stderr.write(stderr.decode("utf-8", errors="replace")[-4000:])
    stats = sites.stats()
    answered = sites.requests()
    crawl = max(r.finished for r in answered) - min(r.started for r in answered) if answered else 0.0
    return RunMeasure(
        name=name,
        exit_status=process.returncode,
        wall_seconds=round(wall, 2),
        crawl_seconds=round(crawl, 2),
        peak_rss_mib=round(usage.peak_rss_mib, 1),
        commits_added=commit_count(data / "versions") - commits_before,
        requests=int(stats["requests"]),  # type: ignore[call-overload]
        by_status=dict(stats["by_status"]),  # type: ignore[call-overload]
        conditional=int(stats["conditional"]),  # type: ignore[call-overload]
        body_mib=round(int(stats["body_bytes"]) / 2**20, 1),  # type: ignore[call-overload]
        max_in_flight_per_site=int(stats["max_in_flight_per_site"]),  # type: ignore[call-overload]
    )


def commit_count(repository: Path) -> int:
    if not (repository / "HEAD").exists() and not (repository / ".git").exists():
        return 0
    result = subprocess.run(
        ["git", "-C", str(repository), "rev-list", "--count", "main"], capture_output=True, text=True
    )
    return int(result.stdout.strip()) if result.returncode == 0 else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.track", description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--documents", type=int, default=10, help="per site (at most 10)")
    parser.add_argument("--page-bytes", type=int, default=50_000)
    parser.add_argument("--changed", type=float, default=0.1, help="fraction revised before the third run")
    parser.add_argument("--json", action="store_true", help="print the measures as JSON")
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="track-benchmark-") as scratch, StandinSites() as sites:
        config, data = Path(scratch) / "config", Path(scratch) / "data"
        built = time.monotonic()
        urls = sites.add_benchmark_sites(options.sites, options.documents, options.page_bytes)
        write_services(config, urls)
        (config / "settings.toml").write_text("")
        print(
            f"{len(urls)} documents on {options.sites} sites (~{options.page_bytes // 1000} KB pages) "
            f"built in {time.monotonic() - built:.1f} s; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
            flush=True,
        )
        measures = [run_track("first run", config, data, sites.proxy_url, sites)]
        measures.append(run_track("nothing changed", config, data, sites.proxy_url, sites))
        changed = sites.change_benchmark_documents(options.changed, seed=1)
        measures.append(run_track(f"{len(changed)} changed", config, data, sites.proxy_url, sites))

    if options.json:
        print(json.dumps([asdict(m) for m in measures], indent=1))
    else:
        print_table(measures)
    return 0 if all(m.exit_status == 0 for m in measures) else 1


def print_table(measures: list[RunMeasure]) -> None:
    print(
        f"{'run':<18} {'exit':>4} {'wall s':>7} {'crawl s':>8} {'peak MiB':>9} {'commits':>8} {'requests':>9} "
        f"{'cond.':>6} {'body MiB':>9} {'in-flight/site':>14}  statuses"
    )
    for m in measures:
        statuses = " ".join(f"{code}:{count}" for code, count in m.by_status.items())
        print(
            f"{m.name:<18} {m.exit_status:>4} {m.wall_seconds:>7.1f} {m.crawl_seconds:>8.1f} {m.peak_rss_mib:>9.1f} "
            f"{m.commits_added:>8} {m.requests:>9} {m.conditional:>6} {m.body_mib:>9.1f} "
            f"{m.max_in_flight_per_site:>14}  {statuses}"
        )


if __name__ == "__main__":
    sys.exit(main())
