"""``catalog.sqlite3``: every capture seen or fetched, its extraction outcome, and the versions on the branch.

The catalog is what makes runs resumable (a capture fetched once is never fetched again), what lets `log`,
`show --at` and `diff` answer without walking Git, and what `status` reports from. :class:`Catalog` is one
connection to it, its reads and writes a module per table: ``captures`` written (``capture_writes``) and read
(``capture_reads``), ``versions``, ``unverified_spans`` (``spans``), ``documents`` and ``runs`` (``runs``). Its
tables, their additive migrations and its opening: ``schema``; the records read back: ``rows``.
"""

from __future__ import annotations

from pathlib import Path

from policy_archive.archive.catalog.capture_reads import CaptureReads
from policy_archive.archive.catalog.capture_writes import CaptureWrites
from policy_archive.archive.catalog.runs import RunTable
from policy_archive.archive.catalog.schema import connect
from policy_archive.archive.catalog.spans import SpanTable
from policy_archive.archive.catalog.versions import VersionTable


class Catalog(CaptureWrites, CaptureReads, VersionTable, SpanTable, RunTable):
    """One connection to ``catalog.sqlite3``, with the reads and writes of every table (one mixin per table, the modules
    listed above)."""

    def __init__(self, path: Path, *, read_only: bool = False):
        """Open (or create) the catalog. ``read_only`` never writes, not even the schema, so that `log`, `show`,
        `diff` and `status` work on a read-only data directory."""
        self.path = path
        self.connection = connect(path, read_only=read_only)

    def close(self) -> None:
        """Close the connection; the catalog is unusable afterwards."""
        self.connection.close()
