"""Writing an export file whole or not at all (``policy_archive.files``), or into a pipe or device as it comes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policy_archive.errors import ConfigurationError
from policy_archive.files import whole_file


@contextmanager
def replacing(output: Path, *, streams: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``output``; on success it replaces ``output``, on failure it is removed.

    A reader of ``output`` (a spreadsheet, Datasette) never sees a half-written file, and an interrupted export
    leaves the previous one in place. A symbolic link stays a link: the file it points to is replaced. A pipe,
    terminal or device (``--output /dev/stdout``) is written into directly when the format ``streams``, and
    refused otherwise: renaming over it would replace the device node itself (as root, ``/dev/stdout``).
    """
    if output.is_dir():
        raise ConfigurationError(f"--output {output}: is a directory; give a file name")
    if output.exists() and not output.is_file():
        if not streams:
            raise ConfigurationError(f"--output {output}: not a regular file (a pipe or device); give a file name")
        yield output
        return
    with whole_file(output.resolve() if output.is_symlink() else output) as partial:
        yield partial
