"""Where a backfill plan finds its candidate captures (a listing's rows, in listing order) by URL and second, by
the row itself, and by listed bytes, without a record per row: a listing of a million rows made the plan's
dictionaries of them (a position, a URL-and-second key and a list per row) most of a backfill's peak memory
(2026-11-29; README, "A long listing of one text").

A listing in time order (the candidates ``listing_rows.candidates`` gives) is searched by bisection on the rows'
times, the rows of one URL and second lying side by side; any other order is indexed by a dictionary of its
seconds (``records.at_second``), as before."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import datetime

from policy_archive.digests import PayloadDigest
from policy_archive.listed import ListedRows, before_in_listing, digest_of, same_second, status_of, timestamp_of, url_of
from policy_archive.records import CaptureRef, at_second


def _in_order(refs: Sequence[CaptureRef]) -> bool:
    """Whether ``refs`` go by time, then URL (so the rows of each URL and second lie side by side)."""
    return not any(before_in_listing(refs, index, index + 1) for index in range(len(refs) - 1))


class ListingIndex:
    """The positions of a plan's candidates ``refs`` by URL and second (one capture for an archive and the
    catalog: ``records.at_second``) and by row."""

    def __init__(self, refs: Sequence[CaptureRef]):
        self.refs = refs
        # Out of time order (a plan made by hand, in tests), the seconds are indexed as before: by a dictionary.
        self._groups = None if _in_order(refs) else at_second(refs)

    def group(self, url: str, timestamp: datetime) -> list[int]:
        """The positions of the candidates listed at ``url`` and ``timestamp``, in listing order (none: [])."""
        if self._groups is not None:
            return self._groups.get((url, timestamp), [])
        refs = self.refs
        found = []
        for index in range(self._first_at(timestamp), len(refs)):
            if timestamp_of(refs, index) != timestamp:
                break
            if url_of(refs, index) == url:
                found.append(index)
        return found

    def _first_at(self, timestamp: datetime) -> int:
        if isinstance(self.refs, ListedRows) and ListedRows.holds(timestamp):
            return self.refs.first_at(timestamp)
        return bisect_left(range(len(self.refs)), timestamp, key=lambda index: timestamp_of(self.refs, index))

    def second_of(self, index: int) -> list[int]:
        """Every candidate listed at the URL and second of the one at ``index`` (itself included)."""
        return self.group(url_of(self.refs, index), timestamp_of(self.refs, index))

    def position(self, ref: CaptureRef) -> int:
        """Where ``ref`` is among the candidates (the last of equal rows); KeyError when it is none of them."""
        for index in reversed(self.group(ref.url, ref.timestamp)):
            if self.refs[index] == ref:
                return index
        raise KeyError(ref)

    def seconds(self, *, backwards: bool = False) -> Iterator[list[int]]:
        """Each URL and second's positions, the seconds in listing order (``backwards``: the other way)."""
        if self._groups is not None:
            groups = list(self._groups.values())
            yield from reversed(groups) if backwards else groups
            return
        count = len(self.refs)
        starts = range(count - 1, -1, -1) if backwards else range(count)
        group: list[int] = []
        for index in starts:
            if group and not self._same_second(group[0], index):
                yield sorted(group)
                group = []
            group.append(index)
        if group:
            yield sorted(group)

    def shared_seconds(self) -> Iterator[list[int]]:
        """The seconds listed with more than one row (few: most listings have none)."""
        if self._groups is not None:
            yield from (group for group in self._groups.values() if len(group) > 1)
            return
        start = 0
        for index in range(1, len(self.refs) + 1):
            if index == len(self.refs) or not self._same_second(start, index):
                if index - start > 1:
                    yield list(range(start, index))
                start = index

    def _same_second(self, one: int, other: int) -> bool:
        return same_second(self.refs, one, other)


# The candidates listed with one URL and digest: a position alone, or several (the more, the fewer groups).
SameBytes = dict[tuple[str, PayloadDigest], "int | array[int]"]


def same_bytes(refs: Sequence[CaptureRef]) -> SameBytes:
    """The positions of the 200 candidates listed with each URL and digest (identical bytes give identical
    text); a digest listed once is one position, not a list (every digest of a listing may differ)."""
    groups: SameBytes = {}
    for index in range(len(refs)):
        digest = digest_of(refs, index)
        if status_of(refs, index) == 200 and digest is not None:
            key = (url_of(refs, index), digest)
            found = groups.get(key)
            if found is None:
                groups[key] = index
            elif isinstance(found, int):
                groups[key] = array("q", (found, index))
            else:
                found.append(index)
    return groups


def listed_with(groups: SameBytes, refs: Sequence[CaptureRef], index: int) -> Sequence[int]:
    """The positions of the candidates listed with the URL and digest of the one at ``index`` (:func:`same_bytes`)."""
    digest = digest_of(refs, index)
    if digest is None:
        return ()
    found = groups.get((url_of(refs, index), digest), ())
    return (found,) if isinstance(found, int) else found
