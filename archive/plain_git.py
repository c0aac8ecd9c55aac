"""A Git repository written for another tool (``export --format ota``): plain ``git`` through subprocess.

Our own versions repository is behind ``archive.versions`` (the only GitPython user, with its ledger and
rebuilds). An export repository is simpler: commits are only ever appended, one file each, in date order,
through one ``git fast-import`` stream (DESIGN.md: ~2,700 commits/s against ~70/s through an index).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.git_environment import OWN_SESSION, forget_outside_repository
from policy_archive.archive.ledger import BRANCH, BRANCH_REF, IDENTITY, git_blob_id
from policy_archive.errors import DISK_FULL, OutputStateError, disk_full


class ExportRepositoryError(OutputStateError):
    """The export repository cannot be used or written: ``reason`` says what failed and what to do, in words (Git's
    own line only where no words of ours fit); exit 2 when refused before anything was written, else 1."""


# Files of Git's that another git process holds while it changes the repository (git 2.39, 2026-11): while one
# exists, a git writing there fails ("Unable to create '.../index.lock': File exists").
LOCKS = ("index.lock", "HEAD.lock", "packed-refs.lock", "config.lock", f"{BRANCH_REF}.lock")
# Git's words when another process holds one of them, and when the directory is no repository it can read.
_LOCKED_WORDS = (".lock': File exists", "Another git process seems to be running")
_NOT_A_REPOSITORY_WORDS = ("not a git repository",)
# Git's words for a write that failed, which do not always say why.
_WRITE_WORDS = ("unable to write", "couldn't write", "write error", "failed to write", "short write")
HISTORY_BATCH = 1000  # commits of the export read by one ``git log`` (its memory grows with the commits it holds)
LITTLE_ROOM = 1024 * 1024  # under this much free, a failed write is the full disk's (a git export writes more)
_READ_ONLY_WORDS = ("Read-only file system", "Permission denied", "Operation not permitted")


@dataclass(frozen=True)
class GitFailure:
    """A git command that failed: which, and its stderr."""

    command: str
    stderr: str

    def line(self) -> str:
        """The line saying why: git fast-import ends with where it dumped its crash report, after its fatal line."""
        lines = [line.strip() for line in self.stderr.strip().splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        return (fatal or lines or ["no message"])[0]


class _GitFailed(Exception):
    """Inside this module only: a git command failed (turned into an :class:`ExportRepositoryError` by the caller,
    which knows what it was doing and whether anything was left to put back)."""

    def __init__(self, failure: GitFailure, disk_full_now: bool) -> None:
        super().__init__(failure.line())
        self.failure = failure
        self.disk_full_now = disk_full_now


def _free_bytes(directory: Path) -> int | None:
    folder = directory
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def _git(directory: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    # In a session of its own (archive.git_environment): a Ctrl-C at the terminal does not stop git mid-write.
    result = subprocess.run(
        ["git", "-C", str(directory), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env,
        **OWN_SESSION,
    )
    if result.returncode != 0:
        raise _failed_git(directory, args, result.stderr)
    return result.stdout.decode("utf-8")


def _failed_git(directory: Path, args: Sequence[str], stderr: bytes) -> _GitFailed:
    """The failure of ``git ARGS`` in ``directory``, which wrote ``stderr``."""
    # Git does not always say the disk is full ("error: unable to write file X", "fatal: unable to write new
    # index file", "cannot update ref ...: couldn't write '.../main.lock'"): a write it failed with the
    # filesystem (nearly) out of room is taken as one. Measured on a tmpfs filled up (git 2.39, 2026-11-28):
    # such failures left 0 bytes free, or a few pages once git had removed its temporary files on its way
    # out. Read now, before anything is put back and frees room again.
    command = next((arg for arg in args if not arg.startswith("-") and "=" not in arg), args[0])
    failure = GitFailure(command, stderr.decode("utf-8", "replace"))
    free = _free_bytes(directory)
    writing = any(words in failure.stderr for words in _WRITE_WORDS)
    return _GitFailed(failure, free is not None and (free == 0 or (writing and free < LITTLE_ROOM)))


# fast-import moves the branch only once every object is written and the stream says ``done`` (``--done``): stopped
# before (a full disk, a stop signal, the stream ended early), the branch is as it was.
# One pack, never loose objects (below ``fastimport.unpackLimit``, 100, fast-import unpacks its pack: stopped
# there, it leaves loose objects and ``tmp_obj_*`` files): what a failure leaves is then fast-import's own new
# files only, removed by ``ExportRepository._put_back``.
_FAST_IMPORT = ("-c", "fastimport.unpackLimit=0", "fast-import", "--quiet", "--done")


class _FastImport:
    """One ``git fast-import`` fed as the commits come (one commit's bytes in memory at a time, not the stream);
    its stderr kept in a file (a pipe nobody reads while the stream is written could fill and stall it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stderr = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                ["git", "-C", str(directory), *_FAST_IMPORT],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                **OWN_SESSION,  # a Ctrl-C at the terminal does not stop it mid-write (archive.git_environment)
            )
        except BaseException:
            self._stderr.close()
            raise

    def feed(self, data: bytes) -> None:
        """Send ``data``; fast-import ended (it failed: a full disk): :class:`_GitFailed`."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(data)
        except BrokenPipeError:
            raise self._failure() from None

    def finish(self) -> None:
        """End the stream (``done``) and wait until fast-import has written it and moved the branch."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(b"done\n")
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # it ended already: its status says how
        if self._process.wait() != 0:
            raise self._failure()
        self._stderr.close()

    def abandon(self) -> None:
        """End the stream without ``done``: fast-import stops and leaves the branch as it was."""
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        self._process.wait()
        self._stderr.close()

    def _failure(self) -> _GitFailed:
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        self._process.wait()
        self._stderr.seek(0)
        said = self._stderr.read()
        self._stderr.close()
        return _failed_git(self.directory, _FAST_IMPORT, said)


def _explained(directory: Path, failed: _GitFailed, *, put_back: bool) -> ExportRepositoryError:
    """What a user reads for a failed git: what failed and what to do. ``put_back`` says whether the repository
    is as it was before this export (else the line says how to make it so)."""
    failure = failed.failure
    words = failure.stderr
    state = (
        "nothing of this export was kept"
        if put_back
        else f"the repository may be left changed: check it with `git -C {directory} status`"
    )
    if failed.disk_full_now or disk_full(OSError(words)):
        return ExportRepositoryError(directory, f"cannot be written: {DISK_FULL}; {state}", refused=False)
    if any(word in words for word in _LOCKED_WORDS):
        lock = re.search(r"'([^']+\.lock)'", words)
        held = f"{lock.group(1)} exists" if lock else "a lock file of Git's exists"
        return ExportRepositoryError(directory, _busy_reason(held), refused=put_back)
    if any(word in words for word in _READ_ONLY_WORDS):
        return ExportRepositoryError(
            directory, f"cannot be written (read-only or not permitted); {state}", refused=put_back
        )
    if any(word in words for word in _NOT_A_REPOSITORY_WORDS):
        return ExportRepositoryError(directory, _NOT_A_REPOSITORY, refused=put_back)
    return ExportRepositoryError(
        directory, f"Git could not write the export (git {failure.command}: {failure.line()}); {state}", refused=False
    )


def _busy_reason(what: str) -> str:
    return (
        f"the repository is in use by another Git process ({what}): wait for it to finish and export again; if no "
        "Git command is running there, the lock file is a leftover of a stopped one: remove it"
    )


_NOT_A_REPOSITORY = (
    "its .git is not a Git repository (damaged, incomplete or pointing elsewhere): give a new or empty directory, "
    "or one an earlier ota export wrote"
)


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
            _git(self.directory, "init", "-q", "-b", BRANCH)
            _git(self.directory, "config", "core.autocrlf", "false")
        except _GitFailed as failed:
            self._remove_made()
            raise _explained(self.directory, failed, put_back=True) from None
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
            git_dir, top = _git(self.directory, "rev-parse", "--absolute-git-dir", "--show-toplevel").splitlines()
        except (_GitFailed, ValueError):
            git_dir, top = "", ""
        # A .git Git cannot read makes Git look further up: a repository around the directory would be written.
        if not top or not Path(top).samefile(self.directory):
            raise ExportRepositoryError(self.directory, _NOT_A_REPOSITORY, refused=True)
        self._git_dir = Path(git_dir)
        for name in LOCKS:
            if (self._git_dir / name).exists():
                raise ExportRepositoryError(
                    self.directory, _busy_reason(f"{self._git_dir / name} exists"), refused=True
                )
        unborn_elsewhere = self._check_branch()
        try:
            # --no-optional-locks: a status must not write the index of a repository it only looks at.
            listing = _git(
                self.directory, "--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all",
                "--no-renames",
            )  # fmt: skip
        except _GitFailed as failed:
            raise _explained(self.directory, failed, put_back=True) from None
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
                _git(self.directory, "symbolic-ref", "HEAD", BRANCH_REF)
            except _GitFailed as failed:
                raise _explained(self.directory, failed, put_back=True) from None

    def _check_branch(self) -> bool:
        """Refuse a work tree on another branch than ``main`` (or on none): the export writes ``main`` and checks it
        out, which would put ``main``'s files under the other branch's name (its index and files changed, shown as
        changes to that branch). A repository without any commit yet (``git init`` with another default branch) is
        taken: True, its ``HEAD`` is to be pointed at ``main``, nothing else being there."""
        try:
            checked_out = _git(self.directory, "symbolic-ref", "-q", "HEAD").strip()
        except _GitFailed:  # no branch: HEAD detached at a commit
            checked_out = ""
        if checked_out == BRANCH_REF:
            return False
        try:
            if checked_out and not _git(self.directory, "for-each-ref", "--count=1").strip():
                return True
        except _GitFailed as failed:
            raise _explained(self.directory, failed, put_back=True) from None
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
                index_tree = _git(self.directory, "write-tree", env=env).strip()
            trees = _git(self.directory, "log", "--first-parent", "--format=%T", BRANCH_REF).split()
        except (_GitFailed, OSError):
            return False
        return index_tree in trees

    def _failed(self, failed: _GitFailed) -> ExportRepositoryError:
        """A git that failed before anything was written: a repository made by this export is removed."""
        self._remove_made()
        return _explained(self.directory, failed, put_back=True)

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
            commits = _git(self.directory, "rev-list", "--reverse", BRANCH).split()
        except _GitFailed as failed:
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
                raise self._failed(_failed_git(self.directory, args, stderr.read())) from None

    def blob_ids(self) -> dict[str, str]:
        """``path -> blob id`` of every file at the head of ``main``."""
        if self.head() is None:
            return {}
        return {path: blob for path, blob in self._tree(BRANCH_REF).items()}

    def _tree(self, commit: str) -> dict[str, str]:
        """``path -> blob id`` of every file of ``commit``."""
        try:
            listing = _git(self.directory, "ls-tree", "-r", "-z", commit)
        except _GitFailed as failed:
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
        importer: _FastImport | None = None
        try:
            try:
                with reading():
                    for commit in commits:
                        payload = commit.content.encode("utf-8")
                        if current.get(commit.path) == git_blob_id(payload):
                            continue
                        current[commit.path] = git_blob_id(payload)
                        if importer is None:
                            importer = _FastImport(self.directory)
                        importer.feed(self._commit_data(commit, payload, parent if written == 0 else None))
                        written += 1
            except BaseException as error:
                if importer is not None:
                    importer.abandon()
                if not isinstance(error, _GitFailed) and not self._put_back(parent, before, checked_out=False):
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
                _git(self.directory, "read-tree", "--reset", "-u", BRANCH_REF)
        except _GitFailed as failed:
            # A checkout refused for a lock of Git's wrote no file (git takes the index's lock first).
            locked = any(word in failed.failure.stderr for word in _LOCKED_WORDS)
            put_back = self._put_back(parent, before, checked_out=checking_out and not locked)
            raise _explained(self.directory, failed, put_back=put_back) from None
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
                _git(self.directory, "update-ref", *moved_back)
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
                _git(self.directory, "read-tree", "--reset", "-u", BRANCH_REF)
        except (_GitFailed, ExportRepositoryError, OSError):
            return False
        return True
