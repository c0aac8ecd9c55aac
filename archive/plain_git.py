"""A Git repository written for another tool (``export --format ota``): plain ``git`` through subprocess.

Our own versions repository is behind ``archive.versions`` (with its ledger and rebuilds; its Git commands in
``archive.git_repository``, the only GitPython user). An export repository is simpler: commits are only ever
appended, one file each, in date order, through one ``git fast-import`` stream (DESIGN.md: ~2,700 commits/s
against ~70/s through an index).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.git_environment import OWN_SESSION, forget_outside_repository
from policy_archive.archive.git_runs import (
    LOCKED_WORDS,
    LOCKS,
    NOT_A_REPOSITORY,
    ExportRepositoryError,
    FastImport,
    GitFailed,
    busy_reason,
    explained,
    failed_git,
    git,
)
from policy_archive.archive.ledger import BRANCH, BRANCH_REF, IDENTITY, git_blob_id

HISTORY_BATCH = 1000  # commits of the export read by one ``git log`` (its memory grows with the commits it holds)


def _records(stream: io.TextIOBase, separator: str) -> Iterator[str]:
    """The records of ``stream`` that each start with ``separator`` (what comes before the first is dropped),
    read a chunk at a time."""
    pending = ""
    started = False
    while chunk := stream.read(1 << 16):
        pending += chunk
        *complete, pending = pending.split(separator)
        for record in complete:
            if started:
                yield record
            started = True
    if started:
        yield pending


@dataclass(frozen=True)
class FileCommit:
    """One commit to append: it writes ``content`` to ``path``, dated ``at`` (author and committer)."""

    path: str
    content: str
    at: datetime
    message: str


@dataclass(frozen=True)
class ExistingCommit:
    """A commit already in the export: the file it wrote, its date and its message."""

    path: str
    at: datetime
    message: str = ""


def quote_path(path: str) -> str:
    """A path as fast-import reads it: C-style quoted, so spaces and non-ASCII names are safe (callers keep
    quotes, backslashes and control characters out of paths: ``git log`` would quote those back)."""
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class ExportRepository:
    """An append-only Git repository on branch ``main`` (created if ``directory`` is missing or empty).

    Whatever fails, the repository is left as it was before (one this export made: not at all), and the failure is
    an :class:`ExportRepositoryError` in words: refused before anything is written (not a repository Git can read,
    in use by another git, uncommitted changes: exit 2), or the writing failed (a full disk: exit 1).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made: list[Path] | None = None  # made by this export: its folders, deepest first (None: it existed)
        self._git_dir = directory / ".git"
        forget_outside_repository()  # every git below acts on ``directory``, whatever a hook exported
        if directory.exists() and not directory.is_dir():
            raise ExportRepositoryError(directory, "is a file, not a directory", refused=True)
        if not (directory / ".git").exists():
            if directory.exists() and any(directory.iterdir()):
                raise ExportRepositoryError(
                    directory,
                    "not empty and not a Git repository: give a new or empty directory, or one an earlier ota "
                    "export wrote",
                    refused=True,
                )
            self._create()
        else:
            self._check()

    def _create(self) -> None:
        """``git init`` in the (missing or empty) directory; when that fails (a full disk), what it made is removed:
        a half-made ``.git`` would be taken for the export's repository by the next export."""
        made = [folder for folder in (self.directory, *self.directory.parents) if not folder.exists()]
        self.directory.mkdir(parents=True, exist_ok=True)
        self._made = made
        try:
            git(self.directory, "init", "-q", "-b", BRANCH)
            git(self.directory, "config", "core.autocrlf", "false")
        except GitFailed as failed:
            self._remove_made()
            raise explained(self.directory, failed, put_back=True) from None
        except BaseException:
            self._remove_made()
            raise

    def forget_if_made(self) -> None:
        """Remove the repository when this export made it (the directory was missing or empty), before anything was
        written in it: an export stopped there leaves the directory as it found it."""
        self._remove_made()

    def _remove_made(self) -> None:
        """Remove a repository this export made, and the folders it made on the way (the directory was missing or
        empty: everything in it is this export's)."""
        if self._made is None:
            return
        for entry in list(self.directory.iterdir()) if self.directory.is_dir() else []:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
        for folder in self._made:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()

    def _check(self) -> None:
        """Refuse, before anything is written, a repository Git cannot read, one another git is changing (its lock
        files), one whose work tree is on another branch than ``main``, and one with uncommitted changes: the checkout
        of the export's branch would overwrite them."""
        try:
            git_dir, top = git(self.directory, "rev-parse", "--absolute-git-dir", "--show-toplevel").splitlines()
        except (GitFailed, ValueError):
            git_dir, top = "", ""
        # A .git Git cannot read makes Git look further up: a repository around the directory would be written.
        if not top or not Path(top).samefile(self.directory):
            raise ExportRepositoryError(self.directory, NOT_A_REPOSITORY, refused=True)
        self._git_dir = Path(git_dir)
        for name in LOCKS:
            if (self._git_dir / name).exists():
                raise ExportRepositoryError(self.directory, busy_reason(f"{self._git_dir / name} exists"), refused=True)
        unborn_elsewhere = self._check_branch()
        try:
            # --no-optional-locks: a status must not write the index of a repository it only looks at.
            listing = git(
                self.directory, "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all",
                "--no-renames",
            )  # fmt: skip
        except GitFailed as failed:
            raise explained(self.directory, failed, put_back=True) from None
        entries = [entry for entry in listing.split("\0") if entry]
        if entries and not self._stopped_before_checkout(entries):
            changes = [entry[3:] for entry in entries]
            first = changes[0]
            raise ExportRepositoryError(
                self.directory,
                f"has uncommitted changes ({len(changes)} {'file' if len(changes) == 1 else 'files'}, e.g. {first}): "
                "the export checks its branch out over them; commit them or remove them, then export again",
                refused=True,
            )
        if unborn_elsewhere:  # taken only now: a repository refused is left as it was
            try:
                git(self.directory, "symbolic-ref", "HEAD", BRANCH_REF)
            except GitFailed as failed:
                raise explained(self.directory, failed, put_back=True) from None

    def _check_branch(self) -> bool:
        """Refuse a work tree on another branch than ``main`` (or on none): the export writes ``main`` and checks it
        out, which would put ``main``'s files under the other branch's name (its index and files changed, shown as
        changes to that branch). A repository without any commit yet (``git init`` with another default branch) is
        taken: True, its ``HEAD`` is to be pointed at ``main``, nothing else being there."""
        try:
            checked_out = git(self.directory, "symbolic-ref", "-q", "HEAD").strip()
        except GitFailed:  # no branch: HEAD detached at a commit
            checked_out = ""
        if checked_out == BRANCH_REF:
            return False
        try:
            if checked_out and not git(self.directory, "for-each-ref", "--count=1").strip():
                return True
        except GitFailed as failed:
            raise explained(self.directory, failed, put_back=True) from None
        what = (
            f"has branch {checked_out.removeprefix('refs/heads/')} checked out, not {BRANCH}"
            if checked_out
            else f"has no branch checked out (HEAD detached), not {BRANCH}"
        )
        raise ExportRepositoryError(
            self.directory,
            f"{what}: the export writes {BRANCH} and checks it out over the work tree; check {BRANCH} out (`git "
            f"switch {BRANCH}`) and export again, or give a new or empty directory",
            refused=True,
        )

    def _stopped_before_checkout(self, entries: list[str]) -> bool:
        """Whether the changes ``git status`` lists are those of an export stopped (killed) between its
        fast-import and its checkout: the branch moved, the index and the files still an earlier commit's of it.
        Its checkout is then done by this export, as nothing of anybody's would be overwritten."""
        if any(entry[1] != " " or entry[0] in "?!" for entry in entries):  # a file or an untracked one: a person's
            return False
        try:
            # The index's tree id, from a copy of the index (write-tree stores its cache of trees in the index)
            # with new tree objects (a person's staged change) written elsewhere: a repository refused is left as
            # it was.
            with tempfile.TemporaryDirectory(prefix="policy-archive-index-") as elsewhere:
                index = shutil.copy(self._git_dir / "index", Path(elsewhere) / "index")
                env = {
                    **os.environ,
                    "GIT_INDEX_FILE": str(index),
                    "GIT_OBJECT_DIRECTORY": elsewhere,
                    "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(self._git_dir / "objects"),
                }
                index_tree = git(self.directory, "write-tree", env=env).strip()
            trees = git(self.directory, "log", "--first-parent", "--format=%T", BRANCH_REF).split()
        except (GitFailed, OSError):
            return False
        return index_tree in trees

    def _failed(self, failed: GitFailed) -> ExportRepositoryError:
        """A git that failed before anything was written: a repository made by this export is removed."""
        self._remove_made()
        return explained(self.directory, failed, put_back=True)

    def head(self) -> str | None:
        """The commit ``main`` points at, or None while the repository has no commit."""
        result = subprocess.run(
            ["git", "-C", str(self.directory), "rev-parse", "--verify", "--quiet", BRANCH_REF],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            **OWN_SESSION,
        )
        return result.stdout.strip() or None

    def history(self) -> Iterator[ExistingCommit]:
        """Every commit of ``main`` (the file it wrote, its author date and message), oldest first, read as ``git
        log`` writes it: one commit's message in memory at a time, however long the export's history."""
        if self.head() is None:
            return
        try:
            commits = git(self.directory, "rev-list", "--reverse", BRANCH).split()
        except GitFailed as failed:
            raise self._failed(failed) from None
        # ``git log --reverse`` holds every commit it walked before writing the first: 163 MB at 10,000 commits
        # (benchmarks/export.py, 2026-11-29). Listed first, then a batch of them at a time, as archive.history does.
        for start in range(0, len(commits), HISTORY_BATCH):
            yield from self._history_of(commits[start : start + HISTORY_BATCH])

    def _history_of(self, commits: Sequence[str]) -> Iterator[ExistingCommit]:
        # A record separator before each commit, unit separators around its message, the file names after them
        # (``ota.message`` writes neither separator; split so that a person's message holding a unit separator
        # stays whole).
        args = ("-c", "core.quotePath=false", "log", "--no-walk=unsorted", "--format=\x1e%at\x1f%B\x1f", "--name-only")
        with tempfile.TemporaryFile() as stderr:
            process = subprocess.Popen(
                ["git", "-C", str(self.directory), *args, *commits, "--"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                **OWN_SESSION,
            )
            try:
                assert process.stdout is not None
                records = _records(io.TextIOWrapper(process.stdout, encoding="utf-8", newline=""), "\x1e")
                for block in records:
                    stamp, rest = block.split("\x1f", 1)
                    message, names = rest.rsplit("\x1f", 1)
                    at = datetime.fromtimestamp(int(stamp), UTC)
                    for path in names.splitlines():
                        if path:
                            yield ExistingCommit(path, at, message)
            finally:
                if process.poll() is None and process.stdout is not None:
                    process.stdout.close()  # stopped early: git ends with its pipe
                status = process.wait()
            if status != 0:
                stderr.seek(0)
                raise self._failed(failed_git(self.directory, args, stderr.read())) from None

    def blob_ids(self) -> dict[str, str]:
        """``path -> blob id`` of every file at the head of ``main``."""
        if self.head() is None:
            return {}
        return {path: blob for path, blob in self._tree(BRANCH_REF).items()}

    def _tree(self, commit: str) -> dict[str, str]:
        """``path -> blob id`` of every file of ``commit``."""
        try:
            listing = git(self.directory, "ls-tree", "-r", "-z", commit)
        except GitFailed as failed:
            raise self._failed(failed) from None
        ids = {}
        for entry in filter(None, listing.split("\0")):
            meta, _, path = entry.partition("\t")
            ids[path] = meta.split()[2]
        return ids

    def append(
        self, commits: Iterable[FileCommit], *, reading: Callable[[], AbstractContextManager[object]] = nullcontext
    ) -> int:
        """Append ``commits`` (in the order given) to ``main`` and check them out; return how many were written.

        The commits are taken one at a time and fed to one ``git fast-import`` as they come, so memory holds one
        commit, however many there are; ``reading`` is the context in which they are taken (the export's: a stop
        signal raises there). A commit whose content equals the file's current content is not written (it would
        change nothing). When git fails (a full disk), or taking the commits raises (a stop signal, a read that
        failed), the branch, the index and the files are put back as they were and what git added under ``.git``
        is removed: the next export starts from the same state and writes the same commits.
        """
        current = self.blob_ids()
        parent = self.head()
        before = self._git_files()
        written = 0
        checking_out = False
        importer: FastImport | None = None
        try:
            try:
                with reading():
                    for commit in commits:
                        payload = commit.content.encode("utf-8")
                        if current.get(commit.path) == git_blob_id(payload):
                            continue
                        current[commit.path] = git_blob_id(payload)
                        if importer is None:
                            importer = FastImport(self.directory)
                        importer.feed(self._commit_data(commit, payload, parent if written == 0 else None))
                        written += 1
            except BaseException as error:
                if importer is not None:
                    importer.abandon()
                if not isinstance(error, GitFailed) and not self._put_back(parent, before, checked_out=False):
                    raise ExportRepositoryError(
                        self.directory,
                        "the export stopped while Git wrote it and could not be put back as it was: check it with "
                        f"`git -C {self.directory} status`",
                        refused=False,
                    ) from error
                raise
            if importer is not None:
                importer.finish()
            if parent or written:
                # Checked out also when nothing was new: an export killed between the two left the branch ahead
                # of the files (``_check`` tells that from a person's changes), and the next one completes it.
                checking_out = True
                git(self.directory, "read-tree", "--reset", "-u", BRANCH_REF)
        except GitFailed as failed:
            # A checkout refused for a lock of Git's wrote no file (git takes the index's lock first).
            locked = any(word in failed.failure.stderr for word in LOCKED_WORDS)
            put_back = self._put_back(parent, before, checked_out=checking_out and not locked)
            raise explained(self.directory, failed, put_back=put_back) from None
        return written

    @staticmethod
    def _commit_data(commit: FileCommit, payload: bytes, parent: str | None) -> bytes:
        """One commit as fast-import reads it; ``parent``: the branch's commit before the stream, for its first."""
        message = commit.message.encode("utf-8")
        when = f"{int(commit.at.timestamp())} +0000"
        data = f"commit {BRANCH_REF}\nauthor {IDENTITY} {when}\ncommitter {IDENTITY} {when}\n".encode()
        data += b"data %d\n%s\n" % (len(message), message)
        if parent:
            data += f"from {parent}\n".encode()
        data += f"M 100644 inline {quote_path(commit.path)}\n".encode()
        return data + b"data %d\n%s\n" % (len(payload), payload)

    def _git_files(self) -> set[Path]:
        """The files git may add while it writes (packs, fast-import's crash reports), to tell its new ones."""
        found = ("objects/pack/*", "objects/??/tmp_obj_*", "fast_import_crash_*")
        return {path for pattern in found for path in self._git_dir.glob(pattern)}

    def _put_back(self, parent: str | None, before: set[Path], *, checked_out: bool) -> bool:
        """After a failed ``append``: ``main`` back at ``parent``, git's new packs and crash reports removed (a full
        disk gets its room back first), and when the checkout had begun (``checked_out``) the files it added
        removed and the others written back; a repository this export made is removed whole. Whether that worked
        (a second failure is said, not hidden)."""
        if self._made is not None:
            self._remove_made()
            return not self.directory.exists() or not any(self.directory.iterdir())
        try:
            new = self.head()
            added: set[str] = set()
            if new is not None and new != parent:
                added = set(self._tree(new)) - set(self._tree(parent) if parent else {})
            # The room first: moving the branch back writes a lock file and a reflog line, which a full disk
            # refuses (measured: tests/test_export_ota_errors.py). The branch names the removed commits meanwhile.
            for leftover in self._git_files() - before:
                leftover.unlink(missing_ok=True)
            if new is not None and new != parent:
                moved_back = ["-d", BRANCH_REF, new] if parent is None else [BRANCH_REF, parent, new]
                git(self.directory, "update-ref", *moved_back)
            for path in sorted(added if checked_out else (), key=lambda name: -name.count("/")):
                file = self.directory / path
                file.unlink(missing_ok=True)
                for folder in file.parents:  # folders only the added files were in
                    if folder == self.directory or any(folder.iterdir()):
                        break
                    folder.rmdir()
            if checked_out and parent is not None:
                # The index still says the files are ``parent``'s: every file the failed checkout changed is told
                # by its stat data and written back.
                git(self.directory, "read-tree", "--reset", "-u", BRANCH_REF)
        except (GitFailed, ExportRepositoryError, OSError):
            return False
        return True
