"""The crawl downloading the requests of its rendered pages, for their routes (``crawler.routes``): the live crawl's
(:class:`CrawlDownloads`: a Scrapy request through the downloader middlewares, in a download slot of its own per
site, ended with its tab), and the archive crawl's (:class:`ArchiveDownloads`: each answer decoded, and each page
request waiting its turn, :class:`Turns`, in a bound as wide as the download slot, :func:`rendered_concurrency`,
the tab whose time runs out first going first)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadTimeoutError

from policy_archive.crawler.middlewares import RobotsRule
from policy_archive.crawler.stopping import PAGE_TAB, TabClosed, close_tab

if TYPE_CHECKING:
    from scrapy.http import Response


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
