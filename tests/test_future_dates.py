"""An archive's date after the run's own clock is no capture (an outside audit, 2026-11-29): a stand-in listing
``20200101000000`` (text A) and ``20990101000000`` (text FUTURE) made FUTURE a version dated 2099, after the live
page tracked today, so `show`, `diff` and the report's "latest" gave the 2099 text, `status` a last capture in
2099, and every later `track` re-chained the 2099 commit. Now a CDX row, or a replay's ``Memento-Datetime`` (the
bytes served, an archived redirect on the way), dated more than ``future_dates.CLOCK_SKEW`` after the run began is
refused ``dated in the future``, said and counted; `status` and `verify` name a version an older release recorded
from such a date. End to end through the CLI on the stand-in archive and a site on 127.0.0.1; the checks called
directly at their boundary, with the clock given (never the real date, but for 2099)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.cli import REPO_ROOT, WAIT_SECONDS, cli_command, cli_environment, git, run_cli, write_archive_settings
from standin.hostile import RouteServer
from standin.pages import html_page

from policy_archive.archive.catalog import Catalog
from policy_archive.pipeline.jobs.examine import examine
from policy_archive.pipeline.jobs.future_dates import CLOCK_SKEW, IN_THE_FUTURE, in_the_future
from policy_archive.pipeline.jobs.listing_rows import candidates, refusal_before_fetch
from policy_archive.pipeline.jobs.report import refusal_kind
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    Source,
    parse_iso_z,
    payload_sha1,
)

DOC = "acme/privacy-policy"
TEXT_A = html_page("ACME Privacy Policy", [f"Text A: we keep your personal data, clause {n}." for n in range(40)])
FUTURE = html_page("ACME Privacy Policy", [f"FUTURE text: we sell your personal data, clause {n}." for n in range(40)])
LIVE = html_page("ACME Privacy Policy", [f"Live text: we delete your personal data, clause {n}." for n in range(40)])
CLOCK = datetime(2026, 11, 29, 1, 50, tzinfo=UTC)


def config_for(root: Path, archive, url: str) -> Path:
    config = write_archive_settings(root / "config", archive.cdx_url, archive.replay_url)
    (config / "services" / "acme.toml").write_text(f'name = "ACME"\n[documents.privacy-policy]\nurl = "{url}"\n')
    return config


def test_the_audits_2099_capture_is_refused_and_the_live_page_is_the_latest(tmp_path, standin_archive):
    with RouteServer({"/privacy": LIVE}) as site:
        url = site.url("/privacy")
        standin_archive.add_capture(url, "20200101000000", TEXT_A.body)
        standin_archive.add_capture(url, "20990101000000", FUTURE.body)
        config, data = config_for(tmp_path, standin_archive, url), tmp_path / "data"

        backfill = run_cli(config, data, "backfill", "--strategy", "all")
        assert backfill.returncode == 0, backfill.stderr
        said = f"{DOC}: capture 20990101000000 refused: {IN_THE_FUTURE}: listed at 2099-01-01T00:00:00Z, more than"
        assert said in backfill.stderr, backfill.stderr
        assert "1 day after this run began (" in backfill.stderr
        replayed = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
        assert replayed and not any("2099" in path for path in replayed), replayed

        track = run_cli(config, data, "track")
        assert track.returncode == 0, track.stderr

    log = json.loads(run_cli(config, data, "log", DOC, "--json").stdout)
    years = [parse_iso_z(version["date"]).year for version in log]
    assert years[0] == 2020 and len(years) == 2 and years[1] < 2099, log
    assert [version["source"] for version in log] == ["wayback", "live"], log
    shown = run_cli(config, data, "show", DOC)
    assert "Live text" in shown.stdout and "FUTURE" not in shown.stdout, shown.stdout
    assert "FUTURE" not in git(data / "versions", "log", "--all", "-p")

    status = run_cli(config, data, "status")
    assert f"refused captures: 1 {IN_THE_FUTURE}" in status.stdout, status.stdout
    assert "2099" not in status.stdout.split("refused captures")[0], status.stdout  # no last capture in 2099
    (document,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert parse_iso_z(document["last_capture"]).year < 2099, document
    assert [refusal["reason"] for refusal in document["refusals"]][0].startswith(f"{IN_THE_FUTURE}: listed at 2099")
    assert document["future_versions"] == []
    assert run_cli(config, data, "verify").returncode == 0


def test_a_redirect_whose_target_the_archive_dates_in_the_future_is_refused(tmp_path, standin_archive):
    """The row is listed in 2020, an archived 301; its target's only memento is of 2099, which the archive serves
    with that ``Memento-Datetime``: refused for that date, before the 30 days of docs/decisions/0008 are asked."""
    url, moved = "http://acme.test/privacy", "http://acme.test/legal/privacy"
    standin_archive.add_capture(url, "20190101000000", TEXT_A.body)
    standin_archive.add_capture(url, "20200101000000", b"", status=301, location=moved)
    standin_archive.add_capture(moved, "20990101000000", FUTURE.body)
    config, data = config_for(tmp_path, standin_archive, url), tmp_path / "data"
    backfill = run_cli(config, data, "backfill", "--strategy", "all")
    assert backfill.returncode == 0, backfill.stderr
    refused = f"{DOC}: capture 20200101000000 refused: {IN_THE_FUTURE}: the archive dates the bytes it served"
    assert f"{refused} 2099-01-01T00:00:00Z, more than 1 day after this run began (" in backfill.stderr
    log = json.loads(run_cli(config, data, "log", DOC, "--json").stdout)
    assert [parse_iso_z(version["date"]).year for version in log] == [2019], log
    catalog = Catalog(data / "catalog.sqlite3")
    try:
        reasons = [row.reason for row in catalog.captures(DOC, texts=False) if row.reason]
    finally:
        catalog.close()
    assert any(refusal_kind(reason) == IN_THE_FUTURE for reason in reasons), reasons


def test_a_row_is_refused_only_past_the_tolerance_after_the_runs_clock():
    at = CLOCK + CLOCK_SKEW
    last_kept = CaptureRef("https://acme.test/privacy", at, 200, "text/html", None)
    first_refused = CaptureRef("https://acme.test/privacy", at + timedelta(seconds=1), 200, "text/html", None)
    assert refusal_before_fetch(last_kept, CLOCK) is None
    reason = refusal_before_fetch(first_refused, CLOCK)
    assert reason == (
        f"{IN_THE_FUTURE}: listed at 2026-11-30T01:50:01Z, more than 1 day after this run began (2026-11-29T01:50:00Z)"
    )
    assert refusal_kind(reason) == IN_THE_FUTURE
    assert candidates([first_refused, last_kept], CLOCK) == [last_kept]
    # The same row, judged by a later run's clock (its day has come), is a capture like any other.
    assert refusal_before_fetch(first_refused, CLOCK + timedelta(seconds=1)) is None
    assert in_the_future(CLOCK, CLOCK, "x") is None


def test_the_rows_refused_as_dated_in_the_future_are_found_without_the_others(tmp_path):
    """Backfill lists again, each run, the rows an earlier run refused as dated in the future whose day has come:
    they are found by their reason in SQL, the listing's other rows (a million, for some pages) never built."""
    url = "https://acme.test/privacy"
    rows = [CaptureRef(url, CLOCK - timedelta(days=n), 200, "text/html", None) for n in range(3)]
    later, much_later = (CaptureRef(url, CLOCK + timedelta(days=n), 200, "text/html", None) for n in (2, 400))
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.add_listed(DOC, [*rows, later, much_later])
    catalog.refuse_listed(
        DOC, [(rows[0], "archived status 404"), *((r, refusal_before_fetch(r, CLOCK)) for r in (later, much_later))]
    )
    assert catalog.refused_unfetched(DOC, IN_THE_FUTURE) == [(url, later.timestamp), (url, much_later.timestamp)]
    # A year on, the first is a capture like any other; the other still waits for its day.
    due = [
        (u, at)
        for u, at in catalog.refused_unfetched(DOC, IN_THE_FUTURE)
        if in_the_future(at, CLOCK + timedelta(days=365), "listed at") is None
    ]
    catalog.relist(DOC, due)
    assert catalog.refused_unfetched(DOC, IN_THE_FUTURE) == [(url, much_later.timestamp)]


DECLARATION = DocumentDeclaration("acme", "ACME", "privacy-policy", "https://acme.test/privacy")


def replay(memento: datetime, listed_at: datetime, hops: tuple[Capture, ...] = ()) -> Capture:
    listed = CaptureRef(DECLARATION.url, listed_at, 200, "text/html", None)
    return Capture(
        DOC,
        Source.WAYBACK,
        DECLARATION.url,
        DECLARATION.url,
        memento,
        200,
        "text/html",
        TEXT_A.body,
        payload_sha1(TEXT_A.body),
        (),
        listed=listed,
        hops=hops,
    )


def test_a_replays_memento_datetime_in_the_future_is_refused():
    """A row listed an hour before the run began, its bytes served with a Memento-Datetime two days after: within
    the 30 days of docs/decisions/0008 and the last of its listing, so nothing else refused it."""
    listed_at = CLOCK - timedelta(hours=1)
    assert examine(DECLARATION, replay(CLOCK + CLOCK_SKEW, listed_at), clock=CLOCK).reason is None
    refused = examine(DECLARATION, replay(CLOCK + timedelta(days=2), listed_at), clock=CLOCK, check_digest=False)
    assert refused.reason == (
        f"{IN_THE_FUTURE}: the archive dates the bytes it served 2026-12-01T01:50:00Z, more than 1 day after this run"
        " began (2026-11-29T01:50:00Z)"
    )
    hop = replay(CLOCK + timedelta(days=3), listed_at)
    through = examine(DECLARATION, replay(listed_at, listed_at, (hop,)), clock=CLOCK, check_digest=False)
    assert (through.reason or "").startswith(f"{IN_THE_FUTURE}: the archived redirect {DECLARATION.url} is dated")
    # A live capture is dated by our own clock: never judged so.
    live = dataclasses.replace(replay(CLOCK + timedelta(days=2), listed_at), source=Source.LIVE, listed=None)
    assert (examine(DECLARATION, live, clock=CLOCK).reason or "").find(IN_THE_FUTURE) == -1


# An older release, which checked no date against its clock: this one with a tolerance of 500 years.
OLDER_RELEASE = (
    "import sys, datetime\n"
    "import policy_archive.pipeline.jobs.future_dates as dates\n"
    "dates.CLOCK_SKEW = datetime.timedelta(days=500 * 365)\n"
    "from policy_archive.pipeline.commands.cli import main\n"
    "sys.argv[0] = 'policy-archive'\n"
    "main()\n"
)


def test_a_version_an_older_release_dated_in_the_future_is_named_and_rebuilt_away(tmp_path, standin_archive):
    url = "http://acme.test/privacy"
    standin_archive.add_capture(url, "20200101000000", TEXT_A.body)
    standin_archive.add_capture(url, "20990101000000", FUTURE.body)
    config, data = config_for(tmp_path, standin_archive, url), tmp_path / "data"
    older = subprocess.run(
        [sys.executable, "-c", OLDER_RELEASE, *cli_command(config, data, "backfill", "--strategy", "all")[3:]],
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        env=cli_environment(),
        cwd=REPO_ROOT,
    )
    assert older.returncode == 0, older.stderr
    log = json.loads(run_cli(config, data, "log", DOC, "--json").stdout)
    assert [parse_iso_z(version["date"]).year for version in log] == [2020, 2099], "the audit's history"

    status = run_cli(config, data, "status")
    warning = f"WARNING: 1 version {IN_THE_FUTURE} (more than 1 day after "
    assert warning in status.stdout and "): 2099-01-01T00:00:00Z; recorded before" in status.stdout, status.stdout
    assert "reextract --rebuild" in status.stdout
    (document,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert document["future_versions"] == ["2099-01-01T00:00:00Z"]
    verify = run_cli(config, data, "verify")
    assert verify.returncode == 1
    assert f"FAILED {DOC}: " in verify.stderr and f"{IN_THE_FUTURE}: the version is dated 2099" in verify.stderr

    rebuild = run_cli(config, data, "reextract", "--rebuild")
    assert rebuild.returncode == 0, rebuild.stderr
    log = json.loads(run_cli(config, data, "log", DOC, "--json").stdout)
    assert [parse_iso_z(version["date"]).year for version in log] == [2020], log
    assert "WARNING" not in run_cli(config, data, "status").stdout
    assert run_cli(config, data, "verify").returncode == 0
