"""A stopped crawl finishes the requests on the wire and sends no other.

Scrapy's graceful stop (the first SIGINT or SIGTERM) waits for every request the engine has handed to the
downloader, those still waiting in a download slot included (Scrapy 2.19, checked 2026-11; there is no public way to
drop them, scrapy/scrapy#4749). A live crawl sends one request at a time per site, spaced by AutoThrottle: the
requests waiting behind a slow site's page were all still sent after the signal, one after the other, which could
outlast systemd's stop timeout. (A site's next documents now wait for its turn in the scheduler, which a stopping
engine no longer reads — crawler/sitequeue.py; the downloader still holds a request waiting for its site's delay or
robots.txt.) :class:`StoppingDownloader` (the crawl's ``DOWNLOADER``) fails them instead with
:class:`RunStopped`, which the spiders do not hand to the plan: a document whose request was not sent is reported
by its job as not fetched because the run was stopped. Waits before a request is sent (the archive's rate limit,
a site's Retry-After) end at the stop too. Still sent after a stop: the requests of a page being rendered, and a
robots.txt already asked for (see :func:`_finished_anyway`).
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Awaitable
from typing import TypeVar

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from policy_archive.text import counted, plural

# Meta key of a request that belongs to a page already on the wire (a rendered page's scripts and data): sent even
# after a stop, or that page, which is being finished, would be finished without them.
PART_OF_A_PAGE = "part_of_a_page"

T = TypeVar("T")


class RunStopped(IgnoreRequest):
    """A request not sent because the run was stopped."""

    def __init__(self) -> None:
        super().__init__("not sent: the run was stopped")


class StoppingDownloader(Downloader):
    """Scrapy's downloader, except that after :meth:`stop_sending` a request still waiting in a download slot, or
    arriving at one, fails with :class:`RunStopped` instead of being sent."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.stopping = asyncio.Event()

    def stop_sending(self) -> None:
        """Send nothing more (called on the reactor once a stop signal came), saying so on stderr."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        for slot in self.slots.values():
            _fail_waiting(slot)
        # Requests waiting elsewhere (for a robots.txt, the archive's rate limit) fail when they reach a slot.
        sent = sum(len(slot.transferring) for slot in self.slots.values())
        # Printed, not logged: Scrapy's log-counting handler on the root logger keeps a warning from reaching
        # stderr unless --verbose installed a handler, and a user (or systemd's journal) should see why the run ends.
        print(
            f"stopping: {counted(sent, 'request')} already sent {plural(sent, 'finishes', 'finish')}; no other is sent",
            file=sys.stderr,
            flush=True,
        )

    def _process_queue(self, slot: Slot) -> None:
        # Scrapy calls this whenever a slot may send its next request: a request queued, an answer received, a
        # delay over. Overriding it (not public API) is the one place every queued request passes.
        if self.stopping.is_set():
            _fail_waiting(slot)
        super()._process_queue(slot)

    async def unless_stopped(self, waiting: Awaitable[T]) -> T:
        """``waiting``'s result, or :class:`RunStopped` as soon as the run is stopped (a wait before sending a
        request — the archive's rate limit, a site's Retry-After — must not hold the stop for minutes)."""
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            raise RunStopped
        return task.result()


def _fail_waiting(slot: Slot) -> None:
    """Fail the requests waiting in ``slot``, but those a page on the wire needs."""
    waiting = slot.queue
    slot.queue = deque(queued for queued in waiting if _finished_anyway(queued[0]))
    for request, answer in waiting:
        if not _finished_anyway(request):
            answer.errback(RunStopped())


def _finished_anyway(request: Request) -> bool:
    """A request of a page on the wire, or a robots.txt: Scrapy lets every request waiting for a robots.txt that
    failed go unchecked, so a page's requests would go out unchecked. (A robots.txt is a site's first request and
    is seldom queued; the documents waiting for it are then failed in their turn.)"""
    robots_txt = request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == "/robots.txt"
    return bool(request.meta.get(PART_OF_A_PAGE) or robots_txt)


def stop_sending(crawler: Crawler) -> None:
    """Make ``crawler``'s downloader send nothing more, once its engine runs."""
    engine = crawler.engine
    if engine is not None and isinstance(engine.downloader, StoppingDownloader):
        engine.downloader.stop_sending()


async def unless_stopped(crawler: Crawler, waiting: Awaitable[T]) -> T:
    """:meth:`StoppingDownloader.unless_stopped` of ``crawler``'s downloader (a plain wait under another one)."""
    downloader = crawler.engine.downloader if crawler.engine is not None else None
    if isinstance(downloader, StoppingDownloader):
        return await downloader.unless_stopped(waiting)
    return await waiting
