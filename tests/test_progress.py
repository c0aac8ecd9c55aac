"""Progress lines: counts by outcome, done/total, rate and ETA; nothing at all when quiet."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from standin.archive import StandinArchive
from standin.cli import cli_command, cli_environment, run_cli, write_archive_settings

from policy_archive.pipeline.jobs.progress import Left, Progress
from policy_archive.pipeline.jobs.sites_left import SitesLeft
from policy_archive.records import DocumentDeclaration


def test_a_known_total_shows_share_rate_and_time_left() -> None:
    stream = io.StringIO()
    progress = Progress("track", stream=stream, interval=3600)
    progress.expect(4, "documents")
    progress.add("fetched", done=True)
    progress.add("failed", done=True)
    line = progress.line()
    assert line.startswith("track: 2/4 documents (50 %), 1 fetched, 1 failed, ")
    assert re.search(r", [\d.]+/(s|min|h), ETA \d+:\d\d:\d\d$", line), line


def test_an_unknown_total_shows_the_count_and_rate_only() -> None:
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined", one="capture examined")
    progress.add("captures listed", 10, one="capture listed")
    progress.add("fetched", done=True)
    line = progress.line()
    assert line.startswith("backfill: 1 capture examined, 10 captures listed, 1 fetched, ")
    assert "ETA" not in line and "%" not in line


def test_a_total_learnt_as_the_work_goes_shows_share_and_time_left() -> None:
    """Backfill knows how many captures `all` (and --verify-spans) will fetch once the listings are read."""
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined", one="capture examined")
    progress.add("captures listed", 423, one="capture listed")
    left = [Left(369)]
    progress.estimate(lambda: left[0])
    assert progress.line() == "backfill: 0/369 captures examined (0 %), 423 captures listed"
    progress.add("fetched", done=True)
    left[0] = Left(268)  # twins of the capture fetched are known with it, at no cost
    line = progress.line()
    assert line.startswith("backfill: 1/269 captures examined (0 %), 423 captures listed, 1 fetched, "), line
    assert re.search(r", [\d.]+/(s|min|h), ETA \d+:\d\d:\d\d$", line), line


def test_the_time_left_is_never_shorter_than_the_rate_budget_allows() -> None:
    """Audit 3 #12: at one capture request an hour, 3 captures left were shown as a minute's work. The rate
    measured (one capture in well under an hour) is faster than the budget: the budget decides."""
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined", one="capture examined")
    left = [Left(4)]
    progress.estimate(lambda: left[0])
    progress.at_most(1 / 3600)
    assert progress.line() == "backfill: 0/4 captures examined (0 %), ETA 4:00:00"
    left[0] = Left(3)
    progress.add("fetched", done=True)
    assert re.fullmatch(
        r"backfill: 1/4 captures examined \(25 %\), 1 fetched, [\d.]+/(s|min), ETA 3:00:00", progress.line()
    )


def test_a_rate_budget_without_a_known_total_shows_no_time_left() -> None:
    progress = Progress("discover", stream=io.StringIO())
    progress.expect(None, "domains")
    progress.at_most(1 / 60)
    assert progress.line() == "discover: 0 domains"


def test_a_bound_shows_no_share_and_no_time_left() -> None:
    """While bisect searches, how many captures it will fetch is not known: only "at most"."""
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined", one="capture examined")
    progress.estimate(lambda: Left(399, exact=False))
    progress.add("fetched", done=True)
    line = progress.line()
    assert line.startswith("backfill: 1 capture examined of at most 400, 1 fetched, "), line
    assert "ETA" not in line and "%" not in line


def test_the_rate_counts_from_the_estimate_on() -> None:
    """What was done before the total was known (an archive listing) does not enter the rate or the time left."""
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined")
    progress.add("fetched", done=True)
    progress.estimate(lambda: Left(3))
    assert progress.line() == "backfill: 1/4 captures examined (25 %), 1 fetched"


def test_units_an_earlier_run_finished_count_in_the_total_but_not_in_the_rate(monkeypatch) -> None:
    """Audit 5 #6: a resumed ``discover --from`` counted the 97 domains already written as searched at once, and
    showed 22.2/s and 13 s left where 2/s were searched and about 2 minutes were left."""
    clock = [100.0]
    monkeypatch.setattr("policy_archive.pipeline.jobs.progress.time", SimpleNamespace(monotonic=lambda: clock[0]))
    progress = Progress("discover", stream=io.StringIO())
    progress.expect(400, "domains", one="domain")
    progress.already("skipped", 97)
    assert progress.line() == "discover: 97/400 domains (24 %), 97 skipped"
    clock[0] += 10
    progress.add("searched", 20, done=True)
    # 20 searched in 10 s: 2.0/s, and the 283 left take 141.5 s (with the skipped ones, 11.7/s and 24 s).
    assert progress.line() == "discover: 117/400 domains (29 %), 97 skipped, 20 searched, 2.0/s, ETA 0:02:22"


def test_counts_of_one_are_singular() -> None:
    progress = Progress("track", stream=io.StringIO())
    progress.expect(1, "documents", one="document")
    progress.add("versions recorded", 1, one="version recorded", done=True)
    progress.add("versions recorded", 0)
    assert progress.line().startswith("track: 1/1 document (100 %), 1 version recorded, ")
    progress.add("versions recorded", 1_000)
    assert ", 1,001 versions recorded, " in progress.line()


def test_the_last_unit_done_leaves_the_line_to_finish_so_a_log_says_it_once() -> None:
    """A log (not a terminal) gets a line per interval; the one for all units done would precede finish's
    nearly identical line (``schedule`` logged both)."""
    stream = io.StringIO()
    progress = Progress("track", stream=stream, interval=0)
    progress.expect(2, "documents", one="document")
    progress.add("fetched", done=True)
    progress.add("fetched", done=True)
    progress.add("versions recorded", 2, one="version recorded")
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert [line.split(", ")[0] for line in lines] == ["track: 1/2 documents (50 %)", "track: 2/2 documents (100 %)"]
    assert "2 versions recorded" in lines[-1]


def test_finish_writes_the_final_line_and_quiet_writes_nothing() -> None:
    loud, silent = io.StringIO(), io.StringIO()
    for stream, quiet in ((loud, False), (silent, True)):
        progress = Progress("reextract", stream=stream, interval=0, quiet=quiet)
        progress.add("re-extracted", done=True)
        progress.finish()
    assert loud.getvalue().splitlines()[-1].startswith("reextract: 1 re-extracted")
    assert silent.getvalue() == ""


@pytest.mark.parametrize("where", ["none", "group", "command"])
def test_quiet_silences_progress_and_notes_before_or_after_the_command_name(
    standin_archive: StandinArchive, tmp_path: Path, where: str
) -> None:
    config = tmp_path / "config"
    write_archive_settings(config, standin_archive.cdx_url, standin_archive.replay_url)
    (config / "services" / "acme.toml").write_text(
        'name = "Acme"\n[documents.privacy-policy]\nurl = "https://acme.example/privacy"\n'
    )
    command = cli_command(config, tmp_path / "data", "backfill")
    if where == "group":
        command.insert(command.index("backfill"), "--quiet")
    elif where == "command":
        command.append("--quiet")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=cli_environment())
    assert result.returncode == 0, result.stderr
    if where == "none":
        assert "backfill: " in result.stderr and "lists no capture" in result.stderr
    else:  # only the caveat on the results (what was not verified) stays, by design
        assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if "not verified" in line]
        assert len(result.stderr.splitlines()) == 1


PUBLISHING = {
    "report": ("report", "--output", "site"),
    "export jsonl": ("export", "--format", "jsonl", "--output", "history.jsonl"),
    "export csv": ("export", "--format", "csv", "--output", "history.csv"),
    "export sqlite": ("export", "--format", "sqlite", "--output", "history.sqlite3"),
    "export ota": ("export", "--format", "ota", "--output", "ota"),
}


@pytest.mark.parametrize("command", PUBLISHING)
def test_quiet_report_and_export_print_nothing_on_success_and_still_their_errors(
    recorded: tuple[Path, Path], tmp_path: Path, command: str
) -> None:
    """A script running ``-q report``/``-q export`` reads success from the exit status alone; without -q the
    summary line says what was written, on stderr."""
    config, data = recorded
    name, *options = PUBLISHING[command]
    output = tmp_path / options[-1]
    quiet = run_cli(config, data, "-q", name, *options[:-1], str(output))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert output.exists()
    again = tmp_path / f"again-{options[-1]}"
    loud = run_cli(config, data, name, *options[:-1], str(again))
    # The summary on stderr: stdout may be the export itself (--output /dev/stdout).
    assert loud.returncode == 0 and str(again) in loud.stderr and loud.stdout == "", loud.stderr
    refused = run_cli(config, data, name, "nobody/privacy-policy", "-q", *options[:-1], str(tmp_path / "x"))
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert refused.stdout == ""


def test_quiet_init_names_the_files_written_and_gives_no_hint(tmp_path: Path) -> None:
    target = tmp_path / "config"
    quiet = run_cli(target, tmp_path / "data", "-q", "init")
    assert quiet.returncode == 0 and quiet.stderr == ""
    lines = quiet.stdout.splitlines()
    assert lines[0] == f"wrote {target / 'settings.toml'}" and len(lines) == 2, lines
    assert lines[1].startswith(f"wrote {target / 'services'}/"), lines
    loud = run_cli(target, tmp_path / "data", "init", "--force")
    assert loud.stdout.splitlines()[-1].startswith("next: edit ")


def test_the_time_left_counts_the_requests_a_unit_took() -> None:
    """A capture reached through an archived redirect takes two requests of the rate budget: the time left counts
    as many for each capture left as the captures done took on average, not one."""
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined", one="capture examined")
    left, sent = [Left(4)], [0]
    progress.estimate(lambda: left[0])
    progress.at_most(1 / 60, lambda: sent[0], "replay request")
    assert progress.line() == "backfill: 0/4 captures examined (0 %), 0 replay requests, ETA 0:04:00"
    left[0], sent[0] = Left(3), 2
    progress.add("fetched", done=True)
    assert re.fullmatch(
        r"backfill: 1/4 captures examined \(25 %\), 1 fetched, 2 replay requests, [\d.]+/(s|min), ETA 0:06:00",
        progress.line(),
    )
    # Two captures on their way, a request sent for each: those are theirs, not the one done's.
    left[0], sent[0] = Left(3, started=2), 4
    assert re.fullmatch(
        r"backfill: 1/4 captures examined \(25 %\), 1 fetched, 4 replay requests, [\d.]+/(s|min), ETA 0:06:00",
        progress.line(),
    ), "without the two begun: 4 requests for 1 capture done, 12 minutes"


def test_a_bound_shows_what_is_sure_of_the_work_left() -> None:
    """While bisect searches: the spans it still searches, the captures left between the fewest it has chosen
    and the bound, and the least time those chosen take at the fastest rate allowed (one request each)."""
    progress = Progress("backfill", stream=io.StringIO())
    progress.expect(None, "captures examined", one="capture examined")
    progress.estimate(lambda: Left(39, exact=False, fewest=3, still="2 spans to search"))
    progress.at_most(1 / 60, lambda: 5, "replay request")
    progress.add("fetched", done=True)
    assert re.fullmatch(
        r"backfill: 1 capture examined of at most 40, 1 fetched, 5 replay requests, 2 spans to search, "
        r"3 to 39 left, [\d.]+/(s|min), ETA at least 0:03:00",
        progress.line(),
    )


def test_a_live_crawls_eta_is_its_busiest_sites_documents_left_at_that_sites_pace() -> None:
    """Track on one slow host and a fast one: the rate over the crawl would promise the fast site's pace; the ETA
    is the slow host's 3 documents left at its 1 document done in 60 s (a fake clock), and none while a document
    left waits on a retry."""
    now = [0.0]
    documents = [
        DocumentDeclaration("host", "Host", f"doc-{number}", f"http://slow.test:{8000 + number}/doc")
        for number in range(4)
    ] + [DocumentDeclaration("fast", "Fast", f"doc-{number}", f"http://fast.test/{number}") for number in range(5)]
    left = SitesLeft(documents, clock=lambda: now[0])
    progress = Progress("track", stream=io.StringIO(), interval=3600)
    progress.expect(len(documents), "documents", one="document")
    progress.estimate(left)
    for document in ["host/doc-0", *(f"fast/doc-{number}" for number in range(5))]:
        left.finished(document)
        progress.add("fetched", done=True)
    now[0] = 60.0
    assert progress.line().startswith("track: 6/9 documents (66 %), 6 fetched, 3 left on 1 site (slow.test), ")
    assert progress.line().endswith(", ETA 0:03:00")
    left.retried("host/doc-1")
    assert re.fullmatch(r".*, 1 retried \(host/doc-1\), [\d.]+/(s|min|h)", progress.line())


def test_the_final_line_is_not_written_twice_to_a_log() -> None:
    """A step's line just before the end says what the final line would (outside audit A, F4: a backfill whose listing
    failed said ``backfill: 0 captures examined, 0 versions recorded`` twice)."""
    stream = io.StringIO()
    progress = Progress("backfill", stream=stream, interval=0)
    progress.expect(None, "captures examined", one="capture examined")
    progress.add("versions recorded", 0, one="version recorded")
    progress.finish()
    assert stream.getvalue().splitlines() == ["backfill: 0 captures examined, 0 versions recorded"]
    progress.add("versions recorded", 1, one="version recorded")
    progress.finish()  # a line that differs is written
    assert stream.getvalue().splitlines()[-1].endswith("1 version recorded")
