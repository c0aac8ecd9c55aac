"""Writing a file whole or not at all: a partial file beside it, flushed to disk, then renamed over it; the partial
files a killed writer left, told from a running writer's by its process number and start time."""

from __future__ import annotations

import os
import re
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
    partial = target.with_name(partial_name(target.name))
    partial.unlink(missing_ok=True)
    try:
        yield partial
        _flush_to_disk(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def partial_name(name: str) -> str:
    """The partial file this process writes for a file named ``name``: ``.NAME.partial-PID-START``, START the
    process's start time where /proc gives it (``.NAME.partial-PID`` elsewhere), so that a partial file a killed
    writer left is told apart from a running writer's even once its process number is given to another process
    (:func:`left_by_the_dead`)."""
    started = process_start(os.getpid())
    return f".{name}.partial-{os.getpid()}" + (f"-{started}" if started else "")


def left_by_the_dead(target: Path) -> list[Path]:
    """The partial files beside ``target`` (:func:`whole_file`'s, for ``target``'s name only) whose writer is gone:
    its process no longer exists, or its number belongs to a process started at another time (the number reused),
    as the data directory's lock note tells them (archive/lock.py). A writer that still runs, and one whose start
    time is not known (no /proc, or a name written before 2026-11-29 without it) while a process has its number, are
    left alone: their file may be being written."""
    # With SQLite's journal beside it: an sqlite export killed inside a transaction leaves ``…-journal`` too.
    pattern = re.compile(rf"\.{re.escape(target.name)}\.partial-([0-9]+)(?:-([0-9]+))?(?:-journal|-wal|-shm)?")
    try:
        names = os.listdir(target.parent)
    except OSError:  # no folder (yet), or not readable: nothing to tell
        return []
    dead = []
    for name in sorted(names):
        if (match := pattern.fullmatch(name)) is not None and _gone(int(match[1]), match[2]):
            dead.append(target.parent / name)
    return dead


def _gone(pid: int, started: str | None) -> bool:
    """Whether the writer ``pid``, started at ``started`` (None: not noted), has ended."""
    try:
        os.kill(pid, 0)  # signal 0: only whether the process exists
    except (ProcessLookupError, OverflowError):  # none has that number; no process can have it
        return True
    except PermissionError:  # it exists, run by another user: its start time still tells whether it is the writer
        pass
    now = process_start(pid)
    return started is not None and now is not None and now != started


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (field 22 of Linux's ``/proc/PID/stat``); None where
    there is no /proc (macOS) or no such process. Two processes with one number and different start times are two
    processes: the number was reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # Field 2, the command's name, is in parentheses and may itself hold spaces or ')': field 3 on follow the last ')'.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def write_whole(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` through :func:`whole_file`."""
    with whole_file(target) as partial:
        partial.write_bytes(content)


def _flush_to_disk(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def unwritable(path: Path, *, directory: bool, on_the_way: bool = True) -> str | None:
    """Why a file (or, ``directory``, a folder) cannot be written at ``path`` as given, told before any work is
    done, or None: an existing thing of the other kind, a file where a folder must be made, a folder this process
    may not write in, or (not ``on_the_way``) a missing folder that would hold it: such a command makes the folder
    it is asked for and no folder on the way to it, so that a typo in a path is said, not made a new folder tree.
    ``access`` does not tell everything (``/proc`` lets root pass and then refuses ``mkdir``): the
    folders still missing are made and a file is made in the last one, then all of it removed again. The writing
    can still fail later (a full disk): ``writing_at`` names the path then. A full disk found here is raised as
    the ``OSError`` it is, naming ``path``: not a path that cannot be written, a machine that cannot write now."""
    if not on_the_way and (holder := _holder(path)) is not None:
        return f"the folder {holder} does not exist (no folder is made on the way: make it first)"
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


def _holder(path: Path) -> Path | None:
    """The folder that would hold ``path`` (the file a link names, for a link), spelled as given, when it is
    missing: None when it exists, or is something else (a file: :func:`unwritable` says so)."""
    target = path.resolve() if path.is_symlink() else path
    if target.exists():
        return None
    parent = target.parent
    return None if os.path.lexists(parent) else parent


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


# The descriptors of the standard output and error: what `--output /dev/stdout` (or /dev/stderr) names.
STANDARD_STREAMS = (1, 2)


def standard_stream(path: Path) -> int | None:
    """The descriptor, 1 or 2, when ``path`` names this process's standard output or error through /proc
    (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/1``), whatever file it is: ``--output /dev/stdout > out.jsonl``
    names the file the shell made and gave the process, which is written into as it is, not replaced. None for any
    other path, another descriptor, or a system without /proc (where ``/dev/stdout`` is a device, already written
    into). The link chain is followed one link at a time: resolving it whole would give the shell's file, whose
    name says nothing of how it was reached."""
    own = Path(f"/proc/{os.getpid()}/fd")
    current = path.absolute()
    for _ in range(40):  # the system's own bound on a chain of links
        try:
            if current.name.isdigit() and current.parent.resolve() == own:
                number = int(current.name)
                os.fstat(number)  # open: the name is not left from a descriptor since closed
                return number if number in STANDARD_STREAMS else None
            if not current.is_symlink():
                return None
            current = current.parent / os.readlink(current)
        except (OSError, ValueError):
            return None
    return None
