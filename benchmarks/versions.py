"""Benchmark of the Git version store (issue 5): append, full rebuild, rebuild after inserting older versions.

    python -m benchmarks.versions                                  # 100,000 versions over 5,000 documents
    python -m benchmarks.versions --documents 200 --versions 4000  # a quick run

Synthetic documents of ~15 KB (paragraphs of legal-sounding sentences) change by one to three edits per version
(a paragraph rewritten, a sentence added, a paragraph removed or added), at random times between 2010 and 2026.
They are fed document after document, as a backfill produces them. The baseline writes one commit per version
through GitPython's index (``index.add`` + ``index.commit``) on a smaller sample.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_archive.archive.versions import VersionStore
from policy_archive.records import Source, Version

HISTORY_START = datetime(2010, 1, 1, tzinfo=UTC)
HISTORY_SECONDS = 16 * 365 * 24 * 3600
WORDS = (
    "we collect personal data information services users third parties cookies consent process purposes legal "
    "basis retention security rights access rectification erasure portability object withdraw transfer outside "
    "European Economic Area safeguards contract legitimate interests analytics advertising partners providers "
    "may share disclose store period necessary comply obligations request contact officer update policy notice"
).split()


@dataclass(frozen=True)
class SyntheticDocument:
    service: str
    seed: int

    @property
    def path(self) -> str:
        return f"{self.service[0]}/{self.service}/privacy-policy.md"


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(10, 24))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))


def edit(paragraphs: list[str], rng: random.Random) -> None:
    """One realistic change: rewrite, extend, add or remove a paragraph (never below ten paragraphs)."""
    roll = rng.random()
    place = rng.randrange(len(paragraphs))
    if roll < 0.4:
        paragraphs[place] = paragraph(rng)
    elif roll < 0.7:
        paragraphs[place] += " " + sentence(rng)
    elif roll < 0.85 or len(paragraphs) < 10:
        paragraphs.insert(place, paragraph(rng))
    else:
        del paragraphs[place]


def make_version(document: SyntheticDocument, at: datetime, body: str) -> Version:
    url = f"https://www.{document.service}.com/privacy"
    snapshot = f"https://web.archive.org/web/{at:%Y%m%d%H%M%S}id_/{url}"
    header = (
        f"> *The following text is extracted and transformed from the {document.service}.com privacy policy that "
        f"was archived on {at:%Y-%m-%d}. Please check the [original snapshot on the Wayback Machine]({snapshot}) "
        "for the most accurate reproduction.*"
    )
    return Version(
        document=f"{document.service}/privacy-policy",
        path=document.path,
        display_name=f"{document.service.capitalize()} Privacy Policy",
        captured_at=at,
        source=Source.WAYBACK,
        snapshot_url=snapshot,
        payload_sha1=f"{document.seed:08d}{int(at.timestamp()):012d}",
        extractor="trafilatura 2.3.1",
        content=f"{header}\n\n# Privacy Policy\n\n{body}\n",
        body=body,
    )


def document_history(document: SyntheticDocument, count: int, size: int) -> Iterator[Version]:
    """``count`` versions of one document, oldest first, each one to three edits away from the previous."""
    rng = random.Random(document.seed)
    paragraphs = [paragraph(rng) for _ in range(max(10, size // 380))]
    moments = sorted(rng.randrange(HISTORY_SECONDS) for _ in range(count))
    for offset in moments:
        for _ in range(rng.randint(1, 3)):
            edit(paragraphs, rng)
        yield make_version(document, HISTORY_START + timedelta(seconds=offset), "\n\n".join(paragraphs))


def documents(count: int) -> list[SyntheticDocument]:
    return [SyntheticDocument(f"{'abcdefghijklmnopqrstuvwxyz'[n % 26]}service{n}", n) for n in range(count)]


def all_versions(docs: list[SyntheticDocument], per_document: int, size: int) -> Iterator[Version]:
    for document in docs:
        yield from document_history(document, per_document, size)


def older_versions(docs: list[SyntheticDocument], count: int, seed: int) -> list[Version]:
    """One version each for ``count`` documents, dated before anything stored (a backfill reaching further back)."""
    rng = random.Random(seed)
    chosen = rng.sample(docs, count)
    return [
        make_version(document, HISTORY_START - timedelta(seconds=rng.randrange(1, 3 * 365 * 24 * 3600)), paragraph(rng))
        for document in chosen
    ]


def git_size_after_gc(repo: Path) -> tuple[float, int]:
    started = time.monotonic()
    subprocess.run(["git", "gc", "--quiet", "--prune=now"], cwd=repo, check=True)
    elapsed = time.monotonic() - started
    size = sum(f.stat().st_size for f in (repo / ".git").rglob("*") if f.is_file())
    return elapsed, size


def index_commit_baseline(directory: Path, docs: list[SyntheticDocument], count: int, size: int) -> float:
    """Versions per second committing through GitPython's index, one commit per version, in time order."""
    import git  # noqa: PLC0415 - only the baseline uses GitPython directly, to show what fast-import replaces

    per_document = 20
    chosen = docs[: max(1, count // per_document)]
    versions = sorted(all_versions(chosen, per_document, size), key=lambda v: v.captured_at)[:count]
    repo = git.Repo.init(directory, initial_branch="main")
    started = time.monotonic()
    for version in versions:
        target = directory / version.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(version.content, encoding="utf-8")
        repo.index.add([version.path])
        actor = git.Actor("policy-archive", "policy-archive@users.noreply.github.com")
        when = version.captured_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
        repo.index.commit("Record new changes", author=actor, committer=actor, author_date=when, commit_date=when)
    return len(versions) / (time.monotonic() - started)


class ChildMemoryWatch:
    """Peak resident memory of our git child processes, read from /proc (Linux).

    RUSAGE_CHILDREN cannot be used: Linux carries the parent's peak into a forked child's, so every git child
    would report at least this Python process's own size (so does VmHWM, as measured here on 2026-11-22).
    VmRSS sampled every 100 ms is each git process's own size; the long-running ones are what matters.
    """

    def __init__(self) -> None:
        self.peak_mb: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            for pid in descendants(os.getpid()):
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    status = Path(f"/proc/{pid}/status").read_text()
                    # Read the name again: a status read just before exec would be this Python process's.
                    if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") != command:
                        continue
                except OSError:
                    continue  # already gone
                name = process_name([part.decode() for part in command if part])
                if not name.startswith(("git ", "/usr/lib/git-core/")):
                    continue  # between fork and exec a child still shows (and measures) this Python process
                for line in status.splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), int(line.split()[1]) / 1024)

    def largest(self) -> tuple[str, float]:
        mb, name = max(((mb, name) for name, mb in self.peak_mb.items()), default=(0.0, "none"))
        return name, mb


def process_name(argv: list[str]) -> str:
    """``git fast-import`` from ``git -c core.x=y fast-import --quiet``."""
    words = [word for index, word in enumerate(argv) if word != "-c" and (index == 0 or argv[index - 1] != "-c")]
    return " ".join(words[:2])


def descendants(root: int) -> list[int]:
    """Child processes, recursively, from /proc/PID/task/TID/children (cheap enough to poll)."""
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(pid) for pid in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            frontier += children
    return found


def memory_line(watch: ChildMemoryWatch) -> str:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name, child = watch.largest()
    return f"{own:,.0f} MB Python + {child:,.0f} MB largest git child ({name}) = {own + child:,.0f} MB"


def run(documents_count: int, versions_count: int, inserts: int, baseline: int, size: int) -> None:
    docs = documents(documents_count)
    per_document = versions_count // documents_count
    watch = ChildMemoryWatch()
    with tempfile.TemporaryDirectory(prefix="policy-archive-bench-") as workdir:
        repo = Path(workdir) / "versions"
        store = VersionStore(repo)

        started = time.monotonic()
        appended = store.save_stream(all_versions(docs, per_document, size))
        append_seconds = time.monotonic() - started
        report(
            "append",
            f"{len(appended):,} versions in {append_seconds:.1f} s = {len(appended) / append_seconds:,.0f} versions/s",
        )

        started = time.monotonic()
        rebuilt = store.save_stream(older_versions(docs, 1, seed=1))
        report("full rebuild", f"{len(rebuilt):,} commits re-chained in {time.monotonic() - started:.1f} s")

        started = time.monotonic()
        inserted = store.save_stream(older_versions(docs, inserts, seed=2))
        report(
            f"insert {inserts:,} older",
            f"{len(inserted):,} commits written in {time.monotonic() - started:.1f} s",
        )

        report("peak memory before gc", memory_line(watch))
        gc_seconds, size_bytes = git_size_after_gc(repo)
        report("repo after git gc", f"{size_bytes / 1e6:,.0f} MB (gc took {gc_seconds:.0f} s)")
        report("peak memory with gc", memory_line(watch))

        if baseline:
            rate = index_commit_baseline(Path(workdir) / "baseline", docs, baseline, size)
            report("GitPython index baseline", f"{rate:,.0f} versions/s on {baseline:,} versions")
            report("fast-import / baseline", f"{len(appended) / append_seconds / rate:,.0f}x")


def report(label: str, text: str) -> None:
    print(f"{label:>26}: {text}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=5_000)
    parser.add_argument("--versions", type=int, default=100_000, help="total, spread evenly over the documents")
    parser.add_argument("--inserts", type=int, default=1_000, help="older versions inserted after the build")
    parser.add_argument("--baseline", type=int, default=1_000, help="versions for the index baseline (0: skip)")
    parser.add_argument("--size", type=int, default=15_000, help="approximate text size in bytes")
    arguments = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {arguments}", flush=True)
    run(
        arguments.documents,
        arguments.versions,
        min(arguments.inserts, arguments.documents),
        arguments.baseline,
        arguments.size,
    )


if __name__ == "__main__":
    main()
