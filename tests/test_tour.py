"""The README's tour, played end to end through the real command line, as a user meets it.

One stand-in archive holds two documents of one service, one reached through an archived redirect, each with one
change; one stand-in site serves them live. Every command the tour names runs in a subprocess (Scrapy's reactor
cannot restart in one process) and is checked on what it really printed and wrote: commit dates against the
Memento-Datetime of the bytes, trailers through `git interpret-trailers --parse`, JSON fields by the contract's
names, a diff through `git apply --check`, exports read back with their own readers.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

from standin.archive import StandinArchive
from standin.cli import EXPORT_COLUMNS, cli_environment, git, run_cli
from standin.legal_text import policy_page
from standin.sites import StandinSites

from policy_archive.archive.catalog import Catalog

PRIVACY = "http://acme.test/legal/privacy"
PRIVACY_MOVED = "http://acme.test/legal/privacy-policy"  # where the first capture's archived 301 points
TERMS = "http://acme.test/legal/terms"
# (CDX row time, Memento-Datetime of the bytes the version comes from, ISO form): the redirect row is 40 minutes
# before its target's memento, as in a recorded real chain.
REDIRECT_ROW, REDIRECT_MEMENTO = "20170301100000", "20170301104000"
PRIVACY_CHANGE = "20180528080007"
TERMS_FIRST, TERMS_CHANGE = "20170201120000", "20180601090000"
EXPECTED_DATES = [  # every version, in commit order: (document, Captured-At)
    ("terms-of-service", "2017-02-01T12:00:00Z"),
    ("privacy-policy", "2017-03-01T10:40:00Z"),
    ("privacy-policy", "2018-05-28T08:00:07Z"),
    ("terms-of-service", "2018-06-01T09:00:00Z"),
]
ATOM = "{http://www.w3.org/2005/Atom}"
LOG_FIELDS = {"date", "commit", "source", "subject", "snapshot_url", "stated_date", "unchanged_since"}


def archive_history(archive: StandinArchive) -> None:
    """Privacy: an archived 301 first (its target served 40 minutes later), then the same text, then a change.
    Terms: a first text, then a change. The pages are the stand-in sites' realistic ~20 KB documents."""

    def body(document: str, revision: int) -> bytes:
        return policy_page("acme.test", document, revision=revision, size=20_000).body

    archive.add_capture(PRIVACY, REDIRECT_ROW, b"", status=301, location=PRIVACY_MOVED)
    archive.add_capture(PRIVACY_MOVED, REDIRECT_MEMENTO, body("privacy-policy", 0))
    archive.add_capture(PRIVACY, "20170901000000", body("privacy-policy", 0))
    archive.add_capture(PRIVACY, "20180101000000", body("privacy-policy", 0))
    archive.add_capture(PRIVACY, PRIVACY_CHANGE, body("privacy-policy", 1))
    archive.add_capture(PRIVACY, "20180901000000", body("privacy-policy", 1))
    archive.add_capture(TERMS, TERMS_FIRST, body("terms-of-service", 0))
    archive.add_capture(TERMS, "20171001000000", body("terms-of-service", 0))
    archive.add_capture(TERMS, TERMS_CHANGE, body("terms-of-service", 1))


class Tour:
    """The CLI with one configuration and data directory; the live sites through the stand-in proxy."""

    def __init__(self, config: Path, data: Path, sites: StandinSites):
        self.config, self.data, self.repo = config, data, data / "versions"
        self.env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")

    def run(self, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
        result = run_cli(self.config, self.data, *args, env=self.env)
        assert result.returncode == status, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def commits(self) -> list[str]:
        return git(self.repo, "log", "--reverse", "--format=%H", "main").split()


def trailers(repo: Path, commit: str) -> dict[str, str]:
    message = git(repo, "log", "-1", "--format=%B", commit)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines())


def configure(config: Path, archive: StandinArchive) -> None:
    """The starter configuration `init` wrote, pointed at the stand-in archive, with one service of two documents."""
    settings = (config / "settings.toml").read_text(encoding="utf-8")
    settings = settings.replace('"https://web.archive.org/cdx/search/cdx"', f'"{archive.cdx_url}"')
    settings = settings.replace('"https://web.archive.org/web"', f'"{archive.replay_url}"')
    for key, value in (("cdx_per_minute", "24"), ("replay_per_minute", "480"), ("backoff_seconds", "60")):
        settings = settings.replace(f"{key} = {value}", f"{key} = 60000" if "minute" in key else f"{key} = 0")
    settings = settings.replace("timeout_seconds = 60", "timeout_seconds = 10")
    (config / "settings.toml").write_text(settings, encoding="utf-8")
    for starter in (config / "services").glob("*.toml"):
        starter.unlink()
    (config / "services" / "acme.toml").write_text(
        f'name = "ACME"\n[documents.privacy-policy]\nurl = "{PRIVACY}"\n'
        f'[documents.terms-of-service]\nurl = "{TERMS}"\n',
        encoding="utf-8",
    )


def test_the_readme_tour(standin_archive: StandinArchive, sites: StandinSites, tmp_path: Path) -> None:
    archive_history(standin_archive)
    sites.set_page(PRIVACY, policy_page("acme.test", "privacy-policy", revision=2, size=20_000))
    sites.set_page(TERMS, policy_page("acme.test", "terms-of-service", revision=1, size=20_000))
    config, data = tmp_path / "config", tmp_path / "data"
    tour = Tour(config, data, sites)

    # init writes a starter configuration that validates as it is; nothing is written to the data directory.
    tour.run("init", str(config))
    tour.run("validate")
    configure(config, standin_archive)
    validated = tour.run("validate")
    assert validated.stdout.startswith("configuration OK: 2 documents of 1 service")
    assert not data.exists(), "validate must not create the data directory"

    # backfill: four versions, each dated by the Memento-Datetime of its bytes, in date order.
    backfilled = tour.run("backfill")
    assert re.match(r"\d+ captures not verified", backfilled.stderr.splitlines()[-1]), backfilled.stderr
    commits = tour.commits()
    assert len(commits) == len(EXPECTED_DATES)
    for commit, (document, captured_at) in zip(commits, EXPECTED_DATES, strict=True):
        found = trailers(tour.repo, commit)
        assert found["Captured-At"] == captured_at
        assert found["Source"] == "wayback"
        dates = git(tour.repo, "log", "-1", "--format=%aI %cI", commit).split()
        assert dates == [captured_at.replace("Z", "+00:00")] * 2
        assert git(tour.repo, "show", "--format=", "--name-only", commit).split() == [f"a/acme/{document}.md"]
    redirected = trailers(tour.repo, commits[1])
    assert redirected["Snapshot-Url"] == f"{standin_archive.replay_url}/{REDIRECT_MEMENTO}id_/{PRIVACY_MOVED}"
    assert redirected["Stated-Date"] == "2026-01-01"
    assert trailers(tour.repo, commits[2])["Stated-Date"] == "2026-01-02"

    # log: text, and JSON with the contract's fields; SERVICE lists each document.
    log = tour.run("log", "acme/privacy-policy").stdout
    assert "2017-03-01" in log and "2018-05-28" in log
    assert commits[2][:7] in log
    both = tour.run("log", "acme").stdout
    assert "privacy-policy" in both and "terms-of-service" in both
    log_json = json.loads(tour.run("log", "acme/privacy-policy", "--json").stdout)
    assert sorted(entry["commit"] for entry in log_json) == sorted(commits[1:3])
    for entry in log_json:
        assert LOG_FIELDS <= entry.keys(), entry
    by_commit = {entry["commit"]: entry for entry in log_json}
    assert by_commit[commits[2]]["date"].startswith("2018-05-28T08:00:07")
    assert by_commit[commits[2]]["stated_date"] == "2026-01-02"
    assert by_commit[commits[1]]["snapshot_url"] == redirected["Snapshot-Url"]
    assert by_commit[commits[2]]["unchanged_since"].startswith("2018-01-01")  # the last capture unchanged

    # show --at: the version in force at the end of a day.
    before_change = tour.run("show", "acme/privacy-policy", "--at", "2018-05-27").stdout
    assert before_change == git(tour.repo, "show", f"{commits[1]}:a/acme/privacy-policy.md")
    assert "Last updated: January 01, 2026" in before_change

    # diff: a patch `git apply` accepts, against the file as it was before the change.
    patch = tour.run("diff", "acme/privacy-policy", "--from", "2018-01-01", "--to", "2018-06-01").stdout
    assert "-*Last updated: January 01, 2026*" in patch and "+*Last updated: January 02, 2026*" in patch
    checkout = tmp_path / "checkout"
    git(tour.repo, "worktree", "add", "--detach", str(checkout), commits[1])
    applied = subprocess.run(
        ["git", "apply", "--check", "-"], input=patch, capture_output=True, text=True, cwd=checkout
    )
    assert applied.returncode == 0, applied.stderr
    git(tour.repo, "worktree", "remove", "--force", str(checkout))
    unchanged = tour.run("diff", "acme/privacy-policy", "--from", "2018-06-01", "--to", "2018-07-01").stdout
    assert unchanged.startswith("no change between")
    backwards = tour.run("diff", "acme/privacy-policy", "--from", "2018-06-01", "--to", "2018-01-01", status=2)
    assert backwards.stderr == "policy-archive: --from 2018-06-01 is after --to 2018-01-01\n"

    # status: text and JSON, one object per document.
    status = tour.run("status").stdout
    assert "acme/privacy-policy" in status and "acme/terms-of-service" in status
    status_json = json.loads(tour.run("status", "--json").stdout)
    assert {entry["document"]: entry["versions"] for entry in status_json} == {
        "acme/privacy-policy": 2,
        "acme/terms-of-service": 2,
    }

    # export in every format: read back with each format's own reader.
    rows = {}
    jsonl = tmp_path / "versions.jsonl"
    tour.run("export", "--format", "jsonl", "--output", str(jsonl))
    rows["jsonl"] = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    table = tmp_path / "versions.csv"
    tour.run("export", "--format", "csv", "--output", str(table))
    with table.open(encoding="utf-8", newline="") as opened:
        reader = csv.DictReader(opened)
        assert reader.fieldnames == EXPORT_COLUMNS
        rows["csv"] = list(reader)
    database = tmp_path / "versions.db"
    tour.run("export", "--format", "sqlite", "--output", str(database))
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        rows["sqlite"] = [dict(row) for row in connection.execute("SELECT * FROM versions ORDER BY captured_at")]
    for name, exported in rows.items():
        assert [row["commit"] for row in exported] == commits, name
        assert [(row["document"], row["captured_at"]) for row in exported] == EXPECTED_DATES, name
        assert all(set(EXPORT_COLUMNS) <= row.keys() for row in exported), name
    ota = tmp_path / "ota"
    tour.run("export", "--format", "ota", "--output", str(ota))
    assert sorted(git(ota, "ls-tree", "-r", "--name-only", "main").splitlines()) == [
        "ACME/Privacy Policy.md",
        "ACME/Terms of Service.md",
    ]
    assert git(ota, "log", "--reverse", "--format=%aI", "main").split() == [
        captured_at.replace("Z", "+00:00") for _, captured_at in EXPECTED_DATES
    ]

    # report: a static site naming every document, a page per document linking its snapshots, an Atom feed.
    site = tmp_path / "report"
    tour.run("report", "--output", str(site))
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="acme/privacy-policy.html"' in index and 'href="acme/terms-of-service.html"' in index
    page = (site / "acme" / "privacy-policy.html").read_text(encoding="utf-8")
    assert redirected["Snapshot-Url"] in page and "<ins>" in page and "<del>" in page
    feed = ElementTree.parse(site / "feed.atom").getroot()
    updated = [entry.findtext(f"{ATOM}updated") for entry in feed.iter(f"{ATOM}entry")]
    assert updated == ["2018-06-01T09:00:00Z", "2018-05-28T08:00:07Z"]  # one entry per change, newest first

    # reextract: the same extractor on the same bytes changes nothing.
    tour.run("reextract")
    assert tour.commits() == commits

    # a second backfill is idempotent: no new commit, nothing fetched again.
    fetched = standin_archive.counts()["replay"]
    tour.run("backfill")
    assert tour.commits() == commits
    assert standin_archive.counts()["replay"] == fetched

    # --verify-spans fetches what the change-point search assumed unchanged (the archived redirect among them):
    # nothing new here, and nothing left unverified.
    spans = tour.run("backfill", "--verify-spans")
    assert spans.stderr.splitlines()[-1].startswith("0 captures not verified"), spans.stderr
    assert tour.commits() == commits
    unverified = {
        entry["document"]: entry["unverified_captures"] for entry in json.loads(tour.run("status", "--json").stdout)
    }
    assert unverified == {"acme/privacy-policy": 0, "acme/terms-of-service": 0}

    # track: the live privacy policy changed (revision 2), the live terms did not.
    tracked = tour.run("track")
    after_track = tour.commits()
    assert after_track[: len(commits)] == commits and len(after_track) == len(commits) + 1, tracked.stderr
    live = trailers(tour.repo, after_track[-1])
    assert live["Source"] == "live"
    assert live["Snapshot-Url"] == PRIVACY
    assert live["Stated-Date"] == "2026-01-03"

    # verify: every version, archived (through a redirect) and live, traced to its kept bytes and re-extracted.
    verified = tour.run("verify")
    assert f"{len(after_track)}/{len(after_track)} versions verified" in verified.stdout

    # status after a run that never reached its end (a SIGTERM while `track` was starting, kill -9): said so.
    catalog = Catalog(data / "catalog.sqlite3")
    catalog.start_run("track", datetime.now(UTC))
    catalog.close()
    last_run = tour.run("status").stdout.splitlines()[1]
    assert last_run.startswith("run track ")
    # (What it kept is told after a `;`: the live captures from its start on, tests/test_status_runs.py.)
    assert "→ never finished (killed, or the machine stopped); " in last_run
