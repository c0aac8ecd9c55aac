"""Redirect chains inside the archive: archived 301/302 captures of the site interleaved with the archive's own
302s to the nearest memento (as the Wayback Machine answers, tests/fixtures/archive-responses), followed up to
the spider's limit of 5 redirects (``crawler/spiders/wayback.py`` ``MAX_REDIRECTS``, the archive's own counted:
each is a replay request), dated by the bytes they end at, every archived hop kept in the WARC (decision 0004);
and documents whose every capture is a redirect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured, warc_records

from policy_archive.crawler.sources.base import original_of_memento
from policy_archive.crawler.spiders.wayback import MAX_REDIRECTS
from policy_archive.records import iso_z

SITE = "https://www.example.com"
FIRST_HOP, SECOND_HOP, FINAL = f"{SITE}/legal", f"{SITE}/legal/privacy", f"{SITE}/en/legal/privacy"


@dataclass(frozen=True)
class Chain:
    """A capture of URL at ``listed`` that leads through archived redirects to ``FINAL`` at ``served``;
    ``hops``: the archived redirects on the way (site URL, memento time, status), the listed one first."""

    listed: datetime
    served: datetime
    hops: tuple[tuple[str, datetime, int], ...]
    redirects: int  # every redirect followed: the archived ones and the archive's own


def chain(
    archive: StandinArchive, listed: datetime, *, one_more: bool = False, final_status: int | None = 200
) -> Chain:
    """URL at ``listed``: an archived 301 to FIRST_HOP, captured 10 minutes later (the archive redirects there),
    an archived 302 to SECOND_HOP captured in the same second, an archived 301 to FINAL, captured 2 hours later
    (the archive redirects there again): 5 redirects, then the page. ``one_more`` captures SECOND_HOP a minute
    after FIRST_HOP instead, one more redirect of the archive's own: 6. ``final_status``: FINAL's archived
    status (None: FINAL never captured)."""
    first = listed + timedelta(minutes=10)
    second = first + timedelta(minutes=1) if one_more else first
    served = second + timedelta(hours=2)
    archive.add_capture(URL, ts(listed), b"", status=301, location=FIRST_HOP)
    archive.add_capture(FIRST_HOP, ts(first), b"", status=302, location=SECOND_HOP, redirect_form="path")
    archive.add_capture(SECOND_HOP, ts(second), b"", status=301, location=FINAL, redirect_form="schemeless")
    if final_status == 200:
        archive.add_capture(FINAL, ts(served), page(V2, "final"))
    elif final_status is not None:
        archive.add_capture(FINAL, ts(served), "<html><body><h1>Not Found</h1></body></html>", status=final_status)
    hops = ((URL, listed, 301), (FIRST_HOP, first, 302), (SECOND_HOP, second, 301))
    return Chain(listed, served, hops, 6 if one_more else 5)


def responses(data) -> set[tuple[str, str, str]]:
    return {
        (headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"), http.get_statuscode())
        for _, kind, headers, http in warc_records(data)
        if kind == "response"
    }


def replays_asked(archive: StandinArchive) -> int:
    return sum(request.endpoint == "replay" for request in archive.requests)


def test_a_chain_of_exactly_the_limit_is_followed_and_dated_by_the_final_bytes(standin_archive, tmp_path):
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    built = chain(standin_archive, START + timedelta(days=30))
    assert built.redirects == MAX_REDIRECTS
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert replays_asked(standin_archive) == 1 + built.redirects + 1, "the first capture, then the chain's 6"

    dates = git(data / "versions", "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert dates == [f"{moment.isoformat()} {moment.isoformat()}" for moment in (START, built.served)]
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Captured-At: {iso_z(built.served)}" in message
    assert f"Snapshot-Url: {standin_archive.replay_url}/{ts(built.served)}id_/{FINAL}" in message
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(built.listed))
    assert (row["outcome"], row["status"], row["fetched_status"]) == ("extracted", 301, 200)
    assert (row["memento_at"], row["memento_url"]) == (iso_z(built.served), FINAL)

    kept = responses(data)
    for url, moment, status in built.hops:
        assert (url, iso_z(moment), str(status)) in kept, f"the archived hop {url} is a record of its own"
    assert (FINAL, iso_z(built.served), "200") in kept
    assert len(kept) == 1 + len(built.hops) + 1, "the archive's own redirects are not captures: not kept"


def test_a_chain_over_the_limit_is_refused_in_words_with_its_hops_kept(standin_archive, tmp_path):
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    built = chain(standin_archive, START + timedelta(days=30), one_more=True)
    assert built.redirects == MAX_REDIRECTS + 1
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    reason = (
        f"too many redirects inside the archive (more than {MAX_REDIRECTS}; the next to {FINAL} at "
        f"{iso_z(built.served)})"
    )
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(built.listed))
    assert (row["outcome"], row["reason"]) == ("refused", reason)
    assert f"{DOC}: capture {ts(built.listed)} refused: {reason}" in result.stderr, result.stderr
    assert git(data / "versions", "log", "--format=%aI", "main").splitlines() == [START.isoformat()]
    kept = responses(data)
    assert all((url, iso_z(moment), str(status)) in kept for url, moment, status in built.hops)
    assert not any(url == FINAL for url, _, _ in kept), "the page past the limit is never asked for"
    status = run_cli(config, data, "status")
    assert "too many redirects inside the archive" in status.stdout, status.stdout


def test_a_loop_through_the_archives_own_redirects_is_refused_with_its_hops_kept(standin_archive, tmp_path):
    """URL at T0 → (archived 301) OTHER, captured a minute later (the archive redirects there) → (archived 302)
    URL at that minute, which the archive redirects back to T0: the replay asked first."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    looped, other_at = START + timedelta(days=30), START + timedelta(days=30, minutes=1)
    standin_archive.add_capture(URL, ts(looped), b"", status=301, location=FIRST_HOP)
    standin_archive.add_capture(FIRST_HOP, ts(other_at), b"", status=302, location=URL)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    reason = f"redirect loop inside the archive (back to {URL} at {iso_z(looped)})"
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(looped))
    assert (row["outcome"], row["reason"]) == ("refused", reason)
    assert f"{DOC}: capture {ts(looped)} refused: {reason}" in result.stderr, result.stderr
    assert {(URL, iso_z(looped), "301"), (FIRST_HOP, iso_z(other_at), "302")} <= responses(data)
    assert replays_asked(standin_archive) == 1 + 4, "301, the archive's 302, 302, the archive's 302 back: stop"


@pytest.mark.parametrize("end", ["archived 404", "excluded", "never captured"])
def test_a_chain_ending_at_a_page_that_is_not_the_document_is_refused_with_its_hops_kept(
    standin_archive, tmp_path, end
):
    """The chain of exactly the limit, ending at an archived 404, at a page the archive excludes (its 200
    "excluded" page) or at a URL it never captured (its 404 page): no version, a reason naming where the chain
    ended (not the listed URL, whose capture is a 301), the hops kept."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    final_status = {"archived 404": 404, "excluded": 200, "never captured": None}[end]
    built = chain(standin_archive, START + timedelta(days=30), final_status=final_status)
    if end == "excluded":
        standin_archive.block(FINAL)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr

    hops = len(built.hops)
    reason = {
        "archived 404": f"archived status 404 ({FINAL} at {iso_z(built.served)}, after {hops} archived redirects)",
        "excluded": "not-archived: the archive answered 200 without a Memento-Datetime",
        "never captured": "not-archived: the archive answered 404 without a Memento-Datetime",
    }[end]
    if end != "archived 404":  # the archive's own page, at the chain's last request (the last hop's target)
        reason += f" (for {FINAL} asked at {iso_z(built.hops[-1][1])}, after {MAX_REDIRECTS - 1} redirects inside"
        reason += " the archive)"
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(built.listed))
    assert (row["outcome"], row["reason"]) == ("refused", reason)
    assert git(data / "versions", "log", "--format=%aI", "main").splitlines() == [START.isoformat()]
    kept = responses(data)
    assert all((url, iso_z(moment), str(status)) in kept for url, moment, status in built.hops)
    assert ((FINAL, iso_z(built.served), "404") in kept) == (end == "archived 404"), "an archived 404 is a capture"
    status = run_cli(config, data, "status").stdout
    kind = "archived status 404" if end == "archived 404" else "not-archived"
    assert f"refused captures: 1 {kind}" in status, status


# --- documents whose every capture is a redirect ---------------------------------------------------------------

HTTP_URL = "http://example.com/privacy"  # the key of URL: the site's move to https and www. is a self-redirect
MONTHS = 6


def months() -> list[datetime]:
    return [START + timedelta(days=30 * n) for n in range(MONTHS)]


def failed_line(result) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith(f"FAILED {DOC}"))


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_every_capture_an_archived_redirect_to_another_url_gives_versions_dated_by_their_targets(
    standin_archive, tmp_path, strategy
):
    """Every row of the document's URL an archived 301 to FINAL, whose page was captured 7 minutes later each time;
    the text changes at the fourth: two versions, each dated at the target's memento that first showed it."""
    for n, moment in enumerate(months()):
        standin_archive.add_capture(URL, ts(moment), b"", status=301, location=FINAL)
        standin_archive.add_capture(FINAL, ts(moment + timedelta(minutes=7)), page(V1 if n < 3 else V2, str(n)))
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", strategy)
    assert result.returncode == 0, result.stderr

    firsts = [months()[n] + timedelta(minutes=7) for n in (0, 3)]
    dates = git(data / "versions", "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert dates == [f"{moment.isoformat()} {moment.isoformat()}" for moment in firsts]
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Snapshot-Url: {standin_archive.replay_url}/{ts(firsts[1])}id_/{FINAL}" in message
    assert (URL, iso_z(months()[3]), "301") in responses(data), "the redirect that led to the change is kept"


def test_every_capture_an_archived_redirect_to_a_url_never_captured_fails_with_every_reason(standin_archive, tmp_path):
    for moment in months():
        standin_archive.add_capture(URL, ts(moment), b"", status=301, location=FINAL)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC)

    assert result.returncode == 1, result.stderr
    assert (
        failed_line(result)
        == f"FAILED {DOC}: no version: {MONTHS} captures listed, all refused ({MONTHS} not-archived)"
    )
    for moment in months():
        reason = (
            "not-archived: the archive answered 404 without a Memento-Datetime (for "
            f"{FINAL} asked at {iso_z(moment)}, after 1 redirect inside the archive)"
        )
        assert f"{DOC}: capture {ts(moment)} refused: {reason}" in result.stderr
    assert [(r["outcome"], r["status"]) for r in catalog_rows(data)] == [("refused", 301)] * MONTHS
    status = run_cli(config, data, "status").stdout
    assert f"refused captures: {MONTHS} not-archived" in status and "last backfill failed" in status, status


def test_every_capture_a_self_redirect_fails_with_every_reason(standin_archive, tmp_path):
    """The archive holds the document's key only as the site's 301 from http://example.com/privacy to
    https://www.example.com/privacy, month after month, never the page: no capture of another URL to skip to, so
    the stand-in replays the redirect as it is (standin/archive_replay.py), which leads back to itself."""
    for moment in months():
        standin_archive.add_capture(HTTP_URL, ts(moment), b"", status=301, location=URL)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC)

    assert result.returncode == 1, result.stderr
    kind = "redirect loop inside the archive"
    assert failed_line(result) == f"FAILED {DOC}: no version: {MONTHS} captures listed, all refused ({MONTHS} {kind})"
    for moment in months():
        reason = f"{kind} (the archive serves {URL} at {iso_z(moment)} as a redirect to itself)"
        assert f"{DOC}: capture {ts(moment)} refused: {reason}" in result.stderr
    assert all(row["outcome"] == "refused" for row in catalog_rows(data))
    # Each capture once, under the URL it was archived from (the Link header's original): the archive served it
    # again for https://www.example.com/privacy, which never answered so.
    assert responses(data) == {(HTTP_URL, iso_z(moment), "301") for moment in months()}
    (document,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert (document["versions"], document["refused_captures"]) == (0, {kind: MONTHS})


def test_the_url_of_a_memento_is_the_original_its_link_header_names_within_the_key():
    asked = "http://fws.gov/"
    link = '<https://www.fws.gov/>; rel="original", <https://web.archive.org/web/timemap/link/https://www.fws.gov/>; '
    assert original_of_memento(link + 'rel="timemap"', asked) == "https://www.fws.gov/"
    login = "https://idp.springer.com/authorize?response_type=cookie&client_id=springerlink"
    escaped = login.replace("&", "&amp;")  # as the Wayback Machine wrote it in 2020
    assert original_of_memento(f'<{escaped}>; rel="original"', login) == login
    for unrelated in ('<https://elsewhere.example/>; rel="original"', '<ftp://fws.gov/>; rel="original"', "", None):
        assert original_of_memento(unrelated, asked) == asked, "another key, or none: the URL asked for"
    assert original_of_memento('<https://www.fws.gov/>; rel="memento"', asked) == asked
