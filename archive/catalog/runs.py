"""The catalog's ``documents`` and ``runs``: what the last track and backfill of each document left (failures in a
row, validators, a backfill's failure), and the runs of the tool, started and finished."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from policy_archive.archive.catalog.rows import DocumentState, UnrecordedTrack, column_time
from policy_archive.archive.catalog.schema import BACKFILLED_BEFORE
from policy_archive.records import iso_z

# The summary of a run whose command raised before it had a report (a second Ctrl-C, a Git or disk error).
DID_NOT_FINISH = "did not finish"


class RunTable:
    """The ``documents`` and ``runs`` tables, mixed into :class:`~policy_archive.archive.catalog.Catalog` (which owns
    ``connection``)."""

    connection: sqlite3.Connection

    def document_state(self, document: str) -> DocumentState:
        """What the ``documents`` table holds for ``document``; a document never recorded has no failures and no
        validators."""
        row = self.connection.execute("SELECT * FROM documents WHERE document = ?", (document,)).fetchone()
        if row is None:
            return DocumentState(document, 0, None, None, None, None, None, backfill_at=self._backfill_at(document))
        return DocumentState(
            document,
            row["consecutive_failures"],
            row["last_failure"],
            column_time(row["last_failure_at"]),
            column_time(row["last_success_at"]),
            row["etag"],
            row["last_modified"],
            # A read-only catalog of an older release lacks these columns (only writers add them).
            row["backfill_failure"] if "backfill_failure" in row.keys() else None,
            column_time(row["backfill_failure_at"]) if "backfill_failure_at" in row.keys() else None,
            row["backfill_unexamined"] if "backfill_unexamined" in row.keys() else None,
            bool(row["backfill_unlisted"]) if "backfill_unlisted" in row.keys() else False,
            self._backfill_at(document),
        )

    def _backfill_at(self, document: str) -> datetime | None:
        """When the document's last backfill ended; in a catalog from before that was recorded (read without
        being updated), what opening it for writing fills in (``BACKFILLED_BEFORE``)."""
        columns = {column[1] for column in self.connection.execute("PRAGMA table_info(documents)")}
        source = "documents" if "backfill_at" in columns else f"({BACKFILLED_BEFORE})"
        query = f"SELECT backfill_at FROM {source} WHERE document = ?"
        found = self.connection.execute(query, (document,)).fetchone()
        return column_time(found["backfill_at"]) if found else None

    def note_success(self, document: str, at: datetime, etag: str | None, last_modified: str | None) -> None:
        """A live fetch of ``document`` succeeded at ``at``: the failures in a row drop to 0 and the answer's validators
        are kept for the next conditional request."""
        with self.connection:
            self.connection.execute(
                "INSERT INTO documents (document, consecutive_failures, last_success_at, etag, last_modified)"
                " VALUES (?, 0, ?, ?, ?) ON CONFLICT (document) DO UPDATE SET consecutive_failures = 0,"
                " last_success_at = excluded.last_success_at, etag = excluded.etag,"
                " last_modified = excluded.last_modified",
                (document, iso_z(at), etag, last_modified),
            )

    def note_failure(self, document: str, at: datetime, reason: str) -> None:
        """A live fetch of ``document`` failed at ``at`` for ``reason``: one more failure in a row."""
        with self.connection:
            self.connection.execute(
                "INSERT INTO documents (document, consecutive_failures, last_failure, last_failure_at)"
                " VALUES (?, 1, ?, ?) ON CONFLICT (document) DO UPDATE SET"
                " consecutive_failures = consecutive_failures + 1, last_failure = excluded.last_failure,"
                " last_failure_at = excluded.last_failure_at",
                (document, reason, iso_z(at)),
            )

    def note_backfill(
        self, document: str, at: datetime, failure: str | None, *, unexamined: int | None = None, unlisted: bool = False
    ) -> None:
        """The outcome of a backfill of ``document`` ended at ``at``: why it failed, or None when it succeeded;
        ``unexamined``: listed captures it left unexamined (interrupted); ``unlisted``: it could not list the
        document."""
        with self.connection:
            self.connection.execute(
                "INSERT INTO documents (document, backfill_failure, backfill_failure_at, backfill_unexamined,"
                " backfill_unlisted, backfill_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (document) DO UPDATE SET backfill_failure = excluded.backfill_failure,"
                " backfill_failure_at = excluded.backfill_failure_at,"
                " backfill_unexamined = excluded.backfill_unexamined, backfill_unlisted = excluded.backfill_unlisted,"
                " backfill_at = excluded.backfill_at",
                (document, failure, iso_z(at) if failure else None, unexamined, int(unlisted), iso_z(at)),
            )

    def start_run(self, command: str, at: datetime) -> int:
        """Record that ``command`` started at ``at``, with the catalog's highest capture id then (its watermark:
        the rows above it are this run's or later ones', ``UnrecordedTrack``); returns the run's id for
        :meth:`finish_run`."""
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO runs (command, started_at, captures_before)"
                " VALUES (?, ?, (SELECT COALESCE(MAX(id), 0) FROM captures))",
                (command, iso_z(at)),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, at: datetime, exit_status: int, summary: str) -> None:
        """Record how the run ``run_id`` ended: when, its exit status and a one-line summary."""
        with self.connection:
            self.connection.execute(
                "UPDATE runs SET finished_at = ?, exit_status = ?, summary = ? WHERE id = ?",
                (iso_z(at), exit_status, summary, run_id),
            )

    def unrecorded_tracks(self) -> list[UnrecordedTrack]:
        """The `track` runs that may have kept live captures without recording their versions: killed (no exit
        status: kill -9, a second Ctrl-C under `schedule`) or stopped by an error ("did not finish"), oldest first,
        each with where its captures are: above its watermark and up to the next run's, or by their times for a run
        of an older release (``UnrecordedTrack``). The data directory's lock makes the runs one after another, so
        the live captures between the two are the run's own."""
        # A read-only catalog of a release before the watermark lacks its column (only writers add it).
        columns = {column[1] for column in self.connection.execute("PRAGMA table_info(runs)")}
        known = "captures_before" in columns
        own, next_one = ("runs.captures_before", "later.captures_before") if known else ("NULL", "NULL")
        rows = self.connection.execute(
            f"SELECT runs.id, runs.started_at, {own} AS captures_after, later.started_at AS next_started_at,"
            f" {next_one} AS captures_up_to FROM runs LEFT JOIN runs AS later ON later.id ="
            " (SELECT MIN(following.id) FROM runs AS following WHERE following.id > runs.id)"
            " WHERE runs.command = 'track' AND (runs.exit_status IS NULL OR runs.summary = ?) ORDER BY runs.id",
            (DID_NOT_FINISH,),
        )
        return [
            UnrecordedTrack(
                row["id"],
                column_time(row["started_at"]),  # type: ignore[arg-type]
                column_time(row["next_started_at"]),
                row["captures_after"],
                row["captures_up_to"],
            )
            for row in rows
        ]

    def note_recorded_later(self, run_id: int, summary: str) -> None:
        """The versions of the unfinished run ``run_id`` were recorded afterwards: it ends with exit status 1
        and ``summary`` (its end time stays unknown), and is no longer among :meth:`unrecorded_tracks`."""
        with self.connection:
            self.connection.execute(
                "UPDATE runs SET exit_status = COALESCE(exit_status, 1), summary = ? WHERE id = ?", (summary, run_id)
            )

    def runs_by_id(self, run_ids: list[int]) -> list[sqlite3.Row]:
        """The rows of ``runs`` with these ids, oldest first."""
        if not run_ids:
            return []
        marks = ", ".join("?" * len(run_ids))
        return list(self.connection.execute(f"SELECT * FROM runs WHERE id IN ({marks}) ORDER BY id", run_ids))

    def last_runs(self, limit: int = 5) -> list[sqlite3.Row]:
        """The last ``limit`` runs recorded, newest first, as raw rows of ``runs``."""
        return list(self.connection.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)))
