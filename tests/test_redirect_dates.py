"""An archived redirect's target served from a memento far from the redirect is no evidence of the document's text
(acceptance report 5, finding 3; docs/decisions/0008).

The archive serves a redirect's target from its nearest memento, however far: a 2022 redirect whose target was
captured only in 2017 made 2017 the document's first version (before its real first capture, with an
`unchanged_since` after its own date), and a 2020 redirect to a target captured only in 2023 put a text at Git's head
that the document's URL never showed. Such a capture is refused in words; versions stay in the captures' order.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta

import pytest
from standin.archive import StandinArchive
from standin.cli import git, run_cli, write_archive_settings
from test_backfill_resilience import V1, V2, V3, page, ts
from test_fidelity import DOC, TARGET, URL, catalog_rows, configured

from policy_archive.records import iso_z


def day(year: int, month: int = 1, date: int = 1) -> datetime:
    return datetime(year, month, date, tzinfo=UTC)


def backfill(archive: StandinArchive, tmp_path, strategy: str) -> tuple[list[dict], str, list]:
    """Backfill DOC; its versions as `log --json` gives them (oldest first), stderr, and the catalog rows."""
    config, data = configured(archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", strategy)
    assert result.returncode == 0, result.stderr
    return versions_of(config, data), result.stderr, catalog_rows(data)


def versions_of(config, data) -> list[dict]:
    """DOC's versions as `log --json` gives them, oldest first, checked to be in order in Git and in their
    change windows."""
    log = run_cli(config, data, "log", DOC, "--json")
    versions = sorted(json.loads(log.stdout), key=lambda version: version["date"])
    commits = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert commits == [version["date"].replace("Z", "+00:00") for version in versions], "Git holds them in order"
    for earlier, later in zip(versions, versions[1:], strict=False):
        assert earlier["date"] <= later["unchanged_since"] < later["date"], (earlier, later)
    return versions


def refused_line(listed: datetime, reason: str) -> str:
    return f"{DOC}: capture {ts(listed)} refused: archived at another time: {reason}"


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_a_target_archived_years_before_the_redirect_is_not_the_first_version(standin_archive, tmp_path, strategy):
    standin_archive.add_capture(URL, ts(day(2019)), page(V1, "a"))
    standin_archive.add_capture(URL, ts(day(2020)), page(V2, "b"))
    standin_archive.add_capture(URL, ts(day(2022)), b"", status=301, location=TARGET)
    standin_archive.add_capture(TARGET, ts(day(2017, 6)), page(V3, "ancient"))

    versions, stderr, rows = backfill(standin_archive, tmp_path, strategy)
    assert [version["date"] for version in versions] == [iso_z(day(2019)), iso_z(day(2020))]
    reason = "the redirect's target was archived only 1675 days earlier (2017-06-01T00:00:00Z), more than 30 days"
    assert refused_line(day(2022), reason + " from the capture listed") in stderr
    assert [(row["status"], row["outcome"]) for row in rows][-1] == (301, "refused")


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_a_target_archived_years_after_the_redirect_never_becomes_the_head(standin_archive, tmp_path, strategy):
    standin_archive.add_capture(URL, ts(day(2019)), page(V1, "a"))
    standin_archive.add_capture(URL, ts(day(2020)), b"", status=302, location=TARGET)
    standin_archive.add_capture(URL, ts(day(2021)), page(V2, "b"))
    standin_archive.add_capture(URL, ts(day(2022)), page(V2, "c"))
    standin_archive.add_capture(TARGET, ts(day(2023, 6)), page(V3, "future"))

    versions, stderr, _ = backfill(standin_archive, tmp_path, strategy)
    assert [version["date"] for version in versions] == [iso_z(day(2019)), iso_z(day(2021))]
    reason = "the redirect's target was archived only 1247 days later (2023-06-01T00:00:00Z), more than 30 days"
    assert refused_line(day(2020), reason + " from the capture listed") in stderr


def test_a_target_archived_after_the_next_capture_is_not_put_before_it(standin_archive, tmp_path):
    """Within 30 days, but the document's own URL was captured showing another text between the redirect and its
    target's memento: the target's text would be dated after that capture, out of the order they were listed in."""
    start = day(2019, 3)
    standin_archive.add_capture(URL, ts(start), page(V1, "a"))
    standin_archive.add_capture(URL, ts(start + timedelta(days=1)), b"", status=302, location=TARGET)
    standin_archive.add_capture(URL, ts(start + timedelta(days=5)), page(V2, "b"))
    standin_archive.add_capture(TARGET, ts(start + timedelta(days=10)), page(V3, "later"))
    standin_archive.add_capture(URL, ts(start + timedelta(days=40)), page(V2, "c"))

    versions, stderr, _ = backfill(standin_archive, tmp_path, "all")
    assert [version["date"] for version in versions] == [iso_z(start), iso_z(start + timedelta(days=5))]
    reason = (
        "the redirect's target was archived only 9 days later (2019-03-11T00:00:00Z), after the document's next"
        " capture (2019-03-06T00:00:00Z)"
    )
    assert refused_line(start + timedelta(days=1), reason) in stderr

    # reextract judges the kept capture against the listing the catalog keeps, as backfill did: the history
    # rebuilt from the captures is the same, the capture still refused.
    config, data = tmp_path / "config", tmp_path / "data"
    rebuilt = run_cli(config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [version["date"] for version in versions_of(config, data)] == [
        iso_z(start),
        iso_z(start + timedelta(days=5)),
    ]
    assert "refused captures: 1 archived at another time" in run_cli(config, data, "status").stdout


def test_a_target_archived_near_the_redirect_dates_the_version(standin_archive, tmp_path):
    """The rule takes nothing from the common case: a target captured 6 days after the redirect (a recorded real
    chain), with no capture of the document between, gives the version, dated at the target's memento."""
    start = day(2019, 3)
    standin_archive.add_capture(URL, ts(start), page(V1, "a"))
    standin_archive.add_capture(URL, ts(start + timedelta(days=30)), b"", status=301, location=TARGET)
    standin_archive.add_capture(TARGET, ts(start + timedelta(days=36)), page(V2, "moved"))
    standin_archive.add_capture(URL, ts(start + timedelta(days=60)), b"", status=301, location=TARGET)

    versions, stderr, _ = backfill(standin_archive, tmp_path, "all")
    assert [version["date"] for version in versions] == [iso_z(start), iso_z(start + timedelta(days=36))]
    assert "archived at another time" not in stderr


def test_discover_reads_no_links_from_a_home_page_target_archived_years_away(standin_archive, tmp_path):
    """The same rule for a home page: from 2020 it redirects to /en/, captured only in 2012 (with a link of that
    time); those captures are unreadable, in words, never read as linking the 2012 page's policy."""

    def home(link: str) -> str:
        return f"<html><body><main>Shop</main><footer><a href='{link}'>Privacy Policy</a></footer></body></html>"

    site = "https://mv.example/"
    standin_archive.add_capture(f"{site}en/", "20120601000000", home("/en/old-privacy"))
    for year in range(2014, 2020):
        standin_archive.add_capture(site, f"{year}0301000000", home("/privacy"))
    for year in range(2020, 2023):
        standin_archive.add_capture(site, f"{year}0301000000", b"", status=301, location=f"{site}en/")
    config = tmp_path / "config"
    write_archive_settings(config, standin_archive.cdx_url, standin_archive.replay_url)

    result = run_cli(config, tmp_path / "data", "discover", "mv.example", timeout=300)
    reason = "archived at another time: the redirect's target was archived only 2830 days earlier"
    unreadable = [line for line in result.stderr.splitlines() if line.startswith("UNREADABLE mv.example 2020")]
    assert unreadable and reason in unreadable[0], result.stderr
    assert "old-privacy" not in result.stdout, result.stdout
    assert tomllib.loads(result.stdout)["documents"]["privacy-policy"]["url"] == f"{site}privacy"
