"""The catalog's ``captures`` read: a document's rows in time order (a page at a time, with or without their
texts), one row by id or by the time and URL of its bytes (a version's own), the rows holding given bytes, where
kept bytes are."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import cached_property
from itertools import islice
from typing import TypeVar

from policy_archive.archive.captures import StoredCapture
from policy_archive.archive.catalog.rows import CaptureRow, Outcome, UnrecordedTrack, column_time, dropped_of
from policy_archive.digests import PayloadDigest
from policy_archive.records import Source, iso_z

T = TypeVar("T")

# Rows read at once by ``Catalog.each_capture``: a few MB with texts of typical pages, and few queries.
ROWS_PER_READ = 100
# Rows written at once from a scan of the catalog (``in_batches``): bounded memory, few transactions.
ROWS_PER_WRITE = 10_000


def in_batches(items: Iterable[T], size: int = ROWS_PER_WRITE) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``: what a scan of the catalog (:meth:`CaptureReads.each_capture`,
    which may be written between two reads) finds to write, written a batch at a time, never held whole."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class CaptureReads:
    """The reads of the ``captures`` table, mixed into :class:`~policy_archive.archive.catalog.Catalog` (which owns
    ``connection``)."""

    connection: sqlite3.Connection

    def captures(self, document: str, source: Source | None = None, *, texts: bool = True) -> list[CaptureRow]:
        """A document's captures in time order; with ``texts=False`` without their extracted texts (``body``
        None, ``body_sha1`` kept: a text is then read by :meth:`capture`), so that a long history's rows fit in
        a few MB whatever the size of its pages."""
        return list(self.each_capture(document, source, texts=texts))

    def dating_captures(self, document: str, source: Source) -> list[CaptureRow]:
        """The captures of a document that dating its versions reads (``change_dating.decide``), with their
        texts, in time order: those whose text is known (extracted, or refused with a text) and those whose bytes
        came from another memento than the one listed. The others (listed and never fetched, refused or failed
        without a text) say nothing their CDX row does not, and are skipped by SQLite: a listing of a million
        twins of one fetched capture made backfill build a million rows at each decision (audit of 2026-11-28)."""
        return list(self.each_capture(document, source, dating=True))

    def changes_made(self) -> tuple[int, int]:
        """A value that differs once anything was written to the catalog (rows changed through this connection,
        SQLite's count of other connections' commits): what was read before it is still true while it is equal."""
        (version,) = self.connection.execute("PRAGMA data_version").fetchone()
        return self.connection.total_changes, version

    def each_capture(
        self,
        document: str,
        source: Source | None = None,
        *,
        texts: bool = True,
        stored: bool = False,
        dating: bool = False,
    ) -> Iterator[CaptureRow]:
        """:meth:`captures` read ``ROWS_PER_READ`` at a time (only those with kept bytes when ``stored``, those
        :meth:`dating_captures` reads when ``dating``), so that a long history is never held whole. Each read is a
        query of its own resuming after the last row read, so the catalog may be written between two rows without
        moving the scan (a write during an open SELECT on the same connection is undefined behaviour in SQLite)."""
        where, args = "document = ?", [document]
        if source:
            where += " AND source = ?"
            args.append(str(source))
        if stored:
            where += " AND warc_file IS NOT NULL"
        if dating:
            where += " AND (outcome = 'extracted' OR body_sha1 IS NOT NULL OR memento_at IS NOT NULL)"
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

    def refused_unfetched(self, document: str, reason_start: str) -> list[tuple[str, datetime]]:
        """``(url, captured_at)`` of ``document``'s archive rows refused without being fetched for a reason that
        starts with ``reason_start``; found by SQL, so that a long listing's other rows are never built."""
        rows = self.connection.execute(
            "SELECT url, captured_at FROM captures WHERE document = ? AND source = ? AND outcome = ?"
            " AND warc_file IS NULL AND substr(reason, 1, ?) = ? ORDER BY captured_at, id",
            (document, str(Source.WAYBACK), str(Outcome.REFUSED), len(reason_start), reason_start),
        )
        return [(url, column_time(at)) for url, at in rows]  # type: ignore[misc]

    def refused_replays(
        self, document: str, reason_starts: Sequence[str]
    ) -> Iterator[tuple[str, datetime, str, str | None]]:
        """``(url, captured_at, reason, replay_url)`` of ``document``'s archive rows refused without being fetched
        for a reason that starts with one of ``reason_starts``, with the ``[wayback] replay_url`` each was asked
        of (None: not known, a refusal made before 2026-11-29); found by SQL, as :meth:`refused_unfetched`, and read
        ``ROWS_PER_READ`` at a time as :meth:`each_capture` reads (the catalog may be written between two rows)."""
        if not reason_starts:
            return
        starts = " OR ".join("substr(reason, 1, ?) = ?" for _ in reason_starts)
        query = (
            "SELECT id, url, captured_at, reason, replay_url FROM captures WHERE document = ? AND source = ?"
            f" AND outcome = ? AND warc_file IS NULL AND ({starts}) AND (captured_at, id) > (?, ?)"
            f" ORDER BY captured_at, id LIMIT {ROWS_PER_READ}"
        )
        args = [
            document,
            str(Source.WAYBACK),
            str(Outcome.REFUSED),
            *(value for start in reason_starts for value in (len(start), start)),
        ]
        after: tuple[str, int] = ("", 0)
        while page := self.connection.execute(query, [*args, *after]).fetchall():
            for _, url, at, reason, asked in page:
                yield url, column_time(at), reason, asked
            after = (page[-1][2], page[-1][0])

    def live_extracted(self, run: UnrecordedTrack) -> list[CaptureRow]:
        """The extracted live captures of every document the `track` run ``run`` made, with their texts, in capture
        order: those above its watermark and up to the next run's (``RunTable.unrecorded_tracks``)."""
        where, args = self._made_by(run)
        rows = self.connection.execute(f"SELECT * FROM captures WHERE {where} ORDER BY captured_at, id", args)
        return [self._row(row) for row in rows]

    def live_extracted_count(self, run: UnrecordedTrack) -> int:
        """How many captures :meth:`live_extracted` gives for the same run, without reading their texts."""
        where, args = self._made_by(run)
        return int(self.connection.execute(f"SELECT COUNT(*) FROM captures WHERE {where}", args).fetchone()[0])

    @staticmethod
    def _made_by(run: UnrecordedTrack) -> tuple[str, list[object]]:
        """The SQL condition (and its arguments) of the extracted live captures ``run`` made: by their ids, or by
        their times where a run of a release before 2026-11-29 left no watermark."""
        where, args = ["source = ?", "outcome = ?"], [str(Source.LIVE), str(Outcome.EXTRACTED)]
        if run.captures_after is not None:
            where.append("id > ?")
            args.append(run.captures_after)
        else:
            where.append("captured_at >= ?")
            args.append(iso_z(run.started_at))
        if run.captures_up_to is not None:
            where.append("id <= ?")
            args.append(run.captures_up_to)
        elif run.next_started_at is not None:
            # Before the next run's start, not at it: times are whole seconds, and the next run may fetch a page in
            # the second it started, a capture of its own. A killed run's capture in that second is missed instead,
            # the limit the watermark (``runs.captures_before``) removes for runs since 2026-11-29.
            where.append("captured_at < ?")
            args.append(iso_z(run.next_started_at))
        return " AND ".join(where), args

    def holds_captures(self) -> bool:
        """Whether the catalog has any capture row at all (of any document, source or outcome)."""
        return self.connection.execute("SELECT 1 FROM captures LIMIT 1").fetchone() is not None

    def capture(self, capture_id: int) -> CaptureRow:
        """The capture row with id ``capture_id``, its text included; the id must exist (ids come from rows read
        before)."""
        return self._row(self.connection.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone())

    def capture_at(
        self, document: str, captured_at: datetime, *, url: str | None = None, extracted: bool = True
    ) -> CaptureRow | None:
        """The capture of a document whose bytes date from a time (an extracted one unless ``extracted`` is False)
        and, when ``url`` is given, were captured at that URL (:attr:`CaptureRow.bytes_url`). Rows of two URLs may
        share a second (a redirect followed to its target's memento, and the target's own row; a URL move): only
        the URL tells them apart, so a caller that knows it gives it. Without it, the extracted row first, then the
        archive's, then the first recorded."""
        row = self.connection.execute(
            "SELECT * FROM captures WHERE document = ? AND COALESCE(memento_at, captured_at) = ?"
            + (" AND COALESCE(memento_url, url) = ?" if url is not None else "")
            + (" AND outcome = 'extracted'" if extracted else "")
            + " ORDER BY outcome = 'extracted' DESC, source DESC, id LIMIT 1",
            (document, iso_z(captured_at), *([url] if url is not None else [])),
        ).fetchone()
        return self._row(row) if row else None

    def version_row(self, document: str, at: datetime, url: str | None = None) -> CaptureRow | None:
        """The row of any outcome (the extracted one first) at the time of a version's bytes
        (:attr:`VersionRow.bytes_at`, which a technical upgrade's date is not) and, when given, their URL
        (:attr:`VersionRow.url`): a version dated at a twin never fetched has the listed row. A URL naming no
        row at that time (one read from the version's ``Snapshot-Url`` alone and catalogued otherwise, or a capture
        no longer catalogued) is as none: the pick is :meth:`capture_at`'s by the time alone."""
        row = self.capture_at(document, at, url=url, extracted=False)
        if row is None and url is not None:
            row = self.capture_at(document, at, extracted=False)
        return row

    def version_capture(self, document: str, at: datetime, url: str | None = None) -> CaptureRow | None:
        """The extracted capture whose text the version holds whose bytes were captured at the time ``at`` (the
        version's :attr:`VersionRow.bytes_at`: its date, but a technical upgrade's capture time) and URL ``url``
        (its :attr:`VersionRow.url`): the one captured then or, for a version dated at a twin never fetched (a
        listed 200 with the CDX digest of a fetched one), that one. Rows of two URLs may share a second (a redirect
        followed to its target's memento beside the target's own row, a URL move): the URL tells them apart.
        Without one (a catalog from before 2026-11-29 that no writing command has brought up to date, read by a
        reader), or with one naming no row then (:meth:`version_row`), the pick is :meth:`capture_at`'s by the time
        alone, which of rows of several URLs at that second may be another URL's."""
        if (row := self.capture_at(document, at, url=url)) is not None:
            return row
        listed = self.version_row(document, at, url)
        if listed is None or listed.outcome is Outcome.EXTRACTED:  # the time alone found an extracted one
            return listed
        if not listed.digest:
            return None
        twin = self.connection.execute(
            "SELECT * FROM captures WHERE document = ? AND url = ? AND digest = ? AND status = 200"
            " AND outcome = 'extracted' AND rendered = 0 ORDER BY captured_at LIMIT 1",
            (document, listed.url, str(listed.digest)),
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

    @staticmethod
    def _row(row: sqlite3.Row) -> CaptureRow:
        stored = StoredCapture(row["warc_file"], row["warc_offset"]) if row["warc_file"] else None
        return CaptureRow(
            id=row["id"],
            document=row["document"],
            source=Source(row["source"]),
            url=row["url"],
            captured_at=column_time(row["captured_at"]),  # type: ignore[arg-type]
            status=row["status"],
            mimetype=row["mimetype"],
            digest=PayloadDigest.parse(row["digest"]) if row["digest"] else None,
            fetched_url=row["fetched_url"],
            payload_sha1=row["payload_sha1"],
            stored=stored,
            outcome=Outcome(row["outcome"]),
            reason=row["reason"],
            title=row["title"],
            body=row["body"],
            body_sha1=row["body_sha1"],
            window_start=column_time(row["window_start"]),
            fetched_status=row["fetched_status"],
            fetched_mimetype=row["fetched_mimetype"],
            memento_at=column_time(row["memento_at"]),
            memento_url=row["memento_url"],
            snapshot_url=row["snapshot_url"],
            note=row["note"],
            stated_date=date.fromisoformat(row["stated_date"]) if row["stated_date"] else None,
            rendered=bool(row["rendered"]),
            dropped=dropped_of(row["dropped"]),
            lasting=None if row["lasting"] is None else bool(row["lasting"]),
            extractor=row["extractor"],
        )
