"""Which runs may have kept live captures without recording their versions (``RunTable.unrecorded_tracks``): the
`track` runs that never reached their end, each with the time span its captures lie in; a real SQLite catalog.
The whole path (a `track` killed with SIGKILL, its captures recorded by the next command) is in
tests/test_track_e2e.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.runs import DID_NOT_FINISH

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
