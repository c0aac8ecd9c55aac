"""``catalog.sqlite3``'s tables, their additive migrations, and opening it (read-only or not)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from policy_archive.errors import StateError

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
CREATE INDEX IF NOT EXISTS captures_in_time ON captures (document, captured_at);
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
    # What extraction removed from inside the located content (JSON list of {reason, words, sample}; NULL for
    # rows extracted before 2026-11-27 and for refused ones): what makes a page "hard" for a reviewer.
    "dropped": "TEXT",
    # ``FILE:OFFSET`` of the revisit record kept for a listed capture never fetched that dates a version (known
    # through its twin, same digest): so that a lost catalog lists it again from the WARC files, and the record is
    # written once (docs/decisions/0004, amendment of 2026-11-28).
    "revisit": "TEXT",
    # For a capture that could not be fetched (outcome failed): 1 when running again alone gets the same answer (an
    # answer, a rendering's answers or its DOM over max_page_bytes, a header too long: FetchFailure.lasting), 0 when
    # it may not; NULL for rows failed before 2026-11-29, judged from their reason's opening (crawler/failures.py).
    "lasting": "INTEGER",
    # For a capture refused on the archive's own answer to its replay, a refusal that may be the configuration's or
    # a passing fault's rather than the capture's (``listed_captures.ASKED_AGAIN``: not-archived, ...): the
    # ``[wayback] replay_url`` it was asked of, so that a backfill under another replay_url asks it again
    # (docs/decisions/0019). NULL for other rows and for refusals made before 2026-11-29 (which archive is not
    # known: asked again only by ``backfill --retry-refused``).
    "replay_url": "TEXT",
    # The ``Extractor:`` trailer of the reading that gave the row's text (``extract.extractor_label``: the extractor's
    # revision and the rules' fingerprint): a text read again for a capture never fetched, known through this one (its
    # twin), is only taken as it is when the version it dates names the same reading; else the kept bytes are read
    # again (``decided_versions``; docs/decisions/0015, amendment of 2026-11-29). NULL: extracted before it, not known.
    "extractor": "TEXT",
}

# The same for the documents table. backfill_failure: why the document's last backfill failed (NULL when it
# succeeded, or none ran since these columns came), so `status` names it until a backfill succeeds;
# backfill_unexamined: how many listed captures that backfill left unexamined because it was interrupted (NULL:
# it worked through its listing); backfill_unlisted: 1 when it could not list the document at all (its listing
# failed, or the run stopped before it), so that `status` claims no count of what was not verified;
# backfill_at: when the document's last backfill ended, whatever its outcome (NULL: none recorded since
# 2026-11-28), so that `status` tells a document never backfilled from one with nothing left to verify.
ADDED_DOCUMENT_COLUMNS = {
    "backfill_failure": "TEXT",
    "backfill_failure_at": "TEXT",
    "backfill_unexamined": "INTEGER",
    "backfill_unlisted": "INTEGER NOT NULL DEFAULT 0",
    "backfill_at": "TEXT",
}

# The same for the versions table. url: the site's URL the version's bytes were captured at (``CaptureRow.bytes_url``
# of the capture it was made from), so that its capture is told from another URL's in the same second (a redirect
# followed to its target's memento beside the target's own row, a URL move): docs/decisions/0004, amendment of
# 2026-11-29. NULL in a catalog from before it until a writing command reads the versions again from Git
# (``VERSIONS_UNFILLED``). bytes_at: when the version's bytes were captured (its ``Captured-At``), which is its date
# (``captured_at``, the commit's) for an ordinary version and not for a technical upgrade (dated when it was made):
# what its capture is found by (amendment of 2026-11-29, "bytes' time"). NULL: not known, read as its date.
ADDED_VERSION_COLUMNS = {"url": "TEXT", "bytes_at": "TEXT"}

# The same for the runs table. captures_before: the highest ``captures.id`` when the run started (0: none yet), its
# watermark. The data directory's lock makes writing runs one after another and a capture's id only grows (rows are
# never deleted, an upsert keeps its row's id), so the captures a run made are those with ids above its watermark and
# up to the next run's: what tells a killed `track`'s captures from the next run's (``RunTable.unrecorded_tracks``),
# where the runs' start times, whole seconds, could not when the next run started in the second of its last capture
# (docs/decisions/0004, amendment of 2026-11-29, "a run's captures by their ids"). NULL: a run of a release before
# it, whose captures are told by the times as they were then. Not told: a run's capture of the URL an earlier run
# captured in the same second (the upsert keeps the earlier row and its id), a run that fetches a page in the second
# the run before it fetched the same page.
ADDED_RUN_COLUMNS = {"captures_before": "INTEGER"}

# Indexes over added columns, made once those columns exist (in an older catalog, after its ALTER TABLEs).
# captures_by_bytes_time: a capture looked up by the time its bytes date from (``capture_at``, ``version_capture``),
# ``COALESCE(memento_at, captured_at)``, which captures_in_time cannot serve: without it each lookup read every row of
# the document (on one document of 160,000 rows, 159–315 ms a lookup instead of 0.15–0.26 ms; 2026-11-29, CHANGELOG).
ADDED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS captures_by_bytes_time ON captures (document, COALESCE(memento_at, captured_at))",
)


_ADDED = (
    ("captures", ADDED_COLUMNS),
    ("documents", ADDED_DOCUMENT_COLUMNS),
    ("versions", ADDED_VERSION_COLUMNS),
    ("runs", ADDED_RUN_COLUMNS),
)


class CatalogUnreadable(StateError):
    """``catalog.sqlite3`` is not a catalog SQLite can read: truncated, overwritten, or an empty file."""


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


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """The catalog at ``path``, created or brought up to date unless ``read_only`` (which never writes, not even
    the schema, so that `log`, `show`, `diff` and `status` work on a read-only data directory)."""
    try:
        if read_only:
            connection = _connect_read_only(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=60, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.row_factory = sqlite3.Row
            if not _complete(connection):
                _complete_schema(connection)
        connection.row_factory = sqlite3.Row
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'versions'").fetchone():
            raise CatalogUnreadable(f"{path} holds no catalog (an empty file?)")
        # A reader needs the captures' columns; a documents column it lacks is read as a writer will fill it in
        # (``catalog.runs``), so a catalog of a release before it stays readable on a read-only data directory.
        if read_only and _missing_columns(connection):
            raise StateError(f"{path} {INCOMPLETE}")
    except sqlite3.DatabaseError as error:
        # Only corruption is "unreadable": a locked, full or read-only database is another problem.
        if getattr(error, "sqlite_errorcode", 0) & 0xFF not in (SQLITE_CORRUPT, SQLITE_NOTADB):
            raise
        raise CatalogUnreadable(f"{path} cannot be read ({error})") from None
    return connection


def _missing_columns(
    connection: sqlite3.Connection, table: str = "captures", added: dict[str, str] = ADDED_COLUMNS
) -> list[str]:
    present = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
    return [column for column in added if column not in present]


# A catalog from before backfill_at saw a backfill of each document with a capture listed in an archive; when it
# ended is not known, so it is dated by the last update of those captures (`status` only asks whether one ran).
BACKFILLED_BEFORE = (
    "SELECT document, MAX(updated_at) AS backfill_at FROM captures WHERE source = 'wayback' GROUP BY document"
)
# A catalog from before versions.url or versions.bytes_at holding versions: ``meta`` says their URLs and bytes' times
# are to be read from Git, which SQL cannot (the commits' Captured-At and Snapshot-Url, matched against the
# captures), and which the next writing command does once (``open_workspace``); until then, and for a reader, a
# version's capture is found by its date alone. A catalog brought up to date for versions.url alone (2026-11-29,
# unreleased) may hold that migration's mark, ``versions_url_unfilled``: it says the same.
VERSIONS_UNFILLED = "versions_unfilled"
VERSIONS_UNFILLED_MARKS = (VERSIONS_UNFILLED, "versions_url_unfilled")
_MARK_VERSIONS_UNFILLED = (
    f"INSERT OR REPLACE INTO meta (key, value) SELECT '{VERSIONS_UNFILLED}', '1' WHERE EXISTS (SELECT 1 FROM versions)"
)
# What a column added to an older catalog starts with, when NULL would be wrong for the rows already there.
FILLED_COLUMNS = {
    ("documents", "backfill_at"): (
        f"INSERT INTO documents (document, backfill_at) {BACKFILLED_BEFORE}"
        " ON CONFLICT (document) DO UPDATE SET backfill_at = excluded.backfill_at"
    ),
    ("versions", "url"): _MARK_VERSIONS_UNFILLED,
    ("versions", "bytes_at"): _MARK_VERSIONS_UNFILLED,
}


# Said by a reader (which writes nothing) of a catalog without every table and column of this version. Since
# 2026-11-28 a catalog is made, and brought up to date, in one transaction (``_complete_schema``); before, a disk
# that filled during the first run could leave the tables without their later columns (acceptance report 7, F13).
INCOMPLETE = (
    "lacks tables or columns this policy-archive reads (made by an older policy-archive, or left half-made when "
    "its first run stopped, a full disk?): the next writing command (or `policy-archive repair`) completes it"
)
TABLES = ("captures", "versions", "documents", "runs", "meta", "unverified_spans")


def _complete(connection: sqlite3.Connection) -> bool:
    """Whether the catalog has every table, index and column of this version (no lock, no write)."""
    names = {row["name"] for row in connection.execute("SELECT name FROM sqlite_master")}
    indexes = set(re.findall(r"CREATE INDEX IF NOT EXISTS (\w+)", "\n".join((SCHEMA, *ADDED_INDEXES))))
    if not set(TABLES) | indexes <= names:
        return False
    return not any(_missing_columns(connection, table, added) for table, added in _ADDED)


def _complete_schema(connection: sqlite3.Connection) -> None:
    """Create what is missing — the tables of a new catalog, the columns added since an older one was made, with
    what they start with — in one transaction: a catalog is whole or as it was, whatever stops this (a full disk,
    a kill). The write lock is taken first (IMMEDIATE), so another process completing it at the same time waits
    and then finds nothing to do."""
    try:
        connection.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}")  # the transaction stays open: no COMMIT in it
        for table, added in _ADDED:
            for column in _missing_columns(connection, table, added):
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {added[column]}")
                if fill := FILLED_COLUMNS.get((table, column)):
                    connection.execute(fill)
        for index in ADDED_INDEXES:
            connection.execute(index)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
