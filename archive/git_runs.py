"""Plain ``git`` run for the export repository (``archive.plain_git``): one command, or one ``git fast-import``
stream fed as the commits come, and a failure read from Git's words and told as an ``ExportRepositoryError``
(a full disk, another Git process's lock, a read-only directory, no repository)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policy_archive.archive.git_environment import OWN_SESSION
from policy_archive.archive.ledger import BRANCH_REF
from policy_archive.errors import DISK_FULL, OutputStateError, disk_full


class ExportRepositoryError(OutputStateError):
    """The export repository cannot be used or written: ``reason`` says what failed and what to do, in words (Git's
    own line only where no words of ours fit); exit 2 when refused before anything was written, else 1."""


# Files of Git's that another git process holds while it changes the repository (git 2.39, 2026-11): while one
# exists, a git writing there fails ("Unable to create '.../index.lock': File exists").
LOCKS = ("index.lock", "HEAD.lock", "packed-refs.lock", "config.lock", f"{BRANCH_REF}.lock")
# Git's words when another process holds one of them, and when the directory is no repository it can read.
LOCKED_WORDS = (".lock': File exists", "Another git process seems to be running")
_NOT_A_REPOSITORY_WORDS = ("not a git repository",)
# Git's words for a write that failed, which do not always say why.
_WRITE_WORDS = ("unable to write", "couldn't write", "write error", "failed to write", "short write")
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


class GitFailed(Exception):
    """Inside the export's writing only: a git command failed (turned into an :class:`ExportRepositoryError` by
    the caller, which knows what it was doing and whether anything was left to put back)."""

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


def git(directory: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    """``git ARGS`` run in ``directory``: its stdout; failed, :class:`GitFailed`."""
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
        raise failed_git(directory, args, result.stderr)
    return result.stdout.decode("utf-8")


def failed_git(directory: Path, args: Sequence[str], stderr: bytes) -> GitFailed:
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
    return GitFailed(failure, free is not None and (free == 0 or (writing and free < LITTLE_ROOM)))


# fast-import moves the branch only once every object is written and the stream says ``done`` (``--done``): stopped
# before (a full disk, a stop signal, the stream ended early), the branch is as it was.
# One pack, never loose objects (below ``fastimport.unpackLimit``, 100, fast-import unpacks its pack: stopped
# there, it leaves loose objects and ``tmp_obj_*`` files): what a failure leaves is then fast-import's own new
# files only, removed by ``ExportRepository._put_back``.
_FAST_IMPORT = ("-c", "fastimport.unpackLimit=0", "fast-import", "--quiet", "--done")


class FastImport:
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
        """Send ``data``; fast-import ended (it failed: a full disk): :class:`GitFailed`."""
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

    def _failure(self) -> GitFailed:
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        self._process.wait()
        self._stderr.seek(0)
        said = self._stderr.read()
        self._stderr.close()
        return failed_git(self.directory, _FAST_IMPORT, said)


def explained(directory: Path, failed: GitFailed, *, put_back: bool) -> ExportRepositoryError:
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
    if any(word in words for word in LOCKED_WORDS):
        lock = re.search(r"'([^']+\.lock)'", words)
        held = f"{lock.group(1)} exists" if lock else "a lock file of Git's exists"
        return ExportRepositoryError(directory, busy_reason(held), refused=put_back)
    if any(word in words for word in _READ_ONLY_WORDS):
        return ExportRepositoryError(
            directory, f"cannot be written (read-only or not permitted); {state}", refused=put_back
        )
    if any(word in words for word in _NOT_A_REPOSITORY_WORDS):
        return ExportRepositoryError(directory, NOT_A_REPOSITORY, refused=put_back)
    return ExportRepositoryError(
        directory, f"Git could not write the export (git {failure.command}: {failure.line()}); {state}", refused=False
    )


def busy_reason(what: str) -> str:
    """The reason given when another Git process holds the repository (``what``: the lock that says so)."""
    return (
        f"the repository is in use by another Git process ({what}): wait for it to finish and export again; if no "
        "Git command is running there, the lock file is a leftover of a stopped one: remove it"
    )


NOT_A_REPOSITORY = (
    "its .git is not a Git repository (damaged, incomplete or pointing elsewhere): give a new or empty directory, "
    "or one an earlier ota export wrote"
)
