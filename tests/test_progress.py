"""Progress lines: counts by outcome, done/total, rate and ETA; nothing at all when quiet."""

from __future__ import annotations

import io
import re

from policy_archive.pipeline.jobs.progress import Progress


def test_a_known_total_shows_share_rate_and_time_left() -> None:
    stream = io.StringIO()
    progress = Progress("track", stream=stream, interval=3600)
    progress.expect(4, "documents")
    progress.add("fetched", done=True)
    progress.add("failed", done=True)
    line = progress.line()
    assert line.startswith("track: 2/4 documents (50 %), 1 fetched, 1 failed, ")
    assert re.search(r", [\d.]+/s, ETA \d+:\d\d:\d\d$", line), line


def test_an_unknown_total_shows_the_count_and_rate_only() -> None:
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined")
    progress.add("captures listed", 10)
    progress.add("fetched", done=True)
    line = progress.line()
    assert line.startswith("backfill: 1 captures examined, 10 captures listed, 1 fetched, ")
    assert "ETA" not in line and "%" not in line


def test_finish_writes_the_final_line_and_quiet_writes_nothing() -> None:
    loud, silent = io.StringIO(), io.StringIO()
    for stream, quiet in ((loud, False), (silent, True)):
        progress = Progress("reextract", stream=stream, interval=0, quiet=quiet)
        progress.add("re-extracted", done=True)
        progress.finish()
    assert loud.getvalue().splitlines()[-1].startswith("reextract: 1 re-extracted")
    assert silent.getvalue() == ""
