"""Where the requests of a page rendered in Chromium go: through the crawl (a live page), or to the archive only.

Chromium never fetches anything itself: every request of a rendered page is asked of a Playwright route, which
answers it with ``route.fulfill`` or refuses it with ``route.abort``.

- A live page's requests (:class:`LiveRoute`) — its own navigation, its scripts, data and frames, each of their
  redirect hops — are downloaded by the crawl itself (Scrapy's engine, as the robots.txt middleware downloads a
  robots.txt): the same internal-address check, user agent, size limit, proxy and per-site download slots as a
  plain fetch, and the connection is made by Scrapy's, whose resolver (``GuardedResolver``) drops internal
  addresses from every resolution. A name answering a public address to the check and an internal one to the
  connection (DNS rebinding) therefore connects nowhere: Playwright's own ``route.fetch``, used before, connected
  from Playwright's Node.js driver, which resolved the name again for itself (issue 11; decision 0012).
- A page rendered from a web archive (:class:`ArchiveRoute`) reaches nothing but the archive: every request is
  answered from the capture's own time in the archive, downloaded by the archive crawl (:class:`ArchiveDownloads`:
  its rate limiter, ``max_page_bytes``).

Either way the answers one rendering hands its page are bounded by ``max_page_bytes`` in all (:class:`AnswersTaken`),
as each answer is by the crawl.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadTimeoutError

from policy_archive.crawler.addresses import PrivateAddressRefused
from policy_archive.crawler.failures import (
    TOO_LARGE,
    UnusableLocation,
    described,
    message,
    plain_reason,
    rendering_too_large,
)
from policy_archive.crawler.middlewares import RobotsRule, redirect_target
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.sources.base import parse_memento_datetime
from policy_archive.crawler.stopping import PAGE_TAB, TabClosed, close_tab
from policy_archive.records import DEFAULT_PORTS
from policy_archive.text import quoted

if TYPE_CHECKING:
    from playwright.async_api import Request, Route
    from scrapy.http import Response

log = logging.getLogger(__name__)

# Never needed for the text: a DOM is extracted, not a layout (scripts still run without the stylesheets).
NOT_DOWNLOADED = frozenset({"image", "font", "media", "stylesheet"})
MAX_REDIRECTS = 10  # of one request a live page makes (Scrapy's REDIRECT_MAX_TIMES is 20; a page's script needs few)
MAX_ARCHIVE_HOPS = 5
# Set by the crawl on what it sends (Scrapy's user agent, what Scrapy decodes), never the browser's values; and the
# proxy's credentials, which the crawl adds itself to a request for the proxy only.
CRAWL_HEADERS = frozenset({"user-agent", "accept-encoding", "proxy-authorization"})
# What the crawl's answer no longer has as the server sent it: the body is whole and decoded.
NOT_FULFILLED = frozenset({b"content-length", b"transfer-encoding"})


@dataclass
class AnswersTaken:
    """The answers one rendering hands its page, archive or live, over all its tabs: each one's bytes counted, and
    past ``limit`` (``max_page_bytes``; 0: none) in all the rendering ends, not taken (:attr:`too_large`, a reason
    naming the setting) and its settling stops at once (:attr:`ended`). Each answer was held to the same limit by
    the crawl; a page's many answers were not, until 2026-11-29 (a live page's scripts could stream 20 MiB each)."""

    limit: int
    received: int = 0  # the bytes of the answers handed to the page
    too_large: str | None = None  # why the rendering is not taken: an answer, or all of them, over max_page_bytes
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # set once it cannot be taken

    def take(self, size: int) -> bool:
        """Whether an answer of ``size`` bytes may be handed to the page: not once the rendering has ended, nor when
        it brings the answers past the limit (the rendering ends then, :func:`rendering_too_large`'s words)."""
        if self.ended.is_set():
            return False
        self.received += size
        if not self.limit or self.received <= self.limit:
            return True
        self.end(rendering_too_large(self.received, self.limit))
        return False

    def end(self, too_large: str | None = None) -> None:
        """The rendering cannot be taken (``too_large``: why, when it is too large): nothing more is handed."""
        if too_large is not None and self.too_large is None:
            self.too_large = too_large
        self.ended.set()


# The most archive requests of rendered pages in flight at once, however fast the rate allowed (Turns).
MAX_RENDERED_CONCURRENCY = 64


def rendered_requests_slot(url: str) -> str:
    """The download slot of rendered pages' requests to ``url``'s host (CrawlDownloads)."""
    return f"{urlsplit(url).hostname or ''} (rendered pages' requests)"


def rendered_concurrency(per_minute: float, least: int) -> int:
    """How many archive requests of rendered pages may be in flight at ``per_minute`` (the replay rate allowed):
    one second's worth of that rate, at least ``least`` (the crawl's own, ARCHIVE_CONCURRENCY), at most
    :data:`MAX_RENDERED_CONCURRENCY`. A rendered page asks all its scripts at once and each archived one takes two
    requests (the archive's 302, then the memento): at 8 in flight an archive answering in 1 s gave two tabs 8
    answers a second where the user had allowed 1,000, and neither finished (audit 2026-11-29). The rate limiter
    still spaces every request; this bound only binds when answers take over a second, an archive slowing down."""
    return max(least, min(MAX_RENDERED_CONCURRENCY, math.ceil(min(per_minute, 60 * MAX_RENDERED_CONCURRENCY) / 60)))


@dataclass(frozen=True)
class CrawlDownloads:
    """The live crawl, downloading the requests of its rendered pages: one per crawl, shared by every tab.

    Each request is a Scrapy request through the downloader middlewares (internal addresses, user agent, proxy,
    ``max_page_bytes``) in a download slot of its own per site: the page's own site's slot is held by the
    rendering itself, and a page's request waiting for the slot of a site being rendered (which waits for its
    own page's requests in turn) would stall both. With ``CONCURRENT_REQUESTS_PER_DOMAIN = 1`` a slot sends one
    request at a time, over every tab, and AutoThrottle spaces them by their own latencies. A tab's requests end
    with it (:meth:`close_tab`): a page polling the network does not leave its polls queued in the slot."""

    crawler: Any
    robots: RobotsRule | None  # the crawl's robots.txt rules; None when robots.txt is not obeyed

    async def download(self, url: str, timeout_seconds: float, tab: asyncio.Event, **request: Any) -> Response:
        """The crawl's answer to ``url`` (redirects not followed, no retry), or the download's error; failed
        (:class:`~policy_archive.crawler.stopping.TabClosed`) once ``tab`` is closed."""
        meta = {
            "download_slot": rendered_requests_slot(url),
            # Never 0, which Scrapy's HTTP handler reads as "none given" (its default, DOWNLOAD_TIMEOUT, instead).
            "download_timeout": max(timeout_seconds, 0.01),
            "dont_redirect": True,  # each hop is checked by the route (robots.txt) and by the crawl (addresses)
            "dont_retry": True,  # a browser does not retry either; the page's time is bounded
            "retried_after": True,  # nor waits for a Retry-After (RetryAfterMiddleware)
            "dont_obey_robotstxt": True,  # asked by the route itself, within the page's time (LiveRoute)
            PAGE_TAB: tab,  # not sent, or cancelled on the wire, once the tab is closed
        }
        return await self.crawler.engine.download_async(scrapy.Request(url, dont_filter=True, meta=meta, **request))

    def close_tab(self, tab: asyncio.Event) -> None:
        """``tab`` closed: its requests still waiting fail, the one on the wire is cancelled."""
        close_tab(self.crawler, tab)

    @property
    def max_bytes(self) -> int:
        """``max_page_bytes`` (Scrapy's DOWNLOAD_MAXSIZE): each answer's limit, and a rendering's in all."""
        return self.crawler.settings.getint("DOWNLOAD_MAXSIZE")  # type: ignore[no-any-return]


@dataclass
class LiveRoute:
    """The route of one tab of a live page: every request downloaded by the crawl, each redirect hop checked.

    The page's own navigation is fetched without following a redirect: Chromium follows a navigation's redirect
    unasked, even the Location of an answer the route fulfils (checked with Playwright 1.65.2 and Debian's
    Chromium, 2026-11-27). A redirect is answered without its Location, so the browser stays, and is kept in
    :attr:`redirect` for ``NavigationRedirectMiddleware`` to hand to Scrapy. Every other request (scripts, data,
    frames, a navigation a script starts later) follows its redirects here, each hop held to the same rules.

    Every request is bounded by the tab's ``deadline`` (the rendering's wait, counted from the tab's opening), and
    ends with the tab (:attr:`tab`, set when it closes). Every answer handed to the page is counted in the
    rendering's :class:`AnswersTaken`: past ``max_page_bytes`` in all the rendering ends, not taken, and so does it
    on an answer over the limit alone, as an archive rendering's (until 2026-11-29 the page went on without it)."""

    crawl: CrawlDownloads
    timeout_seconds: float
    navigation_headers: dict[str, str]  # the render request's, as Scrapy sent them
    not_requested: list[str]  # the page's requests robots.txt disallows (the rendering's list)
    deadline: float  # the event loop's time when the tab's wait is over
    answers: AnswersTaken  # the rendering's, over its tabs
    redirect: str | None = None
    navigation_error: str | None = None  # why the page's navigation could not be fetched
    navigation_type: str | None = None  # the Content-Type its answer came with (a browser downloads some)
    tab: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # set when the tab closes
    _navigated: bool = field(default=False, repr=False)  # the tab's first navigation was asked of the route

    def close(self, *_page: object) -> None:
        """The tab closed (its time up, or the run stopped): what it asked for and was not answered ends here."""
        if not self.tab.is_set():
            self.crawl.close_tab(self.tab)

    def remaining_seconds(self) -> float:
        """What is left of the tab's wait (0: its time is up)."""
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    async def __call__(self, route: Route, request: Request) -> None:
        from playwright.async_api import Error

        try:
            if self.tab.is_set() or self.remaining_seconds() == 0 or self.answers.ended.is_set():
                await route.abort()  # asked for after the tab's time, or once the rendering is not taken: never sent
            elif request.resource_type in NOT_DOWNLOADED or not await self._robots_allow(request.url):
                await route.abort()
            elif is_page_navigation(request) and not self._navigated:
                self._navigated = True
                await self._navigate(route, request)
            else:
                await self._fetch_following_redirects(route, request)
        except Error as error:  # the tab closed under the request (its time is up, or the run stopping)
            log.info("rendering: %s not answered: %s", request.url, message(error))

    async def _navigate(self, route: Route, request: Request) -> None:
        try:
            response = await self.crawl.download(
                request.url, self.remaining_seconds(), self.tab, headers=self.navigation_headers
            )
        except Exception as error:  # noqa: BLE001 -- whatever failed the download, the user reads why in one line
            self.navigation_error = self._reason(error)
            await route.abort()
            return
        if not self.answers.take(len(response.body)):
            await route.abort()
            return
        location = _location(response)
        if location is not None:
            self.redirect = location
        if content_type := response.headers.get(b"Content-Type"):
            self.navigation_type = content_type.decode("latin-1")
        await route.fulfill(**_fulfilment(response, without=b"location" if location else None))

    async def _fetch_following_redirects(self, route: Route, request: Request) -> None:
        """Chromium follows a redirect without asking the route again, and does not follow a 3xx the route
        fulfils (both checked with Playwright 1.65.2 and Debian's Chromium, 2026-11-27): left to the browser, a
        public script redirecting to 169.254.169.254 would be fetched. The page gets the last answer, at the URL
        it asked for."""
        headers = {name: value for name, value in request.headers.items() if name.lower() not in CRAWL_HEADERS}
        target = request.url
        for _ in range(MAX_REDIRECTS):
            if self.remaining_seconds() == 0:
                break  # the tab's time is up: the redirect's next hop is not asked for
            try:
                response = await self.crawl.download(
                    target,
                    self.remaining_seconds(),
                    self.tab,
                    method=request.method,
                    headers=headers,
                    body=request.post_data_buffer,
                )
            except Exception as error:  # noqa: BLE001 -- refused or failed: the page goes on without it, or ends
                reason = self._reason(error)
                if reason.startswith(TOO_LARGE):
                    # Over max_page_bytes alone (announced, cut while streaming, or decoded past it): the rendering
                    # ends, not taken, as an archive rendering's does (ArchiveRoute._not_answered). Its bytes, read
                    # up to the limit, were never counted in the total: a page asking for many such answers had
                    # the crawl read max_page_bytes for each within its wait (decision 0012, amendment 2026-11-29).
                    self.answers.end(f"{reason}, for the page's request of {quoted(target)}")
                else:
                    level = logging.WARNING if isinstance(error, PrivateAddressRefused) else logging.INFO
                    log.log(level, "rendering: request of the page not fetched: %s: %s", target, reason)
                await route.abort()
                return
            location = _location(response)
            if location is None:
                if self.answers.take(len(response.body)):
                    await route.fulfill(**_fulfilment(response))
                else:
                    await route.abort()
                return
            try:  # read as a plain fetch's redirect: a non-ASCII host in its IDNA 2008 form, as browsers send it
                target = redirect_target(target, location.encode("latin-1"))
            except UnusableLocation as error:
                log.info("rendering: redirect of the page's request not followed: %s: %s", target, error)
                await route.abort()
                return
            if not await self._robots_allow(target):
                await route.abort()
                return
        else:
            log.warning("rendering: %s not requested: more than %d redirects", request.url, MAX_REDIRECTS)
        await route.abort()

    async def _robots_allow(self, url: str) -> bool:
        """Whether robots.txt lets the page's request to ``url`` go. A robots.txt still unknown when the page's
        time is up (its origin's download slot busy until then) counts as a no: the page is taken without it."""
        if self.crawl.robots is None or urlsplit(url).scheme not in DEFAULT_PORTS:
            return True  # robots.txt not obeyed; data:, blob: and the like stay inside the browser
        try:
            allowed = await asyncio.wait_for(self.crawl.robots(url), self.remaining_seconds())
        except TimeoutError:
            log.warning("rendering: robots.txt for %s not known in time: taken as disallowing it", url)
            allowed = False
        else:
            if not allowed:
                log.warning("rendering: %s not requested: the site's robots.txt disallows it", url)
        if not allowed:
            self.not_requested.append(url)
        return allowed

    def _reason(self, error: Exception) -> str:
        """The download's failure in the words of a plain fetch's, its timeout being the rendering's."""
        if isinstance(error, DownloadTimeoutError):
            return (
                f"timeout: no complete answer within {self.timeout_seconds:g} seconds "
                "(setting [crawl] render_timeout_seconds)"
            )
        if isinstance(error, PrivateAddressRefused):
            return str(error)
        return described(error)


def _location(response: Response) -> str | None:
    """Where a redirect leads, or None for any other answer."""
    location = response.headers.get(b"Location")
    return location.decode("latin-1") if 300 <= response.status < 400 and location else None


def _fulfilment(response: Response, without: bytes | None = None) -> dict[str, Any]:
    """``route.fulfill``'s arguments for the crawl's answer: its status, headers and (decoded, whole) body."""
    headers = {
        name.decode("latin-1"): ", ".join(value.decode("latin-1") for value in values)
        for name, values in response.headers.items()
        if name.lower() not in NOT_FULFILLED and name.lower() != without
    }
    return {"status": response.status, "headers": headers, "body": response.body}


class Turns:
    """At most ``bound`` archive requests of rendered pages in flight, the others waiting in order of their place.

    Scrapy's download slot sends its queue first come, first served (Scrapy 2.19: a deque, no priority): a
    redirect's next hop (the archive's 302 to the memento) joined the back of it, behind every first hop the
    pages asked meanwhile, and two tabs asking some 70 scripts each with 8 in flight had every request half done
    when their time was up (audit 2026-11-29: no version recorded at ``replay_per_minute = 60000`` with an
    archive answering in 1 s, where ``route.fetch``, unbounded, had recorded both). Here the tab whose time runs
    out first goes first, and within a tab its earliest request: a
    page started is finished before the next is served, and a request holds its turn through its hops: a
    redirect once begun is followed at once. The bound is the download slot's (:func:`rendered_concurrency`), so
    the slot never queues: the rate limiter governs the archive's load, this bound is a second guard."""

    def __init__(self, bound: int):
        self.bound = max(1, bound)
        self.running = 0
        self._waiting: list[tuple[tuple[float, int], int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def take(self, place: tuple[float, int], tab: asyncio.Event) -> None:
        """Wait for a turn at ``place`` (the tab's deadline, the request's number); fails
        (:class:`~policy_archive.crawler.stopping.TabClosed`) once ``tab`` is closed. :meth:`give_back` ends it."""
        if self.running < self.bound and not self._waiting:
            self.running += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (place, next(self._arrivals), turn))
        closed = asyncio.ensure_future(tab.wait())
        try:
            await asyncio.wait((turn, closed), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._withdraw(turn)
            raise
        finally:
            closed.cancel()
        if not turn.done():
            self._withdraw(turn)
            raise TabClosed
        # ... given: the turn is this request's, even if its tab closed meanwhile (the crawl then fails it).

    def give_back(self) -> None:
        """A request's turn ends: the first waiting in order takes it."""
        while self._waiting:
            _place, _arrival, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self.running -= 1

    def _withdraw(self, turn: asyncio.Future[None]) -> None:
        """A waiting request gone (its tab closed, cancelled): left in the heap, skipped; a turn it was given
        meanwhile is handed on."""
        if turn.done() and not turn.cancelled():
            self.give_back()
        else:
            turn.cancel()


@dataclass(frozen=True)
class ArchiveDownloads:
    """The archive crawl, downloading the requests of its pages rendered from the archive: one per crawl, shared by
    every tab.

    Each request is a Scrapy request of the archive crawl (:class:`CrawlDownloads`, without robots.txt: a capture
    comes from the archive), so through its downloader middlewares: nothing outside the archive, the replay rate
    limiter, and ``max_page_bytes`` (``DOWNLOAD_MAXSIZE``: an answer announcing more is refused, one streaming past
    it is cut), within the tab's time and ended with its tab. The archive crawl keeps payloads as served
    (compression off), and Chromium takes a fulfilled body as it is, never undoing a ``Content-Encoding`` (checked
    with Debian's Chromium 156 and Playwright 1.65.2, 2026-11-29: a gzip body came out as its bytes): each answer
    is decoded here by Scrapy's own decoder, bounded by the same setting, before the page gets it."""

    crawl: CrawlDownloads
    decoding: Any  # Scrapy's HttpCompressionMiddleware: refuses an answer decoding past DOWNLOAD_MAXSIZE
    max_bytes: int  # DOWNLOAD_MAXSIZE (max_page_bytes); 0: no limit
    turns: Turns  # the requests in flight, bounded as the download slot is, and their order
    numbers: Iterator[int] = field(default_factory=itertools.count)  # each page request's place in its tab

    @classmethod
    def of(cls, crawler: Any) -> ArchiveDownloads:
        """The downloads of ``crawler``, an archive crawl."""
        from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware

        max_bytes = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        # As the download slot's (crawler/settings.py): the slot never queues, the order is Turns'.
        least = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        turns = Turns(rendered_concurrency(crawler.spider.replay_limiter.per_minute, least))
        return cls(CrawlDownloads(crawler, None), HttpCompressionMiddleware(crawler=crawler), max_bytes, turns)

    @asynccontextmanager
    async def turn(self, tab: asyncio.Event, deadline: float) -> AsyncIterator[None]:
        """One request of a page, all its hops, in its turn (:class:`Turns`): by the tab's ``deadline`` (the event
        loop's time; the earliest goes first), then as asked. Fails (:class:`DownloadTimeoutError`) when no turn
        comes in the tab's time, (:class:`~policy_archive.crawler.stopping.TabClosed`) once ``tab`` is closed."""
        wait = max(0.0, deadline - asyncio.get_running_loop().time())
        try:
            await asyncio.wait_for(
                self.turns.take((deadline, next(self.numbers)), tab), None if math.isinf(wait) else wait
            )
        except TimeoutError:
            raise DownloadTimeoutError("no turn within the page's time") from None
        try:
            yield
        finally:
            self.turns.give_back()

    async def download(self, url: str, timeout_seconds: float, tab: asyncio.Event, headers: dict[str, str]) -> Response:
        """The archive's answer to ``url`` (redirects not followed, no retry), its body decoded, or the download's
        error (:class:`~policy_archive.crawler.failures.AnswerTooLarge` and Scrapy's refusals past the limit)."""
        response = await self.crawl.download(url, timeout_seconds, tab, headers=headers)
        return self.decoding.process_response(response.request, response)  # type: ignore[no-any-return]

    def close_tab(self, tab: asyncio.Event) -> None:
        """``tab`` closed: its requests still waiting fail, the one on the wire is cancelled."""
        self.crawl.close_tab(tab)


@dataclass
class ArchiveRoute:
    """Answers every request of a page rendered from an archive with the archive's capture of it.

    The page is opened at its original URL, so that its scripts see the origin they were written for, but no
    request reaches the live web: the navigation is answered with ``archive_url`` (the raw capture already
    chosen), every other URL with the source's capture URL of it at the same time (the archive redirects to
    the nearest capture; those redirects are followed here, inside the archive only). Each archive request is
    downloaded by the archive crawl (:class:`ArchiveDownloads`: its rate limiter, ``max_page_bytes``), within the
    tab's time; the answers one rendering takes are bounded too, ``max_page_bytes`` in all (:attr:`answers`).
    Before (until 2026-11-29) Playwright's ``route.fetch`` downloaded them, with no limit on an answer's size: an
    answer streaming without end was read into its driver's memory until its own timeout.
    """

    archive_url: str
    source: ArchiveSource
    timestamp: datetime
    limiter: RateLimiter
    downloads: ArchiveDownloads
    refusal: str | None = None  # the archive refused a request (429/503): the rendering is incomplete
    navigation_url: str | None = None  # the archive URL that finally answered the page itself
    # The rendering's answers, ``max_page_bytes`` in all; ended too once the archive refused a request.
    answers: AnswersTaken = field(init=False)
    tab: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # the current tab's, set when it closes
    deadline: float = math.inf  # the event loop's time when the current tab's wait is over

    def __post_init__(self) -> None:
        self.answers = AnswersTaken(self.downloads.max_bytes)

    def open_tab(self, deadline: float) -> None:
        """A tab opens for this rendering (scrapy-playwright may open another for the same request): its requests
        end with it, and by ``deadline``."""
        self.tab = asyncio.Event()
        self.deadline = deadline

    def close(self, *_page: object) -> None:
        """The tab closed (its time up, or the run stopped): what it asked for and was not answered ends here."""
        if not self.tab.is_set():
            self.downloads.close_tab(self.tab)

    def remaining_seconds(self) -> float:
        """What is left of the tab's wait (0: its time is up)."""
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    async def __call__(self, route: Route, request: Request) -> None:
        from playwright.async_api import Error

        try:
            if request.resource_type in NOT_DOWNLOADED or self.answers.ended.is_set() or self.tab.is_set():
                await route.abort()
            else:
                await self._answer(route, request)
        except Error as error:  # the tab closed under the request (its time is up, or the run stopping)
            log.info("rendering: %s not answered: %s", request.url, message(error))

    async def _answer(self, route: Route, request: Request) -> None:
        navigation = self.navigation_url is None and is_page_navigation(request)
        target = self.archive_url if navigation else self._archive_url(request.url)
        # The crawl's user agent and codings, never the browser's (as a live page's requests).
        headers = {name: value for name, value in request.headers.items() if name.lower() not in CRAWL_HEADERS}
        try:
            # Every hop of the request in one turn: a redirect's next hop is asked at once (Turns).
            async with self.downloads.turn(self.tab, self.deadline):
                answered = await self._download(target, headers)
        except (DownloadTimeoutError, TabClosed) as error:  # no turn in the tab's time, or the tab closed
            self._not_answered(target, error)
            answered = None
        if answered is None:
            await route.abort()
            return
        response, target = answered
        if self._refused(response) or not self.answers.take(len(response.body)):
            await route.abort()
            return
        if navigation:
            self.navigation_url = target
        await route.fulfill(**_fulfilment(response))

    async def _download(self, target: str, headers: dict[str, str]) -> tuple[Response, str] | None:
        """The archive's answer at ``target`` and the archive URL that gave it, its redirects followed inside the
        archive; None when there is none to give the page (the tab's time up, a redirect out of the archive, a
        download failed)."""
        response = None
        for _ in range(MAX_ARCHIVE_HOPS):
            if self.remaining_seconds() == 0:
                return None  # the tab's time is up
            try:
                response = await self.downloads.download(target, self.remaining_seconds(), self.tab, headers)
            except Exception as error:  # noqa: BLE001 -- not answered: the page goes on without it, or ends here
                self._not_answered(target, error)
                return None
            location = response.headers.get(b"Location")
            if not 300 <= response.status < 400 or not location:
                break
            # An archived redirect is followed inside the archive whether the archive rewrote its Location (the
            # Wayback Machine) or replays it as the site sent it (pywb); the archive's own only to its captures.
            memento = response.headers.get(b"Memento-Datetime")
            archived_at = parse_memento_datetime(memento.decode("latin-1") if memento else None)
            next_target = self.source.redirect_target(location.decode("latin-1"), target, archived_at)
            if next_target is None:
                log.warning("rendering %s: redirect out of the archive blocked (%r)", self.archive_url, location)
                return None
            target = next_target
        return None if response is None else (response, target)

    def _archive_url(self, url: str) -> str:
        return url if self.source.contains(url) else self.source.capture_url(self.timestamp, url)

    def _refused(self, response: Any) -> bool:
        """The archive's own 429/503 (no Memento-Datetime): pause every archive request, fail this rendering."""
        if response.status not in (429, 503) or b"Memento-Datetime" in response.headers:
            return False
        self.limiter.penalize(None, cause=f"answered {response.status}")
        self.refusal = f"the archive answered {response.status} to a request of the page"
        self.answers.end()
        return True

    def _not_answered(self, target: str, error: Exception) -> None:
        """A request of the page the archive crawl could not answer: one over ``max_page_bytes`` (announced, cut
        while streaming, or decoded past it) ends the rendering, not taken (:attr:`answers`); any other failure
        (the tab closed, a timeout, a connection refused) leaves the page without that answer, as a browser would."""
        words = plain_reason(error) or described(error)
        if words.startswith(TOO_LARGE):
            self.answers.end(f"{words}, for the page's request of {quoted(target)}")
        elif not isinstance(error, TabClosed):
            log.info("rendering %s: %s not answered: %s", self.archive_url, target, words)


def is_page_navigation(request: Request) -> bool:
    """The request for the page itself (not a frame's, not a resource's)."""
    return request.is_navigation_request() and request.frame.parent_frame is None


def refuse_web_socket(web_socket: Any) -> None:
    """Never connected to a server: the page's socket stays open and silent."""
