"""One writer at a time on a data directory: ``DATA_DIR/.lock`` held with ``fcntl.flock``.

flock is released by the kernel when the holder's process dies (even by kill -9), so a crash never leaves the
directory locked. The holder writes its pid and command into the file so that others can say who they wait for.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from policy_archive.errors import EXIT_USAGE, StateError

LOCK_FILE = ".lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds a data directory's lock, as written in the lock file: the holder's pid (None when the note is empty
    or mid-write) and command."""

    pid: int | None
    command: str

    def describe(self) -> str:
        """``1234 running backfill``: the holder as messages name it."""
        return f"{self.pid if self.pid is not None else 'an unknown process'} running {self.command or 'a command'}"


class LockBusy(StateError):
    """Another process holds the data directory lock (raised with ``wait=False``, `--no-wait`).

    Exit status 2, not 1: no document failed (1 names each one that did); the command did not start and wrote
    nothing, as for a data directory that cannot be used (a script may simply run it again later)."""

    exit_status = EXIT_USAGE

    def __init__(self, directory: Path, holder: LockHolder) -> None:
        super().__init__(
            f"{directory} is in use by {holder.describe()}: nothing done (--no-wait; run again later, or without "
            "--no-wait to wait for it)"
        )
        self.directory = directory
        self.holder = holder


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class DataDirectoryLock:
    """Context manager: ``with DataDirectoryLock(data_dir, command="backfill"): ...``.

    ``wait=True`` blocks until the holder finishes, after reporting once whom it waits for; ``wait=False`` raises
    ``LockBusy`` at once.
    """

    def __init__(
        self,
        directory: Path,
        command: str,
        *,
        wait: bool = True,
        report: Callable[[str], None] = _print_to_stderr,
    ) -> None:
        self.directory = directory
        self.command = command
        self.wait = wait
        self.report = report
        self._file: IO[str] | None = None

    @property
    def path(self) -> Path:
        """The lock file, ``DATA_DIR/.lock``."""
        return self.directory / LOCK_FILE

    def acquire(self) -> None:
        """Take the lock (creating the directory and the file if needed) and write our pid and command into it; with
        ``wait=False`` raises :class:`LockBusy` when another process holds it, else waits."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # "a+" neither truncates the holder's note nor fails when the file is missing.
        lock_file = open(self.path, "a+", encoding="utf-8")  # held open until release()
        try:
            self._take(lock_file)
        except BaseException:
            lock_file.close()
            raise
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"{os.getpid()}\n{self.command}\n")
        lock_file.flush()
        self._file = lock_file

    def _take(self, lock_file: IO[str]) -> None:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = self.holder()
        if not self.wait:
            raise LockBusy(self.directory, holder)
        self.report(f"waiting for {holder.describe()} ...")
        fcntl.flock(lock_file, fcntl.LOCK_EX)

    def holder(self) -> LockHolder:
        """Who holds the lock, as the holder wrote it (it may be mid-write: then pid is unknown)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        pid = int(lines[0]) if lines and lines[0].isdigit() else None
        return LockHolder(pid, lines[1] if len(lines) > 1 else "")

    def release(self) -> None:
        """Empty the holder's note and let the lock go; does nothing when the lock is not held."""
        if self._file is None:
            return
        # Empty the note before unlocking so nobody reads a finished holder; the file stays (others may have
        # it open and be waiting on it: removing it would let two processes lock two different files).
        self._file.seek(0)
        self._file.truncate()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def __enter__(self) -> DataDirectoryLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
