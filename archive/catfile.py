"""Many blobs read out of Git through one ``git cat-file --batch``, fed by a thread running ahead of the reader."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

from policy_archive.archive.fastimport import GitProcess
from policy_archive.archive.ledger import REBUILD_ADVICE, MissingObjectsError

BLOB_READ_AHEAD = 256  # blobs asked of cat-file before the reader reads them (bounds memory: ~4 MB of 15 KB texts)
# Git's own caches for a long read: by default up to 96 MB of delta bases and 256 MB+ of mapped pack windows per
# process. Measured 2026-11-27 on the export benchmark's history (100,000 versions, a 136 MB pack): ``git log --raw
# --numstat`` over 1,000 commits peaked at 74 MB with 16m/64m/8m and 42 MB with these, ``cat-file`` over 2,000
# blobs at 75 MB and 45 MB, each about as fast (within the noise of a loaded machine).
BOUNDED_READING = ("core.deltaBaseCacheLimit=16m", "core.packedGitLimit=32m", "core.packedGitWindowSize=4m")
_T = TypeVar("_T")


def read_blobs(
    start: Callable[[list[str]], GitProcess], items: Iterable[_T], blob_of: Callable[[_T], str]
) -> Iterator[tuple[_T, bytes]]:
    """Each of ``items`` with the content of its blob ``blob_of(item)``, in order, in bounded memory; ``start``
    runs ``git cat-file --batch`` in the repository (when the first item is asked for).

    The feeding thread runs ahead of the reader by at most ``BLOB_READ_AHEAD`` items, so reading 100,000 blobs
    costs no round trip each: asking for one blob at a time costs ~4 ms of waiting on a loaded machine, measured
    by benchmarks/export.py on 2026-11-27.
    """
    process = start(["git", *(part for setting in BOUNDED_READING for part in ("-c", setting)), "cat-file", "--batch"])
    stdin, stdout = process.proc.stdin, process.proc.stdout
    assert stdin is not None and stdout is not None
    asked: queue.Queue[tuple[_T] | None] = queue.Queue(maxsize=BLOB_READ_AHEAD)
    stop = threading.Event()
    failure: list[BaseException] = []

    def ask() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                stdin.write(f"{blob_of(item)}\n".encode("ascii"))
                stdin.flush()
                asked.put((item,))
        except BaseException as error:  # re-raised by the reader
            failure.append(error)
        finally:
            asked.put(None)
            if not stop.is_set():
                stdin.close()

    feeder = threading.Thread(target=ask, name="cat-file feeder", daemon=True)
    feeder.start()
    try:
        while (entry := asked.get()) is not None:
            yield entry[0], _read_batch_object(stdout)
        if failure:
            raise failure[0]
    finally:
        stop.set()
        while feeder.is_alive():  # unblock a feeder waiting for room in the queue
            try:
                asked.get_nowait()
            except queue.Empty:
                feeder.join(0.05)
        process.proc.kill()
        process.proc.wait()


def _read_batch_object(stdout: IO[bytes]) -> bytes:
    """One answer of ``git cat-file --batch``: ``<id> <type> <size>``, the content, a newline."""
    header = stdout.readline().decode("ascii").split()
    if len(header) != 3:
        missing = " ".join(header) or "no answer"
        raise MissingObjectsError(f"object not found in the versions repository ({missing}); {REBUILD_ADVICE}")
    data = stdout.read(int(header[2]))
    stdout.read(1)
    return data
