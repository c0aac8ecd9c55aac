"""Damaged WARC files (bit rot, bytes overwritten or inserted, a file replaced or recompressed by another tool):
a capture is read back exactly as written or refused as damaged, never read wrong, and damage in one record
never keeps an intact neighbour from being read. Through the command line: `verify` names each version whose
capture cannot be read, `reextract` keeps those as they were and names them, `repair` names the files; never a
traceback."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from standin.cli import git, run_cli
from standin.hostile import RouteServer
from test_hostile import POLICY, tracked_config
from test_lost_state import fetched_rows
from warcio.archiveiterator import ArchiveIterator

from policy_archive.archive.captures import CaptureStore, DamagedRecord, StoredCapture
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.kept_captures import KeptCapture
from policy_archive.archive.stored_responses import DamagedCapture, StoredResponse
from policy_archive.config.settings import CrawlSettings
from policy_archive.records import Capture, Source, payload_sha1

URL = "https://acme.example/privacy"
WHEN = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)


def capture(number: int, *, rendered: bool = False, hop: bool = False) -> Capture:
    """An archive capture whose bytes say which it is (a page long enough to span several deflate blocks)."""
    body = "".join(f"<p>Capture {number}, paragraph {line}: we keep your data.</p>" for line in range(80)).encode()
    at = WHEN + timedelta(days=number)
    made = Capture(
        document="acme/privacy-policy",
        source=Source.WAYBACK,
        url=URL,
        fetched_url=f"http://127.0.0.1:9/web/{at:%Y%m%d%H%M%S}id_/{URL}",
        captured_at=at,
        status=200,
        content_type="text/html",
        body=body,
        payload_sha1=payload_sha1(body),
        headers=(("Content-Type", "text/html"),),
        rendered=b"<html><body>" + body + b"<p>built by a script</p></body></html>" if rendered else None,
    )
    if not hop:
        return made
    moved = Capture(
        document=made.document,
        source=Source.WAYBACK,
        url="https://acme.example/old-privacy",
        fetched_url=made.fetched_url.replace("/privacy", "/old-privacy"),
        captured_at=at - timedelta(hours=1),
        status=301,
        content_type="text/html",
        body=b"moved",
        payload_sha1=payload_sha1(b"moved"),
        headers=(("Location", made.fetched_url),),
    )
    return replace(made, hops=(moved,))


# A plain page, a rendered one (its DOM the record after it), one reached through an archived redirect, a plain one.
CAPTURES = [capture(0), capture(1, rendered=True), capture(2, hop=True), capture(3)]


@dataclass(frozen=True)
class Written:
    data: bytes  # a WARC file written by the store (warcio)
    stored: list[StoredCapture]  # where each of CAPTURES is in it
    spans: list[tuple[int, int]]  # the bytes each capture's reading needs: its record (and its rendered DOM's)
    starts: list[int]  # where every record starts


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    directory = tmp_path_factory.mktemp("warcs")
    store = CaptureStore(directory, max_page_bytes=CrawlSettings.max_page_bytes)
    stored = [store.write(item) for item in CAPTURES]
    store.close()
    (path,) = store.warc_files()
    data = path.read_bytes()
    with path.open("rb") as handle:
        records = ArchiveIterator(handle)
        starts = [records.get_record_offset() for _ in records]
    ends = dict(zip(starts, [*starts[1:], len(data)], strict=True))
    spans = []
    for item, where in zip(CAPTURES, stored, strict=True):
        end = ends[where.offset]
        spans.append((where.offset, ends[end] if item.rendered is not None else end))
    return Written(data, [StoredCapture("damaged.warc.gz", where.offset) for where in stored], spans, starts)


def read_back(data: bytes, stored: Sequence[StoredCapture]) -> list[StoredResponse | Exception]:
    """Each capture read from a file holding ``data``: its response, or the error reading it raised."""
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "damaged.warc.gz").write_bytes(data)
        store = CaptureStore(Path(directory), max_page_bytes=CrawlSettings.max_page_bytes)
        results: list[StoredResponse | Exception] = []
        for item, where in zip(CAPTURES, stored, strict=False):  # the first len(stored) captures
            try:
                results.append(store.read(where, rendered=item.rendered is not None))
            except (DamagedCapture, FileNotFoundError) as error:
                results.append(error)
        return results


def exact(result: StoredResponse | Exception, item: Capture) -> bool:
    return isinstance(result, StoredResponse) and (result.body, result.rendered) == (item.body, item.rendered)


def test_every_capture_reads_back_exactly_from_an_intact_file(written):
    assert all(
        exact(result, item) for result, item in zip(read_back(written.data, written.stored), CAPTURES, strict=True)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(min_value=0, max_value=1, exclude_max=True), length=st.integers(1, 300))
def test_zeros_anywhere_spare_the_records_they_miss_and_never_give_wrong_bytes(written, position, length):
    data = written.data
    start = int(position * len(data))
    end = min(start + length, len(data))
    damaged = data[:start] + bytes(end - start) + data[end:]
    for result, item, (first, last) in zip(read_back(damaged, written.stored), CAPTURES, written.spans, strict=True):
        if end <= first or start >= last:
            assert exact(result, item), f"damage at {start}..{end} kept {first}..{last} from being read: {result}"
        else:
            assert exact(result, item) or isinstance(result, DamagedCapture | FileNotFoundError), result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(boundary=st.integers(1, len(CAPTURES) - 1), gap=st.binary(min_size=1, max_size=64))
def test_bytes_inserted_between_records_spare_the_records_before(written, boundary, gap):
    at = written.stored[boundary].offset
    damaged = written.data[:at] + gap + written.data[at:]
    for result, item, (_, last) in zip(read_back(damaged, written.stored), CAPTURES, written.spans, strict=True):
        if last <= at:
            assert exact(result, item), result
        else:
            assert exact(result, item) or isinstance(result, DamagedCapture | FileNotFoundError), result


@pytest.mark.parametrize("damage", ["random bytes", "recompressed", "cut short"])
def test_a_file_replaced_recompressed_or_cut_short_is_refused_for_every_capture_it_no_longer_holds(written, damage):
    data, stored = written.data, written.stored
    if damage == "random bytes":
        damaged = random.Random(7).randbytes(len(data))
    elif damage == "recompressed":  # one gzip member for the whole file, as `zcat | gzip` makes it
        damaged = gzip.compress(gzip.decompress(data))
    else:
        damaged = data[: stored[2].offset + 40]
    results = read_back(damaged, stored)
    if damage == "cut short":
        assert exact(results[0], CAPTURES[0]) and exact(results[1], CAPTURES[1])
        assert isinstance(results[2], DamagedCapture) and "cut short" in str(results[2])
        assert isinstance(results[3], FileNotFoundError) and "the file ends at byte" in str(results[3])
    else:
        assert all(isinstance(result, DamagedCapture | FileNotFoundError) for result in results), results


def test_a_rendered_page_whose_dom_record_is_gone_is_damaged(written):
    dom_start, dom_end = [start for start in written.starts if start > written.stored[1].offset][:2]
    damaged = written.data[:dom_start] + written.data[dom_end:]  # the DOM record taken out: a hop follows
    results = read_back(damaged, written.stored[:2])
    assert exact(results[0], CAPTURES[0])
    assert isinstance(results[1], DamagedCapture) and "the rendered page recorded after it is not there" in str(
        results[1]
    )


# --- re-indexing (a lost catalog): reading goes on past damage in the middle of a file ----------------------------


def kept_from(data: bytes) -> list[KeptCapture | DamagedRecord]:
    """What re-indexing reads from a file holding ``data``: its captures and damaged records, in order."""
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "damaged.warc.gz").write_bytes(data)
        return list(CaptureStore(Path(directory), max_page_bytes=CrawlSettings.max_page_bytes).kept())


def kept_spans(written: Written) -> list[tuple[int, int]]:
    """The bytes each capture's re-indexing needs: its hops' records, its own, its rendered DOM's."""
    spans = []
    for item, where, (_, last) in zip(CAPTURES, written.stored, written.spans, strict=True):
        index = written.starts.index(where.offset)
        spans.append((written.starts[index - len(item.hops)], last))
    return spans


def same_capture(kept: KeptCapture, item: Capture) -> bool:
    """Read back exactly as written: the bytes, where and when they are from, the rendered DOM and the hops."""
    capture = kept.capture
    return (capture.body, capture.url, capture.captured_at, capture.rendered) == (
        item.body,
        item.url,
        item.captured_at,
        item.rendered,
    ) and [hop.body for hop in capture.hops] == [hop.body for hop in item.hops]


def test_every_capture_is_re_indexed_from_an_intact_file(written):
    kept = kept_from(written.data)
    assert [type(item) for item in kept] == [KeptCapture] * len(CAPTURES)
    assert all(same_capture(item, capture) for item, capture in zip(kept, CAPTURES, strict=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.floats(min_value=0, max_value=1, exclude_max=True),
    length=st.integers(1, 300),
    noise=st.sampled_from(["zeros", "random bytes"]),
    seed=st.integers(0, 2**32),
)
@example(position=0.0, length=1, noise="random bytes", seed=4075)
def test_damage_anywhere_loses_only_the_captures_it_hits_and_is_named_where_it_starts(
    written, position, length, noise, seed
):
    data = written.data
    start = int(position * len(data))
    end = min(start + length, len(data))
    filler = bytes(end - start) if noise == "zeros" else random.Random(seed).randbytes(end - start)
    kept = kept_from(data[:start] + filler + data[end:])
    captures = {item.stored.offset: item for item in kept if isinstance(item, KeptCapture)}
    for item, where, (first, last) in zip(CAPTURES, written.stored, kept_spans(written), strict=True):
        if end <= first or start >= last:
            assert where.offset in captures and same_capture(captures[where.offset], item), (start, end, kept)
        elif where.offset in captures:  # the damage hit only its hops or its DOM: its own record is exact
            assert captures[where.offset].capture.body == item.body, (start, end, kept)
    assert set(captures) <= {where.offset for where in written.stored}
    for damaged in (item for item in kept if isinstance(item, DamagedRecord)):
        member = written.starts.index(damaged.stored.offset)  # a record's start, never a byte inside one
        member_end = written.starts[member + 1] if member + 1 < len(written.starts) else len(data)
        assert damaged.stored.offset < end and start < member_end, (start, end, damaged)


def test_a_file_whose_first_byte_is_a_newline_loses_only_its_warcinfo_record(written):
    """The first gzip magic byte overwritten by a newline: warcio 1.8.1 reads the file as uncompressed and takes
    the rest of it for one WARC record with no headers. That is no WARC record (no version line): named damaged
    where it starts, and every capture after it re-indexed (Hypothesis found it, 2026-11-28)."""
    kept = kept_from(b"\n" + written.data[1:])
    assert [(type(item).__name__, item.stored.offset) for item in kept] == [("DamagedRecord", 0)] + [
        ("KeptCapture", where.offset) for where in written.stored
    ]
    assert "not a WARC record" in kept[0].problem and not kept[0].at_end, kept[0]
    assert all(same_capture(item, capture) for item, capture in zip(kept[1:], CAPTURES, strict=True))


def test_a_record_cut_short_with_records_after_it_loses_that_record_only(written):
    """A member cut short, the file written on after it (a disk full then freed, a copy interrupted and resumed):
    warcio alone stops there; the captures after it are re-indexed, at their places in the damaged file."""
    cut_at = written.stored[1].offset + 500
    resumed_at = written.starts[written.starts.index(written.stored[1].offset) + 1]  # capture 1's rendered DOM
    kept = kept_from(written.data[:cut_at] + written.data[resumed_at:])
    shift = resumed_at - cut_at
    assert [(type(item).__name__, item.stored.offset) for item in kept] == [
        ("KeptCapture", written.stored[0].offset),
        ("DamagedRecord", written.stored[1].offset),
        ("KeptCapture", written.stored[2].offset - shift),
        ("KeptCapture", written.stored[3].offset - shift),
    ]
    damaged = kept[1]
    assert isinstance(damaged, DamagedRecord) and not damaged.at_end
    assert "damaged" in damaged.problem, damaged.problem  # which of warcio's failures depends on the bytes cut
    survivors = [kept[0], kept[2], kept[3]]
    assert all(
        same_capture(item, capture) for item, capture in zip(survivors, [CAPTURES[0], *CAPTURES[2:]], strict=True)
    )


def test_bytes_inserted_between_records_are_one_damaged_stretch_and_every_capture_is_kept(written):
    at = written.starts[written.starts.index(written.stored[2].offset) - 1]  # before capture 2's hop record
    gap = b"\x1f\x8b\x08" * 400 + bytes(1000)  # gzip's magic number again and again, then zeros
    kept = kept_from(written.data[:at] + gap + written.data[at:])
    assert [type(item).__name__ for item in kept] == ["KeptCapture", "KeptCapture", "DamagedRecord"] + [
        "KeptCapture"
    ] * 2
    assert kept[2].stored.offset == at and not kept[2].at_end
    assert all(same_capture(item, capture) for item, capture in zip(kept[:2] + kept[3:], CAPTURES, strict=True))


def test_a_file_cut_short_ends_with_one_record_cut_short(written):
    """A run killed while writing: the last record is cut short, nothing follows it (not damage in the middle)."""
    kept = kept_from(written.data[:-100])
    assert [type(item).__name__ for item in kept] == ["KeptCapture"] * 3 + ["DamagedRecord"]
    assert kept[-1].at_end and kept[-1].stored.offset == written.stored[3].offset


# --- through the command line, on a real backfill's WARC file ---------------------------------------------------

DOCUMENT = "acrcloud/privacy-policy"


def kept_records(data: Path) -> tuple[Path, dict[int, str], list[int]]:
    """The WARC file, the offsets of the versions' records (to their dates), and every capture record's offset."""
    catalog = Catalog(data / "catalog.sqlite3")
    try:
        versions = {}
        for version in catalog.versions(DOCUMENT):
            row = catalog.version_capture(DOCUMENT, version.captured_at)
            assert row is not None and row.stored is not None
            versions[row.stored.offset] = version.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        offsets = sorted(row.stored.offset for row in catalog.stored_captures([DOCUMENT]) if row.stored)
    finally:
        catalog.close()
    (warc,) = (data / "captures").glob("*.warc.gz")
    return warc, versions, offsets


def zero_inside(warc: Path, offset: int) -> None:
    """200 zero bytes 300 bytes into the record at ``offset`` (inside its compressed stream), as `dd` would."""
    with warc.open("r+b") as handle:
        handle.seek(offset + 300)
        handle.write(bytes(200))


def failed_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("FAILED")]


def test_damage_in_a_record_no_version_holds_spares_every_version(history):
    config, data = history
    warc, versions, offsets = kept_records(data)
    # The record right after the first version's: reading a capture once read on into the next record.
    neighbour = offsets[offsets.index(min(versions)) + 1]
    assert neighbour not in versions
    zero_inside(warc, neighbour)
    main_before = git(data / "versions", "rev-parse", "main")

    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == "2/2 versions verified"

    for arguments in (["reextract"], ["reextract", "--rebuild"]):
        result = run_cli(config, data, *arguments)
        assert result.returncode == 1, result.stderr
        (failed,) = failed_lines(result.stderr)
        assert failed.startswith(f"FAILED {DOCUMENT}: 1 kept capture cannot be read (kept as extracted before): ")
        assert f"damaged capture: {warc.name}:{neighbour}: " in failed and " version " not in failed, failed
    assert git(data / "versions", "rev-parse", "main") == main_before

    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 1 and "nothing to repair" not in repaired.stderr, repaired.stderr
    (failed,) = failed_lines(repaired.stderr)
    assert f"restore {warc.name} from a backup" in failed and f"{warc.name}:{neighbour}" in failed, failed


def test_damage_in_a_version_record_names_that_version_and_keeps_it(history):
    config, data = history
    warc, versions, _ = kept_records(data)
    damaged_at = max(versions)
    zero_inside(warc, damaged_at)
    log_before = git(data / "versions", "log", "--format=%H %s", "main")

    result = run_cli(config, data, "verify")
    assert result.returncode == 1
    (failed,) = failed_lines(result.stderr)
    assert failed.startswith(f"FAILED {DOCUMENT}: version {versions[damaged_at]} (")
    assert f"damaged capture: {warc.name}:{damaged_at}: " in failed, failed
    assert result.stdout.strip() == "1/2 versions verified; 1 mismatch"

    rebuilt = run_cli(config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 1
    (failed,) = failed_lines(rebuilt.stderr)
    assert f"version {versions[damaged_at]}: damaged capture: {warc.name}:{damaged_at}" in failed, failed
    assert git(data / "versions", "log", "--format=%H %s", "main") == log_before, "the version is kept as it was"


@pytest.mark.parametrize("damage", ["random bytes", "recompressed"])
def test_a_warc_file_replaced_or_recompressed_fails_each_version_in_one_line(history, damage):
    config, data = history
    warc, versions, offsets = kept_records(data)
    if damage == "random bytes":
        warc.write_bytes(os.urandom(warc.stat().st_size))
    else:
        warc.write_bytes(gzip.compress(gzip.decompress(warc.read_bytes())))

    result = run_cli(config, data, "verify")
    assert result.returncode == 1
    failed = failed_lines(result.stderr)
    assert [line.split(" (")[0] for line in failed] == [
        f"FAILED {DOCUMENT}: version {when}" for _, when in sorted(versions.items(), key=lambda item: item[1])
    ]
    assert all("damaged capture: " in line or "missing capture: " in line for line in failed), failed
    assert result.stdout.strip() == "0/2 versions verified; 2 mismatches"

    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 1
    (line,) = failed_lines(repaired.stderr)
    assert f"FAILED {DOCUMENT}: {len(offsets)} kept captures cannot be read" in line
    assert f"restore {warc.name} from a backup" in line


def test_a_catalog_row_naming_a_file_elsewhere_is_still_refused(history):
    """The damage path does not weaken the refusal of a catalog row naming a file outside the captures folder."""
    config, data = history
    with sqlite3.connect(data / "catalog.sqlite3") as database:
        database.execute("UPDATE captures SET warc_file = '../catalog.sqlite3' WHERE warc_file IS NOT NULL")
    result = run_cli(config, data, "verify")
    assert result.returncode == 1
    failed = failed_lines(result.stderr)
    assert len(failed) == 2 and all("invalid WARC file name in catalog" in line for line in failed), failed


def captures_by_place(data: Path) -> dict[int, tuple[str, str, str]]:
    """Every catalogued capture with kept bytes: its record's offset to its (document, URL, listed time)."""
    with closing(sqlite3.connect(data / "catalog.sqlite3")) as connection:
        rows = connection.execute(
            "SELECT warc_offset, document, url, captured_at FROM captures WHERE warc_file IS NOT NULL"
        )
        return {offset: (document, url, at) for offset, document, url, at in rows}


@pytest.mark.parametrize("damage", ["bytes overwritten", "cut short, more records after it"])
def test_a_lost_catalog_is_re_indexed_past_a_damaged_record_and_repair_names_it(history, damage):
    """The catalog lost and a version's record damaged in the middle of the WARC file: `repair` re-indexes every
    other capture (warcio alone stopped at the damage: every capture after it was lost to the index), names
    the damaged record where it starts, and exits 1; `verify` then names that version alone."""
    config, data = history
    warc, versions, offsets = kept_records(data)
    before = fetched_rows(data / "catalog.sqlite3")
    places = captures_by_place(data)
    damaged_at = min(versions)  # the first version's record: most captures come after it
    following = offsets[offsets.index(damaged_at) + 1 :]
    assert len(following) >= 10, offsets
    kept = warc.read_bytes()
    with warc.open("rb") as handle:
        records = ArchiveIterator(handle)
        starts = [records.get_record_offset() for _ in records]
    next_record = starts[starts.index(damaged_at) + 1]
    if damage == "bytes overwritten":
        zero_inside(warc, damaged_at)
    else:  # the member cut in its middle, the records after it written on
        warc.write_bytes(kept[: (damaged_at + next_record) // 2] + kept[next_record:])
    for path in data.glob("catalog.sqlite3*"):
        path.unlink()

    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 1, repaired.stderr
    notes = [line for line in repaired.stderr.splitlines() if "re-indexed" in line]
    (note,) = notes
    assert note.startswith(f"repaired: {len(offsets) - 1} captures re-indexed from 1 WARC file in "), note
    assert f"1 damaged record skipped, reading resumed after it (restore {warc.name} from a backup" in note, note
    assert f"{warc.name}:{damaged_at}: " in note, note
    (failed,) = failed_lines(repaired.stderr)
    assert failed.startswith(f"FAILED {warc.name}: 1 damaged record skipped") and f":{damaged_at}: " in failed

    lost = places[damaged_at]
    assert fetched_rows(data / "catalog.sqlite3") == {key: row for key, row in before.items() if key != lost}
    verified = run_cli(config, data, "verify")
    assert verified.stdout.strip() == "1/2 versions verified; 1 mismatch", verified.stdout
    (failed,) = failed_lines(verified.stderr)
    assert failed.startswith(f"FAILED {DOCUMENT}: version {versions[damaged_at]} (") and "missing capture" in failed

    again = run_cli(config, data, "repair")  # still named: the damaged record is still there
    assert again.returncode == 1 and "nothing to repair" not in again.stderr
    assert [line.split(": 1 damaged")[0] for line in failed_lines(again.stderr)] == [f"FAILED {warc.name}"]


# --- verify: a version's own record damaged, the same bytes kept from a later capture --------------------------


@pytest.fixture(scope="module")
def tracked_twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One version of a live page fetched twice, unchanged: two captures with the same payload, in two files."""
    root = tmp_path_factory.mktemp("twice")
    with RouteServer({"/privacy": POLICY}) as site:
        config = tracked_config(root / "config", site.url("/privacy"))
        for _ in range(2):
            assert run_cli(config, root / "data", "track").returncode == 0
    return config, root / "data"


@pytest.mark.parametrize("damaged", ["its own record", "both records"])
def test_verify_confirms_a_text_by_the_same_bytes_elsewhere_but_never_calls_it_verified(
    tracked_twice, tmp_path, damaged
):
    config, data = tracked_twice
    shutil.copytree(data, tmp_path / "data", symlinks=True)
    data = tmp_path / "data"
    catalog = Catalog(data / "catalog.sqlite3")
    try:
        (version,) = catalog.versions("acme/privacy-policy")
        rows = list(catalog.stored_captures(["acme/privacy-policy"]))
    finally:
        catalog.close()
    assert len(rows) == 2 and rows[0].payload_sha1 == rows[1].payload_sha1 and rows[0].bytes_at == version.captured_at
    own, later = (row.stored for row in rows)
    assert own is not None and later is not None and own.warc_file != later.warc_file
    for stored in [own, later] if damaged == "both records" else [own]:
        zero_inside(data / "captures" / stored.warc_file, stored.offset)

    result = run_cli(config, data, "verify")
    assert result.returncode == 1
    (failed,) = failed_lines(result.stderr)
    when = version.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert failed.startswith(f"FAILED acme/privacy-policy: version {when} (")
    assert f"damaged capture: {own.warc_file}:{own.offset}: " in failed, failed
    if damaged == "its own record":
        later_at = rows[1].bytes_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert failed.endswith(
            f"; its text is confirmed by the same bytes kept from the capture of {later_at} "
            f"({later.warc_file}:{later.offset}), not its date"
        ), failed
        assert result.stdout.strip() == (
            "0/1 versions verified; 1 confirmed only by the same bytes of another capture (own record unreadable)"
        )
    else:
        assert "confirmed" not in failed, failed
        assert result.stdout.strip() == "0/1 versions verified; 1 mismatch"
