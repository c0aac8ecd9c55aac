"""SIGTERM and SIGINT during a writing command: one handler from the command's start to its end.

``timeout``, systemd, cron's kill and `schedule` send SIGTERM; a terminal sends SIGINT (Ctrl-C). Until 2026-11-28
only the crawl handled them (Scrapy's handlers, chained inside it): a SIGTERM while `backfill` listed its documents
(minutes at the archive's listing rate) or while Scrapy started killed the command outright (exit 143, no
``FAILED`` line, no last line, its ``runs`` row left "did not finish"), and a Ctrl-C there printed click's
``Aborted!``. Now :func:`stop_signals_handled` installs :class:`StopSignal`'s handler around the whole command, and
every phase asks it:

- a first signal is noted (:attr:`StopSignal.received`); the work checks it between its steps (a document, a
  domain) and ends as an interrupted run ends (its ``FAILED … interrupted`` lines, its last line, exit 1, the run
  noted stopped);
- inside :meth:`StopSignal.interrupting` (a wait that may last: a listing, the data directory's lock, a webhook) it
  also raises :class:`Stopped` out of the wait, as KeyboardInterrupt would;
- while a crawl runs (:meth:`StopSignal.crawling`) it is passed to the crawl, which stops gracefully (Scrapy's own
  handlers are not installed: crawler/runner.py);
- a second signal stops a crawl at once (its requests in flight dropped), raises out of a wait as the first does,
  and anywhere else ends the command at once, as the signal's default action (exit 130 or 143; the data is left
  as a kill leaves it, which the next run repairs and resumes).

A signal ignored when the command started stays ignored: a command started in the background by a shell without
job control (``cmd &``, CI) inherits SIGINT ignored, and Ctrl-C at the terminal is not meant for it. Python then
installs no KeyboardInterrupt handler, and neither does this module (Scrapy's handlers, installed before
2026-11-28, took SIGINT over whatever it was).

Signals reach the main thread only: elsewhere the context managers do nothing.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """A stop signal arrived inside :meth:`StopSignal.interrupting`: raised out of whatever the block waits on (a
    read, a connection, a sleep, a lock), as KeyboardInterrupt is, so through any ``except Exception`` (not a
    :class:`~policy_archive.errors.PolicyArchiveError` for that reason)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class StopSignal:
    """Whether a stop signal (SIGTERM, SIGINT) arrived, known at once; what it does now (module docstring)."""

    def __init__(self) -> None:
        self.received = False
        self.signal_name: str | None = None  # the first signal's name: ``SIGTERM``
        self._count = 0
        self._interrupting = 0  # how many interrupting blocks the main thread is in
        self._crawl: Callable[[bool], None] | None = None

    @contextmanager
    def interrupting(self) -> Iterator[None]:
        """A stop signal arriving inside the block raises :class:`Stopped` there (one received before does not:
        the caller asks :attr:`received` first when it must)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._interrupting += 1
        try:
            yield
        finally:
            self._interrupting -= 1

    def raise_if_received(self) -> None:
        """:class:`Stopped` if a stop signal came already (asked inside :meth:`interrupting`, before a wait that
        would otherwise start after it: a signal after the question raises in the wait)."""
        if self.signal_name is not None:
            raise Stopped(self.signal_name)

    @contextmanager
    def crawling(self, stop: Callable[[bool], None]) -> Iterator[None]:
        """While the block runs a crawl, each signal calls ``stop(at_once)`` (from the signal handler: it may only
        schedule work), ``at_once`` False for the first signal, True for a later one."""
        self._crawl = stop
        try:
            yield
        finally:
            self._crawl = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self._count += 1
        first = self._count == 1
        if first:
            self.received = True
            self.signal_name = signal.Signals(signum).name
        if self._crawl is not None:
            self._crawl(not first)
        elif self._interrupting:
            raise Stopped(signal.Signals(signum).name)
        elif not first:
            _end_at_once(signum)


def _end_at_once(signum: int) -> None:
    """The signal's default action, said in one line first (os.write: a signal handler must not use a Python
    stream, which the interrupted code may be writing to)."""
    name = signal.Signals(signum).name
    os.write(2, f"policy-archive: {name} again: ended at once; run again to continue\n".encode())
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


_handling: StopSignal | None = None  # the StopSignal handling this process's stop signals now


def current_stop() -> StopSignal:
    """The StopSignal handling stop signals now (:func:`stop_signals_handled`), or a new one, not handling any."""
    return _handling or StopSignal()


@contextmanager
def stop_signals_handled(stop: StopSignal | None = None) -> Iterator[StopSignal]:
    """SIGTERM and SIGINT handled by ``stop`` (a new one if None) during the block, each unless ignored as the block
    starts; the handlers before it put back after. Inside another such block, that block's StopSignal is used."""
    global _handling
    if _handling is not None or threading.current_thread() is not threading.main_thread():
        yield _handling or stop or StopSignal()
        return
    stop = stop or StopSignal()
    previous: dict[int, Any] = {}
    with _stop_signals_held():
        for signum in STOP_SIGNALS:
            before = signal.getsignal(signum)
            if before not in (signal.SIG_IGN, None):  # None: set outside Python, which cannot be put back
                previous[signum] = signal.signal(signum, stop._handle)
        _handling = stop
    try:
        yield stop
    finally:
        with _stop_signals_held():
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _handling = None


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """The stop signals blocked while the handlers are swapped: one arriving then is handled after the swap, by the
    handlers it leaves, never by a mix."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
