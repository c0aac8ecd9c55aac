"""Export formats: one module of this package per format, named after it (``jsonl.py`` is ``--format jsonl``).

A format module defines::

    def export(source: ExportSource, output: Path) -> str     # writes OUTPUT, returns a one-line summary

and reads the versions from ``source.rows()`` (one :class:`~._rows.ExportRow` per version, oldest first,
streamed) or, for formats that need more, from ``source.store`` and ``source.declarations``. Adding a format is
adding one module (and its line in the help of ``export --format``): the command line lists the modules found
here. Modules whose names start with ``_`` are shared helpers, not formats.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from types import ModuleType

from policy_archive.errors import PolicyArchiveError


class VersionsNotExported(PolicyArchiveError):
    """Some documents' versions could not be exported, the others were: ``summary`` says what was written (the
    line a complete export prints), ``failures`` each document left out and why, ``(SERVICE/DOC, reason)``; the
    command line prints the summary, then one ``FAILED SERVICE/DOC: reason`` line each (exit 1)."""

    def __init__(self, summary: str, failures: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join([summary, *(f"{document}: {reason}" for document, reason in failures)]))
        self.summary = summary
        self.failures = tuple(failures)


class ExportStopped(PolicyArchiveError):
    """A stop signal (SIGTERM, Ctrl-C) ended the export before it was complete: the message says what was written
    (nothing, for a file or an OTA repository; the beginning of the export, for a pipe or device), exit 1 as any
    command a first stop signal ends (policy_archive/stop_signals.py)."""


def format_names() -> list[str]:
    """Every format this package provides, found without importing the format modules (they may be heavy)."""
    return sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_"))


def format_module(name: str) -> ModuleType:
    """The module that writes format ``name`` (one of :func:`format_names`)."""
    if name not in format_names():
        raise ValueError(f"no export format {name!r}")
    return importlib.import_module(f"{__name__}.{name}")
