"""The catalog's ``captures`` written: CDX rows listed, and what became of each capture (fetched and extracted,
refused, failed, extracted again), with its note and change window."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from policy_archive.archive.captures import StoredCapture
from policy_archive.archive.catalog.rows import Outcome, dropped_json
from policy_archive.records import Capture, CaptureRef, Dropped, Source, iso_z


def digest_text(ref: CaptureRef) -> str | None:
    """A listed digest as the catalog keeps it (``PayloadDigest``'s text: a SHA-1 bare, any other labelled)."""
    return None if ref.digest is None else str(ref.digest)


class CaptureWrites:
    """The writes of the ``captures`` table, mixed into :class:`~policy_archive.archive.catalog.Catalog` (which owns
    ``connection``); each write is one transaction."""

    connection: sqlite3.Connection

    def add_listed(self, document: str, refs: Iterable[CaptureRef]) -> None:
        """Remember CDX rows; rows already known (fetched or not) are left as they are."""
        with self.connection:
            # Each row's values made as SQLite takes it (a generator): a million rows' values at once took hundreds
            # of MB (2026-11-29). One transaction still.
            self.connection.executemany(
                "INSERT OR IGNORE INTO captures (document, source, url, captured_at, status, mimetype, digest,"
                " length, outcome) VALUES (?, 'wayback', ?, ?, ?, ?, ?, ?, 'listed')",
                ((document, r.url, iso_z(r.timestamp), r.status, r.mimetype, digest_text(r), r.length) for r in refs),
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
        extractor: str | None = None,
    ) -> None:
        """Record a fetched capture and what extraction made of it: an archive capture under its CDX row (whose
        listed status, mimetype and digest are kept), with what the replay served in the fetched_/memento_ columns;
        ``extractor``: the reading that gave its text (an ``Extractor:`` trailer), kept with a text only."""
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
            "lasting": None,  # fetched: no failure of it stands
            "replay_url": None,  # nor a refusal of the archive's own answer
            "extractor": extractor if body is not None else None,
        }
        if capture.listed is None:  # a live fetch: no listing to keep apart from it
            values.update(status=capture.status, mimetype=capture.content_type)
        else:
            values.update(
                memento_at=iso_z(capture.captured_at), memento_url=capture.url, snapshot_url=capture.snapshot_url
            )
            # The CDX row the bytes answer: of several rows listed at one URL and second (one catalog row), the one
            # whose digest names what the archive served (backfill_plan.DocumentPlan.answering). Its status and
            # mimetype with its digest: the row first listed there kept its own (``add_listed``), and reextract,
            # examining the bytes again as that mix (a redirect's status with a page's digest), skipped the
            # digest check backfill had refused them by (2026-11-28).
            values.update(
                digest=digest_text(capture.listed), status=capture.listed.status, mimetype=capture.listed.mimetype
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
        lasting: bool = False,
        replay_url: str | None = None,
    ) -> None:
        """A capture that gave no bytes to keep: failed (retried later; ``lasting``: running again alone gets the
        same answer) or refused (e.g. not archived; ``replay_url``: the ``[wayback] replay_url`` the replay was
        asked of, kept for a refusal only)."""
        values = {
            "document": document,
            "source": str(source),
            "url": url,
            "captured_at": iso_z(captured_at),
            "outcome": str(outcome),
            "reason": reason,
            "fetched_status": fetched_status,
            "lasting": int(lasting) if outcome is Outcome.FAILED else None,
            "replay_url": replay_url if outcome is Outcome.REFUSED else None,
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

    def note_revisit(self, document: str, url: str, captured_at: datetime, stored: StoredCapture) -> None:
        """Where the revisit record of a listed capture never fetched (a twin dating a version) was kept."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET revisit = ? WHERE document = ? AND source = 'wayback' AND url = ?"
                " AND captured_at = ?",
                (f"{stored.warc_file}:{stored.offset}", document, url, iso_z(captured_at)),
            )

    def revisit_kept(self, document: str, url: str, captured_at: datetime) -> bool:
        """Whether a revisit record was kept for the listed capture (:meth:`note_revisit`)."""
        row = self.connection.execute(
            "SELECT revisit FROM captures WHERE document = ? AND source = 'wayback' AND url = ? AND captured_at = ?",
            (document, url, iso_z(captured_at)),
        ).fetchone()
        return row is not None and row[0] is not None

    def set_window(self, document: str, captured_at: datetime, window_start: datetime | None) -> None:
        """Set (None: clear) the change window's start of the archive capture listed at ``captured_at``: the time the
        text before the change was last seen (``log``'s change window)."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET window_start = ? WHERE document = ? AND source = 'wayback' AND captured_at = ?",
                (iso_z(window_start) if window_start else None, document, iso_z(captured_at)),
            )

    def refuse_listed(self, document: str, refused: Iterable[tuple[CaptureRef, str]]) -> None:
        """Listed rows that will never be fetched (archived 404s, images, ...), with the reason. ``refused`` is
        read as it is written, in one transaction, never held whole: a refusal passed on to a million twins is
        a million rows (until 2026-11-29 two lists of them were built first)."""
        with self.connection:
            self.connection.executemany(
                "UPDATE captures SET outcome = 'refused', reason = ? WHERE document = ? AND source = 'wayback'"
                " AND url = ? AND captured_at = ? AND outcome = 'listed'",
                ((reason, document, ref.url, iso_z(ref.timestamp)) for ref, reason in refused),
            )

    def relist(self, document: str, keys: Iterable[tuple[str, datetime]]) -> None:
        """Rows refused without being fetched whose reason no longer holds: listed again, to be fetched when
        wanted (never a row whose bytes are kept). ``keys`` is read as it is written, never held whole; it must
        not read this catalog (a write during an open read of the same connection): a scan of it is given in
        batches (``capture_reads.in_batches``)."""
        with self.connection:
            self.connection.executemany(
                "UPDATE captures SET outcome = 'listed', reason = NULL, replay_url = NULL WHERE document = ?"
                " AND source = 'wayback'"
                " AND url = ? AND captured_at = ? AND outcome = 'refused' AND warc_file IS NULL",
                ((document, url, iso_z(at)) for url, at in keys),
            )

    def refuse(self, capture_id: int, reason: str) -> None:
        """Mark the capture with id ``capture_id`` refused for ``reason``; its kept bytes and text stay in the row
        (:meth:`restore_extracted` undoes it)."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET outcome = 'refused', reason = ? WHERE id = ?", (reason, capture_id)
            )

    def restore_extracted(self, capture_id: int) -> None:
        """A capture refused after its extraction (its text kept in the row) made extracted again."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET outcome = 'extracted', reason = NULL WHERE id = ? AND body_sha1 IS NOT NULL",
                (capture_id,),
            )

    def set_note(self, document: str, source: Source, captured_at: datetime, note: str | None) -> None:
        """Why a capture was used despite a guard (shown by `log`); ``captured_at`` is the row's listed time."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET note = ? WHERE document = ? AND source = ? AND captured_at = ?",
                (note, document, str(source), iso_z(captured_at)),
            )

    def note_extractor(self, capture_id: int, extractor: str) -> None:
        """Name the reading that gives the text the capture with id ``capture_id`` holds (``extractor``, an
        ``Extractor:`` trailer), found by reading its bytes again: a text extracted before the catalog kept it."""
        with self.connection:
            self.connection.execute("UPDATE captures SET extractor = ? WHERE id = ?", (extractor, capture_id))

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
        extractor: str | None = None,
    ) -> None:
        """Replace what extraction made of the capture with id ``capture_id`` (outcome, reason, title, text and its
        SHA-1, stated date, dropped blocks, the reading that gave the text), as ``reextract`` does; the fetch columns
        are left as they are."""
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET outcome = ?, reason = ?, title = ?, body = ?, body_sha1 = ?, stated_date = ?,"
                " dropped = ?, extractor = ? WHERE id = ?",
                (
                    str(outcome),
                    reason,
                    title,
                    body,
                    body_sha1,
                    stated_date.isoformat() if stated_date else None,
                    dropped_json(dropped),
                    extractor if body is not None else None,
                    capture_id,
                ),
            )
