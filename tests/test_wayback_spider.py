"""The archive spider's callback on responses built in memory: what it hands over for each kind of replay answer.

The answers mirror recorded Wayback Machine behaviour (tests/fixtures/archive-responses): mementos carry a
``Memento-Datetime``; the archive's own redirects, errors and "excluded" pages do not.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import scrapy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scrapy.http import Response

from policy_archive.archive.captures import CaptureStore
from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.sources import archive_source
from policy_archive.crawler.spiders.wayback import (
    MAX_ARCHIVE_REDIRECTS_IN_A_ROW,
    MAX_REDIRECTS,
    MAX_REPLAY_REQUESTS,
    WaybackSpider,
)
from policy_archive.pipeline.jobs.examine import holds_for_twins
from policy_archive.records import Capture, CaptureRef, FetchFailure, FetchRequest, format_wayback_timestamp
from policy_archive.text import unsafe_character

REPLAY = "https://web.archive.org/web"
URL = "https://www.example.com/privacy"
T1 = datetime(2018, 8, 8, 9, 41, 44, tzinfo=UTC)
REF = CaptureRef(URL, T1, 301, "text/html", None)
FETCH = FetchRequest("example/privacy-policy", f"{REPLAY}/20180808094144id_/{URL}", URL, REF)


class Recorder:
    def __init__(self) -> None:
        self.results: list[Capture | FetchFailure] = []

    def start(self):
        return []

    def handle(self, result):
        self.results.append(result)
        return []


def spider(data_dir: Path) -> tuple[WaybackSpider, Recorder]:
    plan = Recorder()
    settings = WaybackSettings(replay_url=REPLAY)
    return WaybackSpider(plan, archive_source(settings), limiter_for(data_dir, settings, "replay")), plan


def answer(url: str, status: int, headers: dict[str, str], body: bytes = b"", **meta) -> Response:
    request = scrapy.Request(url, meta={"fetch": FETCH, **meta})
    return Response(url, status=status, headers=headers, body=body, request=request)


def test_an_archived_redirect_is_kept_as_a_hop_and_followed(tmp_path):
    archive, plan = spider(tmp_path)
    hop = answer(
        FETCH.url,
        301,
        {"Memento-Datetime": "Wed, 08 Aug 2018 09:41:44 GMT", "Location": f"{REPLAY}/20180808094144id_/{URL}/new"},
    )
    (follow,) = list(archive.parse(hop))
    assert follow.url == f"{REPLAY}/20180808094144id_/{URL}/new" and not plan.results
    (kept,) = follow.meta["hops"]
    assert (kept.status, kept.url, kept.captured_at) == (301, URL, T1)

    nearest = answer(follow.url, 302, {"Location": f"{REPLAY}/20180808104500id_/{URL}/new"}, **follow.meta)
    (final_request,) = list(archive.parse(nearest))
    assert final_request.meta["hops"] == follow.meta["hops"], "the archive's own redirect is not a capture"

    final = answer(
        final_request.url,
        200,
        {"Memento-Datetime": "Wed, 08 Aug 2018 10:45:00 GMT"},
        b"<p>text</p>",
        **final_request.meta,
    )
    assert list(archive.parse(final)) == []
    (capture,) = plan.results
    assert capture.captured_at == datetime(2018, 8, 8, 10, 45, tzinfo=UTC) and capture.url == f"{URL}/new"
    assert capture.listed == REF and capture.hops == (kept,)
    assert capture.snapshot_url == f"{REPLAY}/20180808104500id_/{URL}/new"


def test_answers_without_memento_datetime_are_not_captures(tmp_path):
    archive, plan = spider(tmp_path)
    list(archive.parse(answer(FETCH.url, 200, {"Content-Type": "text/html"}, b"This URL has been excluded")))
    list(archive.parse(answer(FETCH.url, 404, {"Content-Type": "text/html"}, b"Hrm.")))
    list(archive.parse(answer(FETCH.url, 503, {"Content-Type": "text/html"}, b"Service Unavailable")))
    excluded, missing, failing = plan.results
    assert isinstance(excluded, FetchFailure) and excluded.refused and excluded.reason.startswith("not-archived")
    assert missing.refused and missing.reason.startswith("not-archived")
    assert isinstance(failing, FetchFailure) and not failing.refused, "an archive failure is retried later"


def test_an_unreadable_memento_datetime_is_said_as_sent_not_called_missing(tmp_path):
    """Outside audit 9: an answer whose Memento-Datetime cannot be read was refused "without a Memento-Datetime"."""
    archive, plan = spider(tmp_path)
    list(archive.parse(answer(FETCH.url, 200, {"Memento-Datetime": "garbage date"}, b"<p>text</p>")))
    list(archive.parse(answer(FETCH.url, 200, {}, b"<p>text</p>")))
    unreadable, absent = plan.results
    assert unreadable.refused and unreadable.reason == (
        "not-archived: the archive answered 200 with an unreadable Memento-Datetime ('garbage date')"
    )
    assert absent.reason == "not-archived: the archive answered 200 without a Memento-Datetime"


def test_an_archived_429_is_a_capture_with_its_status(tmp_path):
    archive, plan = spider(tmp_path)
    list(archive.parse(answer(FETCH.url, 429, {"Memento-Datetime": "Wed, 08 Aug 2018 09:41:44 GMT"}, b"slow down")))
    (capture,) = plan.results
    assert isinstance(capture, Capture) and capture.status == 429


def test_an_archived_redirect_as_the_site_sent_it_is_followed_inside_the_archive(tmp_path):
    """pywb's ``id_`` replay gives an archived redirect's Location as the site sent it (absolute or relative):
    the site's target is asked of the archive at the redirect's time, never of the live web."""
    archive, plan = spider(tmp_path)
    moved = {"Memento-Datetime": "Wed, 08 Aug 2018 09:41:44 GMT"}
    targets = {
        "https://www.example.com/legal/privacy": "https://www.example.com/legal/privacy",
        "/legal/privacy": "https://www.example.com/legal/privacy",
        "legal/privacy?lang=en": "https://www.example.com/legal/privacy?lang=en",
        "https://other.example/": "https://other.example/",
    }
    for location, site_target in targets.items():
        (follow,) = list(archive.parse(answer(FETCH.url, 301, {**moved, "Location": location})))
        assert follow.url == f"{REPLAY}/20180808094144id_/{site_target}", location
        (hop,) = follow.meta["hops"]
        assert (hop.status, hop.url, hop.captured_at) == (301, URL, T1)
    assert not plan.results


def test_a_redirect_out_of_the_archive_is_refused_with_its_hops(tmp_path):
    archive, plan = spider(tmp_path)
    # The archive's own redirect (no Memento-Datetime) may only lead to one of its captures.
    list(archive.parse(answer(FETCH.url, 302, {"Location": "https://evil.example/"})))
    # An archived redirect to something that is no web page cannot be asked of the archive.
    archived = {"Memento-Datetime": "Wed, 08 Aug 2018 09:41:44 GMT", "Location": "ftp://files.example/privacy"}
    list(archive.parse(answer(FETCH.url, 302, archived)))
    own, archived_away = plan.results
    assert own.refused and "leaves the archive ('https://evil.example/')" in own.reason and not own.hops
    assert archived_away.refused and "leaves the archive" in archived_away.reason and len(archived_away.hops) == 1


def test_the_archives_own_redirects_between_urls_naming_no_capture_are_bounded_not_called_a_loop(tmp_path):
    """URLs under the replay prefix that name no capture (no timestamp) have no URL key and time to compare: the
    archive's redirects between them are followed, and stopped by the bound on its redirects in a row."""
    archive, plan = spider(tmp_path)
    request = scrapy.Request(FETCH.url, meta={"fetch": FETCH})
    for n in range(1, 3):
        (request,) = list(archive.parse(answer(request.url, 302, {"Location": f"{REPLAY}/odd/{n}"}, **request.meta)))
        assert request.url == f"{REPLAY}/odd/{n}" and not plan.results
    assert list(archive.parse(answer(request.url, 302, {"Location": f"{REPLAY}/odd/3"}, **request.meta))) == []
    (refused,) = plan.results
    assert refused.refused and refused.reason.startswith("the archive kept redirecting: it redirected 3 times")


def test_the_longest_chain_both_bounds_allow_asks_for_as_many_replays_as_its_bound_and_is_followed(tmp_path):
    """Every capture of the longest chain followed (MAX_REDIRECTS archived redirects and the page they lead to),
    the listed one too, reached through MAX_ARCHIVE_REDIRECTS_IN_A_ROW of the archive's own redirects: exactly
    MAX_REPLAY_REQUESTS replay requests, none refused, the page handed over dated by its own Memento-Datetime."""
    archive, plan = spider(tmp_path)
    request, asked = scrapy.Request(FETCH.url, meta={"fetch": FETCH}), 1
    for move in range(MAX_REDIRECTS + 1):
        # The listed URL's own capture first (the archive skipping a self-redirect, say), then a new one each move.
        site_url, at = f"{URL}/v{move}" if move else URL, T1 + timedelta(minutes=move, seconds=10)
        for n in range(1, MAX_ARCHIVE_REDIRECTS_IN_A_ROW + 1):  # the last one to the capture at ``at``
            then = at if n == MAX_ARCHIVE_REDIRECTS_IN_A_ROW else at - timedelta(seconds=n)
            location = f"{REPLAY}/{format_wayback_timestamp(then)}id_/{site_url}"
            (request,) = archive.parse(answer(request.url, 302, {"Location": location}, **request.meta))
            asked += 1
        memento = {"Memento-Datetime": format_datetime(at, usegmt=True)}
        if move < MAX_REDIRECTS:
            location = f"{REPLAY}/{format_wayback_timestamp(at)}id_/{URL}/v{move + 1}"
            (request,) = archive.parse(answer(request.url, 301, {**memento, "Location": location}, **request.meta))
            asked += 1
        else:
            assert list(archive.parse(answer(request.url, 200, memento, b"<p>text</p>", **request.meta))) == []
    assert asked == MAX_REPLAY_REQUESTS == 18
    (capture,) = plan.results
    assert isinstance(capture, Capture), capture
    assert (capture.url, capture.captured_at) == (f"{URL}/v{MAX_REDIRECTS}", at)
    assert [hop.url for hop in capture.hops] == [URL] + [f"{URL}/v{move}" for move in range(1, MAX_REDIRECTS)]


MOVED_AT = {"Memento-Datetime": "Wed, 08 Aug 2018 09:41:44 GMT"}


def test_an_archived_redirect_whose_location_is_no_url_is_refused_with_its_hop(tmp_path):
    """Acceptance report 5, finding 4: an archived ``Location: http://[::1/x`` (urllib: "Invalid IPv6 URL") raised
    in the spider, so the document stopped as "interrupted" on every run. It is one capture refused, in words."""
    archive, plan = spider(tmp_path)
    assert list(archive.parse(answer(FETCH.url, 302, {**MOVED_AT, "Location": "http://[::1/x"}))) == []
    assert list(archive.parse(answer(FETCH.url, 302, {"Location": "http://[::1/x"}))) == []
    archived, own = plan.results
    assert isinstance(archived, FetchFailure) and archived.refused
    assert archived.reason == "the archived redirect's Location is not a URL: 'http://[::1/x' (Invalid IPv6 URL)"
    (hop,) = archived.hops
    assert (hop.status, hop.url, hop.header("Location")) == (302, URL, "http://[::1/x"), "kept as it was archived"
    assert own.refused and own.reason.startswith("the archive's redirect Location is not a URL: ") and not own.hops
    assert not holds_for_twins(archived.reason) and not holds_for_twins(own.reason), "a replay's, not the bytes'"


# Locations as a site may have sent them: any header byte but CR and LF (Scrapy hands them over decoded as
# latin-1), often after a prefix that steers urllib (an IPv6 bracket, a scheme, a scheme-relative or a path).
LOCATION_PREFIXES = ["", "http://", "https://", "http://[", "//", "/", "javascript:", "data:", "mailto:", "\\\\", "?"]
header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"), max_size=300)
locations = st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(LOCATION_PREFIXES), header_text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(location=locations, archived=st.booleans())
@example(location="http://[::1/x", archived=True)
@example(location="http://www.example.com:99999/privacy", archived=True)
@example(location="https://www.example.com/" + "a" * 10_000, archived=True)
@example(location="https://b\xc3\xbccher.example/datenschutz", archived=True)  # UTF-8 on the wire, read as latin-1
@example(location="\x00\x1b[31m/legal\tprivacy\x7f", archived=True)
@example(location="", archived=False)
@example(location=";\x80=0", archived=True)  # not ASCII, with a ';': warcio 1.8 alone fails to write it
def test_any_location_is_followed_inside_the_archive_or_refused_in_one_bounded_line(tmp_path, location, archived):
    """Whatever an archived (or the archive's own) redirect's Location holds, the spider never fails: it follows
    the redirect to one of the archive's capture URLs of a web page, or refuses that capture with a one-line reason
    of bounded length (the Location quoted, at most ``QUOTE_LIMIT`` characters of it); the archived hop is kept in
    the WARC with its Location as archived."""
    archive, plan = spider(tmp_path)
    headers = {**(MOVED_AT if archived else {}), "Location": location.encode("latin-1")}
    followed = list(archive.parse(answer(FETCH.url, 302, headers)))
    if followed:
        (request,) = followed
        assert not plan.results
        located = archive.source.locate(request.url)
        assert located is not None and located[1].split(":", 1)[0] in ("http", "https"), request.url
        hops = request.meta["hops"]
    else:
        (refused,) = plan.results
        assert isinstance(refused, FetchFailure) and refused.refused
        assert unsafe_character(refused.reason) is None and len(refused.reason) < 250, refused.reason
        hops = refused.hops
    assert len(hops) == (1 if archived else 0)
    if hops:
        store = CaptureStore(tmp_path / f"warcs-{uuid.uuid4().hex}", max_page_bytes=1_000_000)
        stored = store.write(hops[0])
        store.close()
        kept = dict(store.read(stored).headers)
        # Whitespace around a value is no part of it (RFC 9110, 5.5: no HTTP client hands it over). warcio writes a
        # value that is not ASCII percent-encoded (RFC 8187: its ``percent_encode_non_ascii_headers``, warcio 1.8).
        kept_location = kept["Location"]
        assert kept_location.strip() == location.strip() if location.isascii() else kept_location.isascii()


def test_a_capture_rendered_for_a_declared_fragment_is_opened_with_it_and_replayed_without_it():
    """A hash-routed page (``render = "always"``, the only way a URL keeps its fragment) shows the section its
    fragment names: the capture is replayed at its ``id_`` URL (no fragment: a server never sees one), and the
    rendering asks for the fragment of the URL declared at the capture's time, an earlier one's in its period."""
    from policy_archive.archive.catalog.rows import Outcome
    from policy_archive.pipeline.jobs.examine import Examination, rendering_request
    from policy_archive.records import DocumentDeclaration, HistoryEntry, Render, Source

    declaration = DocumentDeclaration(
        "example",
        "Example",
        "terms-of-service",
        f"{URL}#/rule/detail?id=7",
        history=(HistoryEntry(f"{URL}#legal3", T1.date(), render=Render.ALWAYS),),
        render=Render.ALWAYS,
    )
    extracted = Examination(Outcome.EXTRACTED)

    def capture(at: datetime, source: Source = Source.WAYBACK) -> Capture:
        fetched = f"{REPLAY}/{format_wayback_timestamp(at)}id_/{URL}" if source is Source.WAYBACK else URL
        ref = CaptureRef(URL, at, 200, "text/html", None) if source is Source.WAYBACK else None
        return Capture(declaration.key, source, URL, fetched, at, 200, "text/html", b"<p>", "", listed=ref)

    earlier = rendering_request(declaration, capture(T1), extracted)
    later = rendering_request(declaration, capture(T1 + timedelta(days=400)), extracted)
    assert earlier is not None and later is not None
    assert (earlier.url, earlier.fragment) == (f"{REPLAY}/20180808094144id_/{URL}", "#legal3")
    assert later.fragment == "#/rule/detail?id=7" and "#" not in later.url
    live = rendering_request(declaration, capture(T1 + timedelta(days=400), Source.LIVE), extracted)
    assert live is not None and live.fragment == "", "a live page is opened at its own URL"


def test_the_browser_opens_a_capture_at_its_original_url_with_the_fragment_asked(tmp_path):
    from policy_archive.crawler.rendered_downloads import ArchiveDownloads, Turns

    archive, _ = spider(tmp_path)
    archive._page_downloads = ArchiveDownloads(None, None, 0, Turns(1))  # type: ignore[arg-type]
    rendered = FetchRequest(FETCH.document, FETCH.url, URL, REF, render=True, fragment="#legal3")
    opened, rendering = archive.rendering(rendered)
    assert opened == f"{URL}#legal3", "the page's scripts read location.hash"
    assert rendering.archive is not None and rendering.archive.archive_url == FETCH.url, "replayed without it"
    assert archive.rendering(FETCH)[0] == URL, "no fragment asked, none given"
