"""A long CDX listing held by column: a sequence of :class:`~policy_archive.records.CaptureRef` that keeps, per
row, a few machine integers instead of a row object, its time and its length (about 200 bytes a row, held for
the whole backfill: a million rows of one URL were most of its 1.2 GB peak, 2026-11-29). A row is made again
when it is read; the columns (:meth:`ListedRows.timestamp`, :meth:`ListedRows.digest`, ...) read one field
without making it.

The repeated values are held once: the URLs and types of a listing (a handful), and each digest of a run of rows
listing the same one (a page archived with the same bytes for years is one object, as ``PayloadDigest.parse``
shares them). Times are kept in microseconds since the epoch, so a listing's rows must be dated in UTC, as an
archive's are (:func:`~policy_archive.records.parse_wayback_timestamp`); :func:`listed` keeps any other
sequence as a list."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import overload

from policy_archive.digests import PayloadDigest
from policy_archive.errors import ArchiveError
from policy_archive.records import CaptureRef

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NONE = -1  # an absent status, type, digest or length


class UnheldRow(ArchiveError, ValueError):
    """A listed status or length its column cannot hold (negative, or past 4 or 8 bytes): the CDX reader refuses
    such rows (crawler/sources/cdx.py), so this is a row that came another way, said rather than an OverflowError
    (outside audit 31, F1, 2026-11-29)."""


def _in_utc(moment: datetime) -> bool:
    return moment.tzinfo is UTC


class _Strings:
    """The distinct values of a column a listing repeats (URLs, types), each with its number."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.numbers: dict[str, int] = {}

    def number(self, value: str | None) -> int:
        if value is None:
            return _NONE
        found = self.numbers.get(value)
        if found is None:
            found = self.numbers[value] = len(self.values)
            self.values.append(value)
        return found

    def value(self, number: int) -> str | None:
        return None if number == _NONE else self.values[number]


class ListedRows(Sequence[CaptureRef]):
    """CDX rows by column (see the module): a read-only sequence once made, rows added by :meth:`append`."""

    def __init__(self, refs: Iterable[CaptureRef] = ()) -> None:
        self._urls, self._types = _Strings(), _Strings()
        # Numbers of URLs, types and digests, statuses: 4 bytes each; times and lengths: 8.
        self._url, self._type = array("i"), array("i")
        self._time, self._status, self._length = array("q"), array("i"), array("q")
        self._digests: list[PayloadDigest | None] = []
        self._digest = array("i")
        self._blocked = array("b")  # 1: refused by the archive's access rules (CaptureRef.blocked)
        for ref in refs:
            self.append(ref)

    @staticmethod
    def holds(ref: CaptureRef | datetime) -> bool:
        """Whether ``ref`` can be kept by column (a time compared with its rows'): dated in UTC."""
        return _in_utc(ref if isinstance(ref, datetime) else ref.timestamp)

    def append(self, ref: CaptureRef) -> None:
        """Add ``ref`` (dated in UTC: :meth:`holds`) as the last row."""
        if not self.holds(ref):
            raise ValueError(f"a listed row is kept dated in UTC, not {ref.timestamp!r}")
        if not (0 <= (ref.status or 0) < 2**31 and 0 <= (ref.length or 0) < 2**63):
            at = f"{ref.timestamp:%Y-%m-%d %H:%M:%S}"
            raise UnheldRow(f"the listed status or length of {ref.url} at {at} cannot be held")
        self._url.append(self._urls.number(ref.url))
        self._type.append(self._types.number(ref.mimetype))
        self._time.append((ref.timestamp - EPOCH) // _MICROSECOND)
        self._status.append(_NONE if ref.status is None else ref.status)
        self._length.append(_NONE if ref.length is None else ref.length)
        if not self._digests or self._digests[-1] != ref.digest:
            self._digests.append(ref.digest)
        self._digest.append(len(self._digests) - 1)
        self._blocked.append(ref.blocked)

    def sharing(self) -> ListedRows:
        """An empty listing sharing this one's values (URLs, types, digests: they only grow), to :meth:`take` rows
        of this one into without making them."""
        other = ListedRows()
        other._urls, other._types, other._digests = self._urls, self._types, self._digests
        return other

    def take(self, source: ListedRows, index: int) -> None:
        """Add the row at ``index`` of ``source``, a listing this one shares its values with (:meth:`sharing`)."""
        self._url.append(source._url[index])
        self._type.append(source._type[index])
        self._time.append(source._time[index])
        self._status.append(source._status[index])
        self._length.append(source._length[index])
        self._digest.append(source._digest[index])
        self._blocked.append(source._blocked[index])

    def time_number(self, moment: datetime) -> int:
        """``moment`` (in UTC) as the number a row's time is kept as (:meth:`time_key`)."""
        return (moment - EPOCH) // _MICROSECOND

    def extend(self, refs: Iterable[CaptureRef]) -> None:
        """Add each of ``refs`` (:meth:`append`)."""
        for ref in refs:
            self.append(ref)

    def __len__(self) -> int:
        return len(self._time)

    @overload
    def __getitem__(self, index: int) -> CaptureRef: ...

    @overload
    def __getitem__(self, index: slice) -> list[CaptureRef]: ...

    def __getitem__(self, index: int | slice) -> CaptureRef | list[CaptureRef]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("listed row out of range")
        status, length, mimetype = self._status[index], self._length[index], self._type[index]
        return CaptureRef(
            self._urls.values[self._url[index]],
            EPOCH + timedelta(microseconds=self._time[index]),
            None if status == _NONE else status,
            None if mimetype == _NONE else self._types.values[mimetype],
            self._digests[self._digest[index]],
            None if length == _NONE else length,
            bool(self._blocked[index]),
        )

    def __iter__(self) -> Iterator[CaptureRef]:
        for index in range(len(self)):
            yield self[index]

    def url(self, index: int) -> str:
        """The URL of the row at ``index`` (its other columns likewise, none making the row)."""
        return self._urls.values[self._url[index]]

    def timestamp(self, index: int) -> datetime:
        """The listed time of the row at ``index``."""
        return EPOCH + timedelta(microseconds=self._time[index])

    def status(self, index: int) -> int | None:
        """The listed status of the row at ``index``."""
        status = self._status[index]
        return None if status == _NONE else status

    def mimetype(self, index: int) -> str | None:
        """The listed type of the row at ``index``."""
        return self._types.value(self._type[index])

    def digest(self, index: int) -> PayloadDigest | None:
        """The listed digest of the row at ``index``."""
        return self._digests[self._digest[index]]

    def length(self, index: int) -> int | None:
        """The listed length of the row at ``index``."""
        length = self._length[index]
        return None if length == _NONE else length

    def blocked(self, index: int) -> bool:
        """Whether the archive's access rules refuse the row at ``index`` (``CaptureRef.blocked``)."""
        return bool(self._blocked[index])

    def second_key(self, index: int) -> tuple[int, int]:
        """The row's time and URL as two numbers, equal for the rows of one URL and second (ordered by time only)."""
        return self._time[index], self._url[index]

    def first_at(self, timestamp: datetime) -> int:
        """The position of the first row listed at ``timestamp`` or later (the rows in time order)."""
        return bisect_left(self._time, (timestamp - EPOCH) // _MICROSECOND)

    def time_key(self, index: int) -> int:
        """The row's time as a number, in the order of the times."""
        return self._time[index]


def listed(refs: Iterable[CaptureRef]) -> Sequence[CaptureRef]:
    """``refs`` by column (:class:`ListedRows`) when every one is dated in UTC, else as a list."""
    rows = ListedRows()
    taken: list[CaptureRef] = []
    for ref in refs:
        if taken or not rows.holds(ref):
            taken.append(ref)
        else:
            rows.append(ref)
    return [*rows, *taken] if taken else rows


# One field of a listing's row at ``index``, read from the column of a :class:`ListedRows` without making the row.


def timestamp_of(refs: Sequence[CaptureRef], index: int) -> datetime:
    """The timestamp of the row of ``refs`` at ``index`` (read by column from a :class:`ListedRows`)."""
    return refs.timestamp(index) if isinstance(refs, ListedRows) else refs[index].timestamp


def url_of(refs: Sequence[CaptureRef], index: int) -> str:
    """The url of the row of ``refs`` at ``index`` (read by column from a :class:`ListedRows`)."""
    return refs.url(index) if isinstance(refs, ListedRows) else refs[index].url


def mimetype_of(refs: Sequence[CaptureRef], index: int) -> str | None:
    """The mimetype of the row of ``refs`` at ``index`` (read by column from a :class:`ListedRows`)."""
    return refs.mimetype(index) if isinstance(refs, ListedRows) else refs[index].mimetype


def status_of(refs: Sequence[CaptureRef], index: int) -> int | None:
    """The status of the row of ``refs`` at ``index`` (read by column from a :class:`ListedRows`)."""
    return refs.status(index) if isinstance(refs, ListedRows) else refs[index].status


def digest_of(refs: Sequence[CaptureRef], index: int) -> PayloadDigest | None:
    """The digest of the row of ``refs`` at ``index`` (read by column from a :class:`ListedRows`)."""
    return refs.digest(index) if isinstance(refs, ListedRows) else refs[index].digest


def length_of(refs: Sequence[CaptureRef], index: int) -> int | None:
    """The length of the row of ``refs`` at ``index`` (read by column from a :class:`ListedRows`)."""
    return refs.length(index) if isinstance(refs, ListedRows) else refs[index].length


def blocked_of(refs: Sequence[CaptureRef], index: int) -> bool:
    """Whether the archive's access rules refuse the row of ``refs`` at ``index`` (read by column)."""
    return refs.blocked(index) if isinstance(refs, ListedRows) else refs[index].blocked


def second_key_of(refs: Sequence[CaptureRef], index: int) -> Hashable:
    """A key of the row's URL and second, equal for the rows of one URL and second of ``refs`` (numbers for a
    :class:`ListedRows`, which makes no row for it)."""
    if isinstance(refs, ListedRows):
        return refs.second_key(index)
    return (refs[index].url, refs[index].timestamp)


def same_second(refs: Sequence[CaptureRef], one: int, other: int) -> bool:
    """Whether the rows at ``one`` and ``other`` are listed at one URL and second."""
    if isinstance(refs, ListedRows):
        return refs.second_key(one) == refs.second_key(other)
    a, b = refs[one], refs[other]
    return a.timestamp == b.timestamp and a.url == b.url


def before_in_listing(refs: Sequence[CaptureRef], one: int, other: int) -> bool:
    """Whether the row at ``other`` comes before the one at ``one`` by time, then URL (out of listing order)."""
    if isinstance(refs, ListedRows):
        time, other_time = refs.time_key(one), refs.time_key(other)
        return other_time < time or (other_time == time and refs.url(other) < refs.url(one))
    a, b = refs[one], refs[other]
    return b.timestamp < a.timestamp or (b.timestamp == a.timestamp and b.url < a.url)
