"""Flips-and-reverts benchmark (issue 16): what each ``--strategy`` finds when texts change and change back.

    python -m benchmarks.flips                 # the three histories, the real CLI on the stand-in archive
    python -m benchmarks.flips --simulate      # the planning alone over many generated truths (seconds)

The histories are those of issue 16 (``tests/standin/histories.py``), each ~20 documents and ~2,100-2,400
captures: ``steady`` (3-6 lasting versions per document, no text ever comes back), ``flips`` (plus 1-3 short
flips per document: 1-3 captures showing an earlier text or a variant) and ``reverts`` (plus 1-2 changes per
document shown by 10 captures over 2-8 weeks, then reverted). A version is *lasting* when it is shown by two
captures or more; the issue asks the default strategy for >= 99 % of the lasting versions ``all`` finds, each
dated at its first capture, with at most 30 % (steady) or 35 % (flips, reverts) of ``all``'s replay requests.

CLI mode renders each text as a page the way ``benchmarks.backfill`` does (a shared seed policy, edited once
per version) with a per-capture token and a request-id comment of 0-32 characters, so every capture's bytes
differ and its CDX length varies by up to 32 bytes around its text's; runs ``python -m policy_archive ...
backfill --strategy S`` in a fresh data directory for ``all``, ``bisect`` and ``sample``; and scores Git
against the truth. Simulation mode drives the pure planning (``pipeline/jobs/strategy.py``) with each
capture's true text, for several bounds (``max_hidden``), length noises, shares of same-size edits, and
without lengths: the table the default bound was chosen from.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks.backfill import Limits, git_commits, run_cli, write_config
from benchmarks.generated_history import Block, edit, render_page, seed_blocks
from benchmarks.shared import REPO_ROOT, SEEDS, require

sys.path.insert(0, str(REPO_ROOT / "tests"))

from standin import histories  # noqa: E402
from standin.archive import StandinArchive  # noqa: E402
from standin.capture import StandinCapture  # noqa: E402

from policy_archive.pipeline.jobs.strategy import MAX_HIDDEN_CAPTURES, StrategyName  # noqa: E402

STRATEGIES = ("all", "bisect", "sample")
TARGETS = {"steady": 0.30, "flips": 0.35, "reverts": 0.35}  # share of all's replay requests, issue 16


# --- generated documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One generated document: its history (truth) and the blocks of each of its texts."""

    service: str
    name: str
    url: str
    select: tuple[str, ...]
    history: histories.History
    texts: tuple[tuple[Block, ...], ...]

    @property
    def path(self) -> str:
        return f"{self.service[0]}/{self.service}/privacy-policy.md"

    @property
    def timestamps(self) -> tuple[str, ...]:
        return tuple(f"{moment:%Y%m%d%H%M%S}" for moment in self.history.timestamps)


def generate(kind: histories.Kind, count: int, seeds: Sequence[Path], seed: int) -> list[Document]:
    rng = random.Random(f"{kind}-{seed}")
    documents = []
    for n in range(count):
        site, blocks = seed_blocks(seeds[n % len(seeds)])
        history = histories.generate(rng, kind)
        texts: list[tuple[Block, ...]] = []
        for text, parent in enumerate(history.parents):
            edited = list(texts[parent]) if parent >= 0 else list(blocks)
            if parent >= 0:
                edit(edited, rng, history.timestamps[history.texts.index(text)])
            texts.append(tuple(edited))
        service = re.sub(r"[^a-z0-9]", "", site.split(".")[0].lower()) + f"{n:02d}"
        documents.append(
            Document(
                service=service,
                name=site,
                url=f"https://www.{service}.example/legal/privacy",
                select=("main",) if n % 2 == 0 else (),
                history=history,
                texts=tuple(texts),
            )
        )
    return documents


def serve(documents: Sequence[Document]) -> StandinArchive:
    archive = StandinArchive()
    for document in documents:
        rng = random.Random(document.service)
        for index, (timestamp, text) in enumerate(zip(document.timestamps, document.history.texts, strict=True)):
            token = f"{document.service}-{index:05d}-{rng.getrandbits(64):016x}"
            page = render_page(document.name, document.texts[text], token)
            request_id = f"<!-- request {'x' * rng.randint(0, 32)} -->".encode()
            archive.add(StandinCapture(document.url, timestamp, page.replace(b"</body>", request_id + b"</body>")))
    return archive.start()


# --- scoring -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    strategy: str
    exit_status: int
    wall_seconds: float
    replay_requests: int
    lasting: int  # lasting versions in the truth
    lasting_exact: int  # ... recorded at their first capture
    lasting_late: int  # ... recorded at a later capture of theirs
    short_found: int  # versions of one capture recorded
    short: int
    late_days: tuple[float, ...]
    extra_commits: int  # commits at no version's start and not found late (a version recorded twice, ...)
    unverified_line: str  # the backfill's last line on what it did not verify


def score(
    strategy: str,
    documents: Sequence[Document],
    data: Path,
    archive: StandinArchive,
    outcome: tuple[int, float],
    log: Path,
) -> Score:
    commits: dict[str, list[datetime]] = {}
    for commit in git_commits(data / "versions"):
        commits.setdefault(commit.path, []).append(commit.captured_at)
    lasting = exact = late = short = short_found = extra = 0
    late_days: list[float] = []
    for document in documents:
        stamps = {f"{moment:%Y%m%d%H%M%S}": i for i, moment in enumerate(document.history.timestamps)}
        recorded = sorted(stamps[f"{at:%Y%m%d%H%M%S}"] for at in commits.get(document.path, []))
        runs = document.history.runs()
        matched: set[int] = set()
        for start, length in runs:
            inside = [i for i in recorded if start <= i < start + length]
            if length >= 2:
                lasting += 1
                exact += start in inside
                if inside and start not in inside:
                    late += 1
                    times = document.history.timestamps
                    late_days.append((times[inside[0]] - times[start]).total_seconds() / 86400)
            else:
                short += 1
                short_found += bool(inside)
            matched.update(inside[:1])
        extra += len(recorded) - len(matched)
    line = next((text for text in reversed(log.read_text().splitlines()) if "not verified" in text), "")
    return Score(
        strategy, outcome[0], outcome[1], archive.counts()["replay"], lasting, exact, late, short_found, short,
        tuple(late_days), extra, line,
    )  # fmt: skip


def run_strategy(strategy: str, documents: Sequence[Document], archive: StandinArchive, work: Path) -> Score:
    run_dir = work / strategy
    shutil.rmtree(run_dir, ignore_errors=True)
    write_config(run_dir / "config", documents, archive, Limits("60000", "60000"))
    archive.clear_log()
    log = run_dir / "cli.log"
    outcome = run_cli(run_dir / "config", run_dir / "data", strategy, log)
    if outcome[0] != 0:  # a failed run measures nothing: stop rather than print a table of it
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:])
        sys.exit(f"{strategy}: the backfill ended with exit status {outcome[0]}:\n{tail}")
    return score(strategy, documents, run_dir / "data", archive, outcome, log)


def print_scores(kind: str, captures: int, scores: Sequence[Score]) -> None:
    everything = next(s for s in scores if s.strategy == "all")
    print(f"\n{kind}: {captures:,} captures, {everything.lasting} lasting versions, {everything.short} of one capture")
    header = (
        f"{'strategy':<8} {'exit':>4} {'replay req':>10} {'% of all':>8} {'lasting found':>13} {'% of all':>8} "
        f"{'dated exactly':>13} {'late':>4} {'max late':>8} {'1-capture':>9} {'extra':>5} {'wall':>7}"
    )
    print(header)
    print("-" * len(header))
    for s in scores:
        found = s.lasting_exact + s.lasting_late
        all_found = everything.lasting_exact + everything.lasting_late
        print(
            f"{s.strategy:<8} {s.exit_status:>4} {s.replay_requests:>10,} "
            f"{100 * s.replay_requests / everything.replay_requests:>7.1f}% {f'{found}/{s.lasting}':>13} "
            f"{100 * found / all_found:>7.1f}% {f'{s.lasting_exact}/{s.lasting}':>13} {s.lasting_late:>4} "
            f"{f'{max(s.late_days):.0f} d' if s.late_days else '-':>8} {f'{s.short_found}/{s.short}':>9} "
            f"{s.extra_commits:>5} {s.wall_seconds:>6.1f}s"
        )
    for s in scores:
        if s.unverified_line:
            print(f"  {s.strategy}: {s.unverified_line}")


def run_cli_mode(options: argparse.Namespace) -> None:
    seeds = require(options.seeds, "*.txt", "--seeds")
    work = options.work or Path(tempfile.mkdtemp(prefix="flips-bench-"))
    try:
        for kind in options.kinds.split(","):
            documents = generate(kind, options.documents, seeds, options.seed)  # type: ignore[arg-type]
            captures = sum(len(document.timestamps) for document in documents)
            archive = serve(documents)
            try:
                scores = []
                for strategy in options.strategies.split(","):
                    print(f"{kind}: running {strategy} ...", file=sys.stderr, flush=True)
                    scores.append(run_strategy(strategy, documents, archive, work / kind))
            finally:
                archive.stop()
            print_scores(kind, captures, scores)
    finally:
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)


# --- simulation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    label: str
    noise: int
    same_length_share: float = 0.0
    lengths_listed: bool = True


SETTINGS = (
    Setting("lengths exact", 0),
    Setting("lengths ±16 B", 16),
    Setting("lengths ±64 B", 64),
    Setting("±16 B, 20 % same-size edits", 16, 0.2),
    Setting("no lengths listed", 0, lengths_listed=False),
)


def simulate(kind: histories.Kind, setting: Setting, bound: int, documents: int, seed: int) -> tuple[float, float]:
    """(share of all's requests, share of the lasting versions found at their first capture)."""
    rng = random.Random(f"{kind}-{setting.label}-{seed}")
    requests = total = lasting = found = 0
    for _ in range(documents):
        history = histories.generate(rng, kind)
        sizes = histories.lengths(rng, history, setting.noise, same_length_share=setting.same_length_share)
        refs = histories.capture_refs(history, sizes if setting.lengths_listed else [None] * len(sizes))
        result = histories.simulate(StrategyName.BISECT, refs, history.texts, max_hidden=bound)
        requests += len(result.fetched)
        total += len(refs)  # all fetches every capture: every capture's bytes differ
        lasting += len(history.lasting())
        found += len(set(history.lasting()) & set(result.changes))
    return requests / total, found / lasting


def run_simulation(options: argparse.Namespace) -> None:
    bounds = [int(bound) for bound in options.bounds.split(",")]
    kinds = options.kinds.split(",")
    print(
        f"bisect simulated on {options.documents} documents per cell (seed {options.seed}): "
        "replay requests as % of all's / lasting versions found at their first capture"
    )
    header = f"{'setting':<30} {'bound':>5} " + " ".join(f"{kind:>18}" for kind in kinds)
    print(header)
    print("-" * len(header))
    for setting in SETTINGS:
        for bound in bounds:
            cells = []
            for kind in kinds:
                share, recall = simulate(kind, setting, bound, options.documents, options.seed)  # type: ignore[arg-type]
                ok = share <= TARGETS[kind] and recall >= 0.99
                cells.append(f"{100 * share:5.1f}% / {100 * recall:5.1f}%{' ' if ok else '*'}")
            marker = " (default)" if bound == MAX_HIDDEN_CAPTURES else ""
            print(f"{setting.label:<30} {bound:>5} " + " ".join(f"{cell:>18}" for cell in cells) + marker)
    print("* misses a target of issue 16 (>= 99 % found; <= 30 % of all's requests steady, <= 35 % otherwise)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulate", action="store_true", help="simulate the planning only (no CLI, no server)")
    parser.add_argument("--documents", type=int, help="documents per history (default: 20; 200 with --simulate)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--kinds", default=",".join(histories.KINDS), help="comma-separated histories")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated; all is needed")
    parser.add_argument("--bounds", default="4,8,12,20,40", help="--simulate: max_hidden values to compare")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="directory of seed policies (shared data)")
    parser.add_argument("--work", type=Path, help="keep the data directories here (default: a temporary one)")
    options = parser.parse_args(argv)
    started = time.monotonic()
    if options.simulate:
        options.documents = options.documents or 200
        run_simulation(options)
    else:
        options.documents = options.documents or 20
        run_cli_mode(options)
    print(f"done in {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
