"""Which runs may have kept live captures without recording their versions (``RunTable.unrecorded_tracks``): the
`track` runs that never reached their end, each with where its captures are (above its watermark, up to the next
run's; by time for a run of an older release) and the captures found there; a real SQLite catalog.
The whole path (a `track` killed with SIGKILL, its captures recorded by the next command) is in
tests/test_track_e2e.py."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome, UnrecordedTrack
from policy_archive.archive.catalog.runs import DID_NOT_FINISH
from policy_archive.archive.warc_records import StoredCapture
from policy_archive.records import Capture, Source, payload_sha1

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_the_track_runs_killed_or_stopped_by_an_error_are_found_with_the_span_of_their_captures(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        at = [START + timedelta(minutes=minute) for minute in range(6)]
        killed = catalog.start_run("track", at[0])  # kill -9: no exit status
        finished = catalog.start_run("track", at[1])
        catalog.finish_run(finished, at[1], 0, "1 version recorded, 0 documents failed")
        failed = catalog.start_run("track", at[2])  # it raised: no report
        catalog.finish_run(failed, at[2], 1, DID_NOT_FINISH)
        backfill = catalog.start_run("backfill", at[3])  # killed too, but keeps no live capture
        catalog.finish_run(catalog.start_run("track", at[4]), at[4], 1, "0 versions recorded, 1 document failed")
        last = catalog.start_run("track", at[5])  # the last run, killed: its captures go on to now

        # No capture yet: every watermark is 0.
        assert catalog.unrecorded_tracks() == [
            UnrecordedTrack(killed, at[0], at[1], 0, 0),
            UnrecordedTrack(failed, at[2], at[3], 0, 0),
            UnrecordedTrack(last, at[5], None, 0, None),
        ]
        catalog.note_recorded_later(killed, "stopped before recording its versions: recorded later")
        catalog.note_recorded_later(failed, "stopped before recording its versions: recorded later")
        assert catalog.unrecorded_tracks() == [UnrecordedTrack(last, at[5], None, 0, None)]
        runs = {row["id"]: row for row in catalog.last_runs(10)}
        assert (runs[killed]["exit_status"], runs[killed]["finished_at"]) == (1, None)  # its end stays unknown
        assert runs[failed]["summary"] == "stopped before recording its versions: recorded later"
        assert runs[backfill]["exit_status"] is None
    finally:
        catalog.close()


def keep_live_capture(catalog: Catalog, document: str, at: datetime) -> None:
    """A live capture of ``document`` fetched at ``at`` and extracted, as `track` keeps it before its save."""
    url = f"https://{document.split('/')[0]}.example/privacy"
    body = f"<html><body><p>Captured at {at.isoformat()}.</p></body></html>".encode()
    capture = Capture(document, Source.LIVE, url, url, at, 200, "text/html", body, payload_sha1(body))
    stored = StoredCapture("live.warc.gz", int(at.timestamp()))
    catalog.record_fetch(capture, stored, Outcome.EXTRACTED, title="Privacy", body=f"Text of {at}", body_sha1="x")


def killed_then_next_in_its_last_second(catalog: Catalog) -> tuple[int, int]:
    """A `track` killed after keeping captures, the last in the second the next run then started (a restart at
    once, an idle machine), and the next run's own capture in that same second: the two runs' ids."""
    killed = catalog.start_run("track", START)  # kill -9: no exit status
    keep_live_capture(catalog, "first/privacy-policy", START)  # in the second the killed run started: its own
    keep_live_capture(catalog, "last/privacy-policy", SAME_SECOND)  # its last, in the second the next run starts
    # The next run starts part-way through that second: the catalog keeps whole seconds, so it started "at" it.
    following = catalog.start_run("track", SAME_SECOND + timedelta(microseconds=700_000))
    keep_live_capture(catalog, "next/privacy-policy", SAME_SECOND)  # the next run's, fetched in the second it started
    keep_live_capture(catalog, "later/privacy-policy", SAME_SECOND + timedelta(seconds=1))
    catalog.finish_run(following, SAME_SECOND + timedelta(minutes=1), 0, "2 versions recorded, 0 documents failed")
    return killed, following


SAME_SECOND = START + timedelta(minutes=1)


def test_a_killed_runs_captures_are_told_from_the_next_runs_in_the_same_second_by_their_ids(tmp_path: Path) -> None:
    """Times are whole seconds: the killed run's last capture and the next run's first may share the second the
    next run started in. Each run's watermark (the highest capture id when it started) tells them apart; by the
    times alone (before 2026-11-29), the killed run's capture in that second was missed."""
    with closing(Catalog(tmp_path / "catalog.sqlite3")) as catalog:
        killed, _ = killed_then_next_in_its_last_second(catalog)
        (run,) = catalog.unrecorded_tracks()
        assert run == UnrecordedTrack(killed, START, SAME_SECOND, 0, 2)
        kept = catalog.live_extracted(run)
        assert [(row.document, row.captured_at) for row in kept] == [
            ("first/privacy-policy", START),
            ("last/privacy-policy", SAME_SECOND),
        ]
        assert catalog.live_extracted_count(run) == 2
        # The last run killed: its captures go on to now, from its watermark (none of the killed run's).
        last = catalog.start_run("track", SAME_SECOND + timedelta(minutes=2))
        keep_live_capture(catalog, "last-run/privacy-policy", SAME_SECOND + timedelta(minutes=2))
        (_, latest) = catalog.unrecorded_tracks()
        assert latest == UnrecordedTrack(last, SAME_SECOND + timedelta(minutes=2), None, 4, None)
        assert [row.document for row in catalog.live_extracted(latest)] == ["last-run/privacy-policy"]


def test_a_run_of_an_older_release_has_its_captures_told_by_their_times(tmp_path: Path) -> None:
    """A catalog from before the watermark: its runs get the column, empty, when a writer opens it (a reader
    opening it unchanged reads them the same way); their captures are told by the times as they were, the
    killed run's in the second the next run started missed (that limit stays for them only). A next run with a
    watermark bounds the killed run's captures by its ids."""
    path = tmp_path / "catalog.sqlite3"
    with closing(Catalog(path)) as catalog:
        killed, following = killed_then_next_in_its_last_second(catalog)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("ALTER TABLE runs DROP COLUMN captures_before")  # as an older release made it
    by_time = UnrecordedTrack(killed, START, SAME_SECOND, None, None)
    by_time_kept = ["first/privacy-policy"]
    with closing(Catalog(path, read_only=True)) as reader:
        assert reader.unrecorded_tracks() == [by_time]
        assert [row.document for row in reader.live_extracted(by_time)] == by_time_kept
    with closing(Catalog(path)) as catalog:
        (run,) = catalog.unrecorded_tracks()
        assert run == by_time
        assert [row.document for row in catalog.live_extracted(run)] == by_time_kept
        assert catalog.live_extracted_count(run) == 1
    # The next run of this release noted its watermark: the killed run's captures end at it.
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE runs SET captures_before = 2 WHERE id = ?", (following,))
    with closing(Catalog(path)) as catalog:
        (run,) = catalog.unrecorded_tracks()
        assert run == UnrecordedTrack(killed, START, SAME_SECOND, None, 2)
        assert [row.document for row in catalog.live_extracted(run)] == ["first/privacy-policy", "last/privacy-policy"]
