"""Dates an archive gives that lie in the future of the run: a CDX row's, or a replay's ``Memento-Datetime``.

Kept apart from :mod:`.examine` (which loads the extractor) so that `status`, a reading command, can name the
versions an older release recorded from such dates without loading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from policy_archive.records import iso_z
from policy_archive.text import plural

# A capture the archive dates after this run's own clock: a CDX row, or a replay's Memento-Datetime (the bytes
# served, or an archived redirect on the way). No archive holds bytes from the future; such a date is an archive's
# clock or index gone wrong, and a version dated by it would stay the document's "latest" for years, every later
# capture inserted before it (an outside audit, 2026-11-29: a stand-in listing 20990101000000). The run's clock is
# read once, when the run starts (``Workspace.clock``), so that every check of a run agrees.
IN_THE_FUTURE = "dated in the future"
# How far after the run's start an archive's date is still taken as now. A day covers a clock of the archive's or
# ours that is off by hours, a CDX index whose crawler wrote local time as UTC (at most 14 hours: UTC+14), and a
# memento archived while a run of a few hours goes on (a redirect's target saved just now); a date further ahead
# is no slip of either clock. A row refused so is listed again by the first backfill whose clock has reached it;
# a memento archived during a run longer than a day is refused, and `reextract --rebuild` examines it again.
CLOCK_SKEW = timedelta(days=1)
# What to do about a version recorded from such a date before it was refused (2026-11-29): the rebuild examines
# every kept capture again, refuses the one dated in the future, and makes the history without it.
FUTURE_REMEDY = (
    "recorded before such dates were refused; `policy-archive reextract --rebuild` makes the history again without it"
)


def in_the_future(moment: datetime, clock: datetime, what: str) -> str | None:
    """Why ``what`` (``listed at``, ``its bytes were archived``), dated ``moment`` by the archive, is no capture
    of the document: dated more than :data:`CLOCK_SKEW` after the run's ``clock`` (None when it is not)."""
    if moment <= clock + CLOCK_SKEW:
        return None
    ahead = f"more than {CLOCK_SKEW.days} {plural(CLOCK_SKEW.days, 'day')} after this run began ({iso_z(clock)})"
    return f"{IN_THE_FUTURE}: {what} {iso_z(moment)}, {ahead}"


def future_lines(key: str, refused: Mapping[str, str], named: int, kept: str = "") -> list[str]:
    """The lines saying that ``key`` (a document, or a domain's home page) had listed rows refused as dated in the
    future (``refused``: each row's 14-digit timestamp and reason): one a row up to ``named`` of them, else one
    line counting them and naming the first (``kept``: where each one's reason is kept, when it is). Backfill and
    `discover` say them alike."""
    future = sorted(refused.items())
    if len(future) <= named:
        return [f"{key}: capture {timestamp} refused: {why}" for timestamp, why in future]
    first, why = future[0]
    return [
        f"{key}: {len(future)} captures refused, {IN_THE_FUTURE} ({f'each with its reason {kept}; ' if kept else ''}"
        f"the first, capture {first}: {why})"
    ]
