"""Redirect chains inside the archive: archived 301/302 captures of the site interleaved with the archive's own
302s to the nearest memento (as the Wayback Machine answers, tests/fixtures/archive-responses). The site's archived
redirects are followed up to the spider's limit of 5 (``crawler/spiders/wayback.py`` ``MAX_REDIRECTS``), the
archive's own bounded apart (at most 2 in a row, so at most 18 replay requests per capture); chains are dated by
the bytes they end at, every archived hop kept in the WARC (decision 0004); a loop is a capture reached again,
however its URL is written; and documents whose every capture is a redirect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

import pytest
from standin.archive import StandinArchive
from standin.capture import RedirectForm
from standin.cli import git, run_cli
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured, warc_records

from policy_archive.crawler.sources.base import original_of_memento
from policy_archive.crawler.spiders.wayback import (
    MAX_ARCHIVE_REDIRECTS_IN_A_ROW,
    MAX_REDIRECTS,
    MAX_REPLAY_REQUESTS,
)
from policy_archive.records import iso_z

SITE = "https://www.example.com"
FIRST_HOP, FINAL = f"{SITE}/legal", f"{SITE}/en/legal/privacy"
LISTED = START + timedelta(days=30)
# How the archive writes each archived redirect's Location, in turn (every form the stand-in replays but as-sent).
FORMS: tuple[RedirectForm, ...] = tuple(form for form in get_args(RedirectForm) if form != "as-sent")


def moved(n: int) -> str:
    """Where the document is after ``n`` moves of the site: each a new path, so a new key in the archive (a move
    within a key, http → https or to www., is a self-redirect the archives skip, tests/standin/archive_replay.py)."""
    return URL if n == 0 else f"{SITE}/legal/v{n}/privacy"


@dataclass(frozen=True)
class Chain:
    """A capture of URL at ``listed`` that leads through ``moves`` archived redirects to ``final`` at ``served``;
    ``hops``: the archived redirects on the way (site URL, memento time, status), the listed one first."""

    listed: datetime
    served: datetime
    final: str
    hops: tuple[tuple[str, datetime, int], ...]


def chain(archive: StandinArchive, moves: int, *, listed: datetime = LISTED, final_status: int | None = 200) -> Chain:
    """URL at ``listed``, an archived 301 to moved(1), captured a minute later (the archive redirects there), an
    archived 302 to moved(2), captured a minute later again, … ``moves`` archived redirects, each reached through
    one 302 of the archive's own, then moved(moves)'s page. ``final_status``: the last URL's archived status (None:
    never captured)."""
    hops = tuple((moved(n), listed + timedelta(minutes=n), 301 if n % 2 == 0 else 302) for n in range(moves))
    for n, (url, moment, status) in enumerate(hops):
        archive.add_capture(url, ts(moment), b"", status=status, location=moved(n + 1), redirect_form=FORMS[n % 3])
    final, served = moved(moves), listed + timedelta(minutes=moves)
    if final_status == 200:
        archive.add_capture(final, ts(served), page(V2, "final"))
    elif final_status is not None:
        archive.add_capture(final, ts(served), "<html><body><h1>Not Found</h1></body></html>", status=final_status)
    return Chain(listed, served, final, hops)


def responses(data) -> set[tuple[str, str, str]]:
    return {
        (headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"), http.get_statuscode())
        for _, kind, headers, http in warc_records(data)
        if kind == "response"
    }


def replays_asked(archive: StandinArchive) -> int:
    return sum(request.endpoint == "replay" for request in archive.requests)


def refused(data, result, reason: str) -> None:
    """The listed capture refused with ``reason``, in the catalog and on stderr; no version but the first."""
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(LISTED))
    assert (row["outcome"], row["reason"]) == ("refused", reason)
    assert f"{DOC}: capture {ts(LISTED)} refused: {reason}" in result.stderr, result.stderr
    assert git(data / "versions", "log", "--format=%aI", "main").splitlines() == [START.isoformat()]


@pytest.mark.parametrize("moves", [3, MAX_REDIRECTS])
def test_site_moves_each_through_an_archive_redirect_are_followed_and_dated_by_the_final_bytes(
    standin_archive, tmp_path, moves
):
    """3 moves (as http://a.com/privacy → … → https://www.a.com/legal/privacy) make 6 redirects, 5 make 10: only
    the site's archived redirects count against the limit, the archive's own 302s between them do not."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    built = chain(standin_archive, moves)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert replays_asked(standin_archive) == 1 + 1 + 2 * moves, "the first capture, the listed one, 2 per move"
    assert 1 + 2 * moves <= MAX_REPLAY_REQUESTS

    dates = git(data / "versions", "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert dates == [f"{moment.isoformat()} {moment.isoformat()}" for moment in (START, built.served)]
    message = git(data / "versions", "log", "-1", "--format=%B", "main")
    assert f"Captured-At: {iso_z(built.served)}" in message
    assert f"Snapshot-Url: {standin_archive.replay_url}/{ts(built.served)}id_/{built.final}" in message
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(built.listed))
    assert (row["outcome"], row["status"], row["fetched_status"]) == ("extracted", 301, 200)
    assert (row["memento_at"], row["memento_url"]) == (iso_z(built.served), built.final)

    kept = responses(data)
    for url, moment, status in built.hops:
        assert (url, iso_z(moment), str(status)) in kept, f"the archived hop {url} is a record of its own"
    assert (built.final, iso_z(built.served), "200") in kept
    assert len(kept) == 1 + len(built.hops) + 1, "the archive's own redirects are not captures: not kept"


def test_one_archived_redirect_over_the_limit_is_refused_in_words_with_its_hops_kept(standin_archive, tmp_path):
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    built = chain(standin_archive, MAX_REDIRECTS + 1)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    last_hop_at = built.hops[-1][1]
    refused(
        data,
        result,
        f"too many redirects inside the archive (more than {MAX_REDIRECTS} archived redirects; the next to "
        f"{built.final} at {iso_z(last_hop_at)})",
    )
    kept = responses(data)
    assert all((url, iso_z(moment), str(status)) in kept for url, moment, status in built.hops)
    assert not any(url == built.final for url, _, _ in kept), "the page past the limit is never asked for"
    assert replays_asked(standin_archive) == 1 + 1 + 2 * MAX_REDIRECTS
    status = run_cli(config, data, "status")
    assert "too many redirects inside the archive" in status.stdout, status.stdout


def test_an_archive_redirecting_without_end_between_timestamps_is_refused_in_its_own_words(standin_archive, tmp_path):
    """URL at LISTED, an archived 301 to FIRST_HOP, whose every replay the archive redirects one second later,
    never serving a capture (FIRST_HOP's page is there, a minute later): the site's one redirect is within the
    limit, the archive's third in a row is not followed."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    standin_archive.add_capture(URL, ts(LISTED), b"", status=301, location=FIRST_HOP)
    standin_archive.add_capture(FIRST_HOP, ts(LISTED + timedelta(minutes=1)), page(V2, "moved"))
    standin_archive.redirect_around(FIRST_HOP)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    times = MAX_ARCHIVE_REDIRECTS_IN_A_ROW + 1
    next_at = LISTED + timedelta(seconds=times)
    refused(
        data,
        result,
        f"the archive kept redirecting: it redirected {times} times in a row without serving a capture (at most "
        f"{MAX_ARCHIVE_REDIRECTS_IN_A_ROW} followed; the next to {FIRST_HOP} at {iso_z(next_at)})",
    )
    assert replays_asked(standin_archive) == 1 + 1 + times, "the first capture, the 301, the archive's 302s"
    assert responses(data) == {(URL, iso_z(START), "200"), (URL, iso_z(LISTED), "301")}
    status = run_cli(config, data, "status")
    assert "refused captures: 1 the archive kept redirecting" in status.stdout, status.stdout


def test_the_longest_chain_both_bounds_allow_is_followed_and_dated_by_the_final_bytes(standin_archive, tmp_path):
    """5 moves, each target reached through 2 redirects of the archive's own (one second later, then the nearest
    memento): at the limit of both bounds at every step, 16 replay requests for the one capture listed, followed."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    built = chain(standin_archive, MAX_REDIRECTS)
    for n in range(1, MAX_REDIRECTS + 1):
        standin_archive.redirect_around(moved(n), times=MAX_ARCHIVE_REDIRECTS_IN_A_ROW - 1)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr

    asked = 1 + MAX_REDIRECTS * (1 + MAX_ARCHIVE_REDIRECTS_IN_A_ROW)
    assert replays_asked(standin_archive) == 1 + asked, "the first capture, the listed one, 3 per move"
    assert asked <= MAX_REPLAY_REQUESTS
    dates = git(data / "versions", "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert dates == [f"{moment.isoformat()} {moment.isoformat()}" for moment in (START, built.served)]
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(built.listed))
    assert (row["outcome"], row["memento_at"], row["memento_url"]) == ("extracted", iso_z(built.served), built.final)
    kept = responses(data)
    assert all((url, iso_z(moment), str(status)) in kept for url, moment, status in built.hops)
    assert len(kept) == 1 + len(built.hops) + 1, "the archive's own redirects are not captures: not kept"


@pytest.mark.parametrize("move", [1, 3, MAX_REDIRECTS])
def test_one_more_archive_redirect_anywhere_in_the_longest_chain_is_refused_in_its_own_words(
    standin_archive, tmp_path, move
):
    """As above, but the target of move ``move`` (the first, one between, the final page) is reached through 3 of
    the archive's redirects: the third is not followed, whatever the replay requests asked so far."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    built = chain(standin_archive, MAX_REDIRECTS)
    for n in range(1, MAX_REDIRECTS + 1):
        extra = 1 if n == move else 0
        standin_archive.redirect_around(moved(n), times=MAX_ARCHIVE_REDIRECTS_IN_A_ROW - 1 + extra)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    times = MAX_ARCHIVE_REDIRECTS_IN_A_ROW + 1
    target_at = LISTED + timedelta(minutes=move)  # the third redirect: the archive's own to the nearest memento
    refused(
        data,
        result,
        f"the archive kept redirecting: it redirected {times} times in a row without serving a capture (at most "
        f"{MAX_ARCHIVE_REDIRECTS_IN_A_ROW} followed; the next to {moved(move)} at {iso_z(target_at)})",
    )
    assert replays_asked(standin_archive) == 1 + 1 + (move - 1) * (1 + MAX_ARCHIVE_REDIRECTS_IN_A_ROW) + times
    kept = responses(data)
    assert all((url, iso_z(moment), str(status)) in kept for url, moment, status in built.hops[:move])
    assert not any(url == moved(move) for url, _, _ in kept), "the target reached only through the third is not"


def test_a_loop_through_the_archives_own_redirects_is_refused_with_its_hops_kept(standin_archive, tmp_path):
    """URL at T0 → (archived 301) FIRST_HOP, captured a minute later (the archive redirects there) → (archived 302)
    URL at that minute, which the archive redirects back to T0: a capture already reached, not asked again."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    other_at = LISTED + timedelta(minutes=1)
    standin_archive.add_capture(URL, ts(LISTED), b"", status=301, location=FIRST_HOP)
    standin_archive.add_capture(FIRST_HOP, ts(other_at), b"", status=302, location=URL)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    refused(data, result, f"redirect loop inside the archive (back to {URL} at {iso_z(LISTED)})")
    assert {(URL, iso_z(LISTED), "301"), (FIRST_HOP, iso_z(other_at), "302")} <= responses(data)
    assert replays_asked(standin_archive) == 1 + 4, "301, the archive's 302, 302, the archive's 302 back: stop"


@pytest.mark.parametrize("form", ["http://example.com:80/privacy", "https://WWW.EXAMPLE.COM/privacy"])
def test_a_loop_whose_urls_differ_only_in_form_is_refused_at_the_first_return(standin_archive, tmp_path, form):
    """URL at T0 → (archived 301) FIRST_HOP, captured in the same second → (archived 302) URL written otherwise
    (scheme, www., default port, letter case), at T0: the capture already reached, by its URL key and time. Compared
    as strings the replay URLs differ, and the listed capture would be asked for again."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    standin_archive.add_capture(URL, ts(LISTED), b"", status=301, location=FIRST_HOP)
    standin_archive.add_capture(FIRST_HOP, ts(LISTED), b"", status=302, location=form)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")

    refused(data, result, f"redirect loop inside the archive (back to {URL} at {iso_z(LISTED)})")
    assert {(URL, iso_z(LISTED), "301"), (FIRST_HOP, iso_z(LISTED), "302")} <= responses(data)
    assert replays_asked(standin_archive) == 1 + 2, "the 301 and the 302, never the 301 again"


@pytest.mark.parametrize("end", ["archived 404", "excluded", "never captured"])
def test_a_chain_ending_at_a_page_that_is_not_the_document_is_refused_with_its_hops_kept(
    standin_archive, tmp_path, end
):
    """3 moves, ending at an archived 404, at a page the archive excludes (its 200 "excluded" page) or at a URL it
    never captured (its 404 page): no version, a reason naming where the chain ended (not the listed URL, whose
    capture is a 301), the hops kept."""
    standin_archive.add_capture(URL, ts(START), page(V1, "first"))
    final_status = {"archived 404": 404, "excluded": 200, "never captured": None}[end]
    built = chain(standin_archive, 3, final_status=final_status)
    if end == "excluded":
        standin_archive.block(built.final)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr

    hops = len(built.hops)
    reason = {
        "archived 404": f"archived status 404 ({built.final} at {iso_z(built.served)}, after {hops} archived "
        "redirects)",
        "excluded": "not-archived: the archive answered 200 without a Memento-Datetime",
        "never captured": "not-archived: the archive answered 404 without a Memento-Datetime",
    }[end]
    if end != "archived 404":  # the archive's own page, at the chain's last request (the last hop's target)
        reason += f" (for {built.final} asked at {iso_z(built.hops[-1][1])}, after {2 * hops - 1} redirects inside"
        reason += " the archive)"
    row = next(r for r in catalog_rows(data) if r["captured_at"] == iso_z(built.listed))
    assert (row["outcome"], row["reason"]) == ("refused", reason)
    assert git(data / "versions", "log", "--format=%aI", "main").splitlines() == [START.isoformat()]
    kept = responses(data)
    assert all((url, iso_z(moment), str(status)) in kept for url, moment, status in built.hops)
    assert ((built.final, iso_z(built.served), "404") in kept) == (end == "archived 404"), "a 404 is a capture"
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
    note = f"{DOC}: {MONTHS} not-archived refused on the archive's answer alone: backfill --retry-refused asks them"
    note += " again"
    assert note in result.stderr.splitlines()
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
        reason = f"{kind} (the archive serves {HTTP_URL} at {iso_z(moment)} as a redirect to itself)"
        assert f"{DOC}: capture {ts(moment)} refused: {reason}" in result.stderr
    assert all(row["outcome"] == "refused" for row in catalog_rows(data))
    # Each capture once, under the URL it was archived from (the Link header's original), never asked for again as
    # https://www.example.com/privacy (its own target: the same key at the same time), which never answered so.
    assert responses(data) == {(HTTP_URL, iso_z(moment), "301") for moment in months()}
    assert replays_asked(standin_archive) == MONTHS
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
