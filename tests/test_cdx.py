"""The CDX adapter: complete listings, or a typed error — never a short or empty list because of a failure."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pytest
from standin.archive import StandinArchive
from standin.archive_cdx import CDX_PATH
from standin.capture import payload_digest
from standin.sockets import closed_port
from standin.tls import TricklingHandshake

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import MAX_PAUSE_SECONDS, RateLimiter
from policy_archive.crawler.reach import UNREACHABLE_AFTER
from policy_archive.crawler.sources import (
    ArchiveUnreachable,
    ListingBlocked,
    ListingClient,
    ListingError,
    ListingInterrupted,
    ListingOverloaded,
    ListingParseError,
    ListingPaused,
    ListingRateLimited,
    ListingTooLarge,
    ListingUnavailable,
    WaybackMachine,
)
from policy_archive.crawler.sources.base import LISTING_ATTEMPTS
from policy_archive.digests import PayloadDigest
from policy_archive.records import CaptureRef, parse_wayback_timestamp

POLICY = "https://www.acrcloud.com/privacy"
# How a listing failing for now at every attempt ends: the run gives it up, the archive's pause holds for the next
# run (outside audit A, F4: it read as if this run still waited).
GAVE_UP = (
    rf"\(asked {LISTING_ATTEMPTS} times; gave up: a run started within \d+ s"
    r" first waits for the archive's pause to end\)"
)
USER_AGENT = "policy-archive/test (+https://example.org/policy-archive)"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(tmp_path: Path, clock: FakeClock) -> RateLimiter:
    """A CDX limiter at 30 requests a minute whose waits cost no real time."""
    return RateLimiter(
        tmp_path / "ratelimit.sqlite3", "standin", "cdx", 30, backoff_seconds=60, clock=clock, sleep=clock.sleep
    )


@pytest.fixture
def history(standin_archive: StandinArchive) -> StandinArchive:
    """Seven captures of one policy over 2017–2019, one of them an http:// capture and one a revisit record."""
    standin_archive.add_capture("http://acrcloud.com/privacy", "20170305000000", "<p>v1</p>")
    for stamp, text in [
        ("20170601000000", "<p>v1</p>"),
        ("20180105000000", "<p>v1 again</p>"),
        ("20180529000000", "<p>v2 GDPR</p>"),
        ("20180701000000", "<p>v2 GDPR</p>"),
        ("20190101000000", "<p>v2 GDPR, later</p>"),
    ]:
        standin_archive.add_capture(POLICY, stamp, text)
    standin_archive.add_capture(POLICY, "20190301000000", "<p>v2 GDPR, later</p>", status=None)
    return standin_archive


def listing(
    archive: StandinArchive,
    limiter: RateLimiter,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    page_size: int = 1000,
    **settings: float,
) -> list[CaptureRef]:
    return list_captures(POLICY, archive.wayback_settings(**settings), limiter, since, until, page_size=page_size)


def list_captures(
    url: str,
    settings: WaybackSettings,
    limiter: RateLimiter,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    page_size: int | None = None,
) -> list[CaptureRef]:
    """The Internet Archive source's listing of ``url``."""
    source = WaybackMachine(settings, page_size=page_size)
    return source.list_captures(url, ListingClient(limiter, USER_AGENT), since, until)


def timestamps(refs: list[CaptureRef]) -> list[str]:
    return [ref.wayback_timestamp for ref in refs]


# --- complete listings -----------------------------------------------------------------------------------


def test_rows_become_typed_capture_refs(history: StandinArchive, limiter: RateLimiter) -> None:
    refs = listing(history, limiter)
    assert len(refs) == 7
    assert refs[3] == CaptureRef(
        url=POLICY,
        timestamp=datetime(2018, 5, 29, tzinfo=UTC),
        status=200,
        mimetype="text/html",
        digest=PayloadDigest.parse(payload_digest(b"<p>v2 GDPR</p>")),
        length=len(b"<p>v2 GDPR</p>"),
    )
    assert refs[0].url == "http://acrcloud.com/privacy"
    assert refs[-1].status is None  # a revisit record: "-" in the status column


def test_the_listing_identifies_itself_and_waits_for_the_limiter(
    history: StandinArchive, limiter: RateLimiter, clock: FakeClock
) -> None:
    listing(history, limiter, page_size=3)
    assert {request.user_agent for request in history.requests} == {USER_AGENT}
    assert clock.sleeps == [2.0, 2.0]  # three pages, spaced at 30 a minute


def test_paging_returns_every_row_exactly_once(history: StandinArchive, limiter: RateLimiter) -> None:
    whole = listing(history, limiter)
    history.clear_log()
    for page_size in (1, 2, 3, 7):
        assert listing(history, limiter, page_size=page_size) == whole
    # 7 rows in pages of 1, 2, 3, 7: a full page always ends with a resume key, so 7 + 1, 4, 3 and 1 + 1 requests
    assert history.counts()["cdx"] == 8 + 4 + 3 + 2


def test_resume_keys_are_sent_back_as_the_archive_wrote_them(history: StandinArchive, limiter: RateLimiter) -> None:
    listing(history, limiter, page_size=4)
    second = parse_qs(urlsplit(history.requests[1].path).query)
    assert second["resumeKey"] == ["com%2Cacrcloud%29%2Fprivacy+20180529000001"]
    assert second["showResumeKey"] == ["true"] and second["limit"] == ["4"]


def test_repeated_rows_are_dropped_even_across_pages(history: StandinArchive, limiter: RateLimiter) -> None:
    whole = listing(history, limiter)
    history.repeat_rows()
    assert listing(history, limiter) == whole
    assert listing(history, limiter, page_size=3) == whole


def test_since_and_until_bound_the_listing_inclusively(history: StandinArchive, limiter: RateLimiter) -> None:
    refs = listing(history, limiter, since=datetime(2018, 1, 5, tzinfo=UTC), until=datetime(2018, 7, 1, tzinfo=UTC))
    assert timestamps(refs) == ["20180105000000", "20180529000000", "20180701000000"]
    query = parse_qs(urlsplit(history.requests[-1].path).query)
    assert (query["from"], query["to"]) == (["20180105000000"], ["20180701000000"])


def test_a_url_without_captures_is_an_empty_listing(standin_archive: StandinArchive, limiter: RateLimiter) -> None:
    assert listing(standin_archive, limiter) == []


def test_the_configured_archive_is_used(history: StandinArchive, limiter: RateLimiter) -> None:
    listing(history, limiter)
    assert history.counts() == {"cdx": 1}


# --- every failure is an error ---------------------------------------------------------------------------


def test_429_is_rate_limited_and_pauses_the_archive(history: StandinArchive, limiter: RateLimiter) -> None:
    history.refuse_next(1, status=429)
    with pytest.raises(ListingRateLimited) as raised:
        listing(history, limiter)
    assert raised.value.pause_seconds == 60 and limiter.paused_for() == 60
    assert raised.value.url == POLICY
    assert str(raised.value) == (
        f"cannot list the captures of {POLICY}: {urlsplit(history.cdx_url).netloc} answered 429 Too Many Requests;"
        " all requests to it pause for 60 s"
    )


def test_retry_after_of_a_429_is_honoured(history: StandinArchive, limiter: RateLimiter) -> None:
    history.refuse_next(1, status=429, retry_after=300)
    with pytest.raises(ListingRateLimited) as raised:
        listing(history, limiter)
    assert raised.value.pause_seconds == 300


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_or_503_is_overloaded_and_pauses_the_archive(
    history: StandinArchive, limiter: RateLimiter, status: int
) -> None:
    history.refuse_next(1, status=status)
    with pytest.raises(ListingOverloaded, match=f"answered {status} .*; all requests to it pause for 60 s") as raised:
        listing(history, limiter)
    assert isinstance(raised.value, ListingUnavailable) and raised.value.pause_seconds == 60
    assert limiter.paused_for() == 60


def test_retry_after_of_a_503_is_honoured_up_to_the_longest_pause(
    history: StandinArchive, limiter: RateLimiter
) -> None:
    history.refuse_next(1, status=503, retry_after=300)
    with pytest.raises(ListingOverloaded):
        listing(history, limiter)
    assert limiter.paused_for() == 300
    history.refuse_next(1, status=503, retry_after=10 * MAX_PAUSE_SECONDS)
    with pytest.raises(ListingOverloaded) as raised:
        listing(history, limiter)
    assert raised.value.pause_seconds == MAX_PAUSE_SECONDS


def test_another_5xx_is_unavailable_without_a_pause(history: StandinArchive, limiter: RateLimiter) -> None:
    history.refuse_next(1, status=501)  # Not Implemented: asking again changes nothing
    with pytest.raises(ListingUnavailable, match="answered 501") as raised:
        listing(history, limiter)
    assert not isinstance(raised.value, ListingPaused)
    assert limiter.paused_for() == 0


# --- asked again after a refusal for now (what backfill and discover call) -------------------------------


def patient_listing(
    archive: StandinArchive, limiter: RateLimiter, page_size: int | None = None, **settings: float
) -> list[CaptureRef]:
    source = WaybackMachine(archive.wayback_settings(**settings), page_size=page_size)
    return source.list_captures_patiently(POLICY, ListingClient(limiter, USER_AGENT))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_listing_refused_for_now_is_asked_again_after_the_pause(
    history: StandinArchive, limiter: RateLimiter, clock: FakeClock, status: int
) -> None:
    history.refuse_next(LISTING_ATTEMPTS - 1, status=status)
    assert timestamps(patient_listing(history, limiter)) == timestamps(listing(history, limiter))
    assert history.counts() == {"cdx": LISTING_ATTEMPTS + 1}
    # The limiter made each new attempt wait out the pause: 60 s, then doubled as the refusal came right after it.
    assert sum(clock.sleeps) >= 60 + 120


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_listing_refused_every_time_fails_after_the_last_attempt(
    history: StandinArchive, limiter: RateLimiter, status: int
) -> None:
    history.refuse_next(LISTING_ATTEMPTS + 5, status=status)
    with pytest.raises(ListingPaused, match=rf"answered {status} [^;]*{GAVE_UP}$") as raised:
        patient_listing(history, limiter)
    assert raised.value.url == POLICY and "\n" not in str(raised.value)
    assert history.counts() == {"cdx": LISTING_ATTEMPTS}


@pytest.mark.parametrize("status", [404, 501])
def test_other_listing_errors_are_not_asked_again(history: StandinArchive, limiter: RateLimiter, status: int) -> None:
    history.refuse_next(1, status=status)
    with pytest.raises(ListingError, match=f"answered {status}"):
        patient_listing(history, limiter)
    assert history.counts() == {"cdx": 1}


# --- no answer for now: asked again like a 503, each page alone ------------------------------------------

# The client's deadline when the stand-in holds a request unanswered until the client gives up: long enough for
# the answered attempts on a loaded machine, short enough to wait for three times.
HANG_TIMEOUT = 5.0
NO_ANSWER = [("hang", r"no complete answer within 5 s"), ("reset", "the connection was closed without an answer")]


def backing_off(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "pausing" in r.getMessage() or "asking again" in r.getMessage()]


@pytest.mark.parametrize(("how", "said"), NO_ANSWER)
def test_a_listing_without_an_answer_is_asked_again_after_the_pause(
    history: StandinArchive,
    limiter: RateLimiter,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    how: Literal["hang", "reset"],
    said: str,
) -> None:
    history.answer_nothing_next(LISTING_ATTEMPTS - 1, how)
    with caplog.at_level(logging.INFO, logger="policy_archive.crawler"):
        listed = patient_listing(history, limiter, timeout_seconds=HANG_TIMEOUT)
    assert timestamps(listed) == timestamps(listing(history, limiter))
    history.wait_for_requests(LISTING_ATTEMPTS + 1)
    assert history.counts() == {"cdx": LISTING_ATTEMPTS + 1}
    assert sum(clock.sleeps) >= 60 + 120  # each attempt after the archive's pause, doubled the second time
    # Each failure: the limiter's line (the archive pauses) and the listing's (asked again), each naming the cause
    # and the wait, one line each.
    lines = backing_off(caplog)
    assert len(lines) == 2 * (LISTING_ATTEMPTS - 1)
    assert all(re.search(said, line) and re.search(r"\b\d+ s\b", line) and "\n" not in line for line in lines), lines


@pytest.mark.parametrize(("how", "said"), NO_ANSWER)
def test_a_listing_never_answered_fails_after_the_last_attempt(
    history: StandinArchive, limiter: RateLimiter, how: Literal["hang", "reset"], said: str
) -> None:
    history.answer_nothing_next(LISTING_ATTEMPTS + 5, how)
    with pytest.raises(ListingInterrupted) as raised:
        patient_listing(history, limiter, timeout_seconds=HANG_TIMEOUT)
    assert re.fullmatch(
        rf"cannot list the captures of {re.escape(POLICY)}: {said} {GAVE_UP}",
        str(raised.value),
    ), raised.value
    history.wait_for_requests(LISTING_ATTEMPTS)
    assert history.counts() == {"cdx": LISTING_ATTEMPTS}


def test_an_https_archive_trickling_its_tls_handshake_is_no_answer_at_the_deadline(limiter: RateLimiter) -> None:
    # The archive's handshake, a byte every 0.1 s, would take over a minute: the listing page's deadline ends it, and
    # the archive pauses as for any request left without an answer.
    with TricklingHandshake() as archive:
        cdx_url = f"{archive.origin}/cdx/search/cdx"
        settings = WaybackSettings(cdx_url=cdx_url, cdx_per_minute=float("inf"), timeout_seconds=0.5)
        with pytest.raises(ListingInterrupted) as raised:
            list_captures(POLICY, settings, limiter)
        assert archive.hung_up.wait(30), "the connection was closed during the handshake"
    assert re.fullmatch(
        rf"cannot list the captures of {re.escape(POLICY)}: no complete answer within 0.5 s; all requests to it"
        r" pause for \d+ s",
        str(raised.value),
    ), raised.value
    assert not archive.handshaken.is_set()


def test_a_refused_connection_is_asked_again_after_the_pause(tmp_path: Path, clock: FakeClock) -> None:
    archive = StandinArchive()
    archive.add_capture(POLICY, "20180529000000", "<p>v2 GDPR</p>")
    with socket.socket() as probe:  # a port that was free a moment ago, with nothing listening yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def archive_starts_during_the_pause(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 1:
            archive.start(port=port)  # the server is back, as after a restart

    limiter = RateLimiter(
        tmp_path / "ratelimit.sqlite3", "standin", "cdx", 30, 60, clock=clock, sleep=archive_starts_during_the_pause
    )
    settings = WaybackSettings(cdx_url=f"http://127.0.0.1:{port}/cdx/search/cdx", timeout_seconds=5)
    with archive:
        refs = WaybackMachine(settings).list_captures_patiently(POLICY, ListingClient(limiter, USER_AGENT))
        assert timestamps(refs) == ["20180529000000"]
        assert archive.counts() == {"cdx": 1}
    assert clock.sleeps[0] >= 60


# --- an archive unreachable for the whole run (outside audit 5, 2026-11-29) ----------------------------------

OTHERS = [f"https://{name}.example/privacy" for name in ("b", "c", "d", "e")]


def test_an_archive_refusing_every_connection_is_unreachable_after_one_documents_attempts(
    tmp_path: Path, clock: FakeClock
) -> None:
    """The pauses stop doubling from document to document: one document's attempts (60 + 120 s at the default
    backoff), then every listing of the run fails at once, asked once, without another pause."""
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3", "standin", "cdx", 30, 60, clock=clock, sleep=clock.sleep)
    port = closed_port()
    settings = WaybackSettings(cdx_url=f"http://127.0.0.1:{port}/cdx/search/cdx?secret=1", timeout_seconds=5)
    source, client = WaybackMachine(settings), ListingClient(limiter, USER_AGENT)
    with pytest.raises(ArchiveUnreachable) as raised:
        source.list_captures_patiently(POLICY, client)
    assert raised.value.archive == f"127.0.0.1:{port}"
    assert str(raised.value) == (
        f"cannot list the captures of {POLICY}: the archive 127.0.0.1:{port} is unreachable"
        f" (connection refused, {UNREACHABLE_AFTER} requests in a row)"
    )
    first = sum(clock.sleeps)
    assert 60 + 120 <= first <= 60 + 120 + limiter.interval, clock.sleeps  # the pause doubled once, not more
    for url in OTHERS:
        with pytest.raises(ArchiveUnreachable):
            source.list_captures_patiently(url, client)
    # Each later document: one request after the rate's spacing, no pause (none is left either).
    assert sum(clock.sleeps) - first <= len(OTHERS) * limiter.interval, clock.sleeps
    assert limiter.paused_for() == 0


def test_an_archive_behind_a_proxy_refusing_connections_names_the_proxy_by_host(
    limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv("http_proxy", f"http://user:secret@{proxy}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    settings = WaybackSettings(cdx_url="http://web.archive.example/cdx/search/cdx", timeout_seconds=2)
    source, client = WaybackMachine(settings), ListingClient(limiter, USER_AGENT)
    with pytest.raises(ArchiveUnreachable) as raised:
        source.list_captures_patiently(POLICY, client)
    assert raised.value.archive == "web.archive.example"
    assert f"(connection refused, through the proxy {proxy}, {UNREACHABLE_AFTER} requests in a row)" in str(
        raised.value
    )
    assert "secret" not in str(raised.value)


def test_a_host_not_found_is_unreachable_after_as_many_documents(
    limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("policy_archive.crawler.names.system_lookup", lambda host: [])
    settings = WaybackSettings(cdx_url="http://cdx.archive.invalid/cdx/search/cdx", timeout_seconds=2)
    source, client = WaybackMachine(settings), ListingClient(limiter, USER_AGENT)
    raised = []
    for url in [POLICY, *OTHERS][:UNREACHABLE_AFTER]:
        with pytest.raises(ListingUnavailable) as failed:
            source.list_captures_patiently(url, client)
        raised.append(type(failed.value))
    assert raised == [ListingUnavailable] * (UNREACHABLE_AFTER - 1) + [ArchiveUnreachable]
    assert "archive cdx.archive.invalid is unreachable (archive host not found" in str(failed.value)


@pytest.mark.parametrize("status", [429, 503])
def test_an_archive_asking_us_to_slow_down_is_never_unreachable(
    history: StandinArchive, limiter: RateLimiter, clock: FakeClock, status: int
) -> None:
    """A 429 or 503 is an answer: every attempt of every document backs off (the pause doubling), as before."""
    history.refuse_next(2 * LISTING_ATTEMPTS, status=status)
    source = WaybackMachine(history.wayback_settings())
    client = ListingClient(limiter, USER_AGENT)
    for url in (POLICY, OTHERS[0]):
        with pytest.raises(ListingPaused, match=rf"answered {status} [^;]*{GAVE_UP}$"):
            source.list_captures_patiently(url, client)
    assert history.counts() == {"cdx": 2 * LISTING_ATTEMPTS}
    assert sum(clock.sleeps) >= 60 + 120 + 240 + 480


def test_an_answer_between_refused_connections_starts_the_count_again(tmp_path: Path, clock: FakeClock) -> None:
    archive = StandinArchive()
    archive.add_capture(POLICY, "20180529000000", "<p>v2 GDPR</p>")
    with socket.socket() as probe:  # a port that was free a moment ago, with nothing listening yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def starts_in_the_second_pause(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == UNREACHABLE_AFTER - 1:
            archive.start(port=port)

    limiter = RateLimiter(
        tmp_path / "ratelimit.sqlite3", "standin", "cdx", 30, 60, clock=clock, sleep=starts_in_the_second_pause
    )
    settings = WaybackSettings(cdx_url=f"http://127.0.0.1:{port}/cdx/search/cdx", timeout_seconds=5)
    client = ListingClient(limiter, USER_AGENT)
    with archive:
        refs = WaybackMachine(settings).list_captures_patiently(POLICY, client)
    assert timestamps(refs) == ["20180529000000"]
    assert client.reach.failures_in_a_row == 0


def test_a_page_failing_for_now_is_asked_again_alone(history: StandinArchive, limiter: RateLimiter) -> None:
    # While the first page is being answered, queue a 500 for the request after it: the second page.
    history.when_asked(CDX_PATH, lambda: history.refuse_next(1, status=500))
    assert timestamps(patient_listing(history, limiter, page_size=2)) == timestamps(listing(history, limiter))
    paths = [request.path for request in history.requests][:-1]  # the last one: listing() above
    assert [request.status for request in history.requests][:3] == [200, 500, 200]
    assert paths[1] == paths[2] and len(set(paths)) == len(paths) - 1, "only the failed page was asked again"


def test_a_page_failing_every_time_fails_the_listing_after_the_last_attempt(
    history: StandinArchive, limiter: RateLimiter
) -> None:
    history.fail_page(1, status=500)
    with pytest.raises(ListingOverloaded, match=rf"answered 500 .* \(page 2\) {GAVE_UP}$"):
        patient_listing(history, limiter, page_size=2)
    paths = [request.path for request in history.requests]
    assert len(paths) == 1 + LISTING_ATTEMPTS and len(set(paths)) == 2, "the first page once, the second 3 times"


def test_a_blocked_url_is_blocked(history: StandinArchive, limiter: RateLimiter) -> None:
    history.block(POLICY)
    with pytest.raises(ListingBlocked, match="Blocked Site Error"):
        listing(history, limiter)


def test_a_plain_403_is_blocked(history: StandinArchive, limiter: RateLimiter) -> None:
    history.refuse_next(1, status=403)
    with pytest.raises(ListingBlocked, match="answered 403"):
        listing(history, limiter)


def test_other_4xx_are_errors(history: StandinArchive, limiter: RateLimiter) -> None:
    history.refuse_next(1, status=404)
    with pytest.raises(ListingError, match="answered 404"):
        listing(history, limiter)


def test_a_slow_archive_times_out(history: StandinArchive, limiter: RateLimiter) -> None:
    history.delay("cdx", 2.0)
    with pytest.raises(ListingUnavailable, match=r"within 0\.2 s"):
        listing(history, limiter, timeout_seconds=0.2)


def test_garbage_rows_are_a_parse_error(history: StandinArchive, limiter: RateLimiter) -> None:
    history.serve_garbage_rows()
    with pytest.raises(ListingParseError, match="3 fields instead of 7"):
        listing(history, limiter)


@pytest.mark.parametrize("status", [99999999999, 1000, 99, 0])
def test_a_status_that_is_no_http_status_is_a_parse_error(history: StandinArchive, limiter: RateLimiter, status):
    """Outside audit 31, F1: an 11-digit status went through to the listing's columns and ended in OverflowError."""
    history.add_capture(POLICY, "20190401000000", "<p>v3</p>", status=status)
    said = rf"unusable row \(statuscode {status} is no HTTP status \(100 to 999\)\)"
    with pytest.raises(ListingParseError, match=said):
        listing(history, limiter)


def test_an_unofficial_three_digit_status_is_listed(history: StandinArchive, limiter: RateLimiter) -> None:
    """LinkedIn answers crawlers 999: a capture of it is a row like any other, not a listing that fails."""
    history.add_capture(POLICY, "20190401000000", "<p>refused</p>", status=999)
    assert listing(history, limiter)[-1].status == 999


def test_an_html_page_answered_with_200_is_a_parse_error(history: StandinArchive, limiter: RateLimiter) -> None:
    history.refuse_next(1, status=200)  # e.g. a proxy's or captive portal's page instead of the listing
    with pytest.raises(ListingParseError):
        listing(history, limiter)


def test_a_listing_failing_half_way_is_an_error_not_a_short_history(
    history: StandinArchive, limiter: RateLimiter
) -> None:
    history.fail_page(2, status=503)
    with pytest.raises(ListingUnavailable, match=r"answered 503 Service Unavailable \(page 3\)"):
        listing(history, limiter, page_size=2)
    assert history.counts()["cdx"] == 3


def test_a_page_promising_a_resume_key_without_one_is_a_parse_error(
    history: StandinArchive, limiter: RateLimiter
) -> None:
    history.drop_resume_key(1)
    with pytest.raises(ListingParseError, match=r"announced a resume key but ended without it \(page 2\)"):
        listing(history, limiter, page_size=2)


def test_a_listing_with_new_resume_keys_without_end_fails_at_max_listing_rows(
    history: StandinArchive, limiter: RateLimiter
) -> None:
    """A server that never ends a listing (a new key on every page) is followed only up to ``max_listing_rows``, all
    pages together (outside audit A, F1): it was followed for ever, every row kept in memory."""
    history.send_endless_resume_keys()
    with pytest.raises(ListingTooLarge, match=r"goes on past \[wayback\] max_listing_rows = 20 \(21 rows in 7 pages"):
        listing(history, limiter, page_size=3, max_listing_rows=20)
    assert history.counts()["cdx"] == 7  # 3 rows a page: the 7th page passes 20


def test_pages_of_few_rows_count_as_full_pages(history: StandinArchive, limiter: RateLimiter) -> None:
    """Pages of one row each, without end, are bounded too: each counts as a full page of ``page_size`` rows."""
    history.send_endless_resume_keys()
    said = (
        r"\(21 rows in 3 pages and another announced; a page followed by another counts as at least a full page,"
        r" 1,000 rows, so at least 3,000\)"
    )
    with pytest.raises(ListingTooLarge, match=said):
        listing(history, limiter, page_size=1000, max_listing_rows=2000)
    assert history.counts()["cdx"] == 3  # 7 rows a page, counted as 1,000 each: the third passes 2,000


def test_the_last_page_counts_its_rows_and_is_said_so(history: StandinArchive, limiter: RateLimiter) -> None:
    """One page of 7 rows, no other announced: it counts 7, not a full page (outside audit 31, F6: the refusal said
    "each page counted as at least 1,000 rows" of it, while a bound of 7 let it pass)."""
    assert len(listing(history, limiter, page_size=1000, max_listing_rows=7)) == 7
    with pytest.raises(ListingTooLarge, match=r"max_listing_rows = 6 \(7 rows in 1 page\): not a listing of one URL$"):
        listing(history, limiter, page_size=1000, max_listing_rows=6)


def test_a_listing_of_exactly_max_listing_rows_in_full_pages_is_complete(
    history: StandinArchive, limiter: RateLimiter
) -> None:
    """The Wayback Machine announces another page after a last full one, and answers it empty: 7 rows in a full
    page of 7, then an empty one, are within a bound of 7 (they were refused once the full page was counted)."""
    assert len(listing(history, limiter, page_size=7, max_listing_rows=7)) == 7
    assert history.counts()["cdx"] == 2  # the empty page announced was asked for
    history.add_capture(POLICY, "20190401000000", "<p>v3</p>")  # a row beyond the bound on the page announced
    with pytest.raises(ListingTooLarge, match=r"max_listing_rows = 7 \(8 rows in 2 pages\): not a listing of one URL$"):
        listing(history, limiter, page_size=7, max_listing_rows=7)


def test_a_listing_within_max_listing_rows_is_complete(history: StandinArchive, limiter: RateLimiter) -> None:
    assert len(listing(history, limiter, page_size=3, max_listing_rows=9)) == 7  # 3 pages, the last not full
    with pytest.raises(ListingTooLarge, match="max_listing_rows = 6"):
        listing(history, limiter, page_size=3, max_listing_rows=6)  # 2 full pages, and a row on the page announced


def test_a_429_on_a_later_page_is_still_an_error(history: StandinArchive, limiter: RateLimiter) -> None:
    history.fail_page(1, status=429)
    with pytest.raises(ListingRateLimited):
        listing(history, limiter, page_size=3)


def test_connection_refused_is_unavailable(limiter: RateLimiter) -> None:
    settings = WaybackSettings(cdx_url=f"http://127.0.0.1:{closed_port()}/cdx/search/cdx", timeout_seconds=2)
    with pytest.raises(ListingUnavailable, match="connection refused"):
        list_captures(POLICY, settings, limiter)


def test_an_unknown_host_is_unavailable(limiter: RateLimiter, monkeypatch: pytest.MonkeyPatch) -> None:
    # The name has no address, as a table answers it (tests/standin/fixed_dns.py): no name server asked.
    monkeypatch.setattr("policy_archive.crawler.names.system_lookup", lambda host: [])
    settings = WaybackSettings(cdx_url="http://cdx.archive.invalid/cdx/search/cdx", timeout_seconds=2)
    with pytest.raises(ListingUnavailable, match="host not found"):
        list_captures(POLICY, settings, limiter)


# --- real answers of the Wayback Machine -----------------------------------------------------------------

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "cdx" / "recorded-listings.json").read_text())


@pytest.fixture
def recorded_archive() -> Iterator[tuple[str, list[str]]]:
    """A server answering each recorded CDX request (by url and resumeKey) with the archive's recorded bytes;
    yields its CDX URL and the query strings it received, as sent."""
    received: list[str] = []
    pages = {
        (listing["url"], page["resume_key"]): page
        for listing in RECORDED["listings"].values()
        for page in listing["pages"]
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            received.append(urlsplit(self.path).query)
            query = parse_qs(urlsplit(self.path).query)
            page = pages[(query["url"][0], query.get("resumeKey", [None])[0])]
            body = page["body"].encode("utf-8")
            self.send_response(page["status"])
            self.send_header("Content-Type", page["content_type"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Silent."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cdx/search/cdx", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorded_cdx_url(recorded_archive: tuple[str, list[str]]) -> str:
    return recorded_archive[0]


def recorded_rows(name: str) -> set[tuple[str, str, str, str, str]]:
    """(timestamp, original, mimetype, status, digest) of every row of a recorded listing, read naively."""
    return {
        tuple(line.split(" ")[1:6])  # type: ignore[misc]
        for page in RECORDED["listings"][name]["pages"]
        for line in page["body"].splitlines()
        if line.count(" ") == 6
    }


def as_row(ref: CaptureRef) -> tuple[str, str, str, str, str]:
    status = "-" if ref.status is None else str(ref.status)
    return (ref.wayback_timestamp, ref.url, ref.mimetype or "-", status, str(ref.digest or "-"))


def test_a_real_paged_listing_with_repeated_rows(recorded_cdx_url: str, limiter: RateLimiter) -> None:
    listing = RECORDED["listings"]["cnn-multipage"]
    settings = WaybackSettings(cdx_url=recorded_cdx_url, timeout_seconds=5)
    refs = list_captures(listing["url"], settings, limiter, page_size=listing["limit"])
    rows = [as_row(ref) for ref in refs]
    assert len(rows) == len(set(rows)) and set(rows) == recorded_rows("cnn-multipage")
    assert rows == sorted(rows)
    assert len(refs) < sum(page["body"].count("\n") for page in listing["pages"]) / 3  # most rows were repeats


def test_a_real_listing_with_revisit_records(recorded_cdx_url: str, limiter: RateLimiter) -> None:
    settings = WaybackSettings(cdx_url=recorded_cdx_url, timeout_seconds=5)
    refs = list_captures("energystar.gov/", settings, limiter, page_size=1000)
    assert {as_row(ref) for ref in refs} == recorded_rows("energystar-repeats")
    revisits = [ref for ref in refs if ref.mimetype == "warc/revisit"]
    assert revisits and all(ref.status is None and ref.digest for ref in revisits)


def test_a_real_blocked_answer(recorded_cdx_url: str, limiter: RateLimiter) -> None:
    settings = WaybackSettings(cdx_url=recorded_cdx_url, timeout_seconds=5)
    with pytest.raises(ListingBlocked, match="Blocked Site Error"):
        list_captures("https://nationalpost.com/health", settings, limiter, page_size=1000)


def test_a_full_page_without_a_resume_key_is_a_truncated_listing(history: StandinArchive, limiter: RateLimiter) -> None:
    history.ignore_resume_keys()  # like a CDX server that does not implement them: limit cuts the listing
    with pytest.raises(ListingParseError, match="full page of 3 rows came without a resume key"):
        listing(history, limiter, page_size=3)
    assert len(listing(history, limiter, page_size=8)) == 7  # a short page without a key is a whole listing


@pytest.mark.parametrize("name", ["dw-dated", "nasa-dated"])
def test_a_real_date_bounded_listing_sends_the_recorded_requests(
    recorded_archive: tuple[str, list[str]], limiter: RateLimiter, name: str
) -> None:
    cdx_url, received = recorded_archive
    listing = RECORDED["listings"][name]
    since, until = (parse_wayback_timestamp(listing[bound]) for bound in ("from", "to"))
    settings = WaybackSettings(cdx_url=cdx_url, timeout_seconds=5)
    refs = list_captures(listing["url"], settings, limiter, since, until, page_size=listing["limit"])
    assert {as_row(ref) for ref in refs} == recorded_rows(name) and len(refs) == len(recorded_rows(name))
    assert all(since <= ref.timestamp <= until for ref in refs)
    # Parameter for parameter and byte for byte (resume keys encoded once more, as the archive expects), the
    # requests are the recorded ones, less EDGI's resolveRevisits.
    recorded = [page["request_query"] for page in listing["pages"]]
    assert [sorted(query.split("&")) for query in received] == [
        sorted(part for part in query.split("&") if not part.startswith("resolveRevisits=")) for query in recorded
    ]
