"""What both spiders share: they download what a fetch plan asks for and hand every result back to it.

The plan (a job's, in ``pipeline/jobs``) decides what to fetch next from what it has learnt (change-point search
needs the text of one capture to choose the next), so requests flow: plan → spider → plan, and results are never
kept in the spider.

A plan may have blocking work to do before it reads a result (``discover`` looks up the names a page links to):
its ``preparation(result)`` gives it, and the spider runs it on a thread before handing the result over, so the
crawl's thread (the reactor, which every other download of the run waits for) never blocks on it. Blocking work
that comes before the plan can say its next requests at all, with no result to wait for (a resumed ``discover``
looks up the names its saved state links before it chooses what to read), is a :class:`Continuation` among the
requests ``start`` or ``handle`` give: its work runs on a thread the same way, then it says the requests that follow.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from policy_archive.config.settings import CrawlSettings
from policy_archive.crawler.failures import (
    SCRAPY_REDIRECT_LIMIT,
    TOO_LARGE,
    asked_times,
    described,
    lasting,
    message,
    plain_reason,
    redirects_exceeded,
)
from policy_archive.crawler.render import PageRendering, RenderingUnavailable, extra_installed, extra_missing
from policy_archive.crawler.stopping import RunStopped
from policy_archive.errors import PolicyArchiveError
from policy_archive.hostnames import UnusableHost, ascii_url
from policy_archive.records import Capture, FetchFailure, FetchRequest, Source
from policy_archive.text import safe_url

log = logging.getLogger(__name__)


Preparation = Callable[[], None]


@dataclass(frozen=True)
class Continuation:
    """What a plan gives among its requests when it has blocking work to do before it can say the ones that follow:
    ``work``, run on a thread, then ``then()``, called on the crawl's thread once it is done, for those requests."""

    work: Preparation
    then: Callable[[], Iterable[FetchRequest | Continuation]]


Planned: TypeAlias = FetchRequest | Continuation


class FetchPlan(Protocol):
    """What a spider is driven by (a job's plan in ``pipeline/jobs``): the first requests, then the requests that
    follow each result. A plan may also have ``preparation(result)``: the blocking work to do on another thread
    before ``handle(result)``, or None."""

    def start(self) -> Iterable[Planned]:
        """The first requests (and continuations) of the crawl."""

    def handle(self, result: Capture | FetchFailure) -> Iterable[Planned]:
        """Take one result (a capture, or why its fetch failed) and give the requests that follow from it."""


@dataclass(frozen=True)
class Preparing:
    """Work to run on a thread before the crawl goes on: what a spider's callbacks yield in place of the requests
    that must wait for it (a result's preparation, a plan's :class:`Continuation`), for :meth:`PlanSpider.driven`
    to run off the crawl's thread; ``then`` gives those requests once it is done."""

    work: Preparation
    then: Callable[[], Iterator[Output]]


Output: TypeAlias = scrapy.Request | Preparing


def response_headers(response: Response) -> tuple[tuple[str, str], ...]:
    """The response's header lines as ``(name, value)`` text pairs (Latin-1, as HTTP carries them), a repeated header
    once per value."""
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )


def content_type(response: Response) -> str | None:
    """The response's ``Content-Type`` as sent (Latin-1), or None when it has none."""
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def now() -> datetime:
    """The current time in UTC, to the second: when a live capture was taken, or an archive capture fetched."""
    return datetime.now(UTC).replace(microsecond=0)


class PlanSpider(scrapy.Spider):
    """A spider that asks what its plan asks for and hands every result back to it (the live and the archive spider's
    common part); ``source`` is what its captures are recorded under."""

    source: Source

    def __init__(self, plan: FetchPlan, render_timeout: float = CrawlSettings.render_timeout_seconds, **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan
        self.render_timeout = render_timeout

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The plan's first requests, each continuation's work run off the crawl's thread before the requests it
        gives."""
        for fetch in self.plan.start():
            async for request in self.driven(self.requests_for(fetch)):
                yield request

    async def driven(self, outputs: Iterable[Output]) -> AsyncIterator[scrapy.Request]:
        """The requests of a callback's ``outputs``, each result waiting for its plan's preparation handed over
        once that has run on a thread (in order: what follows it in ``outputs`` waits too)."""
        for output in outputs:
            if isinstance(output, Preparing):
                await maybe_deferred_to_future(deferToThread(output.work))
                async for request in self.driven(output.then()):
                    yield request
            else:
                yield output

    def on_response(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """The requests' callback: :meth:`parse`, driven."""
        return self.driven(self.parse(response))

    def on_failure(self, failure: Failure) -> AsyncIterator[scrapy.Request]:
        """The requests' errback: :meth:`failed`, driven."""
        return self.driven(self.failed(failure))

    def parse(self, response: Response) -> Iterator[Output]:
        """The requests that follow a response: each spider makes its capture (or failure) of it and hands that to
        the plan."""
        raise NotImplementedError

    def requests_for(self, fetch: Planned) -> Iterator[Output]:
        """The request for ``fetch``; a render request without the browser extra fails at once instead; a plan's
        continuation, its work to run off the crawl's thread before the requests it then gives."""
        if isinstance(fetch, Continuation):
            yield Preparing(fetch.work, lambda: self.continued(fetch))
        elif fetch.render and not extra_installed():
            yield from self.hand_over(FetchFailure(fetch, extra_missing(), needs_browser=True))
        elif (unusable := _unusable_host(fetch.url)) is not None:
            # A host no request can name (a discovered frame's URL, say): refused, as a URL that can never be
            # fetched; a declared URL never comes here, `validate` refuses it.
            yield from self.hand_over(FetchFailure(fetch, unusable, refused=True))
        else:
            yield self.request(fetch)

    def rendering(self, fetch: FetchRequest) -> tuple[str, PageRendering]:
        """The URL to open in the browser for ``fetch`` and how to render it: where the page's requests go is each
        spider's (a rendering without a route would let Chromium fetch on its own)."""
        raise NotImplementedError

    def request(self, fetch: FetchRequest, url: str | None = None, **meta: Any) -> scrapy.Request:
        """The Scrapy request for ``fetch`` (at ``url`` when given, else the fetch's URL; a render request at the URL
        :meth:`rendering` says), never filtered as a duplicate, with ``fetch`` and ``meta`` in its meta; its host in
        punycode (:func:`wire_url`)."""
        if fetch.render:
            url, rendering = self.rendering(fetch)
            meta.update(rendering.meta())
        return scrapy.Request(
            wire_url(url or fetch.url),
            headers=dict(fetch.headers),
            callback=self.on_response,
            errback=self.on_failure,
            dont_filter=True,
            meta={"fetch": fetch, **meta},
        )

    def hand_over(self, result: Capture | FetchFailure) -> Iterator[Output]:
        """The requests the plan asks for after ``result``; when it has work to do first, that result to finish
        once the work has run off the crawl's thread (:meth:`driven`)."""
        preparation = getattr(self.plan, "preparation", None)
        work: Preparation | None = preparation(result) if preparation is not None else None
        if work is not None:
            yield Preparing(work, lambda: self.handed(result))
        else:
            yield from self.handed(result)

    def handed(self, result: Capture | FetchFailure) -> Iterator[Output]:
        """The requests the plan gives after ``result``, once any preparation has run."""
        for fetch in self.plan.handle(result):
            yield from self.requests_for(fetch)

    def continued(self, continuation: Continuation) -> Iterator[Output]:
        """The requests a plan's continuation gives once its work has run."""
        for fetch in continuation.then():
            yield from self.requests_for(fetch)

    def failed(self, failure: Failure) -> Iterator[Output]:
        """Hand the plan the failure of a request (refused when Scrapy ignored it by our choice: robots.txt, an
        internal address, the redirect limit) and give what follows; nothing for a request the stopped run never
        sent."""
        if failure.check(RunStopped):
            return  # never sent: its job reports it as not fetched because the run was stopped
        meta = failure.request.meta  # type: ignore[attr-defined]
        fetch: FetchRequest = meta["fetch"]
        reason = asked_times(_failure_reason(failure, meta.get("rendering")), times_asked(meta))
        log.info("%s failed: %s", self.shown(failure.request.url), reason)  # type: ignore[attr-defined]
        # Scrapy's IgnoreRequest: not sent, or its answer not taken, by our choice (robots.txt, an internal
        # address, the redirect limit): a refusal, not a download that failed. Except an answer decompressing past
        # max_page_bytes (Scrapy's compression middleware ignores it): too large, as the same answer uncompressed.
        refused = isinstance(failure.value, IgnoreRequest) and not lasting(reason)
        if meta.get("rendering") is not None:
            needs_browser = isinstance(failure.value, RenderingUnavailable)
            yield from self.rendering_failed(fetch, reason, needs_browser=needs_browser, refused=refused)
        else:
            yield from self.hand_over(FetchFailure(fetch, reason, refused=refused, lasting=lasting(reason)))

    def shown(self, url: str) -> str:
        """``url`` as a log line names it: written safe for one line (an archive spider names its captures without
        the archive's URL, which may hold its token)."""
        return safe_url(url)

    def rendering_failed(
        self,
        fetch: FetchRequest,
        reason: str,
        status: int | None = None,
        *,
        needs_browser: bool = False,
        refused: bool = False,
    ) -> Iterator[Output]:
        """Hand the plan the failure of a rendered page and give what follows; nothing when the crawl is stopping
        (the browser was closed under the page: not a failure)."""
        if not self.crawler.crawling:
            # Stopped by a SIGTERM to the whole process group: Playwright's driver, in it, got it too and closed the
            # browser under the page (decision 0012). The page was not fetched because the run stopped; it did not fail.
            return
        refused = refused or reason.startswith(NOT_A_WEB_PAGE)
        # The rendering's own reason, judged alone: a plan may put other words before it (a shell's refusal).
        kind = {"needs_browser": needs_browser, "refused": refused, "lasting": lasting(reason)}
        yield from self.hand_over(FetchFailure(fetch, reason, status, **kind))

    def payloads(self, response: Response) -> tuple[bytes, bytes | None, str] | str:
        """(raw bytes, rendered DOM, URL that answered) of a response — the DOM only for a render request, whose
        raw bytes are the page's answer as the browser received it — or why a rendering cannot be used."""
        rendering: PageRendering | None = response.meta.get("rendering")
        if rendering is None:
            return response.body, None, response.url
        if rendering.archive is not None and rendering.archive.refusal:
            return f"rendering incomplete: {rendering.archive.refusal}"
        if rendering.answers.too_large:
            return rendering.answers.too_large
        if rendering.raw_body is None or rendering.raw_url is None:
            return _no_raw_answer(rendering.navigation_type)
        if rendering.unsettled is not None:  # a half-built text is no version (before its size is judged)
            return rendering.unsettled
        dom = response.text.encode("utf-8")
        if (over := self.over_page_limit(rendering.raw_body, dom)) is not None:
            return over
        # Not page.url: a script may have changed the address shown (history.pushState) after the answer came;
        # a page rendered from an archive was answered by an archive URL.
        url = rendering.archive.navigation_url if rendering.archive is not None else None
        return rendering.raw_body, dom, url or rendering.raw_url

    def over_page_limit(self, raw_body: bytes, dom: bytes) -> str | None:
        """Why a rendered page is not kept when its raw answer or its DOM (a script may build any size) is larger
        than ``max_page_bytes``: every stored record is read back within that limit (archive/warc_records.py), so
        a larger one would be written, then refused at every later read."""
        limit = self.settings.getint("DOWNLOAD_MAXSIZE")
        what, size = max((("raw answer", len(raw_body)), ("rendered DOM", len(dom))), key=lambda pair: pair[1])
        if not limit or size <= limit:
            return None
        return (
            f"{TOO_LARGE}: its {what} is {size:,} bytes, over the limit of {limit:,} bytes"
            " (setting [crawl] max_page_bytes: raise it to keep this page)"
        )


# A rendering refused because the browser downloaded the page: asking again gets the same, so a refusal, not a
# failure for now.
NOT_A_WEB_PAGE = "rendering failed: not a web page"
# The content types Chromium displays as a page (checked 2026-11-29): an answer of another type it may download
# instead (application/octet-stream does), leaving the tab blank and no answer to keep.
_DISPLAYED_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")


def _no_raw_answer(navigation_type: str | None) -> str:
    """Why a rendering kept no raw answer: the browser downloaded it, when it came with a type it does not display
    (``rendering failed: not a web page: served as application/octet-stream, which the browser downloaded instead
    of displaying``)."""
    served = (navigation_type or "").split(";", 1)[0].strip().lower()
    if served and served not in _DISPLAYED_TYPES and not served.startswith(("image/", "video/", "audio/")):
        return f"{NOT_A_WEB_PAGE}: served as {served}, which the browser downloaded instead of displaying"
    return "rendering failed: the browser kept no raw answer to the page's request"


def times_asked(meta: dict[str, Any]) -> int:
    """How many times a request was sent, this time included. Each asking again is a copy of the request with its
    count in the meta: a live one's retries by Scrapy's RetryMiddleware in ``retry_times`` and its one retry after
    a Retry-After in ``retried_after``; a replay's attempts after a wait in ``archive_attempt`` (1 the first time)
    and its askings again after the archive's pauses in ``archive_pauses`` (crawler/middlewares.py)."""
    return (
        meta.get("archive_attempt", 1)
        + meta.get("retry_times", 0)
        + meta.get("archive_pauses", 0)
        + bool(meta.get("retried_after"))
    )


def _failure_reason(failure: Failure, rendering: PageRendering | None) -> str:
    if isinstance(failure.value, PolicyArchiveError):
        return str(failure.value)  # already the one line a user reads
    if rendering is not None and rendering.archive is not None and rendering.archive.refusal:
        return f"rendering incomplete: {rendering.archive.refusal}"
    if rendering is not None and rendering.answers.too_large:
        return rendering.answers.too_large
    if rendering is not None and rendering.navigation_error:
        return f"rendering failed: {rendering.navigation_error}"
    # Refused by Scrapy before any browser (robots.txt, the redirect limit): said as for a plain fetch.
    if failure.check(IgnoreRequest) and str(failure.value) == SCRAPY_REDIRECT_LIMIT:
        request = failure.request  # type: ignore[attr-defined]  # the last hop: its answer redirected once more
        return redirects_exceeded([*request.meta.get("redirect_urls", ()), request.url])
    if rendering is None or isinstance(failure.value, IgnoreRequest):
        return described(failure.value)
    if (words := plain_reason(failure.value)) is not None:
        return f"rendering failed: {words}"
    # Playwright's errors go on with the browser's log over many lines: the first says what happened.
    return f"rendering failed: {message(failure.value)}"


def wire_url(url: str) -> str:
    """``url`` with its host as browsers send it (:func:`~policy_archive.hostnames.ascii_url`, IDNA 2008), so that
    Scrapy never sees a non-ASCII host: w3lib's ``safe_url_string`` would convert it by IDNA 2003 and fetch another
    domain (``straße.example`` → ``strasse.example``). A host that cannot be converted is left as given (its
    download then fails); :meth:`PlanSpider.requests_for` refuses such a fetch before it is asked."""
    try:
        return ascii_url(url)
    except UnusableHost:
        return url


def _unusable_host(url: str) -> str | None:
    """Why no request can be made for ``url``'s host, or None when one can."""
    try:
        ascii_url(url)
    except UnusableHost as error:
        return str(error)
    return None
