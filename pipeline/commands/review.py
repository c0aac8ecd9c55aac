"""`log`, `show` and `diff`: answered from the catalog's versions table, then one Git read for the text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome, VersionRow
from policy_archive.archive.history import parse_message
from policy_archive.archive.versions import VersionStore
from policy_archive.errors import DocumentError
from policy_archive.pipeline.extraction.dropped import hard_note
from policy_archive.pipeline.jobs.unverified import captures_per_version
from policy_archive.records import DocumentDeclaration, iso_z


class NoVersion(DocumentError):
    """`show` or `diff` asked for a version the document does not have (at a date, or at all): that document
    failed (``FAILED SERVICE/DOC: reason``, exit 1). `log` lists no version instead: an empty list is its answer."""


@dataclass(frozen=True)
class LogEntry:
    """One version as `log` (and the report site) shows it: its capture time (UTC), commit and source, and what is
    known of how sure it is (unverified captures, hard extraction, a guard's note)."""

    captured_at: datetime
    commit: str
    source: str
    subject: str
    snapshot_url: str
    unchanged_at: datetime | None  # the last capture seen with the previous text: the change window's start
    note: str | None = None  # why the version was recorded although a guard objected
    stated_date: str | None = None  # the date the text gives itself (Stated-Date trailer)
    document: str = ""
    unverified_captures: int = 0  # listed captures a backfill assumed to show this version without fetching
    hard: str | None = None  # what extraction dropped from inside the content, when enough to check by hand

    def as_json(self) -> dict[str, object]:
        """The object `log --json` prints for this version."""
        return {
            "date": iso_z(self.captured_at),
            "commit": self.commit,
            "source": self.source,
            "subject": self.subject,
            "snapshot_url": self.snapshot_url,
            "stated_date": self.stated_date,
            "unchanged_since": iso_z(self.unchanged_at) if self.unchanged_at else None,
            "document": self.document,
            "note": self.note,
            "unverified_captures": self.unverified_captures,
            "hard": self.hard,
        }


NO_VERSION_YET = "no recorded version yet"


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def version_at(catalog: Catalog, declaration: DocumentDeclaration, day: date | None) -> VersionRow:
    """The version in force at the end of ``day`` (the latest version when ``day`` is None)."""
    versions = catalog.versions(declaration.key)
    if not versions:
        raise NoVersion(declaration.key, NO_VERSION_YET)
    if day is None:
        return versions[-1]
    earlier = [v for v in versions if v.captured_at <= _end_of(day)]
    if not earlier:
        first = versions[0].captured_at.date().isoformat()
        raise NoVersion(declaration.key, f"no version on or before {day} (the first is from {first})")
    return earlier[-1]


def log(catalog: Catalog, store: VersionStore, declaration: DocumentDeclaration) -> list[LogEntry]:
    """The document's versions in date order (none yet: an empty list)."""
    versions = catalog.versions(declaration.key)
    entries = []
    assumed = captures_per_version([row.captured_at for row in versions], catalog.unverified_spans(declaration.key))
    for row, unverified in zip(versions, assumed, strict=True):
        capture = catalog.version_row(declaration.key, row.bytes_at, row.url)
        subject, trailers = parse_message(store.message(row.commit))
        entries.append(
            LogEntry(
                row.captured_at,
                row.commit,
                str(capture.source) if capture else trailers.get("Source", ""),
                subject,
                # The commit's own word: the catalog row at the version's date may be a twin never fetched (its
                # bare site URL), a technical upgrade's, or gone after a catalog rebuild.
                trailers.get("Snapshot-Url", ""),
                capture.window_start if capture else None,
                capture.note if capture else None,
                trailers.get("Stated-Date"),
                declaration.key,
                unverified,
                _hard(catalog, declaration.key, row, capture),
            )
        )
    return entries


def _hard(catalog: Catalog, document: str, version: VersionRow, capture: CaptureRow | None) -> str | None:
    """What extraction dropped from the version's text: from its extracted capture, or from the twin fetched
    for a version dated at an unfetched one (the listed row has no extraction of its own)."""
    if capture is None or capture.outcome is not Outcome.EXTRACTED:
        capture = catalog.version_capture(document, version.bytes_at, version.url)
    return hard_note(capture.dropped) if capture else None


def format_log(entries: list[LogEntry]) -> str:
    """One line a version: date, commit, source, subject, snapshot; then the change window when known."""
    lines = []
    for e in entries:
        window = f"  (unchanged at {iso_z(e.unchanged_at)})" if e.unchanged_at else ""
        line = f"{iso_z(e.captured_at)}  {e.commit[:10]}  {e.source:<7}  {e.subject}  {e.snapshot_url}{window}"
        line += f"\n    note: {e.note}" if e.note else ""
        lines.append(line + (f"\n    hard: {e.hard}" if e.hard else ""))
    return "\n".join(line.rstrip() for line in lines)


def format_logs(catalog: Catalog, store: VersionStore, declarations: Sequence[DocumentDeclaration]) -> str:
    """The log of one document, or of each document of a service under its name; a document with no version
    yet says so in place of its versions."""
    parts = []
    for declaration in declarations:
        entries = log(catalog, store, declaration)
        text = format_log(entries) if entries else f"({declaration.key} has {NO_VERSION_YET})"
        parts.append(text if len(declarations) == 1 else f"{declaration.key}\n{text}")
    return "\n\n".join(parts)


def format_waiting(declarations: Sequence[DocumentDeclaration], running: str) -> str:
    """`log` while the first writer of the data directory runs: each document has no recorded version yet, and
    what runs is said (``(acme/privacy-policy has no recorded version yet: backfill (PID 1234) is running)``)."""
    parts = [f"({declaration.key} has {NO_VERSION_YET}: {running})" for declaration in declarations]
    if len(declarations) > 1:
        parts = [f"{declaration.key}\n{part}" for declaration, part in zip(declarations, parts, strict=True)]
    return "\n\n".join(parts)


def log_json(catalog: Catalog, store: VersionStore, declarations: Sequence[DocumentDeclaration]) -> str:
    """`log --json`: one JSON array of every version of the documents, each document's in date order (``[]``
    when none has a version yet)."""
    entries = [entry for declaration in declarations for entry in log(catalog, store, declaration)]
    return json.dumps([entry.as_json() for entry in entries], indent=2, ensure_ascii=False)


def show(catalog: Catalog, store: VersionStore, declaration: DocumentDeclaration, day: date | None) -> str:
    """The Markdown text of the document's version in force at the end of ``day`` (UTC; None: the latest), read from
    the Git history; raises :class:`NoVersion` when there is no version yet or none on or before ``day``."""
    return store.read(version_at(catalog, declaration, day).commit, declaration.path)


def diff(
    catalog: Catalog,
    store: VersionStore,
    declaration: DocumentDeclaration,
    since: date | None,
    until: date | None,
) -> str:
    """Unified diff between the versions in force at two dates (default: the last change)."""
    new = version_at(catalog, declaration, until)
    if since is not None:
        old: VersionRow | None = version_at(catalog, declaration, since)
    else:
        versions = catalog.versions(declaration.key)
        position = versions.index(new)
        old = versions[position - 1] if position else None
    if old is not None and old.commit == new.commit:
        return (
            f"no change between {since} and {until or 'the latest version'}: "
            f"both show the version of {iso_z(new.captured_at)}\n"
        )
    return store.diff(old.commit if old else None, new.commit, declaration.path)
