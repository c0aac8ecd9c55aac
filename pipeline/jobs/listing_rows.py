"""What a listing's rows say before anything is fetched: the listings that cover a document's life (its history
entries, then its URL), which rows are worth fetching and in what order, and between which neighbours' times each
one's text may be dated (docs/decisions/0008). Used by backfill's plan and by ``reextract``, which judges kept
captures against the same listing."""

from __future__ import annotations

import functools
from array import array
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from policy_archive.crawler.sources import ArchiveSource, ListingClient
from policy_archive.crawler.sources.base import LISTED_BLOCKED
from policy_archive.listed import (
    ListedRows,
    before_in_listing,
    blocked_of,
    listed,
    mimetype_of,
    same_second,
    status_of,
    timestamp_of,
    url_of,
)
from policy_archive.pipeline.jobs.examine import ARCHIVED_STATUS, Neighbours, in_the_future
from policy_archive.pipeline.jobs.future_dates import CLOCK_SKEW
from policy_archive.pipeline.jobs.listing_index import ListingIndex
from policy_archive.records import CaptureRef, DocumentDeclaration, at_second

# Why a row the archive lists as blocked (``CaptureRef.blocked``: pywb's ``"access": "block"``, its replay would answer
# 451) is refused without asking for it, by backfill and discover alike (:func:`access_refusal`); each reads the
# listing again on every run, so a rule lifted makes the row a candidate again. BLOCKED_ROW is the backfill's words
# as the catalog keeps them (``listed_captures`` finds the rows to judge again by them: never reworded).
NOT_ASKED_BLOCKED = f"{LISTED_BLOCKED}: not asked for"
BLOCKED_ROW = f"{NOT_ASKED_BLOCKED} (every backfill reads the listing again)"
FETCHABLE_STATUSES = {200, 301, 302, 303, 307, 308, None}
DOCUMENT_MIMETYPES = (
    "text/html",
    "application/xhtml",
    "application/pdf",
    "text/plain",
    "unk",
    "warc/revisit",
)


def segments(
    declaration: DocumentDeclaration, since: date | None, until: date | None
) -> list[tuple[str, datetime | None, datetime | None]]:
    """(URL, from, to) listings that cover the document's life: its history entries, then its current URL."""
    result = []
    start = since
    for entry in declaration.history:
        end = min(entry.valid_until, until) if until else entry.valid_until
        if start is None or start <= end:
            result.append((entry.url, _day_start(start), _day_end(end)))
        start = max(start, entry.valid_until + timedelta(days=1)) if start else entry.valid_until + timedelta(days=1)
    if start is None or until is None or start <= until:
        result.append((declaration.url, _day_start(start), _day_end(until)))
    return result


def listing(
    declaration: DocumentDeclaration,
    since: date | None,
    until: date | None,
    source: ArchiveSource,
    client: ListingClient,
) -> Sequence[CaptureRef]:
    """Every row of the listings that cover the document's life (:func:`segments`), in turn, held by column
    (``policy_archive.listed``) as the archive source lists them: a long listing's rows, as objects, were most of
    a backfill's memory (2026-11-29). A URL is listed without its fragment (render = "always" only): no capture is
    filed under one, a fragment never reaching a server; the rendering gives it back to the page's scripts
    (``examine.rendering_request``)."""
    parts = [
        source.listed_captures_patiently(url.partition("#")[0], client, start, end)
        for url, start, end in segments(declaration, since, until)
    ]
    return parts[0] if len(parts) == 1 else listed(ref for part in parts for ref in part)


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _day_end(day: date | None) -> datetime | None:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC) if day else None


def refusal_before_fetch(ref: CaptureRef, clock: datetime) -> str | None:
    """CDX rows that cannot be a text of the document are not fetched at all: another status, not a document, blocked by
    the archive's access rules (its replay would answer 451), or dated after the run's ``clock`` began
    (``examine.in_the_future``: no archive lists a capture from the future; a version dated so stayed the document's
    latest, every later one put before it)."""
    if future := in_the_future(ref.timestamp, clock, "listed at"):
        return future
    return _row_refusal(ref)


def _row_refusal(ref: CaptureRef) -> str | None:
    """What a row's status, type and access alone refuse (:func:`refusal_before_fetch` without the clock)."""
    return BLOCKED_ROW if access_refusal(ref) else _type_refusal(ref.status, ref.mimetype)


def access_refusal(ref: CaptureRef) -> str | None:
    """Why the archive's access rules refuse ``ref`` before any request (:data:`NOT_ASKED_BLOCKED`), or None: a row
    its listing says is blocked is never asked for, by backfill (:data:`BLOCKED_ROW`) or by discover (a home page
    not read, said among those that could not be), until a listing says otherwise."""
    return NOT_ASKED_BLOCKED if ref.blocked else None


@functools.lru_cache(maxsize=1024)
def _type_refusal(status: int | None, mimetype: str | None) -> str | None:
    """:func:`_row_refusal` of a row with this status and type (a listing repeats a few of them)."""
    if status not in FETCHABLE_STATUSES:
        return f"{ARCHIVED_STATUS} {status}"
    if mimetype and not mimetype.lower().startswith(DOCUMENT_MIMETYPES):
        return f"not a document ({mimetype})"
    return None


def candidates(refs: Iterable[CaptureRef], clock: datetime) -> Sequence[CaptureRef]:
    """The captures of a listing worth fetching (not refused from their row alone, at the run's ``clock``), once
    each, in time order; held by column when ``refs`` are (:class:`~policy_archive.listed.ListedRows`), else a
    list. A listing already in time and URL order (an archive's, ``list_captures``) is put in order second by
    second, without a set of its rows and a sort key per row (a long listing's peak memory, 2026-11-29)."""
    rows = refs if isinstance(refs, Sequence) else list(refs)
    if (
        isinstance(rows, ListedRows)
        and ListedRows.holds(clock)
        and not any(before_in_listing(rows, index, index + 1) for index in range(len(rows) - 1))
    ):
        return _listed_candidates(rows, clock)
    chosen: list[CaptureRef] = []
    second: list[CaptureRef] = []
    for ref in rows:
        if refusal_before_fetch(ref, clock) is not None:
            continue
        if second and (ref.timestamp, ref.url) != (second[0].timestamp, second[0].url):
            if (ref.timestamp, ref.url) < (second[0].timestamp, second[0].url):  # out of order: sorted whole
                return sorted({ref for ref in rows if refusal_before_fetch(ref, clock) is None}, key=_listing_order)
            chosen.extend(sorted(set(second), key=_listing_order))
            second = []
        second.append(ref)
    chosen.extend(sorted(set(second), key=_listing_order))
    return chosen


def _listed_candidates(rows: ListedRows, clock: datetime) -> ListedRows:
    """:func:`candidates` of a listing held by column, in time and URL order: a second of one row (most) is taken
    by its numbers, judged by its time, status and type, without making the row."""
    chosen = rows.sharing()
    latest = rows.time_number(clock + CLOCK_SKEW)  # the latest time not in the future (``in_the_future``)
    start = 0
    for end in range(1, len(rows) + 1):
        if end < len(rows) and same_second(rows, start, end):
            continue
        if end - start > 1:
            second = {rows[index] for index in range(start, end)}
            chosen.extend(
                sorted((ref for ref in second if refusal_before_fetch(ref, clock) is None), key=_listing_order)
            )
        elif (
            rows.time_key(start) <= latest
            and not rows.blocked(start)
            and _type_refusal(rows.status(start), rows.mimetype(start)) is None
        ):
            chosen.take(rows, start)
        start = end
    return chosen


def _listing_order(ref: CaptureRef) -> tuple[datetime, str, str, int, str, int]:
    """Time order; rows listed at one URL and second in an order of their own (not the set's, which changes from
    one process to the next), so that a run asks for the same one of them."""
    return (ref.timestamp, ref.url, str(ref.digest or ""), ref.status or 0, ref.mimetype or "", ref.length or 0)


def second_neighbours(
    refs: Sequence[CaptureRef], kept: Mapping[tuple[str, datetime], CaptureRef] | None = None
) -> dict[tuple[str, datetime], Neighbours]:
    """For each URL and second of the candidates ``refs`` (in listing order), when the nearest captures listed
    before and after it whose bytes are the document's URL's own (not an archived redirect) were taken: what the
    text its bytes show may be dated between (``examine.archived_elsewhen``, docs/decisions/0008). Redirect rows
    are passed over: their bytes are their target's nearest memento, not their listed time, and one target's
    nearest memento never goes back in time as the rows go forward, so a run of daily redirects to a weekly
    captured target keeps the target's order (a redirect row's listed time as a bound refused 261 of 365 such
    captures: README, Fidelity).

    Rows listed at one URL and second are one capture (``records.at_second``; docs/decisions/0004, one capture per
    URL and second): never each other's neighbours (each bounded the other's bytes to their own second, and a
    redirect's target was refused as archived "after the document's next capture", the same second), and their
    second bounds the others as the one row the catalog keeps there says (``kept``, by URL and second; the first
    in ``refs`` where it keeps none): ``reextract`` and ``verify`` know that row only, and judge as backfill did.
    A second whose kept row is not a candidate (``refusal_before_fetch``) has no neighbours and bounds nothing,
    as for them (``refs`` are candidates, so none is dated in the future, nor is a kept row at their second)."""
    ones = []
    for key, group in at_second(refs).items():
        one = kept.get(key, refs[group[0]]) if kept else refs[group[0]]
        if _row_refusal(one) is None:
            ones.append(one)
    previous: list[datetime | None] = []
    last = None
    for ref in ones:
        previous.append(last)
        last = last if _redirect_row(ref) else ref.timestamp
    following: list[datetime | None] = []
    last = None
    for ref in reversed(ones):
        following.append(last)
        last = last if _redirect_row(ref) else ref.timestamp
    return {
        (ref.url, ref.timestamp): Neighbours(before, after)
        for ref, before, after in zip(ones, previous, reversed(following), strict=True)
    }


def listing_neighbours(
    refs: Sequence[CaptureRef], kept: Mapping[tuple[str, datetime], CaptureRef] | None = None
) -> list[Neighbours | None]:
    """:func:`second_neighbours` of each of ``refs`` (None: its second's kept row is no candidate)."""
    around = second_neighbours(refs, kept)
    return [around.get((ref.url, ref.timestamp)) for ref in refs]


# In :class:`NeighbourRows`: no neighbours (the second's kept row is no candidate), and no capture on that side.
NO_NEIGHBOURS, NONE = -2, -1


class NeighbourRows:
    """:func:`listing_neighbours` of a plan's candidates, kept as two positions per row (the first row of the
    second before and after whose time bounds it), not a record per row: the same bounds, for a long listing's
    plan (2026-11-29)."""

    def __init__(self, index: ListingIndex, kept: Mapping[tuple[str, datetime], CaptureRef] | None = None):
        self.refs = index.refs
        self.previous = self._nearest(index, kept, backwards=False)
        self.following = self._nearest(index, kept, backwards=True)

    def __getitem__(self, position: int) -> Neighbours | None:
        before, after = self.previous[position], self.following[position]
        if before == NO_NEIGHBOURS:
            return None
        return Neighbours(self._time(before), self._time(after))

    def _time(self, position: int) -> datetime | None:
        return None if position == NONE else self.refs[position].timestamp

    def _nearest(
        self, index: ListingIndex, kept: Mapping[tuple[str, datetime], CaptureRef] | None, *, backwards: bool
    ) -> array[int]:
        """For each row, the first row of the nearest second before it (``backwards``: after it) whose kept row
        is a candidate and no redirect, as :func:`second_neighbours` walks them."""
        nearest = array("q", [NO_NEIGHBOURS]) * len(self.refs)
        last = NONE
        refs = self.refs
        for group in index.seconds(backwards=backwards):
            first = group[0]  # its fields read by column: no row made per second
            one = kept.get((url_of(refs, first), timestamp_of(refs, first))) if kept else None
            status, mimetype = (one.status, one.mimetype) if one else (status_of(refs, first), mimetype_of(refs, first))
            blocked = one.blocked if one else blocked_of(refs, first)
            if blocked or _type_refusal(status, mimetype) is not None:
                continue
            for position in group:
                nearest[position] = last
            last = last if (status or 0) // 100 == 3 else first
        return nearest


def _redirect_row(ref: CaptureRef) -> bool:
    return (ref.status or 0) // 100 == 3
