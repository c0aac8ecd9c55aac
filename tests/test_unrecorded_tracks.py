"""Which runs may have kept live captures without recording their versions (``RunTable.unrecorded_tracks``): the
`track` runs that never reached their end, each with the time span its captures lie in; a real SQLite catalog.
The whole path (a `track` killed with SIGKILL, its captures recorded by the next command) is in
tests/test_track_e2e.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome
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

        assert catalog.unrecorded_tracks() == [(killed, at[0], at[1]), (failed, at[2], at[3]), (last, at[5], None)]
        catalog.note_recorded_later(killed, "stopped before recording its versions: recorded later")
        catalog.note_recorded_later(failed, "stopped before recording its versions: recorded later")
        assert catalog.unrecorded_tracks() == [(last, at[5], None)]
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


def test_a_capture_in_the_second_the_next_run_started_is_not_the_killed_runs(tmp_path: Path) -> None:
    """The killed run's span ends before the next run's start, to the second: times are whole seconds, and the
    next run may fetch a page in the very second it started, a capture of its own (pipeline/jobs/unrecorded.py)."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        killed = catalog.start_run("track", START)  # kill -9: no exit status
        # The next run starts part-way through a second: the catalog keeps whole seconds, so it started "at" it.
        next_start = START + timedelta(minutes=1, microseconds=700_000)
        following = catalog.start_run("track", next_start)
        catalog.finish_run(following, next_start + timedelta(minutes=1), 0, "2 versions recorded, 0 documents failed")
        last_second = START + timedelta(seconds=59)
        same_second = START + timedelta(minutes=1)
        for document, at in [
            ("first/privacy-policy", START),  # in the second the killed run started: its own
            ("last/privacy-policy", last_second),  # the last whole second before the next run's
            ("next/privacy-policy", same_second),  # the next run's, fetched in the second it started
            ("later/privacy-policy", same_second + timedelta(seconds=1)),
        ]:
            keep_live_capture(catalog, document, at)

        ((run, since, until),) = catalog.unrecorded_tracks()
        assert (run, since, until) == (killed, START, same_second)
        kept = catalog.live_extracted(since, until)
        assert [(row.document, row.captured_at) for row in kept] == [
            ("first/privacy-policy", START),
            ("last/privacy-policy", last_second),
        ]
        # The last run killed: its span goes on to now, from the second it started, included.
        assert [row.document for row in catalog.live_extracted(same_second, None)] == [
            "next/privacy-policy",
            "later/privacy-policy",
        ]
    finally:
        catalog.close()
