"""The catalog's ``unverified_spans``: listed captures a backfill did not fetch, assumed unchanged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from policy_archive.archive.catalog.rows import UnverifiedSpan, column_time
from policy_archive.records import iso_z


class SpanTable:
    """The ``unverified_spans`` table, mixed into :class:`~policy_archive.archive.catalog.Catalog` (which owns
    ``connection``)."""

    connection: sqlite3.Connection

    def replace_unverified(
        self, document: str, first: datetime, last: datetime, spans: Iterable[UnverifiedSpan]
    ) -> None:
        """A backfill's spans over the captures listed from ``first`` to ``last`` replace the earlier ones there."""
        with self.connection:
            self.connection.execute(
                "DELETE FROM unverified_spans WHERE document = ? AND first_at BETWEEN ? AND ?",
                (document, iso_z(first), iso_z(last)),
            )
            self.connection.executemany(
                "INSERT INTO unverified_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        span.document,
                        iso_z(span.start_at) if span.start_at else None,
                        iso_z(span.end_at) if span.end_at else None,
                        iso_z(span.first_at),
                        iso_z(span.last_at),
                        span.captures,
                        round(span.days, 3),
                        int(span.ends_differ),
                        span.strategy,
                    )
                    for span in spans
                ],
            )

    def unverified_spans(self, document: str | None = None) -> list[UnverifiedSpan]:
        """Spans assumed unchanged, of one document or of all, in document and time order."""
        query = "SELECT * FROM unverified_spans" + (" WHERE document = ?" if document else "")
        rows = self.connection.execute(query + " ORDER BY document, first_at", (document,) if document else ())
        return [
            UnverifiedSpan(
                row["document"],
                column_time(row["start_at"]),
                column_time(row["end_at"]),
                column_time(row["first_at"]),  # type: ignore[arg-type]
                column_time(row["last_at"]),  # type: ignore[arg-type]
                row["captures"],
                bool(row["ends_differ"]),
                row["strategy"],
            )
            for row in rows
        ]
