"""``catalog.sqlite3``: every capture seen or fetched, its extraction outcome, and the versions on the branch.

The catalog is what makes runs resumable (a capture fetched once is never fetched again), what lets `log`,
`show --at` and `diff` answer without walking Git, and what `status` reports from. Its tables and opening:
``archive.catalog_schema``; its row records: ``archive.catalog_rows``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from policy_archive.archive.captures import StoredCapture
from policy_archive.archive.catalog_rows import CaptureRow, DocumentState, Outcome, UnverifiedSpan, VersionRow
from policy_archive.archive.catalog_schema import BACKFILLED_BEFORE, connect
from policy_archive.records import Capture, CaptureRef, Dropped, Source, iso_z, parse_iso_z


def _time(text: str | None) -> datetime | None:
    return parse_iso_z(text) if text else None


def dropped_json(dropped: tuple[Dropped, ...]) -> str | None:
    """The ``dropped`` column: a JSON list, or NULL when nothing was dropped."""
    if not dropped:
        return None
    return json.dumps([{"reason": d.reason, "words": d.words, "sample": d.sample} for d in dropped], ensure_ascii=False)


def _dropped(text: str | None) -> tuple[Dropped, ...]:
    return tuple(Dropped(d["reason"], d["words"], d["sample"]) for d in json.loads(text)) if text else ()


# Rows read at once by ``Catalog.each_capture``: a few MB with texts of typical pages, and few queries.
ROWS_PER_READ = 100


class Catalog:
    def __init__(self, path: Path, *, read_only: bool = False):
        """Open (or create) the catalog. ``read_only`` never writes, not even the schema, so that `log`, `show`,
        `diff` and `status` work on a read-only data directory."""
        self.path = path
        self.connection = connect(path, read_only=read_only)

    def close(self) -> None:
        self.connection.close()

    # --- captures --------------------------------------------------------------------------------------

    def add_listed(self, document: str, refs: Iterable[CaptureRef]) -> None:
        """Remember CDX rows; rows already known (fetched or not) are left as they are."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR IGNORE INTO captures (document, source, url, captured_at, status, mimetype, digest,"
                " length, outcome) VALUES (?, 'wayback', ?, ?, ?, ?, ?, ?, 'listed')",
                [(document, r.url, iso_z(r.timestamp), r.status, r.mimetype, r.digest, r.length) for r in refs],
            )

    def record_fetch(
        self,
        capture: Capture,
        stored: StoredCapture,
        outcome: Outcome,
        *,
        reason: str | None = None,
        title: str | None = None,
        body: str | None = None,
        body_sha1: str | None = None,
        note: str | None = None,
        stated_date: date | None = None,
        dropped: tuple[Dropped, ...] = (),
    ) -> None:
        """Record a fetched capture and what extraction made of it: an archive capture under its CDX row (whose
        listed status and mimetype are kept), with what the replay served in the fetched_/memento_ columns."""
        url, listed_at = capture.listing_key
        values: dict[str, object] = {
            "document": capture.document,
            "source": str(capture.source),
            "url": url,
            "captured_at": iso_z(listed_at),
            "fetched_url": capture.fetched_url,
            "fetched_status": capture.status,
            "fetched_mimetype": capture.content_type,
            "fetched_at": iso_z(capture.fetched_at) if capture.fetched_at else None,
            "payload_sha1": capture.payload_sha1,
            "warc_file": stored.warc_file,
            "warc_offset": stored.offset,
            "outcome": str(outcome),
            "reason": reason,
            "title": title,
            "body": body,
            "body_sha1": body_sha1,
            "note": note,
            "stated_date": stated_date.isoformat() if stated_date else None,
            "rendered": int(capture.rendered is not None),
            "dropped": dropped_json(dropped),
        }
        if capture.listed is None:  # a live fetch: no listing to keep apart from it
            values.update(status=capture.status, mimetype=capture.content_type)
        else:
            values.update(
                memento_at=iso_z(capture.captured_at), memento_url=capture.url, snapshot_url=capture.snapshot_url
            )
        self._upsert(values)

    def record_unfetched(
        self,
        document: str,
        source: Source,
        url: str,
        captured_at: datetime,
        outcome: Outcome,
        reason: str,
        *,
        fetched_status: int | None = None,
    ) -> None:
        """A capture that gave no bytes to keep: failed (retried later) or refused (e.g. not archived)."""
        values = {
            "document": document,
            "source": str(source),
            "url": url,
            "captured_at": iso_z(captured_at),
            "outcome": str(outcome),
            "reason": reason,
            "fetched_status": fetched_status,
        }
        self._upsert(values)

    def _upsert(self, values: Mapping[str, object]) -> None:
        columns = ", ".join(values)
        placeholders = ", ".join("?" for _ in values)
        updates = ", ".join(
            f"{column} = excluded.{column}"
            for column in values
            if column not in ("document", "source", "url", "captured_at")
        )
        with self.connection:
            self.connection.execute(
                f"INSERT INTO captures ({columns}) VALUES ({placeholders})"
                f" ON CONFLICT (document, source, url, captured_at) DO UPDATE SET {updates},"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                list(values.values()),
            )

    def set_window(self, document: str, captured_at: datetime, window_start: datetime | None) -> None:
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET window_start = ? WHERE document = ? AND source = 'wayback' AND captured_at = ?",
                (iso_z(window_start) if window_start else None, document, iso_z(captured_at)),
            )

    def refuse_listed(self, document: str, refused: Iterable[tuple[CaptureRef, str]]) -> None:
        """Listed rows that will never be fetched (archived 404s, images, ...), with the reason."""
        with self.connection:
            self.connection.executemany(
                "UPDATE captures SET outcome = 'refused', reason = ? WHERE document = ? AND source = 'wayback'"
                " AND url = ? AND captured_at = ? AND outcome = 'listed'",
                [(reason, document, ref.url, iso_z(ref.timestamp)) for ref, reason in refused],
            )

    def relist(self, document: str, keys: Iterable[tuple[str, datetime]]) -> None:
        """Rows refused without being fetched whose reason no longer holds: listed again, to be fetched when
        wanted (never a row whose bytes are kept)."""
        with self.connection:
            self.connection.executemany(
                "UPDATE captures SET outcome = 'listed', reason = NULL WHERE document = ? AND source = 'wayback'"
                " AND url = ? AND captured_at = ? AND outcome = 'refused' AND warc_file IS NULL",
                [(document, url, iso_z(at)) for url, at in keys],
            )

    def refuse(self, capture_id: int, reason: str) -> None:
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET outcome = 'refused', reason = ? WHERE id = ?", (reason, capture_id)
            )

    def set_note(self, document: str, source: Source, captured_at: datetime, note: str | None) -> None:
        """Why a capture was used despite a guard (shown by `log`); ``captured_at`` is the row's listed time."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET note = ? WHERE document = ? AND source = ? AND captured_at = ?",
                (note, document, str(source), iso_z(captured_at)),
            )

    def captures(self, document: str, source: Source | None = None, *, texts: bool = True) -> list[CaptureRow]:
        """A document's captures in time order; with ``texts=False`` without their extracted texts (``body``
        None, ``body_sha1`` kept: a text is then read by :meth:`capture`), so that a long history's rows fit in
        a few MB whatever the size of its pages."""
        return list(self.each_capture(document, source, texts=texts))

    def each_capture(
        self, document: str, source: Source | None = None, *, texts: bool = True, stored: bool = False
    ) -> Iterator[CaptureRow]:
        """:meth:`captures` read ``ROWS_PER_READ`` at a time (only those with kept bytes when ``stored``), so
        that a long history is never held whole. Each read is a query of its own resuming after the last row
        read, so the catalog may be written between two rows without moving the scan (a write during an open
        SELECT on the same connection is undefined behaviour in SQLite)."""
        where, args = "document = ?", [document]
        if source:
            where += " AND source = ?"
            args.append(str(source))
        if stored:
            where += " AND warc_file IS NOT NULL"
        query = (
            f"SELECT {'*' if texts else self._columns_but_body} FROM captures WHERE {where}"
            f" AND (captured_at, id) > (?, ?) ORDER BY captured_at, id LIMIT {ROWS_PER_READ}"
        )
        after: tuple[str, int] = ("", 0)
        while page := self.connection.execute(query, [*args, *after]).fetchall():
            yield from (self._row(row) for row in page)
            after = (page[-1]["captured_at"], page[-1]["id"])

    @cached_property
    def _columns_but_body(self) -> str:
        """The captures table's columns, the text replaced by NULL. Read once: the table's columns are all there
        from the opening on (``connect`` adds the missing ones, or refuses a read-only catalog lacking some)."""
        names = [column[1] for column in self.connection.execute("PRAGMA table_info(captures)")]
        return ", ".join(["NULL AS body", *(f'"{name}"' for name in names if name != "body")])

    def holds_captures(self) -> bool:
        return self.connection.execute("SELECT 1 FROM captures LIMIT 1").fetchone() is not None

    def capture(self, capture_id: int) -> CaptureRow:
        return self._row(self.connection.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone())

    def capture_at(self, document: str, captured_at: datetime, *, extracted: bool = True) -> CaptureRow | None:
        """The capture of a document whose bytes date from a time (an extracted one unless ``extracted`` is False)."""
        row = self.connection.execute(
            "SELECT * FROM captures WHERE document = ? AND COALESCE(memento_at, captured_at) = ?"
            + (" AND outcome = 'extracted'" if extracted else "")
            + " ORDER BY outcome = 'extracted' DESC, source DESC LIMIT 1",
            (document, iso_z(captured_at)),
        ).fetchone()
        return self._row(row) if row else None

    def version_capture(self, document: str, at: datetime) -> CaptureRow | None:
        """The extracted capture whose text the version dated ``at`` holds: the one captured then or, for a
        version dated at a twin never fetched (a listed 200 with the CDX digest of a fetched one), that one."""
        row = self.capture_at(document, at)
        listed = self.capture_at(document, at, extracted=False) if row is None else None
        if listed is None or not listed.digest:
            return row
        twin = self.connection.execute(
            "SELECT * FROM captures WHERE document = ? AND url = ? AND digest = ? AND status = 200"
            " AND outcome = 'extracted' AND rendered = 0 ORDER BY captured_at LIMIT 1",
            (document, listed.url, listed.digest),
        ).fetchone()
        return self._row(twin) if twin else None

    def kept_captures(self, document: str, payload_sha1: str, bytes_at: datetime) -> list[CaptureRow]:
        """The captures of ``document`` whose bytes (SHA-1 ``payload_sha1``) are kept in a WARC file: the one
        captured at ``bytes_at`` first if there is one, then the others with the same bytes, extracted first."""
        rows = self.connection.execute(
            "SELECT * FROM captures WHERE document = ? AND payload_sha1 = ? AND warc_file IS NOT NULL"
            " ORDER BY COALESCE(memento_at, captured_at) = ? DESC, outcome = 'extracted' DESC, id",
            (document, payload_sha1, iso_z(bytes_at)),
        )
        return [self._row(row) for row in rows]

    def kept_places(self) -> set[tuple[str, int]]:
        """Where every catalogued capture's record is (WARC file, offset), whatever its document."""
        rows = self.connection.execute("SELECT warc_file, warc_offset FROM captures WHERE warc_file IS NOT NULL")
        return {(name, offset) for name, offset in rows}

    def stored_captures(self, documents: Iterable[str]) -> Iterator[CaptureRow]:
        """Every capture with kept bytes, for re-extraction, without its extracted text (read as it goes:
        :meth:`each_capture`)."""
        for document in documents:
            yield from self.each_capture(document, texts=False, stored=True)

    def update_extraction(
        self,
        capture_id: int,
        outcome: Outcome,
        reason: str | None,
        title: str | None,
        body: str | None,
        body_sha1: str | None,
        stated_date: date | None = None,
        dropped: tuple[Dropped, ...] = (),
    ) -> None:
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET outcome = ?, reason = ?, title = ?, body = ?, body_sha1 = ?, stated_date = ?,"
                " dropped = ? WHERE id = ?",
                (
                    str(outcome),
                    reason,
                    title,
                    body,
                    body_sha1,
                    stated_date.isoformat() if stated_date else None,
                    dropped_json(dropped),
                    capture_id,
                ),
            )

    @staticmethod
    def _row(row: sqlite3.Row) -> CaptureRow:
        stored = StoredCapture(row["warc_file"], row["warc_offset"]) if row["warc_file"] else None
        return CaptureRow(
            id=row["id"],
            document=row["document"],
            source=Source(row["source"]),
            url=row["url"],
            captured_at=_time(row["captured_at"]),  # type: ignore[arg-type]
            status=row["status"],
            mimetype=row["mimetype"],
            digest=row["digest"],
            fetched_url=row["fetched_url"],
            payload_sha1=row["payload_sha1"],
            stored=stored,
            outcome=Outcome(row["outcome"]),
            reason=row["reason"],
            title=row["title"],
            body=row["body"],
            body_sha1=row["body_sha1"],
            window_start=_time(row["window_start"]),
            fetched_status=row["fetched_status"],
            fetched_mimetype=row["fetched_mimetype"],
            memento_at=_time(row["memento_at"]),
            memento_url=row["memento_url"],
            snapshot_url=row["snapshot_url"],
            note=row["note"],
            stated_date=date.fromisoformat(row["stated_date"]) if row["stated_date"] else None,
            rendered=bool(row["rendered"]),
            dropped=_dropped(row["dropped"]),
        )

    # --- versions ----------------------------------------------------------------------------------------

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
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO versions VALUES (?, ?, ?)",
                [(document, iso_z(at), commit) for (document, at), commit in commits.items()],
            )
            self._set_meta("versions_head", head or "")

    def latest_version_time(self) -> datetime | None:
        row = self.connection.execute("SELECT MAX(captured_at) AS at FROM versions").fetchone()
        return _time(row["at"])

    def versions_head(self) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = 'versions_head'").fetchone()
        return row["value"] if row and row["value"] else None

    def versions(self, document: str) -> list[VersionRow]:
        rows = self.connection.execute("SELECT * FROM versions WHERE document = ? ORDER BY captured_at", (document,))
        return [VersionRow(r["document"], _time(r["captured_at"]), r["commit_id"]) for r in rows]  # type: ignore[arg-type]

    def version_counts(self) -> dict[str, int]:
        """Versions per document (what `repair` rebuilt)."""
        rows = self.connection.execute("SELECT document, COUNT(*) AS n FROM versions GROUP BY document")
        return {r["document"]: r["n"] for r in rows}

    def _set_meta(self, key: str, value: str) -> None:
        self.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- spans assumed unchanged ---------------------------------------------------------------------------

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
                _time(row["start_at"]),
                _time(row["end_at"]),
                _time(row["first_at"]),  # type: ignore[arg-type]
                _time(row["last_at"]),  # type: ignore[arg-type]
                row["captures"],
                bool(row["ends_differ"]),
                row["strategy"],
            )
            for row in rows
        ]

    # --- documents and runs ------------------------------------------------------------------------------

    def document_state(self, document: str) -> DocumentState:
        row = self.connection.execute("SELECT * FROM documents WHERE document = ?", (document,)).fetchone()
        if row is None:
            return DocumentState(document, 0, None, None, None, None, None, backfill_at=self._backfill_at(document))
        return DocumentState(
            document,
            row["consecutive_failures"],
            row["last_failure"],
            _time(row["last_failure_at"]),
            _time(row["last_success_at"]),
            row["etag"],
            row["last_modified"],
            # A read-only catalog of an older release lacks these columns (only writers add them).
            row["backfill_failure"] if "backfill_failure" in row.keys() else None,
            _time(row["backfill_failure_at"]) if "backfill_failure_at" in row.keys() else None,
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
        return _time(found["backfill_at"]) if found else None

    def note_success(self, document: str, at: datetime, etag: str | None, last_modified: str | None) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT INTO documents (document, consecutive_failures, last_success_at, etag, last_modified)"
                " VALUES (?, 0, ?, ?, ?) ON CONFLICT (document) DO UPDATE SET consecutive_failures = 0,"
                " last_success_at = excluded.last_success_at, etag = excluded.etag,"
                " last_modified = excluded.last_modified",
                (document, iso_z(at), etag, last_modified),
            )

    def note_failure(self, document: str, at: datetime, reason: str) -> None:
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
        with self.connection:
            cursor = self.connection.execute(
                "INSERT INTO runs (command, started_at) VALUES (?, ?)", (command, iso_z(at))
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, at: datetime, exit_status: int, summary: str) -> None:
        with self.connection:
            self.connection.execute(
                "UPDATE runs SET finished_at = ?, exit_status = ?, summary = ? WHERE id = ?",
                (iso_z(at), exit_status, summary, run_id),
            )

    def last_runs(self, limit: int = 5) -> list[sqlite3.Row]:
        return list(self.connection.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)))
