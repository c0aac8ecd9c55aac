"""Writing a file whole or not at all: a partial file beside it, flushed to disk, then renamed over it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def whole_file(target: Path) -> Iterator[Path]:
    """Yield a path beside ``target`` to write; when the block ends, the file there replaces ``target``; when it
    raises, the file is removed and ``target`` is left as it was.

    A reader of ``target`` sees the old file or the new one whole, never part of it, and a kill leaves the old one
    in place. The new content reaches the disk before the rename (``fsync``): a crash just after cannot leave an
    empty file under the name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        _flush_to_disk(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def write_whole(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` through :func:`whole_file`."""
    with whole_file(target) as partial:
        partial.write_bytes(content)


def _flush_to_disk(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
