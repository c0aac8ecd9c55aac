"""A listing held by column (``policy_archive.listed``) and the plan's index of it (``listing_index``) give the same
rows, candidates, seconds, neighbours and twins as the lists and dictionaries they replace (2026-11-29: a
backfill of a million listed rows held an object and several dictionary entries per row)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from policy_archive.digests import PayloadDigest
from policy_archive.listed import ListedRows, UnheldRow, listed
from policy_archive.pipeline.jobs.listing_index import ListingIndex, listed_with, same_bytes
from policy_archive.pipeline.jobs.listing_rows import NeighbourRows, candidates, listing_neighbours
from policy_archive.records import CaptureRef, at_second

URL, OTHER = "https://example.com/privacy", "http://example.com/privacy"
START = datetime(2015, 3, 1, 12, 0, tzinfo=UTC)
CLOCK = datetime(2026, 1, 1, tzinfo=UTC)
DIGESTS = [PayloadDigest.parse(text) for text in ("A" * 32, "B" * 32, "sha256:" + "c" * 64)]


def mixed_listing(count: int, seed: int = 11) -> list[CaptureRef]:
    """Rows in time and URL order as an archive lists them: some seconds listed twice (two URLs, or two rows of
    one URL with other bytes), redirects, a 404, a type that is no document, absent fields, rows the archive's access
    rules block, one row in the future."""
    pick = random.Random(seed)
    rows = []
    for n in range(count):
        at = START + timedelta(hours=n)
        status = pick.choice([200, 200, 200, 302, 404, None])
        mimetype = pick.choice(["text/html", "text/html", "image/png", None])
        digest = pick.choice([*DIGESTS, None])
        length = pick.choice([None, 0, 5120, 5124, 2**40])
        rows.append(CaptureRef(URL, at, status, mimetype, digest, length, blocked=n % 5 == 1))
        if n % 7 == 3:
            rows.append(CaptureRef(URL, at, 200, "text/html", pick.choice(DIGESTS), 5000))
        if n % 11 == 5:
            rows.append(CaptureRef(OTHER, at, 200, "text/html", DIGESTS[0], 5000))
    rows.append(CaptureRef(URL, CLOCK + timedelta(days=30), 200, "text/html", DIGESTS[0], 1))
    return sorted(rows, key=lambda ref: (ref.timestamp, ref.url))


def test_rows_held_by_column_read_back_as_given():
    rows = mixed_listing(60)
    held = ListedRows(rows)
    assert len(held) == len(rows)
    assert list(held) == rows
    assert held[-1] == rows[-1] and held[3:9] == rows[3:9]
    assert [held.digest(i) for i in range(len(rows))] == [ref.digest for ref in rows]
    assert all(held.timestamp(i).tzinfo is UTC for i in range(len(rows)))


@pytest.mark.parametrize(("status", "length"), [(2**31, 1), (-2, 1), (200, 2**63), (200, -5), (10**11, 10**20)])
def test_a_status_or_length_its_column_cannot_hold_is_said_not_an_overflow(status, length):
    """The CDX reader refuses such rows (outside audit 31, F1); a row that came another way is a typed error."""
    rows = ListedRows(mixed_listing(3))
    with pytest.raises(UnheldRow, match=r"status or length of https://example.com/privacy at 2016-01-01 00:00:00"):
        rows.append(CaptureRef(URL, datetime(2016, 1, 1, tzinfo=UTC), status, "text/html", None, length))
    assert len(rows) == len(mixed_listing(3)), "nothing of the row was kept"


def test_a_row_the_archive_lists_as_blocked_is_held_so_and_no_candidate():
    """Outside audit 5, item 1: pywb lists the captures its access rules block (``"access": "block"``) and answers
    their replays 451: such a row is refused from its listing, never asked for, and bounds no other's dating."""
    rows = mixed_listing(60)
    held = ListedRows(rows)
    blocked = [ref for ref in rows if ref.blocked]
    assert blocked and [held.blocked(i) for i in range(len(rows))] == [ref.blocked for ref in rows]
    for chosen in (candidates(rows, CLOCK), candidates(held, CLOCK)):
        assert chosen and not any(ref.blocked for ref in chosen)
    plain = CaptureRef(URL, START, 200, "text/html", DIGESTS[0])
    assert candidates([plain], CLOCK) == [plain]
    assert candidates([dataclasses.replace(plain, blocked=True)], CLOCK) == []
    assert list(candidates(ListedRows([dataclasses.replace(plain, blocked=True)]), CLOCK)) == []


def test_rows_not_dated_in_utc_stay_a_list():
    rows = mixed_listing(5)
    elsewhere = CaptureRef(URL, datetime(2016, 1, 1, tzinfo=timezone(timedelta(hours=2))), 200, None, None)
    assert isinstance(listed(rows), ListedRows)
    assert listed([*rows, elsewhere]) == [*rows, elsewhere]


def test_candidates_of_rows_held_by_column_are_those_of_the_list():
    rows = mixed_listing(120)
    as_list = candidates(rows, CLOCK)
    held = candidates(ListedRows(rows), CLOCK)
    assert isinstance(held, ListedRows)
    assert list(held) == as_list
    assert rows[-1] not in as_list, "dated in the future"


def test_the_index_finds_what_the_dictionaries_found():
    refs = candidates(ListedRows(mixed_listing(150)), CLOCK)
    index, seconds = ListingIndex(refs), at_second(list(refs))
    assert list(index.seconds()) == list(seconds.values())
    assert list(index.seconds(backwards=True)) == list(reversed(seconds.values()))
    assert list(index.shared_seconds()) == [group for group in seconds.values() if len(group) > 1]
    for (url, at), group in seconds.items():
        assert index.group(url, at) == group
        assert all(index.second_of(i) == group for i in group)
    assert index.group(URL, START - timedelta(seconds=1)) == []
    assert [index.position(ref) for ref in refs] == list(range(len(refs)))
    old: dict[tuple[str, PayloadDigest], list[int]] = {}  # the plan's dictionary before 2026-11-29
    for i, ref in enumerate(refs):
        if ref.status == 200 and ref.digest is not None:
            old.setdefault((ref.url, ref.digest), []).append(i)
    twins = same_bytes(refs)
    for i, ref in enumerate(refs):
        assert list(listed_with(twins, refs, i)) == old.get((ref.url, ref.digest), [])


def test_the_neighbours_kept_by_position_are_those_of_the_listing():
    refs = candidates(ListedRows(mixed_listing(150)), CLOCK)
    as_list = list(refs)
    redirect_at = as_list[10]
    kept = {
        (redirect_at.url, redirect_at.timestamp): CaptureRef(redirect_at.url, redirect_at.timestamp, 302, None, None)
    }
    for kept_rows in (None, kept):
        around = NeighbourRows(ListingIndex(refs), kept_rows)
        assert [around[i] for i in range(len(refs))] == listing_neighbours(as_list, kept_rows)
