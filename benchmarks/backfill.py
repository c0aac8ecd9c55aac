"""Backfill benchmark (issue 3): requests, completeness and date accuracy of each ``--strategy``.

    python -m benchmarks.backfill                               # 50 documents, 200-2,000 captures each
    python -m benchmarks.backfill --documents 5 --max-captures 300 --strategies bisect,sample   # a quick run

A generated history is served by the stand-in Wayback archive (``tests/standin/archive.py``) on 127.0.0.1:
each document is one of the shared seed policies (``../shared/seeds``) rendered as a ~20 KB HTML page with
navigation, footer and inline scripts; every capture carries its own token (CSRF meta tag, script variable), so
every capture's bytes and CDX digest differ, as on real pages; the policy text changes 1-10 times, each time by
one to three edits (a sentence added to a paragraph, a paragraph added or dropped) at a random capture, and
never back to an earlier text (so no A→B→A flip can hide inside an equal span; the count of flips in the truth
is printed).

For each strategy the real CLI runs in a subprocess (``python -m policy_archive ... backfill --strategy S``)
against a fresh data directory with the rate limiter out of the way (``per_minute = 60000``, a thousand a second,
the most validation takes). Reported per strategy:
archive requests (from the stand-in's request log), replay requests per version found, versions found and
change dates exact against the truth (Git author date and ``Captured-At`` trailer against the first capture
showing each version), change windows exact (catalog), wall time with the limiter off, and the time the same
requests take at the real default limits (24 CDX/min, 480 replay/min; the phases run one after the other, so
``cdx / 24 + replay / 480`` minutes). Then a smaller run with the limiter on at a fast test rate shows that the
limiter spaces requests as configured.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks.generated_history import DocumentTruth, generate, render_page
from benchmarks.shared import REPO_ROOT, SEEDS, require

# The stand-ins live in tests/ and are imported as ``standin.*``: another distribution's top-level ``tests``
# package would shadow ours (waybackpy's did, while it was a dependency).
sys.path.insert(0, str(REPO_ROOT / "tests"))

from standin.archive import StandinArchive  # noqa: E402
from standin.capture import StandinCapture  # noqa: E402

STRATEGIES = ("bisect", "all", "sample")
# The real archive's defaults (pipeline.config.WaybackSettings, 80 % of the Internet Archive's limits as of 2026-11).
REAL_CDX_PER_MINUTE = 24
REAL_REPLAY_PER_MINUTE = 480


# --- the generated history, served -----------------------------------------------------------------------


def serve(documents: Sequence[DocumentTruth]) -> StandinArchive:
    archive = StandinArchive()
    for document in documents:
        for index, timestamp in enumerate(document.timestamps):
            token = f"{document.service}-{index:05d}-{random.Random(timestamp).getrandbits(64):016x}"
            body = render_page(document.name, document.texts[document.version_at(index)], token)
            archive.add(StandinCapture(document.url, timestamp, body))
    return archive.start()


def write_config(directory: Path, documents: Sequence[DocumentTruth], archive: StandinArchive, limits: Limits) -> None:
    (directory / "services").mkdir(parents=True)
    (directory / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{archive.cdx_url}"\nreplay_url = "{archive.replay_url}"\n'
        f"cdx_per_minute = {limits.cdx}\nreplay_per_minute = {limits.replay}\n"
        "backoff_seconds = 60\ntimeout_seconds = 60\n"
    )
    for document in documents:
        select = f"select = [{', '.join(repr(s) for s in document.select)}]\n" if document.select else ""
        (directory / "services" / f"{document.service}.toml").write_text(
            f'name = "{document.name}"\n[documents.privacy-policy]\nurl = "{document.url}"\n{select}'
            'remove = ["header", "nav", "footer"]\n'
        )


# --- one run ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    cdx: str  # TOML values: a number per minute ("60000", the most allowed: the limiter out of the way)
    replay: str


@dataclass(frozen=True)
class Commit:
    path: str
    author_date: datetime
    captured_at: datetime


@dataclass(frozen=True)
class RunResult:
    strategy: str
    exit_status: int
    wall_seconds: float
    cdx_requests: int
    replay_requests: int
    versions_truth: int
    versions_found: int
    dates_exact: int
    dates_consistent: bool  # author date = Captured-At for every commit
    extra_commits: int  # a commit repeating the version of the previous one, or not at a capture
    windows_exact: int
    missed_by_document: dict[str, int]
    lag_days: list[float]  # found versions: how late the recorded date is
    request_times: dict[str, list[float]]

    @property
    def replay_per_version(self) -> float:
        return self.replay_requests / self.versions_found if self.versions_found else float("nan")

    @property
    def projected_seconds(self) -> float:
        return 60 * self.cdx_requests / REAL_CDX_PER_MINUTE + 60 * self.replay_requests / REAL_REPLAY_PER_MINUTE


def run_cli(config: Path, data: Path, strategy: str, log: Path) -> tuple[int, float]:
    started = time.monotonic()
    with log.open("w") as stderr:
        completed = subprocess.run(
            [sys.executable, "-m", "policy_archive", "--config", str(config), "--data", str(data), "backfill",
             "--strategy", strategy],
            cwd=REPO_ROOT, stdout=stderr, stderr=stderr, check=False,
        )  # fmt: skip
    return completed.returncode, time.monotonic() - started


def git_commits(repo: Path) -> list[Commit]:
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        return []
    output = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--name-only",
         "--format=@@%aI|%(trailers:key=Captured-At,valueonly,separator=)", "main"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    commits = []
    for chunk in output.split("@@")[1:]:
        head, *paths = [line for line in chunk.splitlines() if line.strip()]
        author, captured = head.split("|")
        for path in paths:
            commits.append(
                Commit(path, datetime.fromisoformat(author), datetime.fromisoformat(captured.replace("Z", "+00:00")))
            )
    return commits


def catalog_windows(catalog: Path) -> dict[tuple[str, str], str]:
    """(document, change capture) → window start (the last capture seen unchanged), as the catalog holds them."""
    import sqlite3

    if not catalog.exists():
        return {}
    connection = sqlite3.connect(catalog)
    try:
        rows = connection.execute(
            "SELECT document, captured_at, window_start FROM captures WHERE window_start IS NOT NULL"
        ).fetchall()
    finally:
        connection.close()
    return {(document, _compact(at)): _compact(start) for document, at, start in rows}


def _compact(iso: str) -> str:
    return re.sub(r"\D", "", iso)[:14]


def score(
    strategy: str,
    documents: Sequence[DocumentTruth],
    data: Path,
    archive: StandinArchive,
    outcome: tuple[int, float],
) -> RunResult:
    by_path = {document.path: document for document in documents}
    commits: dict[str, list[Commit]] = {}
    for commit in git_commits(data / "versions"):
        commits.setdefault(commit.path, []).append(commit)
    windows = catalog_windows(data / "catalog.sqlite3")
    found = exact = extra = windows_exact = 0
    missed: dict[str, int] = {}
    lags: list[float] = []
    consistent = True
    for path, document in by_path.items():
        seen: list[int] = []
        for commit in commits.get(path, []):
            consistent &= commit.author_date == commit.captured_at
            stamp = f"{commit.captured_at:%Y%m%d%H%M%S}"
            if stamp not in document.timestamps:
                extra += 1
                continue
            index = document.timestamps.index(stamp)
            version = document.version_at(index)
            if seen and seen[-1] == version:
                extra += 1
                continue
            seen.append(version)
            start = document.version_starts[version]
            lags.append((index_time(document, index) - index_time(document, start)).total_seconds() / 86400)
            if index == start:
                exact += 1
                window = windows.get((document.key, stamp))
                previous = document.timestamps[start - 1] if start else None
                windows_exact += window == previous
        found += len(set(seen))
        missed[document.key] = len(document.version_starts) - len(set(seen))
    return RunResult(
        strategy=strategy,
        exit_status=outcome[0],
        wall_seconds=outcome[1],
        cdx_requests=archive.counts()["cdx"],
        replay_requests=archive.counts()["replay"],
        versions_truth=sum(len(document.version_starts) for document in documents),
        versions_found=found,
        dates_exact=exact,
        dates_consistent=consistent,
        extra_commits=extra,
        windows_exact=windows_exact,
        missed_by_document=missed,
        lag_days=lags,
        request_times=request_times(archive),
    )


def index_time(document: DocumentTruth, index: int) -> datetime:
    return datetime.strptime(document.timestamps[index], "%Y%m%d%H%M%S")


def request_times(archive: StandinArchive) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cdx": [], "replay": []}
    for request in archive.requests:
        if request.endpoint in times:
            times[request.endpoint].append(request.at)
    return times


def run_strategy(
    strategy: str, documents: Sequence[DocumentTruth], archive: StandinArchive, work: Path, limits: Limits
) -> RunResult:
    run_dir = work / f"{strategy}-{limits.replay}"
    shutil.rmtree(run_dir, ignore_errors=True)
    write_config(run_dir / "config", documents, archive, limits)
    archive.clear_log()
    outcome = run_cli(run_dir / "config", run_dir / "data", strategy, run_dir / "cli.log")
    if outcome[0] != 0:
        print(f"  {strategy}: exit status {outcome[0]}, see {run_dir / 'cli.log'}", file=sys.stderr)
    return score(strategy, documents, run_dir / "data", archive, outcome)


# --- report ----------------------------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.1f} s"


def print_table(results: Sequence[RunResult]) -> None:
    all_run = next((result for result in results if result.strategy == "all"), None)
    header = (
        f"{'strategy':<8} {'exit':>4} {'replay req':>10} {'% of all':>8} {'req/version':>11} {'versions':>11} "
        f"{'dates exact':>11} {'windows':>9} {'extra':>5} {'CDX req':>7} {'wall (off)':>10} {'projected (real)':>16}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        share = f"{100 * r.replay_requests / all_run.replay_requests:.1f} %" if all_run else "-"
        print(
            f"{r.strategy:<8} {r.exit_status:>4} {r.replay_requests:>10,} {share:>8} {r.replay_per_version:>11.1f} "
            f"{f'{r.versions_found}/{r.versions_truth}':>11} {f'{r.dates_exact}/{r.versions_truth}':>11} "
            f"{f'{r.windows_exact}/{r.versions_truth}':>9} {r.extra_commits:>5} {r.cdx_requests:>7} "
            f"{minutes(r.wall_seconds):>10} {minutes(r.projected_seconds):>16}"
        )
    for r in results:
        if not r.dates_consistent:
            print(f"{r.strategy}: some commit's author date differs from its Captured-At trailer")
        if r.versions_found < r.versions_truth:
            missed = sorted(((n, d) for d, n in r.missed_by_document.items() if n), reverse=True)
            worst = ", ".join(f"{d} {n}" for n, d in missed[:5])
            print(
                f"{r.strategy}: missed {r.versions_truth - r.versions_found} versions in {len(missed)} documents "
                f"(most: {worst})"
            )
        late = [lag for lag in r.lag_days if lag > 0]
        if late:
            print(
                f"{r.strategy}: {len(late)} versions found dated late: median {statistics.median(late):.0f} days, "
                f"max {max(late):.0f} days after the first capture showing them"
            )


def observed_rate(times: Sequence[float]) -> float:
    """Requests per minute between the first and the last request seen by the archive."""
    ordered = sorted(times)
    span = ordered[-1] - ordered[0] if len(ordered) > 1 else 0.0
    return 60 * (len(ordered) - 1) / span if span else float("nan")


def busiest_window(times: Sequence[float], window: float) -> int:
    """The most requests the archive answered within any ``window`` seconds."""
    ordered = sorted(times)
    return max((bisect_right(ordered, start + window) - i for i, start in enumerate(ordered)), default=0)


def print_limited(result: RunResult, cdx_rate: float, replay_rate: float) -> None:
    cdx_times, replay_times = result.request_times["cdx"], result.request_times["replay"]
    floor = 60 * max(0, len(cdx_times) - 1) / cdx_rate + 60 * max(0, len(replay_times) - 1) / replay_rate
    # Answer times jitter by a few milliseconds around the limiter's slots, so count over 20 intervals.
    window = 20 * 60 / replay_rate
    print(
        f"limiter on ({cdx_rate:g} CDX/min, {replay_rate:g} replay/min), strategy {result.strategy}: exit "
        f"{result.exit_status}; {len(cdx_times)} CDX + {len(replay_times)} replay requests in "
        f"{result.wall_seconds:.1f} s (the limits allow them in no less than {floor:.1f} s); observed rates "
        f"{observed_rate(cdx_times):.0f} CDX/min, {observed_rate(replay_times):.0f} replay/min; at most "
        f"{busiest_window(replay_times, window)} replay requests in any {window:.1f} s (20 intervals); "
        f"versions {result.versions_found}/{result.versions_truth}, dates exact {result.dates_exact}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--min-captures", type=int, default=200)
    parser.add_argument("--max-captures", type=int, default=2000)
    parser.add_argument("--max-versions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated, run in this order")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="directory of seed policies (shared data)")
    parser.add_argument("--work", type=Path, help="keep the data directories here (default: a temporary one)")
    parser.add_argument("--limited-documents", type=int, default=5, help="documents of the limiter-on run (0: skip)")
    parser.add_argument("--limited-rates", default="120,1200", help="CDX,replay per minute of the limiter-on run")
    options = parser.parse_args(argv)

    seeds = require(options.seeds, "*.txt", "--seeds")
    documents = generate(
        options.documents, options.min_captures, options.max_captures, options.max_versions, seeds, options.seed
    )
    captures = sum(len(document.timestamps) for document in documents)
    versions = sum(len(document.version_starts) for document in documents)
    flips = sum(document.flips() for document in documents)
    started = time.monotonic()
    archive = serve(documents)
    sizes = [len(capture.body) for capture in archive.captures_of(documents[0].url)[:10]]
    print(
        f"history: {len(documents)} documents, {captures:,} captures "
        f"({min(len(d.timestamps) for d in documents)}-{max(len(d.timestamps) for d in documents)} each), "
        f"{versions} versions (1-{max(len(d.version_starts) for d in documents)} each), {flips} A→B→A flips; "
        f"pages ~{statistics.mean(sizes) / 1024:.0f} KB; generated and served in {time.monotonic() - started:.1f} s"
    )
    work = options.work or Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    try:
        results = []
        for strategy in options.strategies.split(","):
            print(f"running {strategy} ...", file=sys.stderr, flush=True)
            results.append(run_strategy(strategy, documents, archive, work, Limits("60000", "60000")))
        print_table(results)
        if options.limited_documents:
            cdx_rate, replay_rate = (float(rate) for rate in options.limited_rates.split(","))
            subset = documents[: options.limited_documents]
            limited = run_strategy("bisect", subset, archive, work, Limits(f"{cdx_rate:g}", f"{replay_rate:g}"))
            print_limited(limited, cdx_rate, replay_rate)
    finally:
        archive.stop()
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
