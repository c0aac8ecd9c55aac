"""End to end, as a user runs it: `policy-archive backfill` against the stand-in archive, then Git and the CLI.

The CLI runs in a subprocess: Scrapy's reactor cannot be restarted inside one test process.
"""

from __future__ import annotations

import html
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standin import https_move
from standin.archive import StandinArchive
from standin.cli import git, run_cli, write_archive_settings
from test_fidelity import catalog_rows

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "001_bab96dcd4987aff5.txt"
URL = "https://www.acrcloud.com/privacy"
GDPR_SENTENCE = "General Data Protection Regulation"


def seed_paragraphs() -> list[str]:
    if SEED.exists():
        lines = SEED.read_text(encoding="utf-8").splitlines()[4:]
        return [line.strip() for line in lines if line.strip()]
    return [f"Paragraph {i} of the ACRCloud privacy policy, about personal information." for i in range(40)]


V1 = ["PRIVACY POLICY (2016)"] + [p for p in seed_paragraphs() if "GDPR" not in p][:30]
V2 = ["PRIVACY POLICY (May 25th 2018)", f"We comply with the {GDPR_SENTENCE} (GDPR)."] + V1[1:]


def page(paragraphs: list[str], token: int) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    # The token makes every capture's bytes (and CDX digest) differ, as ads and session ids do on real pages.
    return (
        f"<html><head><title>Privacy Policy - ACRCloud</title><script>var t={token};</script></head>"
        f"<body><nav><a href='/'>Home</a> <a href='/pricing'>Pricing</a></nav>"
        f"<main><h1>Privacy Policy</h1>{body}</main><footer>© ACRCloud {token}</footer></body></html>"
    )


def ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def acrcloud_history(archive: StandinArchive) -> tuple[datetime, datetime]:
    """~20 captures 2017–2018: text v1, then the GDPR text from 2018-05-28; plus 404, soft-404 and redirects."""
    start = datetime(2017, 1, 3, 10, 20, 30, tzinfo=UTC)
    gdpr = datetime(2018, 5, 28, 8, 0, 7, tzinfo=UTC)
    moments = [start + timedelta(days=37 * i) for i in range(17)] + [gdpr, gdpr + timedelta(days=20)]
    for i, moment in enumerate(sorted(moments)):
        archive.add_capture(URL, ts(moment), page(V2 if moment >= gdpr else V1, i))
    archive.add_capture(URL, ts(start + timedelta(days=100, hours=1)), "<html>gone</html>", status=404)
    archive.add_capture(
        URL,
        ts(start + timedelta(days=200, hours=2)),
        "<html><head><title>Page not found</title></head><body><h1>404 Page not found</h1>"
        "<p>Sorry, the page you are looking for does not exist.</p></body></html>",
    )
    archive.add_capture(
        URL, ts(start + timedelta(days=300, hours=3)), b"", status=301, location="https://www.acrcloud.com/"
    )
    archive.add_capture(
        "https://www.acrcloud.com/",
        ts(start + timedelta(days=300, hours=3, minutes=1)),
        "<html><head><title>ACRCloud</title></head><body><h1>Welcome</h1><p>Home page.</p></body></html>",
    )
    return start, gdpr


def write_config(directory: Path, archive: StandinArchive | None, cdx_url: str | None = None) -> Path:
    (directory / "services").mkdir(parents=True)
    cdx = cdx_url or archive.cdx_url
    replay = archive.replay_url if archive else "http://127.0.0.1:9/web"
    write_archive_settings(directory, cdx, replay)
    (directory / "services" / "acrcloud.toml").write_text(
        f'name = "ACRCloud"\n[documents.privacy-policy]\nurl = "{URL}"\nremove = ["footer", "nav"]\n'
    )
    return directory


def cli(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(config, data, *args)


@pytest.fixture
def history(standin_archive: StandinArchive, tmp_path: Path):
    start, gdpr = acrcloud_history(standin_archive)
    return standin_archive, write_config(tmp_path / "config", standin_archive), tmp_path / "data", start, gdpr


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_backfill_records_each_text_once_dated_at_its_first_capture(history, strategy):
    archive, config, data, start, gdpr = history
    result = cli(config, data, "backfill", "acrcloud/privacy-policy", "--strategy", strategy)
    assert result.returncode == 0, result.stderr
    repo = data / "versions"
    log = git(repo, "log", "--reverse", "--format=%H|%aI|%cI|%s", "main").splitlines()
    assert len(log) == 2, log
    (first, first_author, first_committer, first_subject), (second, second_author, _, second_subject) = (
        line.split("|") for line in log
    )
    assert first_author == first_committer == "2017-01-03T10:20:30+00:00"
    assert second_author == "2018-05-28T08:00:07+00:00"
    assert first_subject == "First record of ACRCloud Privacy Policy"
    assert second_subject == "Record new changes of ACRCloud Privacy Policy"
    message = git(repo, "log", "-1", "--format=%B", second)
    assert "Captured-At: 2018-05-28T08:00:07Z" in message
    assert "Source: wayback" in message
    assert f"Snapshot-Url: {archive.replay_url}/20180528080007id_/{URL}" in message
    assert re.search(r"^Payload-Sha1: [A-Z2-7]{32}$", message, re.M)
    assert re.search(r"^Extractor: \S", message, re.M)
    content = git(repo, "show", f"{second}:a/acrcloud/privacy-policy.md")
    header, blank, title = content.splitlines()[:3]
    assert header == (
        "> *The following text is extracted and transformed from the acrcloud.com privacy policy that was "
        f"archived on 2018-05-28. Please check the [original snapshot on the Wayback Machine]({archive.replay_url}"
        "/20180528080007id_/https%3A//www.acrcloud.com/privacy) for the most accurate reproduction.*"
    )
    assert (blank, title) == ("", "# Privacy Policy - ACRCloud")
    assert GDPR_SENTENCE in content
    assert "Pricing" not in content and "©" not in content
    assert GDPR_SENTENCE not in git(repo, "show", f"{first}:a/acrcloud/privacy-policy.md")
    assert git(repo, "show", "--stat", "--format=", second).strip().startswith("a/acrcloud/privacy-policy.md")

    fetched = archive.counts()["replay"]
    again = cli(config, data, "backfill", "acrcloud/privacy-policy", "--strategy", strategy)
    assert again.returncode == 0, again.stderr
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", second)
    assert archive.counts()["replay"] == fetched, "a second run must fetch nothing again"


def test_bisect_fetches_fewer_captures_and_wrong_captures_are_catalogued(history):
    archive, config, data, _, _ = history
    assert cli(config, data, "backfill", "acrcloud").returncode == 0
    assert archive.counts()["replay"] < 19
    import sqlite3

    rows = (
        sqlite3.connect(data / "catalog.sqlite3")
        .execute("SELECT outcome, reason FROM captures WHERE outcome = 'refused'")
        .fetchall()
    )
    reasons = " ".join(reason for _, reason in rows)
    assert "archived status 404" in reasons


def test_review_commands(history):
    _, config, data, _, _ = history
    assert cli(config, data, "backfill", "acrcloud/privacy-policy", "--strategy", "all").returncode == 0
    log = cli(config, data, "log", "acrcloud/privacy-policy")
    assert log.returncode == 0, log.stderr
    assert [line.split()[0] for line in log.stdout.splitlines()] == ["2017-01-03T10:20:30Z", "2018-05-28T08:00:07Z"]
    first, second = log.stdout.splitlines()
    assert "First record of ACRCloud Privacy Policy" in first and "unchanged at" not in first
    assert second.endswith("(unchanged at 2018-04-29T10:20:30Z)"), second  # the change window's start
    before = cli(config, data, "show", "acrcloud/privacy-policy", "--at", "2018-05-27")
    after = cli(config, data, "show", "acrcloud/privacy-policy", "--at", "2018-05-28")
    assert GDPR_SENTENCE not in before.stdout and GDPR_SENTENCE in after.stdout
    diff = cli(config, data, "diff", "acrcloud/privacy-policy")
    assert f"+We comply with the {GDPR_SENTENCE} (GDPR)." in diff.stdout
    too_early = cli(config, data, "show", "acrcloud/privacy-policy", "--at", "2010-01-01")
    assert too_early.returncode == 1 and "no version on or before 2010-01-01" in too_early.stderr


def test_unreachable_archive_fails_each_document_with_one_line_and_records_nothing(tmp_path):
    config = write_config(tmp_path / "config", None, cdx_url="http://127.0.0.1:9/cdx/search/cdx")
    result = cli(config, tmp_path / "data", "backfill")
    assert result.returncode == 1
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1 and failures[0].startswith("FAILED acrcloud/privacy-policy: archive listing failed")
    assert "Traceback" not in result.stderr
    assert (
        not (tmp_path / "data" / "versions").exists()
        or not git(tmp_path / "data" / "versions", "branch", "--list", "main").strip()
    )


def test_bad_configuration_exits_2_and_writes_nothing(tmp_path):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "services" / "acme.toml").write_text(
        'name = "Acme"\n[documents.privacy-policy]\nurl = "file:///etc/passwd"\n'
    )
    result = cli(config, tmp_path / "data", "backfill")
    assert result.returncode == 2
    assert "acme.toml: documents.privacy-policy.url: must be an absolute http or https URL" in result.stderr
    assert not (tmp_path / "data").exists()


def test_captures_with_the_same_bytes_as_a_refused_one_are_catalogued_refused_without_a_fetch(history):
    archive, config, data, start, _ = history
    soft_404 = "<html><head><title>Page not found</title></head><body><h1>404 Page not found</h1></body></html>"
    twins = [start + timedelta(days=400 + day, hours=5) for day in (0, 1, 2)]
    for moment in twins:
        archive.add_capture(URL, ts(moment), soft_404)
    assert cli(config, data, "backfill", "acrcloud", "--strategy", "all").returncode == 0
    import sqlite3

    rows = (
        sqlite3.connect(data / "catalog.sqlite3")
        .execute(
            "SELECT captured_at, outcome, reason FROM captures WHERE captured_at IN (?, ?, ?)",
            [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in twins],
        )
        .fetchall()
    )
    assert [outcome for _, outcome, _ in rows] == ["refused"] * 3
    assert sum("same bytes as the capture of" in reason for _, _, reason in rows) == 2
    fetched = [r for r in archive.requests if r.endpoint == "replay" and "id_/" in r.path]
    assert sum(ts(moment) in r.path for r in fetched for moment in twins) == 1


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_a_policy_moved_to_https_and_www_is_backfilled_from_the_pages_the_archive_serves(
    standin_archive: StandinArchive, tmp_path: Path, strategy: str
) -> None:
    """From 2016 each capture of the policy is an archived 301 from http://shop.test/privacy to
    https://www.shop.test/privacy (a self-redirect: one key) and the page 5 s later. The archive skips the 301 for
    the page (as the Wayback Machine and pywb do): each text is recorded once, dated at the first capture of its
    bytes, and no capture is refused as a redirect loop (acceptance report 4, finding 8)."""
    truth = https_move.build(standin_archive, lambda changed, n: page(V2 if changed else V1, n))
    config = tmp_path / "config"
    write_archive_settings(config, standin_archive.cdx_url, standin_archive.replay_url)
    (config / "services" / "shop.toml").write_text(
        f'name = "Shop"\n[documents.privacy-policy]\nurl = "{https_move.HTTPS_SITE}/privacy"\n'
        'remove = ["footer", "nav"]\n'
    )
    data = tmp_path / "data"
    result = run_cli(config, data, "backfill", "--strategy", strategy, timeout=300)
    assert result.returncode == 0, result.stderr
    dates = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert dates == [moment.isoformat() for moment in truth.first_texts]
    reasons = [row["reason"] or "" for row in catalog_rows(data)]
    assert not [reason for reason in reasons if "redirect" in reason], reasons
    assert "redirect" not in result.stderr, result.stderr
