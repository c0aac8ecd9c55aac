"""The route of a page rendered from an archive, on its own: every request is answered from the archive or
aborted, never sent to the live web, and what one rendering takes is bounded by ``max_page_bytes`` (no browser
needed: Playwright's route and request, and the archive crawl's downloads, are stood in for)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.http import Response

from policy_archive.config.settings import Settings, WaybackSettings
from policy_archive.crawler.failures import AnswerTooLarge
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.rendered_downloads import ArchiveDownloads, Turns, rendered_concurrency
from policy_archive.crawler.rendering_bytes import AnswersTaken
from policy_archive.crawler.routes import ArchiveRoute, LiveRoute
from policy_archive.crawler.settings import ARCHIVE_CONCURRENCY, scrapy_settings
from policy_archive.crawler.sources import archive_source

REPLAY = "http://archive.test/web"
PAGE = "https://spa.example/privacy"
CAPTURE = f"{REPLAY}/20200101000000id_/{PAGE}"
MEMENTO = {"memento-datetime": "Wed, 01 Jan 2020 00:00:07 GMT"}


@dataclass
class Answer:
    """An answer of the archive crawl, as ``ArchiveDownloads.download`` gives it (a Scrapy response)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"answer"

    def response(self, url: str) -> Response:
        return Response(url, status=self.status, headers=self.headers, body=self.body)


@dataclass
class Frame:
    parent_frame: Frame | None = None


@dataclass
class PageRequest:
    url: str
    resource_type: str = "script"
    navigation: bool = False
    frame: Frame = field(default_factory=Frame)
    headers: dict[str, str] = field(default_factory=lambda: {"accept": "*/*", "user-agent": "HeadlessChrome"})
    method: str = "GET"
    post_data_buffer: bytes | None = None

    def is_navigation_request(self) -> bool:
        return self.navigation


@dataclass
class Downloads:
    """The archive crawl, stood in for: answers from ``answers`` (URL → Answer, or an exception to raise), and
    remembers what was asked, with which headers."""

    answers: dict[str, Answer | Exception]
    max_bytes: int = 0
    asked: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @asynccontextmanager
    async def turn(self, tab: asyncio.Event, deadline: float) -> AsyncIterator[None]:
        yield

    async def download(self, url: str, timeout_seconds: float, tab: asyncio.Event, headers: dict[str, str]) -> Response:
        assert timeout_seconds > 0 and not tab.is_set()
        self.asked.append((url, headers))
        answer = self.answers.get(url, Answer(404, MEMENTO))
        if isinstance(answer, Exception):
            raise answer
        return answer.response(url)

    def close_tab(self, tab: asyncio.Event) -> None:
        tab.set()


@dataclass
class Route:
    """Remembers how the route ended a request."""

    outcome: str | None = None

    async def fulfill(self, *, status: int, headers: dict[str, str], body: bytes) -> None:
        self.outcome = f"fulfilled {status}"

    async def abort(self) -> None:
        self.outcome = "aborted"


@pytest.fixture
def archive_route(tmp_path: Path) -> ArchiveRoute:
    limiter = RateLimiter(tmp_path / "limits.sqlite3", "archive.test", "replay", 1e9, 0)
    source = archive_source(WaybackSettings(cdx_url="http://archive.test/cdx", replay_url=REPLAY))
    downloads = Downloads({}, max_bytes=1000)
    return ArchiveRoute(CAPTURE, source, datetime(2020, 1, 1, tzinfo=UTC), limiter, downloads)  # type: ignore[arg-type]


def ask(route: ArchiveRoute, request: PageRequest, answers: dict[str, Answer | Exception]) -> tuple[Route, list[str]]:
    """How ``route`` ended ``request``, and the URLs it asked the archive crawl for."""
    handle = Route()
    downloads: Downloads = route.downloads  # type: ignore[assignment]
    downloads.answers, downloads.asked = answers, []

    async def asking() -> None:
        route.open_tab(asyncio.get_running_loop().time() + 60)
        await route(handle, request)  # type: ignore[arg-type]

    asyncio.run(asking())
    return handle, [url for url, _ in downloads.asked]


def test_the_page_and_its_resources_come_from_the_archive_at_the_capture_time(archive_route: ArchiveRoute):
    page, asked = ask(archive_route, PageRequest(PAGE, "document", navigation=True), {CAPTURE: Answer(200, MEMENTO)})
    assert asked == [CAPTURE] and page.outcome == "fulfilled 200"
    assert archive_route.navigation_url == CAPTURE
    downloads: Downloads = archive_route.downloads  # type: ignore[assignment]
    assert "user-agent" not in downloads.asked[0][1], "sent with the crawl's user agent, not the browser's"

    script = "https://cdn.example/app.js"
    nearest = f"{REPLAY}/20191230000000id_/{script}"
    answers: dict[str, Answer | Exception] = {
        f"{REPLAY}/20200101000000id_/{script}": Answer(302, {"location": nearest}),  # the nearest capture
        nearest: Answer(200, MEMENTO),
    }
    resource, asked = ask(archive_route, PageRequest(script), answers)
    assert asked == [f"{REPLAY}/20200101000000id_/{script}", nearest]
    assert resource.outcome == "fulfilled 200"


def test_nothing_leaves_the_archive(archive_route: ArchiveRoute):
    escape = f"{REPLAY}/20200101000000id_/https://api.example/data.json"
    leaving, asked = ask(
        archive_route,
        PageRequest("https://api.example/data.json", "fetch"),
        {escape: Answer(302, {"location": "https://api.example/live"})},
    )
    assert leaving.outcome == "aborted" and len(asked) == 1, "a redirect out of the archive is not followed"

    image, asked = ask(archive_route, PageRequest("https://spa.example/logo.png", "image"), {})
    assert image.outcome == "aborted" and asked == [], "images are never downloaded"


def test_an_archived_redirect_is_followed_inside_the_archive_as_the_site_sent_it(archive_route: ArchiveRoute):
    """pywb replays an archived redirect's Location as the site sent it (relative here): followed inside the
    archive, at the redirect's own time; an archive's own redirect out of it is still blocked (above)."""
    script = "https://spa.example/app.js"
    first = f"{REPLAY}/20200101000000id_/{script}"
    moved = f"{REPLAY}/20200101000007id_/https://spa.example/v2/app.js"
    answers: dict[str, Answer | Exception] = {
        first: Answer(301, {**MEMENTO, "location": "/v2/app.js"}),
        moved: Answer(200, MEMENTO),
    }
    resource, asked = ask(archive_route, PageRequest(script), answers)
    assert asked == [first, moved] and resource.outcome == "fulfilled 200"


def test_an_archive_refusal_fails_the_rendering_and_stops_its_requests(archive_route: ArchiveRoute):
    refused, _ = ask(archive_route, PageRequest("https://spa.example/app.js"), {})
    assert refused.outcome == "fulfilled 404", "a resource the archive does not hold is answered as the archive did"
    busy = f"{REPLAY}/20200101000000id_/https://spa.example/data.json"
    limited, _ = ask(archive_route, PageRequest("https://spa.example/data.json", "fetch"), {busy: Answer(429)})
    assert limited.outcome == "aborted"
    assert archive_route.refusal == "the archive answered 429 to a request of the page"
    after, asked = ask(archive_route, PageRequest("https://spa.example/more.js"), {})
    assert after.outcome == "aborted" and asked == [], "nothing more is asked of a refusing archive"


def test_the_answers_a_rendering_takes_are_bounded_by_max_page_bytes_in_all(archive_route: ArchiveRoute):
    """Each answer within the limit (1,000 bytes here), the page's answers together over it: the rendering ends,
    not taken, and nothing more is asked."""
    part = Answer(200, MEMENTO, body=b"x" * 400)
    for number in (1, 2):
        url = f"https://spa.example/part{number}.js"
        taken, _ = ask(archive_route, PageRequest(url), {f"{REPLAY}/20200101000000id_/{url}": part})
        assert taken.outcome == "fulfilled 200"
    third = "https://spa.example/part3.js"
    over, _ = ask(archive_route, PageRequest(third), {f"{REPLAY}/20200101000000id_/{third}": part})
    assert over.outcome == "aborted" and archive_route.answers.ended.is_set()
    assert archive_route.answers.too_large == (
        "the answer is too large: the answers to the page's requests came to 1,200 bytes in all, over the limit of"
        " 1,000 bytes (setting [crawl] max_page_bytes: raise it to render this page)"
    )
    after, asked = ask(archive_route, PageRequest("https://spa.example/more.js"), {})
    assert after.outcome == "aborted" and asked == [], "nothing more is asked once the rendering cannot be taken"


def test_an_answer_over_max_page_bytes_ends_the_rendering_in_its_words(archive_route: ArchiveRoute):
    url = "https://spa.example/endless.js"
    capture = f"{REPLAY}/20200101000000id_/{url}"
    cut, _ = ask(archive_route, PageRequest(url), {capture: AnswerTooLarge(1_016, 1_000)})
    assert cut.outcome == "aborted" and archive_route.answers.ended.is_set()
    assert archive_route.answers.too_large == (
        "the answer is too large: 1,016 bytes received, over the limit of 1,000 bytes (setting [crawl]"
        f" max_page_bytes: raise it to fetch this answer), for the page's request of '{capture}'"
    )


def test_a_request_that_fails_otherwise_leaves_the_page_without_it(archive_route: ArchiveRoute):
    url = "https://spa.example/slow.js"
    failed, _ = ask(archive_route, PageRequest(url), {f"{REPLAY}/20200101000000id_/{url}": TimeoutError("late")})
    assert failed.outcome == "aborted"
    assert (
        not archive_route.answers.ended.is_set()
        and archive_route.answers.too_large is None
        and archive_route.refusal is None
    )


class HeldCrawl:
    """The archive crawl's downloads, stood in for: each download waits until the test answers it, so what is on the
    wire, and in which order it was sent, is read between answers (no timing)."""

    def __init__(self, answers: dict[str, Answer]):
        self.answers = answers
        self.sent: list[str] = []
        self.on_the_wire: dict[str, asyncio.Future[None]] = {}
        self.changed = asyncio.Event()

    async def download(self, url: str, timeout_seconds: float, tab: asyncio.Event, headers: dict[str, str]) -> Response:
        assert timeout_seconds > 0
        self.sent.append(url)
        held = self.on_the_wire[url] = asyncio.get_running_loop().create_future()
        self.changed.set()
        await held
        answer = self.answers.get(url, Answer(200, MEMENTO))
        return answer.response(url)

    def close_tab(self, tab: asyncio.Event) -> None:
        tab.set()

    async def answer_next(self, in_flight: int) -> None:
        """Once ``in_flight`` downloads are on the wire, answer the one sent first."""
        while len(self.on_the_wire) < in_flight:
            self.changed.clear()
            await self.changed.wait()
        url = next(iter(self.on_the_wire))
        self.on_the_wire.pop(url).set_result(None)


class Undecoded:
    """Scrapy's decoding, stood in for: the answers are not encoded."""

    def process_response(self, request: object, response: Response) -> Response:
        return response


@pytest.mark.parametrize("bound", [1, 2])
def test_a_started_request_and_the_earliest_tab_go_first_when_the_archive_is_busy(tmp_path: Path, bound: int):
    """Scrapy's download slot sent its queue first come, first served: the second hop of an archived redirect (the
    archive's 302 to the memento) joined the back of it, and with two tabs asking many scripts at once no request
    had its second hop before the tabs' time was up (audit 2026-11-29). Now the tab whose time runs out first goes
    first and a redirect's next hop keeps its request's place: with one or two requests in flight, every page
    request of the first tab is answered before any of the second's is sent, and each of its hops before the
    next request's first."""
    limiter = RateLimiter(tmp_path / "limits.sqlite3", "archive.test", "replay", 1e9, 0)
    source = archive_source(WaybackSettings(cdx_url="http://archive.test/cdx", replay_url=REPLAY))
    first_scripts = [f"https://spa.example/s{n}.js" for n in range(4)]
    second_scripts = [f"https://spa.example/t{n}.js" for n in range(4)]
    # The archive redirects every capture URL to its memento, as the Wayback Machine does.
    answers = {hop(script, 1): Answer(302, {"location": hop(script, 2)}) for script in first_scripts + second_scripts}
    crawl = HeldCrawl(answers)
    downloads = ArchiveDownloads(crawl, Undecoded(), 0, Turns(bound))  # type: ignore[arg-type]
    timestamp = datetime(2020, 1, 1, tzinfo=UTC)
    hops = 2 * (len(first_scripts) + len(second_scripts))

    async def rendering() -> list[Route]:
        first = ArchiveRoute(CAPTURE, source, timestamp, limiter, downloads)
        second = ArchiveRoute(CAPTURE, source, timestamp, limiter, downloads)
        now = asyncio.get_running_loop().time()
        first.open_tab(now + 3600)
        second.open_tab(now + 3601)  # opened later: its time runs out later
        handles = [Route() for _ in range(len(first_scripts) + len(second_scripts))]
        # Asked interleaved, the second tab's first (as a page already waiting would).
        pairs = zip(second_scripts, first_scripts, strict=True)
        requests = [(tab, script) for pair in pairs for tab, script in zip((second, first), pair, strict=True)]
        asked = [
            asyncio.ensure_future(tab(handle, PageRequest(script)))  # type: ignore[arg-type]
            for (tab, script), handle in zip(requests, handles, strict=True)
        ]
        for answered in range(hops):
            await crawl.answer_next(min(bound, hops - answered))
        await asyncio.gather(*asked)
        return handles

    handles = asyncio.run(rendering())
    assert {handle.outcome for handle in handles} == {"fulfilled 200"}
    assert sorted(crawl.sent) == sorted(hop(script, n) for script in first_scripts + second_scripts for n in (1, 2))

    # The second tab's first request took the archive while it was free, and is finished; then the first tab's.
    started = [url for url in crawl.sent if "0000id_" in url]  # the first hops: the order requests started in
    assert started == [hop(script, 1) for script in second_scripts[:1] + first_scripts + second_scripts[1:]]
    first_tabs = [url for url in crawl.sent if "example/s" in url]
    for n, script in enumerate(first_scripts[:-bound]):  # a redirect's next hop before later requests' first
        assert first_tabs.index(hop(script, 2)) < first_tabs.index(hop(first_scripts[n + bound], 1))
    if bound == 1:
        assert crawl.sent == [
            *(hop(second_scripts[0], n) for n in (1, 2)),
            *(hop(script, n) for script in first_scripts for n in (1, 2)),
            *(hop(script, n) for script in second_scripts[1:] for n in (1, 2)),
        ]


def hop(script: str, n: int) -> str:
    """The archive URL of ``script``'s first hop (the capture URL) or second (the memento it redirects to)."""
    return f"{REPLAY}/2020010100000{0 if n == 1 else 9}id_/{script}"


@dataclass
class LiveCrawl:
    """The live crawl, stood in for: answers by URL, remembers what was asked."""

    answers: dict[str, Response | Exception]
    robots: None = None
    asked: list[str] = field(default_factory=list)

    async def download(self, url: str, timeout_seconds: float, tab: asyncio.Event, **request: object) -> Response:
        self.asked.append(url)
        answer = self.answers.get(url, Response(url, status=404))
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close_tab(self, tab: asyncio.Event) -> None:
        tab.set()


def test_a_live_pages_request_redirected_to_an_international_host_goes_where_browsers_go():
    """A script of a live page redirected to ``straße.example`` (the Location's UTF-8 bytes) is asked of
    ``xn--strae-oqa.example`` (IDNA 2008), not of ``strasse.example`` (w3lib's IDNA 2003); one redirected to a host
    that cannot be sent is not followed."""
    script = "http://cdn.example/app.js"
    moved = Response(script, status=302, headers={"Location": "http://straße.example/app.js".encode()})
    unusable = "http://cdn.example/bad.js"
    bad = Response(unusable, status=302, headers={"Location": "http://a..ü.example/app.js".encode()})
    crawl = LiveCrawl({script: moved, unusable: bad})

    assert _asked_live(crawl, AnswersTaken(0), script).outcome == "fulfilled 404"
    assert crawl.asked == [script, "http://xn--strae-oqa.example/app.js"]
    crawl.asked.clear()
    assert _asked_live(crawl, AnswersTaken(0), unusable).outcome == "aborted" and crawl.asked == [unusable]


def test_the_answers_a_live_rendering_takes_are_bounded_by_max_page_bytes_in_all():
    """As a rendering from the archive's (the same :class:`AnswersTaken`): each answer of a live page within the
    limit, its answers together over it end the rendering, not taken, and nothing more is asked, in any tab."""
    parts = {
        f"http://cdn.example/part{n}.js": Response(f"http://cdn.example/part{n}.js", body=b"x" * 400) for n in (1, 2, 3)
    }
    crawl = LiveCrawl(dict(parts))
    answers = AnswersTaken(1000)

    assert [_asked_live(crawl, answers, url).outcome for url in parts] == ["fulfilled 200", "fulfilled 200", "aborted"]
    assert answers.ended.is_set() and answers.too_large == (
        "the answer is too large: the answers to the page's requests came to 1,200 bytes in all, over the limit of"
        " 1,000 bytes (setting [crawl] max_page_bytes: raise it to render this page)"
    )
    crawl.asked.clear()
    assert _asked_live(crawl, answers, "http://cdn.example/more.js").outcome == "aborted" and crawl.asked == []


@pytest.mark.parametrize(("per_minute", "in_flight"), [(480, 8), (60000, 64), (600, 10), (math.inf, 64)])
def test_rendered_pages_requests_in_flight_follow_the_replay_rate(tmp_path: Path, per_minute: float, in_flight: int):
    """One second's worth of the replay rate allowed, from the crawl's own 8 to 64: at 8 in flight an archive
    answering in a second gave rendered pages 8 answers a second where 1,000 were allowed (audit 2026-11-29). The
    download slot has the same concurrency, so it never queues (the order is ``Turns``')."""
    settings = Settings(tmp_path, wayback=WaybackSettings(replay_url=REPLAY, replay_per_minute=per_minute))
    slots = scrapy_settings(settings, live=False)["DOWNLOAD_SLOTS"]
    assert slots == {"archive.test (rendered pages' requests)": {"concurrency": in_flight}}
    assert rendered_concurrency(per_minute, ARCHIVE_CONCURRENCY) == in_flight


def test_a_live_answer_over_max_page_bytes_ends_the_rendering_as_an_archive_ones_does():
    """One answer of a live page over the limit alone (announced, or cut while streaming) ends the rendering, not
    taken, in its words, and nothing more is asked, as for a page rendered from an archive. Until 2026-11-29 the
    page went on without it: its bytes, read up to the limit, were never counted in the total, so a page asking
    for many such answers had the crawl read ``max_page_bytes`` for each. Any other failure still only leaves the
    page without that answer."""
    endless, slow = "http://cdn.example/endless.js", "http://cdn.example/slow.js"
    crawl = LiveCrawl({endless: AnswerTooLarge(1_016, 1_000), slow: TimeoutError("late")})
    answers = AnswersTaken(1000)

    assert _asked_live(crawl, answers, slow).outcome == "aborted"
    assert not answers.ended.is_set() and answers.too_large is None
    assert _asked_live(crawl, answers, endless).outcome == "aborted"
    assert answers.ended.is_set() and answers.too_large == (
        "the answer is too large: 1,016 bytes received, over the limit of 1,000 bytes (setting [crawl]"
        f" max_page_bytes: raise it to fetch this answer), for the page's request of '{endless}'"
    )
    crawl.asked.clear()
    assert _asked_live(crawl, answers, "http://cdn.example/more.js").outcome == "aborted" and crawl.asked == []


def _asked_live(crawl: LiveCrawl, answers: AnswersTaken, url: str) -> Route:
    """The route handle once a live page's route (its answers bounded by ``answers``) was asked for ``url``."""

    async def asking() -> Route:
        deadline = asyncio.get_running_loop().time() + 60
        live = LiveRoute(crawl, 60, {}, [], deadline, answers)  # type: ignore[arg-type]
        handle = Route()
        await live(handle, PageRequest(url))  # type: ignore[arg-type]
        return handle

    return asyncio.run(asking())
