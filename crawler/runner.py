"""Run one crawl in this process. Scrapy's Twisted reactor cannot be restarted, so a process crawls once:
the CLI runs one crawl per invocation and the scheduler starts a new process for every run."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from policy_archive.config.settings import Settings
from policy_archive.crawler.ratelimit import RateLimiter, limiter_for
from policy_archive.crawler.reach import Reachability
from policy_archive.crawler.settings import scrapy_settings
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.spiders.base import Continuation, FetchPlan, Planned, PlanSpider, Preparation
from policy_archive.crawler.spiders.live import LiveSpider
from policy_archive.crawler.spiders.wayback import WaybackSpider
from policy_archive.crawler.stopping import stop_sending
from policy_archive.records import Capture, FetchFailure, FetchRequest
from policy_archive.stop_signals import StopSignal, current_stop, stop_signals_handled


class _ErrorKeepingPlan:
    """A plan whose first exception is kept. Scrapy logs an exception raised in a callback and goes on: a full
    disk while storing a capture would end as "not fetched: the run was stopped". The crawl finishes and the
    kept error is raised again, so the command says what happened (one line, see policy_archive.errors)."""

    def __init__(self, plan: FetchPlan, stop: StopSignal):
        self.plan = plan
        self.stop = stop
        self.error: Exception | None = None

    def start(self) -> Iterable[Planned]:
        if self.stop.received:  # while Scrapy started: nothing is asked, the crawl ends at once
            return []
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


def crawl_archive(
    plan: FetchPlan,
    source: ArchiveSource,
    settings: Settings,
    data_dir: Path,
    stop: StopSignal | None = None,
    replay_limiter: RateLimiter | None = None,
    reach: Reachability | None = None,
) -> None:
    """Fetch archive captures for ``plan``; ``stop``: what tells the plan at once when a signal came (by default the
    one handling the stop signals now, policy_archive/stop_signals.py); ``replay_limiter``: the archive's replay
    limiter, when the caller counts the requests it lets through; ``reach``: the replays' failures before any answer,
    counted (crawler/reach.py), when the caller asks whether the crawl stopped because the archive was unreachable
    (``reach.unreached``)."""
    _crawl(
        CrawlerProcess(settings=scrapy_settings(settings, live=False)),
        WaybackSpider,
        plan,
        stop,
        source=source,
        replay_limiter=replay_limiter or limiter_for(data_dir, settings.wayback, "replay"),
        user_agent=settings.crawl.user_agent,
        render_timeout=settings.crawl.render_timeout_seconds,
        reach=reach or Reachability(),
    )


def crawl_live(
    plan: FetchPlan,
    settings: Settings,
    declared_origins: Sequence[str] = (),
    stop: StopSignal | None = None,
    retried: Callable[[FetchRequest], None] | None = None,
) -> None:
    """Fetch live pages; only ``declared_origins`` (the configuration's URLs) may be on internal addresses;
    ``stop``: as for :func:`crawl_archive`; ``retried``, if given, is told each fetch whose
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
    """Run ``spider`` for ``plan`` until it is done or a signal stops it (then after the requests on the wire).

    The stop signals are handled by ``stop`` (policy_archive/stop_signals.py), installed by the command before any
    work, not by Scrapy: Scrapy's handlers were installed only once its reactor ran, so a signal while it started
    killed the command, and they took SIGINT over even when the command was started with it ignored."""
    crawler = process.create_crawler(spider)
    with stop_signals_handled(stop or current_stop()) as stop, stop.crawling(_stopping(process, crawler)):
        kept = _ErrorKeepingPlan(plan, stop)
        process.crawl(crawler, plan=kept, **arguments)  # installs the reactor
        with _woken_by_signals():
            process.start(install_signal_handlers=False)
    kept.raise_kept()


class _SignalWaker:
    """The read end of the pipe a signal is written to (``signal.set_wakeup_fd``), watched by the reactor: the
    kernel may deliver a signal to any of the crawl's threads (Scrapy's pool, Playwright's), and Python runs its
    handler in the main thread only once that thread wakes. Twisted sets such a pipe when it handles signals
    itself; without one a stop waited for the reactor's next event (a download's timeout), while a rendered page
    went on sending requests (seen under load, 2026-11-28). A Twisted ``IReadDescriptor``."""

    def __init__(self) -> None:
        self.reading, self.writing = socket.socketpair()
        self.reading.setblocking(False)
        self.writing.setblocking(False)

    def fileno(self) -> int:
        return self.reading.fileno()

    def doRead(self) -> None:  # noqa: N802 (Twisted's interface)
        with contextlib.suppress(OSError):
            self.reading.recv(4096)  # the signal numbers: the handler itself already ran, or runs next

    def connectionLost(self, _reason: object) -> None:  # noqa: N802 (Twisted's interface)
        """Nothing to do: closed by :func:`_woken_by_signals`."""

    def logPrefix(self) -> str:  # noqa: N802 (Twisted's interface)
        return "signal waker"


@contextmanager
def _woken_by_signals() -> Iterator[None]:
    """The crawl's reactor woken by every signal while the block runs (:class:`_SignalWaker`)."""
    from twisted.internet import reactor  # installed by Scrapy by now (process.crawl)

    waker = _SignalWaker()
    previous = signal.set_wakeup_fd(waker.writing.fileno(), warn_on_full_buffer=False)
    reactor.addReader(waker)
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        reactor.removeReader(waker)
        waker.reading.close()
        waker.writing.close()


def _stopping(process: CrawlerProcess, crawler: Crawler) -> Callable[[bool], None]:
    """What a stop signal does to the crawl, from the signal handler (which may only schedule work on the reactor,
    as Scrapy's own handlers do): the first tells its downloader to send nothing more (crawler/stopping.py) and
    stops it gracefully (the requests on the wire finish); a later one stops the reactor at once (Scrapy's "forcing
    unclean shutdown": the requests in flight are dropped)."""

    def stop(at_once: bool) -> None:
        # The crawl's reactor, once Scrapy installed it (importing it earlier would install another, and the
        # crawl would fail); before it runs, Scrapy is starting: the plan, asked for its start, asks for nothing.
        reactor = sys.modules.get("twisted.internet.reactor")
        if reactor is None or not reactor.running:
            return
        if at_once:
            reactor.callFromThread(_stop_reactor, reactor)
            return
        # Nothing more is sent before the engine starts closing: a request it cancels must not let the next one
        # waiting in its slot go out (a rendered page's polls).
        reactor.callFromThread(stop_sending, crawler)
        reactor.callFromThread(process.stop)  # the crawl ends, and with it the reactor (stop_after_crawl)

    return stop


def _stop_reactor(reactor: Any) -> None:
    with contextlib.suppress(RuntimeError):  # already stopping
        reactor.stop()
