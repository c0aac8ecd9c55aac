"""The catalog's ``versions``: the branch's versions (document, date, commit, the URL and time of their bytes), and
the commit they were read from (``meta``'s ``versions_head``), so that `log`, `show --at` and `diff` answer without
walking Git."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from datetime import datetime

from policy_archive.archive.catalog.rows import VersionOrigin, VersionRow, column_time, version_snapshot_url
from policy_archive.archive.catalog.schema import VERSIONS_UNFILLED_MARKS
from policy_archive.records import iso_z

# An archive's ``id_`` URL (Wayback Machine, pywb): ``{replay_url}/{timestamp}id_/{the site's URL}``.
_ARCHIVED_AT = re.compile(r"/\d{4,14}id_/(?P<original>.+)", re.DOTALL)
# Times asked of SQLite in one query (far below its limit of bound parameters).
_TIMES_PER_QUERY = 500

Key = tuple[str, datetime]  # (document, the version's date: its commit date)


class VersionTable:
    """The ``versions`` table and the ``versions_head`` it was read from, mixed into
    :class:`~policy_archive.archive.catalog.Catalog` (which owns ``connection``)."""

    connection: sqlite3.Connection

    def replace_versions(
        self, commits: Mapping[Key, str], head: str | None, origins: Mapping[Key, VersionOrigin] | None = None
    ) -> None:
        """Make the versions table exactly the branch's content (after a rebuild or a crash); each version's URL is
        found from its ``origins`` entry (:meth:`_urls`), and its bytes' time is the entry's (none given: neither is
        known)."""
        rows = self._rows(commits, origins or {})
        with self.connection:
            self.connection.execute("DELETE FROM versions")
            self.connection.executemany(
                "INSERT INTO versions (document, captured_at, commit_id, url, bytes_at) VALUES (?, ?, ?, ?, ?)", rows
            )
            self._set_meta("versions_head", head or "")
            marks = VERSIONS_UNFILLED_MARKS
            self.connection.execute(f"DELETE FROM meta WHERE key IN ({', '.join('?' * len(marks))})", marks)

    def add_versions(
        self, commits: Mapping[Key, str], head: str | None, origins: Mapping[Key, VersionOrigin] | None = None
    ) -> None:
        """Add (or replace) the versions a commit just made, and record ``head`` as the commit the table now matches;
        URLs and bytes' times as :meth:`replace_versions` finds them."""
        rows = self._rows(commits, origins or {})
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO versions (document, captured_at, commit_id, url, bytes_at)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self._set_meta("versions_head", head or "")

    def versions_unfilled(self) -> bool:
        """Whether the versions' URLs and bytes' times are still to be read from Git: a catalog from before
        ``versions.url`` or ``versions.bytes_at``, brought up to date by ``schema`` (which cannot read Git), whose
        versions no writing command has read again since."""
        marks = VERSIONS_UNFILLED_MARKS
        query = f"SELECT 1 FROM meta WHERE key IN ({', '.join('?' * len(marks))})"
        return self.connection.execute(query, marks).fetchone() is not None

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
        """The versions of ``document`` in time order, from the catalog (no Git read). A catalog from before
        ``versions.url`` or ``versions.bytes_at`` opened read-only has no such column: those values are None."""
        rows = self.connection.execute("SELECT * FROM versions WHERE document = ? ORDER BY captured_at", (document,))
        return [
            VersionRow(
                r["document"],
                column_time(r["captured_at"]),  # type: ignore[arg-type]
                r["commit_id"],
                _column(r, "url"),
                column_time(_column(r, "bytes_at")),
            )
            for r in rows
        ]

    def version_counts(self) -> dict[str, int]:
        """Versions per document (what `repair` rebuilt)."""
        rows = self.connection.execute("SELECT document, COUNT(*) AS n FROM versions GROUP BY document")
        return {r["document"]: r["n"] for r in rows}

    def _rows(
        self, commits: Mapping[Key, str], origins: Mapping[Key, VersionOrigin]
    ) -> list[tuple[str, str, str, str | None, str | None]]:
        """The ``versions`` rows of ``commits``: document, date, commit, the URL of its bytes (:meth:`_urls`) and
        their time (its ``Captured-At``: for a technical upgrade, not its date), as far as ``origins`` tell."""
        urls = self._urls(origins)
        rows = []
        for (document, at), commit in commits.items():
            origin = origins.get((document, at))
            bytes_at = iso_z(origin.bytes_at) if origin else None
            rows.append((document, iso_z(at), commit, urls.get((document, at)), bytes_at))
        return rows

    def _urls(self, origins: Mapping[Key, VersionOrigin]) -> dict[Key, str]:
        """The URL of each version's bytes, from what its commit says (:class:`VersionOrigin`): the
        :attr:`~CaptureRow.bytes_url` of the extracted capture at its bytes' time whose ``Snapshot-Url`` a version
        would carry (``CaptureRow.version_snapshot_url``: the same computation as the version's), else the site's
        URL its ``Snapshot-Url`` names (an archive's ``id_`` URL; a live version's is the URL fetched): a version
        dated at a twin never fetched, or whose capture the catalog no longer holds. Each document's captures are
        read once per call, only those at the versions' times."""
        by_document: dict[str, dict[Key, VersionOrigin]] = {}
        for key, origin in origins.items():
            by_document.setdefault(key[0], {})[key] = origin
        urls: dict[Key, str] = {}
        columns = "id, COALESCE(memento_at, captured_at) AS bytes_at, url, memento_url, fetched_url, snapshot_url"
        for document, wanted in by_document.items():
            kept: dict[tuple[str, str], str] = {}  # (bytes time, Snapshot-Url a version would carry) -> URL
            times = sorted({iso_z(origin.bytes_at) for origin in wanted.values()})
            for start in range(0, len(times), _TIMES_PER_QUERY):
                chunk = times[start : start + _TIMES_PER_QUERY]
                # Served by captures_by_bytes_time (schema.ADDED_INDEXES): the document's other rows are not read.
                rows = self.connection.execute(
                    f"SELECT {columns} FROM captures WHERE document = ?"
                    f" AND COALESCE(memento_at, captured_at) IN ({', '.join('?' * len(chunk))})"
                    " AND outcome = 'extracted' ORDER BY id",
                    (document, *chunk),
                )
                for row in rows:
                    snapshot = version_snapshot_url(row["snapshot_url"], row["fetched_url"], row["url"])
                    kept.setdefault((row["bytes_at"], snapshot), row["memento_url"] or row["url"])
            for key, origin in wanted.items():
                found = kept.get((iso_z(origin.bytes_at), origin.snapshot_url))
                urls[key] = found or named_url(origin.snapshot_url)
        return urls

    def _set_meta(self, key: str, value: str) -> None:
        self.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def named_url(snapshot_url: str) -> str:
    """The site's URL a ``Snapshot-Url`` names: the one inside an archive's ``id_`` URL, else itself (a live
    version's: the URL fetched)."""
    match = _ARCHIVED_AT.search(snapshot_url)
    return match["original"] if match else snapshot_url


def _column(row: sqlite3.Row, name: str) -> str | None:
    """A column added to ``versions`` since the first release, None in a catalog opened read-only without it."""
    return row[name] if name in row.keys() else None
