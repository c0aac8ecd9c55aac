"""Where the requests of a page rendered in Chromium go: through the crawl (a live page), or to the archive only.

Chromium never fetches anything itself: every request of a rendered page is asked of a Playwright route, which
answers it with ``route.fulfill`` or refuses it with ``route.abort``.

- A live page's requests (:class:`LiveRoute`) — its own navigation, its scripts, data and frames, each of their
  redirect hops — are downloaded by the crawl itself (:class:`CrawlDownloads`, ``crawler.rendered_downloads``:
  Scrapy's engine, as the robots.txt middleware downloads a robots.txt): the same internal-address check, user
  agent, size limit, proxy and per-site download slots as a plain fetch, and the connection is made by Scrapy's,
  whose resolver (``GuardedResolver``) drops internal addresses from every resolution. A name answering a public
  address to the check and an internal one to the connection (DNS rebinding) therefore connects nowhere:
  Playwright's own ``route.fetch``, used before, connected from Playwright's Node.js driver, which resolved the
  name again for itself (issue 11; decision 0012).
- A page rendered from a web archive (:class:`ArchiveRoute`) reaches nothing but the archive: every request is
  answered from the capture's own time in the archive, downloaded by the archive crawl (:class:`ArchiveDownloads`:
  its rate limiter, ``max_page_bytes``).

Either way the answers one rendering hands its page are bounded by ``max_page_bytes`` in all (:class:`AnswersTaken`,
``crawler.rendering_bytes``), as each answer is by the crawl.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import DownloadTimeoutError

from policy_archive.crawler.addresses import PrivateAddressRefused
from policy_archive.crawler.failures import TOO_LARGE, UnusableLocation, described, message, plain_reason
from policy_archive.crawler.middlewares import redirect_target
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.rendered_downloads import ArchiveDownloads, CrawlDownloads
from policy_archive.crawler.rendering_bytes import AnswersTaken
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.sources.base import parse_memento_datetime
from policy_archive.crawler.stopping import TabClosed
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
