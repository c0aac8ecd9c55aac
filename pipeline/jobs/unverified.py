"""What a backfill did not look at: the spans of listed captures its strategy assumed unchanged (issue 16).

A strategy that does not fetch every capture assumes something about the ones it skipped; a researcher who
counts changes must be able to see how much. Each span is kept in the catalog (``unverified_spans``), the
backfill ends with :func:`summary_line`, ``status`` shows each document's total, and ``backfill
--verify-spans`` fetches inside them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from policy_archive.archive.catalog.rows import UnverifiedSpan
from policy_archive.pipeline.jobs.strategy import Knowledge, StrategyName, spans
from policy_archive.records import CaptureRef
from policy_archive.text import plural


def unverified_spans(
    document: str, refs: Sequence[CaptureRef], known: Knowledge, strategy: StrategyName
) -> list[UnverifiedSpan]:
    """The spans a completely planned document leaves unfetched, with their times."""
    return [
        UnverifiedSpan(
            document=document,
            start_at=refs[span.start].timestamp if span.start is not None else None,
            end_at=refs[span.end].timestamp if span.end is not None else None,
            first_at=refs[span.unfetched[0]].timestamp,
            last_at=refs[span.unfetched[-1]].timestamp,
            captures=len(span.unfetched),
            ends_differ=span.ends_differ,
            strategy=str(strategy),
        )
        for span in spans(refs, known)
    ]


def captures_per_version(version_times: Sequence[datetime], spans: Sequence[UnverifiedSpan]) -> list[int]:
    """For each version (its time, oldest first): how many unfetched captures were assumed to show it, i.e. those
    of the spans that begin after a fetched capture of that version."""
    counts = [0] * len(version_times)
    for span in spans:
        if span.start_at is not None and (version := bisect_right(version_times, span.start_at) - 1) >= 0:
            counts[version] += span.captures
    return counts


def longest(spans: Sequence[UnverifiedSpan]) -> UnverifiedSpan | None:
    """The span hiding the most captures (the longer in time on a tie)."""
    return max(spans, key=lambda span: (span.captures, span.days), default=None)


def describe(span: UnverifiedSpan) -> str:
    """``8 captures over 412 days (2012-03-01 to 2013-04-16)``."""
    start = (span.start_at or span.first_at).date()
    end = (span.end_at or span.last_at).date()
    captures, days = span.captures, round(span.days)
    return f"{captures} {plural(captures, 'capture')} over {days:,} {plural(days, 'day')} ({start} to {end})"


@dataclass(frozen=True)
class NotVerified:
    """What a backfill left unverified besides the spans its strategy assumed: captures that ``failed`` to
    download for now, ``unfetchable`` ones (an answer a rerun gets the same: too large, a header line too long),
    ``unrendered`` ones (no browser), ``unexamined`` ones of documents whose plan the run did not work
    through (it was interrupted), and ``unlisted`` documents (their listing failed, or the run stopped before
    it), whose captures nobody counted; ``listed``: whether any document was listed at all; ``stopped_by``: the
    stop signal that ended the run early (``SIGTERM``), said on the last line."""

    failed: int = 0
    unrendered: int = 0
    unexamined: int = 0
    unlisted: int = 0
    listed: bool = True
    unfetchable: int = 0
    stopped_by: str | None = None


# Captures that could not be fetched, and whether running again can help: (what, rerun). For now: a timeout, a
# reset, the archive's 5xx. As served: an answer too large or with a header line too long, the same every time
# (crawler/lasting.py ``lasting``); raising max_page_bytes can help the first, as its reason says.
NOT_FETCHED_FOR_NOW = ("could not be fetched for now", "run again to retry")


def not_fetched_as_served(count: int, server: str = "archive") -> tuple[str, str]:
    """``cannot be fetched as the archive serves them``, ``running again alone will not help`` (``server``: who
    serves the answer, ``site`` for `track`)."""
    return (
        f"cannot be fetched as the {server} serves {'it' if count == 1 else 'them'}",
        "running again alone will not help",
    )


def not_fetched_counts(for_now: int, as_served: int, server: str = "archive") -> list[str]:
    """``2 could not be fetched for now (named above; run again to retry)``, ``1 cannot be fetched as the archive
    serves it (named above; running again alone will not help)``: what could not be fetched, told apart by whether
    running again can help (crawler/lasting.py ``lasting``); a count of none left out."""
    parts = []
    if for_now:
        how, rerun = NOT_FETCHED_FOR_NOW
        parts.append(f"{for_now:,} {how} (named above; {rerun})")
    if as_served:
        how, rerun = not_fetched_as_served(as_served, server)
        parts.append(f"{as_served:,} {how} (named above; {rerun})")
    return parts


EVERY_OTHER = "every other listed capture was fetched, has the bytes of a fetched one, or was refused with its reason"


def summary_line(spans: Sequence[UnverifiedSpan], left: NotVerified = NotVerified()) -> str:
    """The backfill's last line: how many listed captures were not verified — assumed unchanged (and the longest
    span of them), failed, unrendered, left unexamined by an interruption — and the documents not listed, none
    of them hidden; a stop signal that ended the run early said last (``; the run was stopped by SIGTERM``)."""
    line = _summary(spans, left)
    if left.stopped_by and not left.unexamined:  # else said with the captures it left unexamined
        line += f"; the run was stopped by {left.stopped_by} (run again to continue)"
    return line


def _summary(spans: Sequence[UnverifiedSpan], left: NotVerified) -> str:
    total = sum(span.captures for span in spans)
    missing = _not_fetched(left)
    count = total + left.failed + left.unfetchable + left.unrendered + left.unexamined
    unlisted = _unlisted(left.unlisted)
    if not total:
        if not missing and unlisted and not left.listed:
            return unlisted
        if not missing:
            line = f"0 captures not verified: {EVERY_OTHER.replace('every other', 'every')}"
        else:
            line = f"{count:,} {plural(count, 'capture')} not verified: {missing}; {EVERY_OTHER}"
        return f"{line}; {unlisted}" if unlisted else line
    worst = longest(spans)
    assert worst is not None
    assumed = f"assumed unchanged in {len(spans):,} {plural(len(spans), 'span')} between fetched captures"
    if missing:
        assumed = f"{count:,} {plural(count, 'capture')} not verified ({total:,} {assumed}; {missing})"
    else:
        assumed = f"{total:,} {plural(total, 'capture')} not verified ({assumed})"
    line = f"{assumed}; longest: {worst.document}, {describe(worst)}; backfill --verify-spans fetches them"
    return f"{line}; {unlisted}" if unlisted else line


def _not_fetched(left: NotVerified) -> str:
    """``2 could not be fetched for now (named above; run again to retry), 1 cannot be fetched as the archive
    serves it (named above; running again alone will not help), 1 waits for a browser (named above), 40 not
    examined, the run was interrupted (run again to continue)``."""
    parts = not_fetched_counts(left.failed, left.unfetchable)
    if left.unrendered:
        verb = "waits" if left.unrendered == 1 else "wait"
        parts.append(f"{left.unrendered:,} {verb} for a browser to render (named above)")
    if left.unexamined:
        how = f"stopped by {left.stopped_by}" if left.stopped_by else "interrupted"
        parts.append(f"{left.unexamined:,} not examined, the run was {how} (run again to continue)")
    return ", ".join(parts)


def _unlisted(documents: int) -> str:
    """``2 documents not listed (named above): none of their captures verified``; empty for none."""
    if not documents:
        return ""
    whose = "its" if documents == 1 else "their"
    return f"{documents:,} {plural(documents, 'document')} not listed (named above): none of {whose} captures verified"
