"""Rebuilding a lost history (`repair` when the catalog and the repository are both gone) holds no text beyond
the one it works on: its peak memory grows by a small cost per capture, far below a text per capture, when the
store grows fourfold. Measured with tracemalloc in this process: memory does not depend on load or timing.

Until 2026-11-28 the rebuild read every row of a document with its text to examine them again, and held every
version's text until all were handed to Git: its peak grew by more than a text per capture (README, Known limits).
"""

from __future__ import annotations

import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_fidelity import OLD_CAPTURES_TABLE

from benchmarks.reindex import write_store
from policy_archive.archive import fastimport, saves
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.capture_reads import ROWS_PER_READ
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.config.settings import load_config
from policy_archive.digests import PayloadDigest
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.reextract import rebuild_lost_history
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import CaptureRef

URL = "https://acme.example/privacy"
SENTENCE = "We process the personal data you give us only for the purposes this policy names, and no longer. "
TEXT_BYTES = 8 * 50 * len(SENTENCE)  # ~39 KB of text per capture: few elements, so extraction stays quick
SMALL, LARGE = 30, 120  # the large store crosses a page of the catalog's reads (ROWS_PER_READ)


def own_text_page(number: int) -> bytes:
    """A page with a text of its own (every capture a version: the most a rebuild can be asked to hold)."""
    paragraphs = "".join(f"<p>{part}.{number} {SENTENCE * 50}</p>" for part in range(8))
    return f"<html><head><title>Privacy Policy</title></head><body><main>{paragraphs}</main></body></html>".encode()


def repair_peak(root: Path, count: int) -> int:
    """Peak traced memory (bytes) of re-indexing ``count`` captures and rebuilding their history."""
    config_dir, data = write_store(root, count, own_text_page)
    config = load_config(config_dir, data)
    tracemalloc.start()
    try:
        with open_workspace(config, "repair", existing=True, drop_lost_history=True) as workspace:
            assert workspace.history_lost
            report = rebuild_lost_history(workspace, config.documents, Progress("repair", quiet=True))
            versions = len(workspace.catalog.versions("acme/privacy-policy"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not report.failures, report.failures
    assert versions == count, "every capture's text is a version of the rebuilt history"
    return peak


def test_rebuilding_a_lost_history_holds_no_text_per_capture(tmp_path, monkeypatch):
    # The buffers on the way to git fast-import are bounded by constants sized for real imports (16 MB of blobs
    # grouped by document, 8 chunks of 1 MB in flight): shrunk here, so that only what grows with the store
    # can tell the two sizes apart.
    monkeypatch.setattr(saves, "BLOB_BUFFER_BYTES", 256 * 1024)
    monkeypatch.setattr(fastimport, "STREAM_CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(fastimport, "STREAM_QUEUE_CHUNKS", 2)
    assert SMALL < ROWS_PER_READ < LARGE
    small = repair_peak(tmp_path / "small", SMALL)
    large = repair_peak(tmp_path / "large", LARGE)
    per_capture = (large - small) / (LARGE - SMALL)
    # A text held per capture would add at least TEXT_BYTES each; rows without texts, ledger entries and commit
    # ids add ~0.5 KB (2.4 KB with the cyclic garbage collector off, so its timing cannot matter; 2026-11-28).
    # Under load the small store's peak varies most (its bounded buffers are not always full when it peaks): 7.0
    # to 13.1 KB per capture measured at load average 4-7 on 2 cores (2026-11-28), so the bound is half a text.
    assert per_capture < TEXT_BYTES / 2, (small, large, per_capture)


@pytest.mark.parametrize("texts", [True, False])
def test_each_capture_reads_every_row_once_in_time_order_while_the_catalog_is_written(tmp_path, texts):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    # Three URLs listed at each moment: rows tied on their time, ordered by id, across the pages' edges.
    refs = [
        CaptureRef(
            f"{URL}?{variant}",
            start + timedelta(hours=hour),
            200,
            "text/html",
            PayloadDigest.parse(f"D{hour}{variant}"),
        )
        for hour in range(ROWS_PER_READ)
        for variant in "abc"
    ]
    catalog.add_listed("acme/privacy-policy", reversed(refs))
    catalog.add_listed("other/terms", refs[:5])
    expected = [(row.id, row.captured_at) for row in catalog.captures("acme/privacy-policy")]
    assert len(expected) == 3 * ROWS_PER_READ
    assert expected == sorted(expected, key=lambda item: (item[1], item[0]))
    read = []
    for row in catalog.each_capture("acme/privacy-policy", texts=texts):
        catalog.refuse(row.id, "read while the catalog is written")  # a write between two reads of a scan
        read.append((row.id, row.captured_at))
    assert read == expected
    assert {row.outcome for row in catalog.captures("acme/privacy-policy")} == {Outcome.REFUSED}
    catalog.close()


def test_the_columns_read_without_texts_are_looked_up_once_per_catalog_opened(tmp_path):
    """A long rebuild scans every document without texts: the captures table's columns are read once, not on
    each scan; and in a catalog migrated on opening, the columns added then are among them."""
    path = tmp_path / "catalog.sqlite3"
    old = sqlite3.connect(path)
    old.execute(OLD_CAPTURES_TABLE)  # a catalog from before the added columns (no dropped, rendered, note...)
    old.commit()
    old.close()
    catalog = Catalog(path)
    catalog.add_listed(
        "acme/privacy-policy",
        [CaptureRef(URL, datetime(2020, 1, 1, tzinfo=UTC), 200, "text/html", PayloadDigest.parse("D"))],
    )
    statements: list[str] = []
    catalog.connection.set_trace_callback(statements.append)
    for _ in range(3):
        (row,) = catalog.each_capture("acme/privacy-policy", texts=False)
        assert (row.body, row.dropped, row.rendered, row.note) == (None, (), False, None)
    assert sum("PRAGMA" in statement for statement in statements) == 1, statements
    catalog.close()
