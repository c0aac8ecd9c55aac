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
a site's Retry-After) end at the stop too. Still sent after a stop: a robots.txt already asked for (see
:func:`_finished_anyway`).

A rendered page's own requests (its scripts, data, a poll every half second) belong to its tab (meta
:data:`PAGE_TAB`, the tab's closing event): when the tab closes (its time up, or the run stopped, which closes every
tab being rendered: crawler/render_handler.py) those still waiting fail with :class:`TabClosed` and the one on the
wire is cancelled. Before (audit 2026-11-28), a page polling the network left its polls queued in its site's slot
after its tab closed: they went on being sent, one at a time, for minutes, and the site's next page waited behind
them until its navigation timed out; a stop waited for them too (115 s for `track`, 4 min for `schedule`).
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
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from policy_archive.text import counted, plural

# Meta key of a request a rendered page's tab asks for (its scripts, data, frames): the tab's asyncio.Event, set
# when the tab closes. The request is not sent after that, nor finished if on the wire.
PAGE_TAB = "page_tab"

T = TypeVar("T")


class RunStopped(IgnoreRequest):
    """A request not sent because the run was stopped."""

    def __init__(self) -> None:
        super().__init__("not sent: the run was stopped")


class TabClosed(IgnoreRequest):
    """A rendered page's request not sent, or not finished, because the page's tab closed."""

    def __init__(self) -> None:
        super().__init__("not sent: the page asking for it was closed")


class StoppingDownloader(Downloader):
    """Scrapy's downloader, except that after :meth:`stop_sending` a request still waiting in a download slot, or
    arriving at one, fails with :class:`RunStopped` instead of being sent; and that a rendered page's request
    (meta :data:`PAGE_TAB`) is failed, or cancelled on the wire, once its tab is closed (:meth:`close_tab`)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.stopping = asyncio.Event()

    def stop_sending(self, said: bool = True) -> None:
        """Send nothing more (called on the reactor once a stop signal came), saying so on stderr (unless not
        ``said``: the job says why in its own words, an archive found unreachable)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        for slot in self.slots.values():
            _fail_waiting(slot, self.stopping)
        if not said:
            return
        # Requests waiting elsewhere (for a robots.txt, the archive's rate limit) fail when they reach a slot.
        on_the_wire = [request for slot in self.slots.values() for request in slot.transferring]
        # A page being rendered is closed at once (crawler/render_handler.py), its own requests with it.
        rendered = sum(1 for request in on_the_wire if request.meta.get("playwright"))
        sent = sum(1 for request in on_the_wire if not request.meta.get("playwright") and PAGE_TAB not in request.meta)
        pages = f"{counted(rendered, 'page')} being rendered {plural(rendered, 'is', 'are')} closed unfinished; "
        # Printed, not logged: Scrapy's log-counting handler on the root logger keeps a warning from reaching
        # stderr unless --verbose installed a handler, and a user (or systemd's journal) should see why the run ends.
        print(
            f"stopping: {counted(sent, 'request')} already sent {plural(sent, 'finishes', 'finish')}; "
            f"{pages if rendered else ''}no other is sent",
            file=sys.stderr,
            flush=True,
        )

    def close_tab(self, tab: asyncio.Event) -> None:
        """A rendered page's tab closed: its requests still waiting fail, the one on the wire is cancelled."""
        tab.set()
        for slot in self.slots.values():
            _fail_waiting(slot, self.stopping)

    async def _enqueue_request(self, request: Request) -> Response:
        # Not public API, as _process_queue: where a request joins its slot's queue, after the middlewares.
        tab = request.meta.get(PAGE_TAB)
        if tab is not None and tab.is_set():
            raise TabClosed
        return await super()._enqueue_request(request)

    def _process_queue(self, slot: Slot) -> None:
        # Scrapy calls this whenever a slot may send its next request: a request queued, an answer received, a
        # delay over. Overriding it (not public API) is the one place every queued request passes.
        _fail_waiting(slot, self.stopping)
        super()._process_queue(slot)

    async def _download(self, slot: Slot, request: Request) -> Response:
        # Not public API: the transfer itself, from the slot's point of view. It runs in this task, not one of its
        # own: Scrapy's counts it in the slot (``transferring``) as this task starts, before the slot's next delay
        # can end (a task of its own started a loop turn later, and a short AutoThrottle delay let a second request
        # of the page on the wire beside it).
        tab = request.meta.get(PAGE_TAB)
        if tab is None:
            return await super()._download(slot, request)
        transfer = asyncio.current_task()
        assert transfer is not None, "Scrapy runs each download in an asyncio task (the asyncio reactor)"

        def cancel_transfer(closed: asyncio.Future[object]) -> None:
            if not closed.cancelled():
                transfer.cancel()  # cancels its Deferred, which closes the connection (Twisted's HTTP client)

        closing = asyncio.ensure_future(tab.wait())
        closing.add_done_callback(cancel_transfer)
        try:
            return await super()._download(slot, request)
        except asyncio.CancelledError:
            if not tab.is_set():
                raise
            transfer.uncancel()
            raise TabClosed from None
        finally:
            closing.cancel()

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


def _fail_waiting(slot: Slot, stopping: asyncio.Event) -> None:
    """Fail the requests waiting in ``slot`` whose tab closed, and every other one once ``stopping`` is set but a
    robots.txt."""
    waiting = slot.queue
    failed = [queued for queued in waiting if _not_sent(queued[0], stopping)]
    if not failed:
        return
    slot.queue = deque(queued for queued in waiting if not _not_sent(queued[0], stopping))
    for request, answer in failed:
        tab = request.meta.get(PAGE_TAB)
        answer.errback(TabClosed() if tab is not None and tab.is_set() else RunStopped())


def _not_sent(request: Request, stopping: asyncio.Event) -> bool:
    tab = request.meta.get(PAGE_TAB)
    if tab is not None and tab.is_set():
        return True
    return stopping.is_set() and not _finished_anyway(request)


def _finished_anyway(request: Request) -> bool:
    """A robots.txt: Scrapy lets every request waiting for a robots.txt that failed go unchecked, so a page's
    requests would go out unchecked. (A robots.txt is a site's first request and is seldom queued; the documents
    waiting for it are then failed in their turn.)"""
    return bool(request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == "/robots.txt")


def stop_sending(crawler: Crawler, said: bool = True) -> None:
    """Make ``crawler``'s downloader send nothing more, once its engine runs (``said``: as
    :meth:`StoppingDownloader.stop_sending`)."""
    engine = crawler.engine
    if engine is not None and isinstance(engine.downloader, StoppingDownloader):
        engine.downloader.stop_sending(said)


def close_tab(crawler: Crawler, tab: asyncio.Event) -> None:
    """:meth:`StoppingDownloader.close_tab` of ``crawler``'s downloader (the event only, under another one)."""
    downloader = crawler.engine.downloader if crawler.engine is not None else None
    if isinstance(downloader, StoppingDownloader):
        downloader.close_tab(tab)
    else:
        tab.set()


async def unless_stopped(crawler: Crawler, waiting: Awaitable[T]) -> T:
    """:meth:`StoppingDownloader.unless_stopped` of ``crawler``'s downloader (a plain wait under another one)."""
    downloader = crawler.engine.downloader if crawler.engine is not None else None
    if isinstance(downloader, StoppingDownloader):
        return await downloader.unless_stopped(waiting)
    return await waiting
