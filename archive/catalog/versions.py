"""The catalog's ``versions``: the branch's versions (document, time, commit), and the commit they were read
from (``meta``'s ``versions_head``), so that `log`, `show --at` and `diff` answer without walking Git."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

from policy_archive.archive.catalog.rows import VersionRow, column_time
from policy_archive.records import iso_z


class VersionTable:
    """The ``versions`` table and the ``versions_head`` it was read from, mixed into
    :class:`~policy_archive.archive.catalog.Catalog` (which owns ``connection``)."""

    connection: sqlite3.Connection

    def replace_versions(self, commits: Mapping[tuple[str, datetime], str], head: str | None) -> None:
        """Make the versions table exactly the branch's content (after a rebuild or a crash)."""
        with self.connection:
            self.connection.execute("DELETE FROM versions")
            self.connection.executemany(
                "INSERT INTO versions VALUES (?, ?, ?)",
                [(document, iso_z(at), commit) for (document, at), commit in commits.items()],
            )
            self._set_meta("versions_head", head or "")

    def add_versions(self, commits: Mapping[tuple[str, datetime], str], head: str | None) -> None:
        """Add (or replace) the versions a commit just made, and record ``head`` as the commit the table now matches."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO versions VALUES (?, ?, ?)",
                [(document, iso_z(at), commit) for (document, at), commit in commits.items()],
            )
            self._set_meta("versions_head", head or "")

    def latest_version_time(self) -> datetime | None:
        """The date of the newest version of any document (UTC), or None when there is none."""
        row = self.connection.execute("SELECT MAX(captured_at) AS at FROM versions").fetchone()
        return column_time(row["at"])

    def versions_head(self) -> str | None:
        """The commit the versions table was last made to match, or None when it never was (or matched an empty
        branch)."""
        row = self.connection.execute("SELECT value FROM meta WHERE key = 'versions_head'").fetchone()
        return row["value"] if row and row["value"] else None

    def versions(self, document: str) -> list[VersionRow]:
        """The versions of ``document`` in time order, from the catalog (no Git read)."""
        rows = self.connection.execute("SELECT * FROM versions WHERE document = ? ORDER BY captured_at", (document,))
        return [VersionRow(r["document"], column_time(r["captured_at"]), r["commit_id"]) for r in rows]  # type: ignore[arg-type]

    def version_counts(self) -> dict[str, int]:
        """Versions per document (what `repair` rebuilt)."""
        rows = self.connection.execute("SELECT document, COUNT(*) AS n FROM versions GROUP BY document")
        return {r["document"]: r["n"] for r in rows}

    def _set_meta(self, key: str, value: str) -> None:
        self.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
