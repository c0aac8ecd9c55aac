"""Writing an export file whole or not at all (``policy_archive.files``), or into a pipe or device as it comes; a stop
signal (SIGTERM, Ctrl-C) while it is written ends it with nothing written under its name. The partial files an
export killed outright (SIGKILL, the machine stopped) left beside its output are removed by the next export there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from policy_archive.errors import ConfigurationError, OutputError
from policy_archive.files import left_by_the_dead, standard_stream, whole_file
from policy_archive.pipeline.exports import ExportStopped
from policy_archive.stop_signals import Stopped, current_stop, stop_signals_handled
from policy_archive.text import counted, first_few

# The partial files a removal line names; more are counted (a folder of many killed exports says one short line).
NAMED_PARTIALS = 3


@contextmanager
def replacing(output: Path, *, streams: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``output``; on success it replaces ``output``, on failure it is removed.

    A reader of ``output`` (a spreadsheet, Datasette) never sees a half-written file, and an interrupted export
    leaves the previous one in place. A symbolic link stays a link: the file it points to is replaced. A pipe,
    terminal or device (``--output /dev/stdout``), or the file the standard output already is (``--output
    /dev/stdout > out.jsonl``, ``files.standard_stream``), is written into directly when the format ``streams``, and
    refused otherwise: renaming over a device would replace the device node itself (as root, ``/dev/stdout``), and
    over the shell's file would leave the shell writing to a file no longer named (and undo ``>>``).

    SIGTERM or Ctrl-C while the block writes (one received earlier too) stops it there: the temporary file is
    removed and :class:`~policy_archive.pipeline.exports.ExportStopped` says nothing was written (for a pipe or
    device, that what it received is the export's beginning only). One arriving once the block is done (the file
    flushed to disk and renamed) is noted, not acted on: the export is complete (:func:`complete` says so).
    """
    if output.is_dir():
        raise ConfigurationError(f"--output {output}: is a directory; give a file name")
    with stop_signals_handled() as stop:
        if _written_into(output):
            if not streams:
                raise OutputError(
                    f"--output {output}: not a regular file of its own (a pipe, a device or the standard output): a "
                    "sqlite database is written to a file by name (SQLite seeks in it and writes beside it); give a "
                    "file name"
                )
            try:
                with stop.interrupting():
                    stop.raise_if_received()
                    yield output
            except Stopped as stopped:
                raise ExportStopped(
                    f"export to {output} stopped by {stopped.signal_name} before it was complete: what {output} "
                    "received is the beginning of the export only (its last row may be cut)"
                ) from None
            return
        target = output.resolve() if output.is_symlink() else output
        earlier = target.is_file()
        try:
            with whole_file(target) as partial, stop.interrupting():
                stop.raise_if_received()
                yield partial
        except Stopped as stopped:
            kept = f"the earlier {output} left as it was" if earlier else f"no {output} made"
            raise ExportStopped(
                f"export to {output} stopped by {stopped.signal_name} before it was complete: nothing written ({kept})"
            ) from None


def complete(summary: str) -> str:
    """A complete export's summary line, saying so when a stop signal came once the writing was done (noted by
    :func:`replacing`, not acted on)."""
    stop = current_stop()
    if stop.received:
        summary += f"; stopped by {stop.signal_name} once it was complete: it was written whole"
    return summary


def leftovers_removed(output: Path) -> str | None:
    """Remove the partial files earlier exports to ``output`` left when they were killed outright (a SIGKILL, the
    machine stopped: nothing of theirs ran to remove them), and say so in one line; None when there were none. A
    partial file whose writer still runs (another export to the same file) is left alone, its process told from
    one that was given the dead writer's number by its start time (``policy_archive.files.left_by_the_dead``)."""
    if _written_into(output):  # a pipe, a device, the standard output: no partial file beside it
        return None
    target = output.resolve() if output.is_symlink() else output
    dead = [path for path in left_by_the_dead(target) if _removed(path)]
    if not dead:
        return None
    names = first_few([path.name for path in dead], NAMED_PARTIALS)
    return f"removed {counted(len(dead), 'partial file')} left beside {output} by an export killed earlier: {names}"


def _written_into(output: Path) -> bool:
    """Whether ``output`` is written into as it is rather than replaced: a pipe, terminal or device, or the file
    this process's standard output or error is (``--output /dev/stdout > out.jsonl``; opened for appending by the
    formats that stream, so that ``>>`` adds to the file as the shell was asked to)."""
    return output.exists() and (not output.is_file() or standard_stream(output) is not None)


def _removed(path: Path) -> bool:
    """Remove a dead writer's partial file; False when it cannot be (another user's, in a shared folder): the export
    goes on beside it rather than fail every time over a file that is not its own."""
    try:
        path.unlink(missing_ok=True)  # missing: another export removed it first
    except OSError:
        return False
    return True
