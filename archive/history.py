"""Reading the versions repository back: each version's commit, trailers and line counts, oldest first, streamed.

`log --json`, `export`, `report` and `verify` read the history through here. ``git rev-list`` lists the commits of
``main``, then ``git log`` gives each batch of them with its message, the blob it wrote (``--raw``) and how many
lines it changed (``--numstat``), so 100,000 versions are read in bounded memory, one commit at a time here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from policy_archive.archive.ledger import UPGRADE_SUBJECT
from policy_archive.archive.versions import VersionStore
from policy_archive.records import parse_iso_z

# Separators Git writes around each commit's header and message: neither can occur in a message (subjects and
# trailers come from the configuration, whose names reject control characters, and from URLs).
_COMMIT_START = "\x1e"
_MESSAGE_END = "\x1f"
_FORMAT = f"--format={_COMMIT_START}%H %at%n%B{_MESSAGE_END}"
PATHSPEC_LIMIT = 64
LOG_BATCH = 1000


@dataclass(frozen=True, slots=True)
class VersionCommit:
    """One version on ``main``: its commit, what its message says, and what it changed in its file."""

    commit: str
    committed_at: datetime  # author date = committer date: the capture time, or when a technical upgrade was made
    path: str
    blob: str
    first: bool  # the document's first version (its file is added by this commit)
    lines_added: int  # lines changed against the previous version, not counting lines matching ``ignore``
    lines_removed: int
    subject: str
    trailers: dict[str, str]

    @property
    def captured_at(self) -> datetime:
        """The capture time of the bytes the text came from (``Captured-At``), else the commit date."""
        stated = self.trailers.get("Captured-At")
        return parse_iso_z(stated) if stated else self.committed_at

    @property
    def technical_upgrade(self) -> bool:
        """Whether the commit is a technical upgrade (``Apply technical upgrade on ...``, docs/decisions/0003)."""
        return self.subject.startswith(UPGRADE_SUBJECT)

    @property
    def stated_date(self) -> str | None:
        """The date the document gives itself (``Stated-Date: YYYY-MM-DD``), when its text states one."""
        return self.trailers.get("Stated-Date")


def parse_message(message: str) -> tuple[str, dict[str, str]]:
    """Subject and trailers (``Key: value`` lines after the subject) of a version's commit message."""
    subject, _, rest = message.strip("\n").partition("\n")
    trailers: dict[str, str] = {}
    for line in rest.splitlines():
        key, separator, value = line.partition(": ")
        if separator and key and " " not in key:
            trailers[key] = value
    return subject, trailers


def version_commits(
    store: VersionStore, paths: Iterable[str] = (), *, ignore: str | None = None
) -> Iterator[VersionCommit]:
    """Every version of ``main`` (of ``paths`` only, when given) in commit order, oldest first.

    ``ignore`` is a regular expression of lines not counted in ``lines_added``/``lines_removed`` when all lines
    of a change match it (Git's ``-I``): the provenance header, which names a new snapshot in every version.
    """
    options = ["--no-abbrev", "--no-renames", "--no-color", "--raw", "--numstat", _FORMAT]
    options += [f"-I{ignore}"] if ignore else []
    wanted = set(paths)
    # Git matches every pathspec against every changed path of every commit: with 5,000 documents named, one
    # export spent minutes there (benchmarks/export.py, 2026-11-27). Past a few, ask for all and filter here.
    pathspec = sorted(wanted) if len(wanted) <= PATHSPEC_LIMIT else []
    commits = store.first_parent_commits(pathspec)
    # One ``git log`` over the whole history holds every commit it has walked: 310 MB at 100,000 versions
    # (benchmarks/export.py, 2026-11-27). A batch of commits at a time keeps Git's memory flat.
    for start in range(0, len(commits), LOG_BATCH):
        for version in _parse(store.log_lines(options, commits[start : start + LOG_BATCH], pathspec)):
            if not wanted or version.path in wanted:
                yield version


def _parse(lines: Iterable[str]) -> Iterator[VersionCommit]:
    pending: _Pending | None = None
    for line in lines:
        if line.startswith(_COMMIT_START):
            if pending is not None:
                yield from pending.versions()
            commit, _, stamp = line[1:].partition(" ")
            pending = _Pending(commit, datetime.fromtimestamp(int(stamp), UTC))
        elif pending is not None:
            pending.feed(line)
    if pending is not None:
        yield from pending.versions()


class _Pending:
    """The lines of one commit as ``git log`` gives them: message, then ``--raw`` rows, then ``--numstat`` rows."""

    def __init__(self, commit: str, committed_at: datetime) -> None:
        self.commit = commit
        self.committed_at = committed_at
        self.message: list[str] = []
        self.in_message = True
        self.blobs: dict[str, tuple[str, bool]] = {}  # path -> (blob, added)
        self.counts: dict[str, tuple[int, int]] = {}

    def feed(self, line: str) -> None:
        if self.in_message:
            if line.endswith(_MESSAGE_END):
                self.in_message = False
                line = line[: -len(_MESSAGE_END)]
            self.message.append(line)
        elif line.startswith(":"):
            # ":000000 100644 <old blob> <new blob> A\tpath"
            fields, _, path = line.partition("\t")
            parts = fields.split()
            if parts[4] != "D":
                self.blobs[path] = (parts[3], parts[4] == "A")
        elif line:
            added, removed, path = line.split("\t", 2)
            if added != "-":  # "-" for binary files: a version file is always text
                self.counts[path] = (int(added), int(removed))

    def versions(self) -> Iterator[VersionCommit]:
        subject, trailers = parse_message("\n".join(self.message))
        for path, (blob, added) in self.blobs.items():
            lines_added, lines_removed = self.counts.get(path, (0, 0))
            yield VersionCommit(
                self.commit, self.committed_at, path, blob, added, lines_added, lines_removed, subject, trailers
            )
