"""One family of errors: everything policy-archive expects to go wrong derives from :class:`PolicyArchiveError`.

The command line turns any of them into one line on stderr and the contract's exit status (``exit_status``):
2 for a usage or configuration problem (nothing was written), 1 for a failure of the work itself. Anything
else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno

EXIT_FAILURES = 1
EXIT_USAGE = 2


class PolicyArchiveError(Exception):
    """Base of every expected failure; ``str(error)`` is the one line a user reads."""

    exit_status = EXIT_FAILURES


class DocumentError(PolicyArchiveError):
    """One document named on the command line could not be given as asked (``show --at`` a day before its
    first version): the command line prints ``FAILED SERVICE/DOC: reason``, as a run names each failed document
    (its record in a run's report: :class:`policy_archive.pipeline.jobs.report.DocumentFailure`)."""

    def __init__(self, document: str, reason: str) -> None:
        super().__init__(f"{document}: {reason}")
        self.document = document
        self.reason = reason


class ConfigurationError(PolicyArchiveError):
    """The configuration or the command line cannot be used as given; nothing has been written."""

    exit_status = EXIT_USAGE


class OutputError(ConfigurationError):
    """A path given to write to (``--output``, ``init DIR``) cannot take what the command writes: said in one line
    naming the path as given and why, exit 2 (nothing of the command's output was written, or only what a rerun
    replaces)."""


class OutputFailure(PolicyArchiveError):
    """Writing a path given to write to failed for a reason of the machine, not of the command line — the disk
    filled up: said in one line naming the path as given and why, exit 1 (a run that failed, as a full disk is for
    the data directory); nothing of the output is left that a rerun would take as complete."""


class OutputStateError(PolicyArchiveError):
    """What a path given to write to holds refuses the command's output, or writing it failed (an ``export --format
    ota`` repository that is locked, has uncommitted changes, or Git could not write): ``reason`` says why and what
    to do without naming the path, which the command line names as given (``--output DIR: reason``); exit 2 when
    it was refused before anything was written, 1 when the writing itself failed."""

    def __init__(self, path: object, reason: str, *, refused: bool) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason
        self.exit_status = EXIT_USAGE if refused else EXIT_FAILURES


class StateError(PolicyArchiveError):
    """The data directory (versions repository, catalog, WARC files) is in a state the command cannot use."""


class ArchiveError(PolicyArchiveError):
    """A web archive could not give what was asked (listing or capture)."""


# What the operating system, SQLite or Git say when the disk is full or the data directory cannot be written.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
# Git's own words for ENOSPC while it writes an object or pack ("sha1 file '...' write error. Out of diskspace").
_DISK_FULL_WORDS = ("No space left on device", "database or disk is full", "Disk quota exceeded", "Out of diskspace")
_READ_ONLY_WORDS = ("Read-only file system", "attempt to write a readonly database", "Permission denied")


def disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk is full (or a quota reached): an ``OSError``'s number, or the words SQLite
    and Git use."""
    code = error.errno if isinstance(error, OSError) else None
    return code in _DISK_FULL or any(words in str(error) for words in _DISK_FULL_WORDS)


DISK_FULL = "no space left on the device (the disk is full)"


def environment_failure(error: BaseException) -> str | None:
    """The one line to show for an error of the machine rather than of policy-archive — a full disk, a
    read-only or forbidden data directory — or None. Such errors reach us as ``OSError``, as SQLite's
    ``OperationalError`` or as a Git command's stderr, so the message text is checked too."""
    code = error.errno if isinstance(error, OSError) else None
    text = str(error)
    if disk_full(error):
        return f"{DISK_FULL}: {_first_line(text)}"
    if code in _READ_ONLY or any(words in text for words in _READ_ONLY_WORDS):
        return f"cannot write the data directory (read-only or not permitted): {_first_line(text)}"
    return None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
