"""Damaged WARC files (bit rot, bytes overwritten or inserted, a file replaced or recompressed by another tool):
a capture is read back exactly as written or refused as damaged, never read wrong, and damage in one record
never keeps an intact neighbour from being read. Through the command line: `verify` names each version whose
capture cannot be read, `reextract` keeps those as they were and names them, `repair` names the files; never a
traceback."""

from __future__ import annotations

import gzip
import os
import random
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standin.cli import git, run_cli
from warcio.archiveiterator import ArchiveIterator

from policy_archive.archive.captures import CaptureStore, DamagedCapture, StoredCapture, StoredResponse
from policy_archive.archive.catalog import Catalog
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
    store = CaptureStore(directory)
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
        store = CaptureStore(Path(directory))
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
