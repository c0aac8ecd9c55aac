"""Writing a file whole or not at all: a partial file beside it, flushed to disk, then renamed over it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policy_archive.errors import disk_full


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


def unwritable(path: Path, *, directory: bool) -> str | None:
    """Why a file (or, ``directory``, a folder) cannot be written at ``path`` as given, told before any work is
    done, or None: an existing thing of the other kind, a file where a folder must be made, a folder this process
    may not write in. ``access`` does not tell everything (``/proc`` lets root pass and then refuses ``mkdir``): the
    folders still missing are made and a file is made in the last one, then all of it removed again. The writing
    can still fail later (a full disk): ``writing_at`` names the path then. A full disk found here is raised as
    the ``OSError`` it is, naming ``path``: not a path that cannot be written, a machine that cannot write now."""
    if path.is_dir() and not directory:
        return "is a directory; give a file name"
    if path.exists() and not path.is_dir() and directory:
        return "is a file, not a directory"
    if path.exists() and not path.is_file() and not path.is_dir():  # a pipe or device: written into as it is
        return None if os.access(path, os.W_OK) else "cannot be written (not permitted)"
    written = path.resolve() if path.is_symlink() else path.absolute()  # a link's file is replaced, not the link
    deepest = written if directory else written.parent  # where the files go
    missing = []
    folder = deepest
    while not folder.exists() and folder != folder.parent:
        missing.insert(0, folder)
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in {folder} (read-only or not permitted)"
    made: list[Path] = []
    step = ""
    try:
        for folder in missing:
            step = f"cannot make the directory {folder}"
            folder.mkdir()
            made.append(folder)
        step = f"cannot write in {deepest}"
        handle, probe = tempfile.mkstemp(dir=deepest, prefix=".policy-archive-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        if disk_full(error):  # the machine's failure, not the path's: exit 1 (``writing_output`` says it)
            raise OSError(error.errno, error.strerror, str(path)) from error
        return f"{step}: {error.strerror or error}"
    finally:
        for folder in reversed(made):
            folder.rmdir()
    return None


def writing_at(error: OSError, path: Path) -> str | None:
    """If ``error`` arose from writing at ``path``, where, in words that name no file of ours: ``""`` for the path
    itself or anything inside it (a folder written into), ``"making FOLDER"`` for a folder on the way to it, ``"a
    new file in FOLDER"`` for the partial file :func:`whole_file` writes beside it. None: not about ``path``."""
    target = path.absolute()
    for name in (error.filename, error.filename2):
        if name is None or isinstance(name, int):
            continue
        named = Path(os.fsdecode(name)).absolute()
        if named == target or target in named.parents:
            return ""
        if named in target.parents:
            return f"making {named}"
        if named.parent == target.parent and named.name.startswith(f".{target.name}.partial-"):
            return f"a new file in {target.parent}"
    return None
