"""One ``git fast-import`` process, fed from a thread: the way every save writes its objects (DESIGN.md, Git at
scale; docs/decisions/0001-git-history-layout.md). Objects only become visible when refs move."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

MARKS_FILE = "policy-archive-marks"  # in the Git directory: the commit ids fast-import gave the marks of a save
STREAM_CHUNK_BYTES = 1024 * 1024
STREAM_QUEUE_CHUNKS = 8


class GitProcess(Protocol):
    """A running ``git`` command as GitPython starts it (``as_process=True``): ``wait`` raises when git fails."""

    proc: subprocess.Popen[bytes]

    def wait(self) -> object:
        """Wait for git to exit; raises (GitPython's ``GitCommandError``) when it failed."""


# git fast-import marks each pack it writes with a ``.keep`` file holding "fast-import" until the refs point into
# it (git's fast-import.c, keep_pack; read 2026-11). Killed in between, the file stays; importing the same
# objects again makes a pack of the same name, and fast-import dies "cannot create keep file: File exists".
FAST_IMPORT_KEEP = b"fast-import"


def remove_stale_keeps(git_dir: Path) -> None:
    """Remove the ``.keep`` files an interrupted fast-import left (call with the data directory's lock held: no
    other fast-import is running). Any other ``.keep`` (made by hand, or by another tool) stays."""
    for keep in (git_dir / "objects" / "pack").glob("pack-*.keep"):
        with contextlib.suppress(OSError):
            if keep.read_bytes().strip() == FAST_IMPORT_KEEP:
                keep.unlink()


class FastImport:
    """One ``git fast-import`` process, started by ``start`` (the versions store's Git, so its environment).

    A thread does the pipe writes (they release the GIL), so preparing the next versions overlaps with
    fast-import compressing the previous ones: on two cores this is most of the difference.
    """

    def __init__(self, start: Callable[[list[str]], GitProcess], marks: Path) -> None:
        self._marks = marks
        # --done: if we die mid-stream, fast-import fails instead of committing a truncated stream.
        self._process = start(["git", "fast-import", "--quiet", "--done", "--force", f"--export-marks={marks}"])
        stdin = self._process.proc.stdin
        assert stdin is not None
        self._stdin: IO[bytes] = stdin
        self._buffer = bytearray()
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=STREAM_QUEUE_CHUNKS)
        self._failure: BaseException | None = None
        self._writer = threading.Thread(target=self._pump, name="fast-import writer", daemon=True)
        self._writer.start()

    def _pump(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is not None:
                continue  # keep draining so the producer never blocks on a dead stream
            try:
                self._stdin.write(chunk)
            except BaseException as failure:  # re-raised in finish()
                self._failure = failure

    def write(self, text: str) -> None:
        """Queue ``text`` (a fast-import command line or more, newline included by the caller) as UTF-8."""
        self._append(text.encode("utf-8"))

    def data(self, payload: bytes) -> None:
        """Queue a ``data`` command holding ``payload`` exactly (counted length, so any bytes may follow)."""
        self._append(b"data %d\n" % len(payload))
        self._append(payload)
        self._append(b"\n")

    def blob(self, payload: bytes) -> None:
        """Queue an unmarked blob of ``payload``: fast-import stores it and names it by its object id
        (:func:`~policy_archive.archive.ledger.git_blob_id`), which commits then refer to."""
        self._append(b"blob\n")
        self.data(payload)

    def _append(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= STREAM_CHUNK_BYTES:
            self._chunks.put(bytes(self._buffer))
            self._buffer.clear()

    def finish(self) -> dict[int, str]:
        """End the stream, wait for fast-import and return its marks (mark number -> object id)."""
        self._append(b"done\n")
        self._chunks.put(bytes(self._buffer))
        self._chunks.put(None)
        self._writer.join()
        if self._failure is not None:
            raise self._failure
        self._stdin.close()
        self._process.wait()
        marks: dict[int, str] = {}
        for line in self._marks.read_text().splitlines():
            mark, object_id = line.split()
            marks[int(mark[1:])] = object_id
        return marks

    def abort(self) -> None:
        """Kill fast-import without ``done`` (so it commits nothing of the stream) and stop the writer thread; refs
        are left as they were."""
        self._process.proc.kill()
        if self._writer.is_alive():
            self._chunks.put(None)
            self._writer.join()
        self._process.proc.wait()
