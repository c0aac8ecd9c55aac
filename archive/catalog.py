"""``catalog.sqlite3``: every capture seen or fetched, its extraction outcome, and the versions on the branch.

The catalog is what makes runs resumable (a capture fetched once is never fetched again), what lets `log`,
`show --at` and `diff` answer without walking Git, and what `status` reports from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from policy_archive.archive.captures import StoredCapture
from policy_archive.errors import StateError
from policy_archive.records import Capture, CaptureRef, Source, iso_z, utc

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    status INTEGER,
    mimetype TEXT,
    digest TEXT,
    length INTEGER,
    fetched_url TEXT,
    payload_sha1 TEXT,
    warc_file TEXT,
    warc_offset INTEGER,
    outcome TEXT NOT NULL,
    reason TEXT,
    title TEXT,
    body TEXT,
    body_sha1 TEXT,
    window_start TEXT,
    stated_date TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (document, source, url, captured_at)
);
CREATE INDEX IF NOT EXISTS captures_by_digest ON captures (document, digest);
CREATE TABLE IF NOT EXISTS versions (
    document TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    PRIMARY KEY (document, captured_at)
);
CREATE TABLE IF NOT EXISTS documents (
    document TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_failure TEXT,
    last_failure_at TEXT,
    last_success_at TEXT,
    etag TEXT,
    last_modified TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    exit_status INTEGER,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS unverified_spans (
    document TEXT NOT NULL,
    start_at TEXT,
    end_at TEXT,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    captures INTEGER NOT NULL,
    days REAL NOT NULL,
    ends_differ INTEGER NOT NULL,
    strategy TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS unverified_spans_by_document ON unverified_spans (document, first_at);
"""
# Columns added after the first release, created in older catalogs on open (additive migrations only).
# For an archive capture, status/mimetype/digest are what its CDX row said; fetched_* and memento_* are what
# the replay answered: after archived redirects, the target's memento (memento_at is the time a version made
# from it is dated by), with snapshot_url its id_ URL. note: why a capture was used despite a guard.
ADDED_COLUMNS = {
    "fetched_status": "INTEGER",
    "fetched_mimetype": "TEXT",
    "fetched_at": "TEXT",
    "memento_at": "TEXT",
    "memento_url": "TEXT",
    "snapshot_url": "TEXT",
    "note": "TEXT",
    "stated_date": "TEXT",
    "window_start": "TEXT",
    # 1 when the capture was rendered in a headless browser: its text came from the DOM after the scripts ran,
    # not from its bytes alone, so a twin with the same bytes may show another text.
    "rendered": "INTEGER NOT NULL DEFAULT 0",
}


class Outcome(StrEnum):
    LISTED = "listed"  # seen in a CDX listing, not fetched
    EXTRACTED = "extracted"  # fetched and extracted: body_sha1 holds the text's identity
    REFUSED = "refused"  # fetched, but not a version of the document (404, soft-404, empty, ...): see reason
    FAILED = "failed"  # could not be fetched (network, archive error): may be retried by a later run
    NOT_MODIFIED = "not-modified"  # a live conditional request answered 304


@dataclass(frozen=True)
class CaptureRow:
    id: int
    document: str
    source: Source
    url: str
    captured_at: datetime
    status: int | None
    mimetype: str | None
    digest: str | None
    fetched_url: str | None
    payload_sha1: str | None
    stored: StoredCapture | None
    outcome: Outcome
    reason: str | None
    title: str | None
    body: str | None
    body_sha1: str | None
    window_start: datetime | None
    fetched_status: int | None = None
    fetched_mimetype: str | None = None
    memento_at: datetime | None = None
    memento_url: str | None = None
    snapshot_url: str | None = None
    note: str | None = None
    rendered: bool = False

    @property
    def bytes_at(self) -> datetime:
        """When the kept bytes were captured (their Memento-Datetime); rows from before 2026-11-27: the CDX time."""
        return self.memento_at or self.captured_at

    @property
    def bytes_url(self) -> str:
        """The site's URL the kept bytes were captured at (a redirect's target, or the listed URL)."""
        return self.memento_url or self.url

    @property
    def served_status(self) -> int | None:
        """The status the bytes were served with; older rows kept it in ``status`` (overwriting the CDX one)."""
        return self.fetched_status if self.fetched_status is not None else self.status

    @property
    def served_mimetype(self) -> str | None:
        return self.fetched_mimetype if self.fetched_status is not None else self.mimetype

    stated_date: date | None = None


@dataclass(frozen=True)
class VersionRow:
    document: str
    captured_at: datetime
    commit: str


@dataclass(frozen=True)
class DocumentState:
    document: str
    consecutive_failures: int
    last_failure: str | None
    last_failure_at: datetime | None
    last_success_at: datetime | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class UnverifiedSpan:
    """Listed captures a backfill did not fetch, assumed to show the text of the fetched capture before them.

    ``start_at``/``end_at``: the fetched captures around them (None: none before / after); ``first_at``/
    ``last_at``: the first and last of the ``captures`` unfetched ones; ``ends_differ``: the text changed
    somewhere inside (only ``sample`` leaves such spans); ``strategy``: the strategy that assumed it.
    """

    document: str
    start_at: datetime | None
    end_at: datetime | None
    first_at: datetime
    last_at: datetime
    captures: int
    ends_differ: bool
    strategy: str

    @property
    def days(self) -> float:
        """How long a change could have hidden in it: from the capture before it to the capture after it."""
        return ((self.end_at or self.last_at) - (self.start_at or self.first_at)).total_seconds() / 86400


SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26  # "database disk image is malformed", "file is not a database"


def _connect_read_only(path: Path) -> sqlite3.Connection:
    uri = path.absolute().as_uri()
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=60, isolation_level=None)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A WAL database needs its -shm file, which SQLite cannot create where it may not write. Nothing can be
        # writing there either, so the file is read as it stands (immutable).
        connection.close()
        connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    return connection


def _time(text: str | None) -> datetime | None:
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00"))) if text else None


class CatalogUnreadable(StateError):
    """``catalog.sqlite3`` is not a catalog SQLite can read: truncated, overwritten, or an empty file."""


class Catalog:
    def __init__(self, path: Path, *, read_only: bool = False):
        """Open (or create) the catalog. ``read_only`` never writes, not even the schema, so that `log`, `show`,
        `diff` and `status` work on a read-only data directory."""
        self.path = path
        try:
            if read_only:
                self.connection = _connect_read_only(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.connection = sqlite3.connect(path, timeout=60, isolation_level=None)
                self.connection.execute("PRAGMA journal_mode=WAL")
                self.connection.execute("PRAGMA synchronous=NORMAL")
                self.connection.executescript(SCHEMA)
            self.connection.row_factory = sqlite3.Row
            if not self.connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'versions'").fetchone():
                raise CatalogUnreadable(f"{path} holds no catalog (an empty file?)")
            if not read_only:
                self._add_missing_columns()
            elif self._missing_columns():
                raise StateError(f"{path} is from an older policy-archive: run `policy-archive repair` to update it")
        except sqlite3.DatabaseError as error:
            # Only corruption is "unreadable": a locked, full or read-only database is another problem.
            if getattr(error, "sqlite_errorcode", 0) & 0xFF not in (SQLITE_CORRUPT, SQLITE_NOTADB):
                raise
            raise CatalogUnreadable(f"{path} cannot be read ({error})") from None

    def _missing_columns(self) -> list[str]:
        present = {row["name"] for row in self.connection.execute("PRAGMA table_info(captures)")}
        return [column for column in ADDED_COLUMNS if column not in present]

    def _add_missing_columns(self) -> None:
        for column in self._missing_columns():
            try:
                self.connection.execute(f"ALTER TABLE captures ADD COLUMN {column} {ADDED_COLUMNS[column]}")
            except sqlite3.OperationalError as error:  # another process added it in between
                if "duplicate column" not in str(error):
                    raise

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

    def captures(self, document: str, source: Source | None = None) -> list[CaptureRow]:
        query = "SELECT * FROM captures WHERE document = ?"
        args: list[object] = [document]
        if source:
            query += " AND source = ?"
            args.append(str(source))
        return [self._row(r) for r in self.connection.execute(query + " ORDER BY captured_at, id", args)]

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

    def kept_capture(self, document: str, payload_sha1: str, bytes_at: datetime) -> CaptureRow | None:
        """A capture of ``document`` whose bytes (SHA-1 ``payload_sha1``) are kept in a WARC file: the one
        captured at ``bytes_at`` if there is one, else any with the same bytes."""
        row = self.connection.execute(
            "SELECT * FROM captures WHERE document = ? AND payload_sha1 = ? AND warc_file IS NOT NULL"
            " ORDER BY COALESCE(memento_at, captured_at) = ? DESC, outcome = 'extracted' DESC, id LIMIT 1",
            (document, payload_sha1, iso_z(bytes_at)),
        ).fetchone()
        return self._row(row) if row else None

    def stored_captures(self, documents: Iterable[str]) -> Iterator[CaptureRow]:
        """Every capture with kept bytes, for re-extraction."""
        for document in documents:
            for row in self.captures(document):
                if row.stored is not None:
                    yield row

    def update_extraction(
        self,
        capture_id: int,
        outcome: Outcome,
        reason: str | None,
        title: str | None,
        body: str | None,
        body_sha1: str | None,
        stated_date: date | None = None,
    ) -> None:
        with self.connection:
            self.connection.execute(
                "UPDATE captures SET outcome = ?, reason = ?, title = ?, body = ?, body_sha1 = ?, stated_date = ?"
                " WHERE id = ?",
                (
                    str(outcome),
                    reason,
                    title,
                    body,
                    body_sha1,
                    stated_date.isoformat() if stated_date else None,
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
            return DocumentState(document, 0, None, None, None, None, None)
        return DocumentState(
            document,
            row["consecutive_failures"],
            row["last_failure"],
            _time(row["last_failure_at"]),
            _time(row["last_success_at"]),
            row["etag"],
            row["last_modified"],
        )

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
