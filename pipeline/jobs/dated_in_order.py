"""A version dated in the order of the captures: which capture of a run dates the text it shows, or why none can.

A capture's bytes date a version only in the order the listing shows: not before the version found before it, not
after the capture showing the next text (an archived redirect's target may be archived far from it). Backfill and
``reextract --rebuild`` decide here alike (docs/decisions/0008). A capture refused when the versions are made, for
its date or by the guards, keeps its text: it is decided again on every run, against the history as it is then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.pipeline.jobs.examine import ELSEWHEN
from policy_archive.pipeline.jobs.guards import GUARD_REFUSALS
from policy_archive.pipeline.jobs.report import refusal_kind, twin_reason
from policy_archive.records import CaptureRef, iso_z


def out_of_order(bytes_at: datetime, previous: datetime | None, unchanged_since: datetime | None) -> str | None:
    """Why a change found in the listing's order cannot be a version dated ``bytes_at`` (None when it can): its
    bytes were archived before the version found before it (dated ``previous``), or no later than the last
    capture showing that version's text. :func:`.archived_elsewhen` holds a capture's bytes between the document's
    own captures listed around it, not between the redirects around it, whose targets' mementos are known only
    once fetched: two runs of redirects to different targets whose mementos cross are caught here
    (docs/decisions/0008)."""
    if previous is not None and bytes_at < previous:
        bound = previous
    elif unchanged_since is not None and bytes_at <= unchanged_since:
        bound = unchanged_since
    else:
        return None
    return f"{ELSEWHEN}: its bytes were archived {iso_z(bytes_at)}, not after the text found before it ({iso_z(bound)})"


def overtaken_by(bytes_at: datetime, following: CaptureRef | None) -> str | None:
    """Why a version dated ``bytes_at`` cannot stand when the change after it is found at ``following`` (None
    when it can, or when no change follows): its bytes were archived after the document's URL was captured
    showing another text."""
    if following is None or bytes_at <= following.timestamp:
        return None
    return (
        f"{ELSEWHEN}: its bytes were archived {iso_z(bytes_at)}, after the document's capture"
        f" {following.wayback_timestamp} showing another text"
    )


def refuse_change(
    catalog: Catalog, document: str, fetched: CaptureRow, reason: str, twin: CaptureRef | None = None
) -> None:
    """Refuse the capture a change was found at, when its versions are made (backfill and the rebuild): the
    capture ``fetched`` its text came from and, for a ``twin`` never fetched that is known through it (same
    digest), that listed capture too, so that it too says why."""
    catalog.refuse(fetched.id, reason)
    if twin is not None:
        catalog.refuse_listed(document, [(twin, twin_reason(fetched.captured_at, reason))])


def refused_for_its_date(row: CaptureRow) -> bool:
    """Whether a capture was extracted, then refused when the versions were made for its bytes' time (the
    crossing check, :func:`dating_capture`): its text is still what it showed, and the check is made again on
    every run, so that a rerun decides as the first one did instead of searching around it."""
    return row.outcome is Outcome.REFUSED and row.body_sha1 is not None and (row.reason or "").startswith(ELSEWHEN)


def guard_refusal(reason: str | None) -> bool:
    """Whether a refusal (its catalog reason, a twin's too) is the guards' (``guards.judge``): of a text against
    the history around it, made when the versions are made."""
    return refusal_kind(reason) in GUARD_REFUSALS


def refused_by_the_guards(row: CaptureRow) -> bool:
    """Whether a capture was extracted, then refused by the guards when the versions were made: its text is still
    what it showed, and the guards judge it again on every run against the history as it is then (a text refused
    once is recorded once captured on a second day, dated at its first capture), as a backfill from nothing and
    ``reextract --rebuild`` judge it (docs/decisions/0004, amendment of 2026-11-28 (guards))."""
    return row.outcome is Outcome.REFUSED and row.body_sha1 is not None and guard_refusal(row.reason)


def shows_its_text(row: CaptureRow) -> bool:
    """Whether a capture's text is known to the versions' decisions: extracted, or refused when the versions
    were made (:func:`refused_for_its_date`, :func:`refused_by_the_guards`), decided again on every run."""
    return row.outcome is Outcome.EXTRACTED or refused_for_its_date(row) or refused_by_the_guards(row)


def last_seen(listed_at: datetime, bytes_at: datetime, *, dated: bool) -> datetime:
    """When the text before a change was last seen, from the last capture showing it (the change window's start,
    ``unchanged_since``): when its bytes were archived where that text is a version (dated by such bytes), when
    it was listed where that text was refused: an archived redirect's bytes then date nothing of the document,
    but its listed time still says the URL led elsewhere (docs/decisions/0008, amendment of 2026-11-28)."""
    return bytes_at if dated else listed_at


def dating_capture(
    run: Iterable[datetime], previous: datetime | None, unchanged_since: datetime | None, following: CaptureRef | None
) -> int | str:
    """Which capture of a run dates the text it shows, or why none can: ``run`` is when the bytes of each capture
    showing the text were archived, in the listing's order from the one where the change was found to the last
    one before the next change (found at ``following``); ``previous``: the date of the version kept before it;
    ``unchanged_since``: when the text before the change was last seen (:func:`last_seen`). The first capture
    whose bytes lie in order (neither :func:`out_of_order` nor :func:`overtaken_by`) dates the version; when
    none does, the first one's reason refuses the text. Backfill and ``reextract --rebuild`` both decide here, so
    that a rebuilt history is the backfill's (docs/decisions/0008, amendment of 2026-11-28)."""
    first_reason = None
    for index, bytes_at in enumerate(run):
        reason = out_of_order(bytes_at, previous, unchanged_since) or overtaken_by(bytes_at, following)
        if reason is None:
            return index
        first_reason = first_reason or reason
    assert first_reason is not None, "a run holds at least the capture where its change was found"
    return first_reason
