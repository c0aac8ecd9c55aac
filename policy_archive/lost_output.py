"""Output nobody reads any more: a writing command finishes its work and its bookkeeping, its output discarded.

`schedule` reads its run's stdout and stderr through pipes. A scheduler that dies while its `track` runs (killed by
SIGKILL or the OOM killer; before 2026-11-29 by SIGHUP too, when its ssh session closed) leaves the run writing into
pipes without a reader: Python ignores SIGPIPE, so each write raised BrokenPipeError. The run's next progress line
raised out of the work after it had committed its version and before the catalog noted the run's end, so `status`
said "did not finish; … run `policy-archive repair`" of a run whose commit was in Git (outside audit 5,
2026-11-29). A terminal closed under a command fails its writes likewise, with EIO.

:func:`lost_output_discarded` wraps ``sys.stdout`` and ``sys.stderr`` for the command's whole run: the first write or
flush that fails so puts ``/dev/null`` under that file descriptor (``dup2``), so that the stream's buffered text, the
streams made before (a logging handler's) and the processes the command starts (git, the browser) all write
somewhere from then on, and the write is taken as done. Any other error is raised as before.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

# The reader went away: a pipe's (EPIPE), a terminal's (EIO once it is hung up), a socket's (ECONNRESET).
_READER_GONE = frozenset({errno.EPIPE, errno.EIO, errno.ECONNRESET})


class _Discarding:
    """A text stream whose writes cannot fail for want of a reader (module docstring); everything else is the
    wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.lost = False  # the reader went away: written to /dev/null since

    def write(self, text: str) -> int:
        if self.lost:
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as error:
            self._reader_gone(error)
            return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.lost:
            return
        try:
            self._stream.flush()
        except OSError as error:
            self._reader_gone(error)

    def _reader_gone(self, error: OSError) -> None:
        if error.errno not in _READER_GONE:
            raise error
        self.lost = True
        try:
            descriptor = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError, AttributeError):  # no descriptor (a test's stream): this wrapper's writes dropped
            return
        try:
            os.dup2(null, descriptor)
        finally:
            os.close(null)
        try:  # what the stream still holds goes to /dev/null now, not into a later write's error
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def lost_output_discarded() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as :class:`_Discarding` streams during the block (module docstring), the
    streams before it put back after."""
    before = sys.stdout, sys.stderr
    sys.stdout = _Discarding(sys.stdout)  # type: ignore[assignment]
    sys.stderr = _Discarding(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdout, sys.stderr = before
