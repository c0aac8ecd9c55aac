"""Run one crawl in this process. Scrapy's Twisted reactor cannot be restarted, so a process crawls once:
the CLI runs one crawl per invocation and the scheduler starts a new process for every run."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from policy_archive.config.settings import Settings
from policy_archive.crawler.ratelimit import RateLimiter, limiter_for
from policy_archive.crawler.settings import scrapy_settings
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.spiders.base import Continuation, FetchPlan, Planned, PlanSpider, Preparation
from policy_archive.crawler.spiders.live import LiveSpider
from policy_archive.crawler.spiders.wayback import WaybackSpider
from policy_archive.crawler.stopping import stop_sending
from policy_archive.records import Capture, FetchFailure, FetchRequest


class _ErrorKeepingPlan:
    """A plan whose first exception is kept. Scrapy logs an exception raised in a callback and goes on: a full
    disk while storing a capture would end as "not fetched: the run was stopped". The crawl finishes and the
    kept error is raised again, so the command says what happened (one line, see policy_archive.errors)."""

    def __init__(self, plan: FetchPlan, stop: StopSignal):
        self.plan = plan
        self.stop = stop
        self.error: Exception | None = None

    def start(self) -> Iterable[Planned]:
        self.stop.watch()  # the crawl is running: Scrapy's own handlers are in place, to be chained
        return self._kept(self.plan.start)

    def handle(self, result: Capture | FetchFailure) -> Iterable[Planned]:
        return self._kept(lambda: self.plan.handle(result))

    def _kept(self, planned: Callable[[], Iterable[Planned]]) -> list[Planned]:
        """What ``planned()`` gives, its first error kept; a continuation's work and what it then gives alike."""
        if self.error is not None:
            return []
        try:
            outputs = list(planned())  # a generator's errors happen while it is iterated
        except Exception as error:
            self.error = error
            return []
        return [self._continuation(output) if isinstance(output, Continuation) else output for output in outputs]

    def _continuation(self, continuation: Continuation) -> Continuation:
        return Continuation(self._kept_work(continuation.work), lambda: self._kept(continuation.then))

    def preparation(self, result: Capture | FetchFailure) -> Preparation | None:
        """The plan's work before ``result`` (crawler/spiders/base.py), its first error kept as ``handle``'s is."""
        preparation = getattr(self.plan, "preparation", None)
        if self.error is not None or preparation is None:
            return None
        try:
            work: Preparation | None = preparation(result)
        except Exception as error:
            self.error = error
            return None
        return None if work is None else self._kept_work(work)

    def _kept_work(self, work: Preparation) -> Preparation:
        def kept() -> None:  # on a thread: an error is kept, and what follows it is then asked for nothing
            try:
                work()
            except Exception as error:
                self.error = self.error or error

        return kept

    def raise_kept(self) -> None:
        if self.error is not None:
            raise self.error


class StopSignal:
    """Whether SIGINT or SIGTERM arrived during the crawl, known at once.

    Scrapy's handler only *schedules* a graceful stop on the reactor; a plan that does long synchronous work of
    its own between requests (``discover`` lists the next domain's home page) keeps the reactor from running it,
    so a Ctrl-C would wait for the whole list. Such a plan asks :attr:`received` before each piece of that work.
    The crawl's downloader is told too, on the reactor, to send no request not yet on the wire (crawler/stopping.py).
    """

    def __init__(self) -> None:
        self.received = False
        self._crawler: Crawler | None = None

    def watch(self) -> None:
        """Chain a handler noting the signal before Scrapy's (called inside the crawl, once Scrapy's are set)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if callable(previous):
                signal.signal(signum, self._noting(previous))

    def stops(self, crawler: Crawler) -> None:
        """The crawl a signal stops."""
        self._crawler = crawler

    def _noting(self, previous: Callable[[int, FrameType | None], object]) -> Callable[[int, FrameType | None], None]:
        def note(signum: int, frame: FrameType | None) -> None:
            self.received = True
            previous(signum, frame)
            if self._crawler is not None:
                # The crawl's reactor, installed by Scrapy by now (importing it earlier would install another);
                # a signal handler may only schedule work on it, as Scrapy's own does.
                from twisted.internet import reactor

                reactor.callFromThread(stop_sending, self._crawler)

        return note


def crawl_archive(
    plan: FetchPlan,
    source: ArchiveSource,
    settings: Settings,
    data_dir: Path,
    stop: StopSignal | None = None,
    replay_limiter: RateLimiter | None = None,
) -> None:
    """Fetch archive captures for ``plan``; ``stop``, if given, tells the plan at once when a signal came;
    ``replay_limiter``: the archive's replay limiter, when the caller counts the requests it lets through."""
    _crawl(
        CrawlerProcess(settings=scrapy_settings(settings, live=False)),
        WaybackSpider,
        plan,
        stop,
        source=source,
        replay_limiter=replay_limiter or limiter_for(data_dir, settings.wayback, "replay"),
        user_agent=settings.crawl.user_agent,
        render_timeout=settings.crawl.render_timeout_seconds,
    )


def crawl_live(
    plan: FetchPlan,
    settings: Settings,
    declared_origins: Sequence[str] = (),
    stop: StopSignal | None = None,
    retried: Callable[[FetchRequest], None] | None = None,
) -> None:
    """Fetch live pages; only ``declared_origins`` (the configuration's URLs) may be on internal addresses;
    ``stop``, if given, tells the plan at once when a signal came; ``retried``, if given, is told each fetch whose
    request failed and is asked again (Scrapy's retries)."""
    _crawl(
        CrawlerProcess(settings=scrapy_settings(settings, live=True, declared_origins=declared_origins)),
        LiveSpider,
        plan,
        stop,
        render_timeout=settings.crawl.render_timeout_seconds,
        retried=retried,
    )


def _crawl(
    process: CrawlerProcess, spider: type[PlanSpider], plan: FetchPlan, stop: StopSignal | None, **arguments: Any
) -> None:
    """Run ``spider`` for ``plan`` until it is done or a signal stops it (then after the requests on the wire)."""
    crawler = process.create_crawler(spider)
    stop = stop or StopSignal()
    stop.stops(crawler)
    kept = _ErrorKeepingPlan(plan, stop)
    process.crawl(crawler, plan=kept, **arguments)
    process.start()
    kept.raise_kept()
