"""Which reading (extractor revision and rules) reads a capture of a given date (:func:`reading_at`, moved from
examine.py on 2026-11-29, which imports it from here), and by day for code that asks it of many captures
(:class:`Readings`): identical bytes give an identical text only when read alike, so a capture known through its
twin (the same CDX digest) is known so only where both are read with the same rules (2026-11-29)."""

from __future__ import annotations

from datetime import date, datetime

from policy_archive.pipeline.extraction.extract import extractor_label
from policy_archive.records import DocumentDeclaration, utc


def reading_at(declaration: DocumentDeclaration, moment: datetime) -> str:
    """The ``Extractor:`` trailer of a text read now for a capture (or a version) dated ``moment``: this extractor
    and the declaration's rules for that date (its ``history`` entry). The one answer to "which rules apply": what
    :func:`examine` names its text with, what a version's commit names (:func:`make_version`), what a kept text
    must have been read with to be taken as it is (``current_texts``), and what `verify` holds a version to."""
    return extractor_label(declaration.entry_at(moment)[1])


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
