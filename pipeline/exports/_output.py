"""Writing an export file whole or not at all: a partial file next to it, renamed over it when complete."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policy_archive.errors import ConfigurationError


@contextmanager
def replacing(output: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``output``; on success it replaces ``output``, on failure it is removed.

    A reader of ``output`` (a spreadsheet, Datasette) never sees a half-written file, and an interrupted export
    leaves the previous one in place.
    """
    if output.is_dir():
        raise ConfigurationError(f"--output {output}: is a directory; give a file name")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
