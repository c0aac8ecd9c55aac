"""One writer at a time on a data directory: ``DATA_DIR/.lock`` held with ``fcntl.flock``; and one ``schedule`` at a
time on it: ``DATA_DIR/.schedule.lock``, held the same way for the scheduler's whole life.

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
from policy_archive.files import process_start
from policy_archive.stop_signals import current_stop

LOCK_FILE = ".lock"
# Not the writers' lock: a scheduler holds it between its runs too, and each run (a `track` of its own) takes .lock.
SCHEDULE_LOCK_FILE = ".schedule.lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds a data directory's lock, as written in the lock file: the holder's pid (None when the note is empty
    or mid-write), command and, where Linux's /proc gives it, when its process started (None in a note written
    without it)."""

    pid: int | None
    command: str
    started: str | None = None

    def describe(self) -> str:
        """``1234 running backfill``: the holder as messages name it."""
        return f"{self.pid if self.pid is not None else 'an unknown process'} running {self.command or 'a command'}"


class LockBusy(StateError):
    """Another process holds the data directory lock (raised with ``wait=False``, `--no-wait`).

    Exit status 2, not 1: no document failed (1 names each one that did); the command did not start and wrote
    nothing, as for a data directory that cannot be used (a script may simply run it again later)."""

    exit_status = EXIT_USAGE

    def __init__(self, directory: Path, holder: LockHolder) -> None:
        super().__init__(self.explained(directory, holder))
        self.directory = directory
        self.holder = holder

    @staticmethod
    def explained(directory: Path, holder: LockHolder) -> str:
        """The one line a user reads: who holds ``directory`` and what to do."""
        return (
            f"{directory} is in use by {holder.describe()}: nothing done (--no-wait; run again later, or without "
            "--no-wait to wait for it)"
        )


class ScheduleBusy(LockBusy):
    """Another ``schedule`` runs on the data directory: a second one would run every ``track`` again, each site
    fetched twice per tick (the data directory lock only makes the two runs take turns; audit 2026-11-28). Exit
    status 2, as for ``--no-wait``: the command did not start."""

    @staticmethod
    def explained(directory: Path, holder: LockHolder) -> str:
        """The one line a user reads: which scheduler runs on ``directory``."""
        return f"{directory} is already scheduled by {holder.describe()}: not started (one schedule per data directory)"


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class DataDirectoryLock:
    """Context manager: ``with DataDirectoryLock(data_dir, command="backfill"): ...``.

    ``wait=True`` blocks until the holder finishes, after reporting once whom it waits for; ``wait=False`` raises
    ``LockBusy`` at once.
    """

    file_name = LOCK_FILE
    busy: type[LockBusy] = LockBusy

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
        """The lock file, ``DATA_DIR/.lock`` (a subclass's own: ``DATA_DIR/.schedule.lock``)."""
        return self.directory / self.file_name

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
        started = process_start(os.getpid())
        lock_file.write(f"{os.getpid()}\n{self.command}\n" + (f"{started}\n" if started else ""))
        lock_file.flush()
        self._file = lock_file

    def _take(self, lock_file: IO[str]) -> None:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = self.holder()
        if not self.wait:
            raise self.busy(self.directory, holder)
        # A stop signal ends the wait (it may last as long as the holder's run): the command has not started.
        self.report(f"waiting for {holder.describe()} ...")
        stop = current_stop()
        with stop.interrupting():
            stop.raise_if_received()
            fcntl.flock(lock_file, fcntl.LOCK_EX)

    def holder(self) -> LockHolder:
        """Who holds the lock, as the holder wrote it (it may be mid-write: then pid is unknown)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        pid = int(lines[0]) if lines and lines[0].isdigit() else None
        return LockHolder(pid, lines[1] if len(lines) > 1 else "", lines[2] if len(lines) > 2 else None)

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


def running_writer(directory: Path) -> LockHolder | None:
    """The writer noted in ``directory``'s lock file while its process still exists, read without taking the lock
    (`status` reads beside a running writer; even a moment's hold would turn a `--no-wait` writer away); None when
    none is noted (the lock released) or the process noted is gone: a writer killed with -9 leaves its note, though
    the kernel released its lock. A process number reused since by another program is told apart by its start time
    where /proc gives it (Linux); elsewhere, or in a note written without it, it reads as running."""
    try:
        holder = DataDirectoryLock(directory, "").holder()
    except OSError:  # an unreadable lock file: nothing known of a writer
        return None
    if holder.pid is None:
        return None
    try:
        os.kill(holder.pid, 0)  # signal 0: only whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:  # it exists, run by another user
        return holder
    started = process_start(holder.pid)
    if holder.started is not None and started is not None and started != holder.started:
        return None  # the number was given to another process since the writer died
    return holder


class ScheduleLock(DataDirectoryLock):
    """``with ScheduleLock(data_dir): ...`` for a ``schedule``'s whole life: a second one fails at once with
    :class:`ScheduleBusy` naming the first one's PID. Released on any exit, a kill -9 included (flock); the file
    descriptor is not inherited by the runs it starts (Python opens files non-inheritable), so a run outliving its
    scheduler does not hold it."""

    file_name = SCHEDULE_LOCK_FILE
    busy = ScheduleBusy

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "schedule", wait=False)
