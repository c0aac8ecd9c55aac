"""The catalog's records: one row of ``captures`` (``CaptureRow``, with its ``Outcome``), of ``versions``, of
``documents`` and of ``unverified_spans``, and a `track` run of ``runs`` left unrecorded, as the catalog reads
them; and how a time and the dropped blocks are written in a column."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from policy_archive.archive.captures import StoredCapture
from policy_archive.digests import PayloadDigest
from policy_archive.records import Dropped, Source, parse_iso_z
from policy_archive.text import safe_url


class Outcome(StrEnum):
    """What became of a capture, as the ``outcome`` column holds it (each value's meaning beside it)."""

    LISTED = "listed"  # seen in a CDX listing, not fetched
    EXTRACTED = "extracted"  # fetched and extracted: body_sha1 holds the text's identity
    REFUSED = "refused"  # fetched, but not a version of the document (404, soft-404, empty, ...): see reason
    FAILED = "failed"  # could not be fetched (network, archive error): may be retried by a later run
    NOT_MODIFIED = "not-modified"  # a live conditional request answered 304


@dataclass(frozen=True, slots=True)
class CaptureRow:
    """One row of ``captures``: the listed capture (``url``, ``captured_at``, ``status``, ``mimetype``, ``digest`` as
    the CDX row gave them; a live fetch's own), what its fetch served (``fetched_*``, ``memento_*``), where its bytes
    are kept (``stored``) and what extraction made of them."""

    id: int
    document: str
    source: Source
    url: str
    captured_at: datetime
    status: int | None
    mimetype: str | None
    digest: PayloadDigest | None  # the CDX row's, in the algorithm it names
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
    def version_snapshot_url(self) -> str:
        """The ``Snapshot-Url`` of a version made from this row (``examine.make_version``): the archive's ``id_``
        URL of its bytes, else the URL fetched, percent-encoded where it could break a line."""
        return version_snapshot_url(self.snapshot_url, self.fetched_url, self.url)

    @property
    def served_status(self) -> int | None:
        """The status the bytes were served with; older rows kept it in ``status`` (overwriting the CDX one)."""
        return self.fetched_status if self.fetched_status is not None else self.status

    @property
    def served_mimetype(self) -> str | None:
        """The content type the bytes were served with; older rows (no ``fetched_status``) kept it in ``mimetype``."""
        return self.fetched_mimetype if self.fetched_status is not None else self.mimetype

    stated_date: date | None = None
    dropped: tuple[Dropped, ...] = ()
    lasting: bool | None = None  # a failed capture: running again alone gets the same answer (None: not known)
    extractor: str | None = None  # the reading that gave ``body`` (an ``Extractor:`` trailer; None: not known)


@dataclass(frozen=True)
class VersionRow:
    """One row of ``versions``: the version of ``document`` dated ``captured_at`` (UTC, its commit date) is the
    commit ``commit``; ``url`` is the site's URL its bytes were captured at (:attr:`CaptureRow.bytes_url`), what
    tells its capture from another URL's in the same second, and :attr:`bytes_at` when they were captured, what its
    capture is found by (None: not known, a catalog from before 2026-11-29 not yet brought up to date by a writing
    command)."""

    document: str
    captured_at: datetime
    commit: str
    url: str | None = None
    stored_bytes_at: datetime | None = None  # the ``bytes_at`` column

    @property
    def bytes_at(self) -> datetime:
        """When the version's bytes were captured (its ``Captured-At``): its date for an ordinary version, the time of
        the capture it was made from for a technical upgrade (dated when it was made). Not known (a catalog from
        before 2026-11-29 read before any writing command): its date, which misses an upgrade's capture."""
        return self.stored_bytes_at or self.captured_at


@dataclass(frozen=True)
class VersionOrigin:
    """What a version's commit says of the capture it was made from: when its bytes were captured (its
    ``Captured-At``, which a technical upgrade's commit date is not) and its ``Snapshot-Url``. The catalog finds
    the version's URL from them (``VersionTable``)."""

    bytes_at: datetime
    snapshot_url: str


@dataclass(frozen=True)
class DocumentState:
    """One row of ``documents``: the last live fetches' failures in a row and validators (``etag``, ``last_modified``)
    for conditional requests, and the last backfill's outcome; all times UTC."""

    document: str
    consecutive_failures: int
    last_failure: str | None
    last_failure_at: datetime | None
    last_success_at: datetime | None
    etag: str | None
    last_modified: str | None
    # Why the last backfill of the document failed, and when (None: it succeeded, or none ran since 2026-11-27).
    backfill_failure: str | None = None
    backfill_failure_at: datetime | None = None
    # Listed captures that backfill left unexamined because it was interrupted (None: it worked through its
    # listing), and whether it could not list the document at all.
    backfill_unexamined: int | None = None
    backfill_unlisted: bool = False
    # When the last backfill of the document ended (None: none recorded since 2026-11-28).
    backfill_at: datetime | None = None


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


@dataclass(frozen=True)
class UnrecordedTrack:
    """A `track` run that may have kept live captures without recording their versions (``RunTable``), and where
    its captures are: made after it started and before the run after it (if any) started.

    ``captures_after``/``captures_up_to``: the catalog's highest capture id when it and the next run started (their
    watermarks, ``runs.captures_before``), which say which rows each run made. None where a run of a release before
    2026-11-29 left none: its bound is then its start time, to the second (``started_at`` included,
    ``next_started_at`` excluded), which misses a capture made in the second the next run started."""

    run_id: int
    started_at: datetime
    next_started_at: datetime | None  # None: no run since
    captures_after: int | None
    captures_up_to: int | None  # None: no run since, or one without a watermark


def version_snapshot_url(snapshot_url: str | None, fetched_url: str | None, url: str) -> str:
    """:attr:`CaptureRow.version_snapshot_url` from those three columns (what the catalog matches a version's
    ``Snapshot-Url`` against, reading only them)."""
    return safe_url(snapshot_url or fetched_url or url)


def column_time(text: str | None) -> datetime | None:
    """A time column (ISO 8601, Z) read back; None for NULL."""
    return parse_iso_z(text) if text else None


def dropped_json(dropped: tuple[Dropped, ...]) -> str | None:
    """The ``dropped`` column: a JSON list, or NULL when nothing was dropped."""
    if not dropped:
        return None
    return json.dumps([{"reason": d.reason, "words": d.words, "sample": d.sample} for d in dropped], ensure_ascii=False)


def dropped_of(text: str | None) -> tuple[Dropped, ...]:
    """The ``dropped`` column read back."""
    return tuple(Dropped(d["reason"], d["words"], d["sample"]) for d in json.loads(text)) if text else ()
