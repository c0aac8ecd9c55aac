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

from policy_archive.pipeline.jobs.verify import NO_LISTING
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


V4 = V3 + ["We no longer sell personal information to anyone."]


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_a_url_redirecting_daily_to_a_target_captured_weekly_keeps_the_targets_order(
    standin_archive, tmp_path, strategy
):
    """The common case (an http→https move, a moved page): a year of daily archived 301s to a target captured
    weekly whose text changes 3 times. Each row's nearest target memento is up to 3½ days away, past the next
    or previous row; judged against those rows' listed times, 261 of the 365 were refused, one stderr line each
    (README, Fidelity). The redirects' targets keep the target's own order: every version found, dated at the
    first target capture showing it, nothing refused."""
    start = datetime(2021, 1, 1, 6, tzinfo=UTC)
    for days in range(365):
        standin_archive.add_capture(URL, ts(start + timedelta(days=days)), b"", status=301, location=TARGET)
    texts, truth = [V1, V2, V3, V4], []
    for week in range(52):
        when = start + timedelta(days=7 * week + 3, hours=12)
        if week % 13 == 0:
            truth.append(iso_z(when))
        standin_archive.add_capture(TARGET, ts(when), page(texts[week // 13], f"w{week}"))

    versions, stderr, rows = backfill(standin_archive, tmp_path, strategy)
    assert [version["date"] for version in versions] == truth
    assert "archived at another time" not in stderr
    assert [row["outcome"] for row in rows if row["outcome"] == "refused"] == []

    # reextract judges the kept captures against the listing the catalog keeps (its CDX statuses): the same.
    config, data = tmp_path / "config", tmp_path / "data"
    rebuilt = run_cli(config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [version["date"] for version in versions_of(config, data)] == truth
    assert "archived at another time" not in run_cli(config, data, "status").stdout


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_redirects_to_two_targets_whose_mementos_cross_give_no_version_out_of_order(
    standin_archive, tmp_path, strategy
):
    """Daily redirects to A (archived only on 10 January) then to B (archived only on 20 December): each memento
    within 30 days of its rows and after the document's own last capture, but A's text would be dated after
    the URL led to B, and B's before the URL led to A. Both refused in words; the history stays in order."""
    standin_archive.add_capture(URL, ts(day(2019, 12)), page(V1, "own"))
    for date in range(25, 32):
        standin_archive.add_capture(URL, ts(datetime(2019, 12, date, 6, tzinfo=UTC)), b"", status=301, location=TARGET)
    other = "https://www.example.com/legal/privacy-2020"
    for date in range(1, 8):
        standin_archive.add_capture(URL, ts(datetime(2020, 1, date, 6, tzinfo=UTC)), b"", status=301, location=other)
    standin_archive.add_capture(TARGET, ts(day(2020, 1, 10)), page(V2, "a"))
    standin_archive.add_capture(other, ts(day(2019, 12, 20)), page(V3, "b"))

    versions, stderr, _ = backfill(standin_archive, tmp_path, strategy)
    assert [version["date"] for version in versions] == [iso_z(day(2019, 12))]
    overtaken = "its bytes were archived 2020-01-10T00:00:00Z, after the document's capture 20200101060000 showing"
    assert refused_line(datetime(2019, 12, 25, 6, tzinfo=UTC), overtaken + " another text") in stderr
    # Bounded by the last redirect to A at its listed time: A's text refused, the bytes its redirects were served
    # date nothing of the document, but the URL led to A then (amendment of 2026-11-28).
    crossed = "its bytes were archived 2019-12-20T00:00:00Z, not after the text found before it (2019-12-31T06:00:00Z)"
    assert refused_line(datetime(2020, 1, 1, 6, tzinfo=UTC), crossed) in stderr, stderr
    refused = refusals(tmp_path / "data")
    assert [when for when, _, _ in refused] == ["2019-12-25T06:00:00Z", "2020-01-01T06:00:00Z"]
    # A second backfill decides again from the texts those captures showed: nothing more refused, nothing moved.
    again = run_cli(tmp_path / "config", tmp_path / "data", "backfill", DOC, "--strategy", strategy)
    assert again.returncode == 0, again.stderr
    assert versions_of(tmp_path / "config", tmp_path / "data") == versions
    assert refusals(tmp_path / "data") == refused
    rebuilt_as_backfilled(tmp_path, versions, refused)


def refusals(data) -> list[tuple[str, str, str | None]]:
    """Every capture the catalog holds as refused: its listed time, URL and reason."""
    return [
        (row["captured_at"], row["url"], row["reason"]) for row in catalog_rows(data) if row["outcome"] == "refused"
    ]


def rebuilt_as_backfilled(tmp_path, versions: list[dict], refused: list) -> None:
    """`reextract --rebuild` decides as backfill did (``dated_in_order.dating_capture``): the same versions at the same
    dates, the same captures refused for the same reasons."""
    config, data = tmp_path / "config", tmp_path / "data"
    rebuilt = run_cli(config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = versions_of(config, data)
    fields = ("date", "unchanged_since", "snapshot_url", "subject", "note")
    assert [[v[field] for field in fields] for v in again] == [[v[field] for field in fields] for v in versions]
    assert refusals(data) == refused


OTHER = "https://www.example.com/legal/privacy-2020"
TWIN = "https://www.example.com/legal/privacy-policy"


def crossing_runs(
    archive: StandinArchive, *, a_memento: datetime, b_mementos: list[datetime], twin_from: int = 32
) -> None:
    """The document's own capture on 1 December 2019, then daily archived 301s at 06:00: to TARGET from 25 to 31
    December (to TWIN from ``twin_from``), to OTHER from 1 to 7 January."""
    archive.add_capture(URL, ts(day(2019, 12)), page(V1, "own"))
    for date in range(25, 32):
        target = TARGET if date < twin_from else TWIN
        archive.add_capture(URL, ts(datetime(2019, 12, date, 6, tzinfo=UTC)), b"", status=301, location=target)
    for date in range(1, 8):
        archive.add_capture(URL, ts(datetime(2020, 1, date, 6, tzinfo=UTC)), b"", status=301, location=OTHER)
    archive.add_capture(TARGET, ts(a_memento), page(V2, "a"))
    for number, memento in enumerate(b_mementos):
        archive.add_capture(OTHER, ts(memento), page(V3, f"b{number}"))


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_a_later_capture_of_the_second_text_dates_it_when_the_first_crosses(standin_archive, tmp_path, strategy):
    """OTHER was archived on 20 December and 20 January: the redirects of 1 to 4 January are served the December
    memento, before TARGET's (26 December), those of 5 to 7 January the January one. The text is not lost: the
    first capture of it whose bytes lie in order dates it (before 2026-11-28 it was refused, its first capture
    "not after the text found before it"). Both texts kept, each dated by its bytes; reextract --rebuild the same."""
    crossing_runs(standin_archive, a_memento=day(2019, 12, 26), b_mementos=[day(2019, 12, 20), day(2020, 1, 20)])

    versions, stderr, rows = backfill(standin_archive, tmp_path, strategy)
    assert [(version["date"], version["unchanged_since"]) for version in versions] == [
        (iso_z(day(2019, 12)), None),
        (iso_z(day(2019, 12, 26)), iso_z(day(2019, 12))),
        (iso_z(day(2020, 1, 20)), iso_z(day(2019, 12, 26))),
    ]
    assert "archived at another time" not in stderr
    assert refusals(tmp_path / "data") == []
    rebuilt_as_backfilled(tmp_path, versions, [])


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_crossing_runs_keep_both_texts_where_later_captures_lie_in_order(standin_archive, tmp_path, strategy):
    """The first text's target moved too (TWIN, the same text, archived on 28 December): the redirects of 25 to 27
    December are served TARGET's memento of 10 January, after the URL led to OTHER (1 January); those of 28 to
    31 December TWIN's. OTHER's first memento (20 December) precedes both. Before 2026-11-28 both texts were
    lost; now each is dated by its first capture in order: the first on 28 December, the second on 20 January."""
    mementos = {"a_memento": day(2020, 1, 10), "b_mementos": [day(2019, 12, 20), day(2020, 1, 20)]}
    crossing_runs(standin_archive, **mementos, twin_from=28)
    standin_archive.add_capture(TWIN, ts(day(2019, 12, 28)), page(V2, "twin"))

    versions, stderr, _ = backfill(standin_archive, tmp_path, strategy)
    assert [(version["date"], version["unchanged_since"]) for version in versions] == [
        (iso_z(day(2019, 12)), None),
        (iso_z(day(2019, 12, 28)), iso_z(day(2019, 12))),
        (iso_z(day(2020, 1, 20)), iso_z(day(2019, 12, 28))),
    ]
    assert "archived at another time" not in stderr
    rebuilt_as_backfilled(tmp_path, versions, [])


def test_many_refusals_of_one_kind_are_one_line(standin_archive, tmp_path):
    """A URL redirecting monthly for a year to a target archived only years before: twelve refusals, one line
    with the count and the first one's reason, not twelve; the catalog keeps each with its reason."""
    standin_archive.add_capture(URL, ts(day(2019)), page(V1, "a"))
    for month in range(1, 13):
        standin_archive.add_capture(URL, ts(day(2022, month)), b"", status=301, location=TARGET)
    standin_archive.add_capture(TARGET, ts(day(2017, 6)), page(V3, "ancient"))

    versions, stderr, rows = backfill(standin_archive, tmp_path, "all")
    assert [version["date"] for version in versions] == [iso_z(day(2019))]
    lines = [line for line in stderr.splitlines() if "captures refused" in line or "refused:" in line]
    reason = "the redirect's target was archived only 1675 days earlier (2017-06-01T00:00:00Z), more than 30 days"
    assert lines == [
        f"{DOC}: 12 captures refused, archived at another time (each with its reason in the catalog; the first,"
        f" capture 20220101000000: archived at another time: {reason} from the capture listed)"
    ]
    assert sum(row["outcome"] == "refused" for row in rows) == 12


def test_verify_holds_a_redirects_target_between_the_captures_listed_around_it(standin_archive, tmp_path):
    """A backfill up to 2 March listed the redirect of 2 March but not the document's own capture of 6 March: the
    target's memento of 11 March made a version. Once a backfill of the whole history lists that capture, verify
    judges the version as backfill would now (the neighbour rule): refused, a mismatch named. A catalog
    re-indexed from the WARC files keeps no listing: verify holds it to the 30 days only, and says so."""
    start = day(2019, 3)
    standin_archive.add_capture(URL, ts(start), page(V1, "a"))
    standin_archive.add_capture(URL, ts(start + timedelta(days=1)), b"", status=302, location=TARGET)
    standin_archive.add_capture(URL, ts(start + timedelta(days=5)), page(V2, "b"))
    standin_archive.add_capture(TARGET, ts(start + timedelta(days=10)), page(V3, "later"))
    config, data = configured(standin_archive, tmp_path)
    first = run_cli(config, data, "backfill", DOC, "--strategy", "all", "--until", "2019-03-02")
    assert first.returncode == 0, first.stderr
    assert [version["date"] for version in versions_of(config, data)] == [iso_z(start), "2019-03-11T00:00:00Z"]
    whole = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert whole.returncode == 0, whole.stderr
    # That backfill refuses the redirect (the URL showed another text on 6 March) and keeps 6 March's own capture:
    # the refused text's memento bounds nothing (amendment of 2026-11-28). The earlier version stays in Git.
    dates = sorted(version["date"] for version in json.loads(run_cli(config, data, "log", DOC, "--json").stdout))
    assert dates == [iso_z(start), iso_z(start + timedelta(days=5)), "2019-03-11T00:00:00Z"]

    checked = run_cli(config, data, "verify")
    assert checked.returncode == 1, checked.stdout
    (failed,) = [line for line in checked.stderr.splitlines() if line.startswith("FAILED")]
    assert failed.startswith(f"FAILED {DOC}: version 2019-03-11T00:00:00Z"), failed
    assert (
        "the capture is now refused (archived at another time: the redirect's target was archived only 9 days" in failed
    )
    assert "after the document's next capture (2019-03-06T00:00:00Z)" in failed
    assert "no listing" not in checked.stdout

    (data / "catalog.sqlite3").unlink()
    assert run_cli(config, data, "repair").returncode == 0
    unlisted = run_cli(config, data, "verify")
    assert unlisted.returncode == 0, unlisted.stderr
    assert unlisted.stdout.splitlines()[-2:] == [f"{DOC}: {NO_LISTING}", "3/3 versions verified"]


@pytest.mark.parametrize("last", ["crossing", "later"])
def test_bisect_probes_past_a_capture_refused_for_its_date_as_all_would(standin_archive, tmp_path, last):
    """The second text's run of redirects (1 to 7 January) crosses at every capture `bisect` fetches (1, 2, 4 and
    7 January, served OTHER's memento of 20 December, before the first text's version of 26 December), but 3
    January leads to a target archived that day, in order. Before 2026-11-28 `bisect` did not try it: the text
    was refused (``last`` "crossing") or dated by 7 January's target archived on 8 January (``later``), where
    `all` dates it on 3 January. Now the search goes on to the capture after the refused ones, as `all` would
    find it: the same versions, dates and refusals."""
    third, later = "https://www.example.com/legal/privacy-3", "https://www.example.com/legal/privacy-7"
    standin_archive.add_capture(URL, ts(day(2019, 12)), page(V1, "own"))
    for date in range(25, 32):
        standin_archive.add_capture(URL, ts(datetime(2019, 12, date, 6, tzinfo=UTC)), b"", status=301, location=TARGET)
    for date in range(1, 8):
        target = third if date == 3 else later if date >= 5 and last == "later" else OTHER
        standin_archive.add_capture(URL, ts(datetime(2020, 1, date, 6, tzinfo=UTC)), b"", status=301, location=target)
    standin_archive.add_capture(TARGET, ts(day(2019, 12, 26)), page(V2, "a"))
    standin_archive.add_capture(OTHER, ts(day(2019, 12, 20)), page(V3, "b"))
    standin_archive.add_capture(third, ts(datetime(2020, 1, 3, 12, tzinfo=UTC)), page(V3, "c"))
    standin_archive.add_capture(later, ts(day(2020, 1, 8)), page(V3, "d"))

    found = {}
    for strategy in ("all", "bisect"):
        versions, _, _ = backfill(standin_archive, tmp_path / strategy, strategy)
        fields = ("date", "unchanged_since", "snapshot_url")
        found[strategy] = ([[v[field] for field in fields] for v in versions], refusals(tmp_path / strategy / "data"))
    assert [date for date, _, _ in found["all"][0]] == [
        iso_z(day(2019, 12)),
        iso_z(day(2019, 12, 26)),
        iso_z(datetime(2020, 1, 3, 12, tzinfo=UTC)),
    ]
    assert found["bisect"] == found["all"]
    # A rerun and a rebuild decide as that backfill did.
    config, data = tmp_path / "bisect" / "config", tmp_path / "bisect" / "data"
    again = run_cli(config, data, "backfill", DOC)
    assert again.returncode == 0, again.stderr
    assert [[v[field] for field in fields] for v in versions_of(config, data)] == found["all"][0]
    rebuilt_as_backfilled(tmp_path / "bisect", versions_of(config, data), found["all"][1])


def test_plain_reextract_keeps_the_captures_backfill_refused_for_their_date(standin_archive, tmp_path):
    """Refusals for a capture's date come from the listing and the order of the changes, not from its text:
    `reextract` (without --rebuild) extracts each capture again but keeps them, reason and text. Before
    2026-11-28 it made them extracted again, so they counted as usable until the next backfill refused them
    again. Redirects to A then to B whose mementos cross (as above): both refused, and stay so; no commit for
    them, and verify finds the history clean."""
    standin_archive.add_capture(URL, ts(day(2019, 12)), page(V1, "own"))
    for date in range(25, 32):
        standin_archive.add_capture(URL, ts(datetime(2019, 12, date, 6, tzinfo=UTC)), b"", status=301, location=TARGET)
    for date in range(1, 8):
        standin_archive.add_capture(URL, ts(datetime(2020, 1, date, 6, tzinfo=UTC)), b"", status=301, location=OTHER)
    standin_archive.add_capture(TARGET, ts(day(2020, 1, 10)), page(V2, "a"))
    standin_archive.add_capture(OTHER, ts(day(2019, 12, 20)), page(V3, "b"))
    versions, _, _ = backfill(standin_archive, tmp_path, "all")
    config, data = tmp_path / "config", tmp_path / "data"
    refused = refusals(data)
    assert [when for when, _, _ in refused] == ["2019-12-25T06:00:00Z", "2020-01-01T06:00:00Z"]
    texts = {row["captured_at"]: row["body_sha1"] for row in catalog_rows(data) if row["outcome"] == "refused"}
    assert all(texts.values()), "a capture refused for its date keeps its text"
    commits = git(data / "versions", "rev-list", "--all")

    reextracted = run_cli(config, data, "reextract")
    assert reextracted.returncode == 0, reextracted.stderr
    assert refusals(data) == refused
    after = {row["captured_at"]: row["body_sha1"] for row in catalog_rows(data) if row["outcome"] == "refused"}
    assert after == texts
    assert git(data / "versions", "rev-list", "--all") == commits
    assert versions_of(config, data) == versions
    assert "refused captures: 2 archived at another time" in run_cli(config, data, "status").stdout
    checked = run_cli(config, data, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The next backfill decides the same, from the texts those captures keep.
    again = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert again.returncode == 0, again.stderr
    assert refusals(data) == refused
    assert versions_of(config, data) == versions


def test_bisect_fetches_a_redirect_between_pages_of_one_text_as_all_does(standin_archive, tmp_path):
    """An outside audit (2026-11-29): a 301 listed between daily pages of one text, whose target shows another
    text 40 minutes later. Its length is the redirect's own, so nothing looked unlike the pages around it and
    `bisect` left it `listed`, recording 2 versions fewer than `all`; it now fetches the first row of each run of
    redirects between pages, and records what `all` records, at the same dates."""
    start = day(2015, 7)
    moved = start + timedelta(days=10)
    for days in range(20):
        if days == 10:
            standin_archive.add_capture(URL, ts(moved), b"", status=301, location=TARGET)
        else:
            standin_archive.add_capture(URL, ts(start + timedelta(days=days)), page(V1, f"t{days:02d}"))
    standin_archive.add_capture(TARGET, ts(moved + timedelta(minutes=40)), page(V2, "moved"))
    expected = [iso_z(start), iso_z(moved + timedelta(minutes=40)), iso_z(start + timedelta(days=11))]
    replays = {}
    for strategy in ("all", "bisect"):
        before = standin_archive.counts()["replay"]
        versions, _, rows = backfill(standin_archive, tmp_path / strategy, strategy)
        replays[strategy] = standin_archive.counts()["replay"] - before
        assert [version["date"] for version in versions] == expected, strategy
        redirect = next(row for row in rows if row["captured_at"] == iso_z(moved))
        assert redirect["outcome"] == "extracted", strategy
    assert replays["bisect"] < replays["all"], "still a search, not every capture"
