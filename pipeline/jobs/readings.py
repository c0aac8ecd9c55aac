"""Which reading (extractor revision and rules, ``examine.reading_at``) reads the captures of each day, for code
that asks it of many captures: identical bytes give an identical text only when read alike, so a capture known
through its twin (the same CDX digest) is known so only where both are read with the same rules (2026-11-29)."""

from __future__ import annotations

from datetime import date, datetime

from policy_archive.pipeline.jobs.examine import reading_at
from policy_archive.records import DocumentDeclaration, utc


class Readings:
    """The reading of a declaration's captures by day. Kept by day since a ``history`` entry's rules change by day
    (``valid_until``): a long listing has far fewer days than rows, and a label costs a hash of the rules."""

    def __init__(self, declaration: DocumentDeclaration):
        self.declaration = declaration
        self._by_day: dict[date, str] = {}

    def __call__(self, moment: datetime) -> str:
        """The reading of a capture (or a version) dated ``moment``: the same answer as ``reading_at``."""
        if not self.declaration.history:
            return reading_at(self.declaration, moment)
        day = utc(moment).date()  # as ``DocumentDeclaration.entry_at`` reads it
        if (found := self._by_day.get(day)) is None:
            found = self._by_day[day] = reading_at(self.declaration, moment)
        return found
