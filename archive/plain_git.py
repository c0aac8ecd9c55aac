"""A Git repository written for another tool (``export --format ota``): plain ``git`` through subprocess.

Our own versions repository is behind ``archive.versions`` (the only GitPython user, with its ledger and
rebuilds). An export repository is simpler: commits are only ever appended, one file each, in date order,
through one ``git fast-import`` stream (DESIGN.md: ~2,700 commits/s against ~70/s through an index).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.git_environment import forget_outside_repository
from policy_archive.archive.ledger import BRANCH, BRANCH_REF, IDENTITY, git_blob_id
from policy_archive.errors import ConfigurationError, StateError


class ExportRepositoryError(StateError):
    """The export repository cannot be read or written (git failed)."""


@dataclass(frozen=True)
class FileCommit:
    """One commit to append: it writes ``content`` to ``path``, dated ``at`` (author and committer)."""

    path: str
    content: str
    at: datetime
    message: str


@dataclass(frozen=True)
class ExistingCommit:
    """A commit already in the export: the file it wrote and its date."""

    path: str
    at: datetime


def _git(directory: Path, *args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(["git", "-C", str(directory), *args], input=stdin, capture_output=True)
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        # The line saying why: git fast-import ends with where it dumped its crash report, after its fatal line.
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        message = (fatal or lines or ["?"])[0]
        raise ExportRepositoryError(f"{directory}: git {args[0]} failed: {message}")
    return result.stdout.decode("utf-8")


def quote_path(path: str) -> str:
    """A path as fast-import reads it: C-style quoted, so spaces and non-ASCII names are safe (callers keep
    quotes, backslashes and control characters out of paths: ``git log`` would quote those back)."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class ExportRepository:
    """An append-only Git repository on branch ``main`` (created if ``directory`` is missing or empty)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        forget_outside_repository()  # every git below acts on ``directory``, whatever a hook exported
        if directory.exists() and not directory.is_dir():
            raise ConfigurationError(f"--output {directory}: is a file, not a directory")
        if not (directory / ".git").exists():
            if directory.exists() and any(directory.iterdir()):
                raise ConfigurationError(f"--output {directory}: not empty and not a Git repository")
            self._create()

    def _create(self) -> None:
        """``git init`` in the (missing or empty) directory; when that fails (a full disk), what it made is removed:
        a half-made ``.git`` would be taken for the export's repository by the next export."""
        made = [folder for folder in (self.directory, *self.directory.parents) if not folder.exists()]
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            _git(self.directory, "init", "-q", "-b", BRANCH)
            _git(self.directory, "config", "core.autocrlf", "false")
        except BaseException:
            shutil.rmtree(self.directory / ".git", ignore_errors=True)
            for folder in made:  # deepest first
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise

    def head(self) -> str | None:
        """The commit ``main`` points at, or None while the repository has no commit."""
        result = subprocess.run(
            ["git", "-C", str(self.directory), "rev-parse", "--verify", "--quiet", BRANCH_REF],
            capture_output=True,
            text=True,
        )
        return result.stdout.strip() or None

    def history(self) -> list[ExistingCommit]:
        """Every commit of ``main`` (the file it wrote and its author date), oldest first."""
        if self.head() is None:
            return []
        listing = _git(
            self.directory, "-c", "core.quotePath=false", "log", "--reverse", "--format=\x1e%at", "--name-only", BRANCH
        )
        commits = []
        for block in listing.split("\x1e")[1:]:
            stamp, *paths = [line for line in block.splitlines() if line]
            at = datetime.fromtimestamp(int(stamp), UTC)
            commits += [ExistingCommit(path, at) for path in paths]
        return commits

    def blob_ids(self) -> dict[str, str]:
        """``path -> blob id`` of every file at the head of ``main``."""
        if self.head() is None:
            return {}
        listing = _git(self.directory, "ls-tree", "-r", "-z", BRANCH)
        ids = {}
        for entry in filter(None, listing.split("\0")):
            meta, _, path = entry.partition("\t")
            ids[path] = meta.split()[2]
        return ids

    def append(self, commits: Sequence[FileCommit]) -> int:
        """Append ``commits`` (in the order given) to ``main`` and check them out; return how many were written.

        A commit whose content equals the file's current content is not written (it would change nothing).
        """
        current = self.blob_ids()
        stream = bytearray()
        parent = self.head()
        written = 0
        for commit in commits:
            payload = commit.content.encode("utf-8")
            if current.get(commit.path) == git_blob_id(payload):
                continue
            current[commit.path] = git_blob_id(payload)
            message = commit.message.encode("utf-8")
            when = f"{int(commit.at.timestamp())} +0000"
            stream += f"commit {BRANCH_REF}\nauthor {IDENTITY} {when}\ncommitter {IDENTITY} {when}\n".encode()
            stream += b"data %d\n%s\n" % (len(message), message)
            if written == 0 and parent:
                stream += f"from {parent}\n".encode()
            stream += f"M 100644 inline {quote_path(commit.path)}\n".encode()
            stream += b"data %d\n%s\n" % (len(payload), payload)
            written += 1
        if written:
            # fast-import moves the branch only once every object is written: stopped before (a full disk), the
            # branch is as it was, and the next export writes the same commits again.
            _git(self.directory, "fast-import", "--quiet", "--done", stdin=bytes(stream) + b"done\n")
        if parent or written:
            # Checked out also when nothing was new: an export stopped between the two (a full disk during the
            # checkout) left the branch ahead of the files, and the next one finds nothing to append.
            _git(self.directory, "read-tree", "--reset", "-u", BRANCH_REF)
        return written
