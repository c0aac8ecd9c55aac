"""Downloader middlewares: nothing outside the archive asked by an archive crawl, the archive's shared rate limit,
Retry-After for live sites, robots.txt shared, no retry of an answer failing as served.

Scrapy 2.19 ignores Retry-After and retries 429s immediately; both middlewares replace that behaviour (429 and
503 are removed from RETRY_HTTP_CODES in :mod:`crawler.settings`). Scrapy's retries, which ask again at once, are
off for the archive altogether: a replay that fails for now is asked again after a wait (decision 0005).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from w3lib.url import safe_url_string

from policy_archive.crawler.exchange import proxy_host
from policy_archive.crawler.failures import (
    LOCATION_HOST_UNUSABLE,
    AnswerTooLarge,
    RobotsDisallowed,
    UnusableLocation,
    for_now,
    lasting,
    message,
    not_reached,
    plain_reason,
)
from policy_archive.crawler.ratelimit import RateLimiter, parse_retry_after
from policy_archive.crawler.reach import Reachability, Unreached
from policy_archive.crawler.sources.base import LISTING_ATTEMPTS
from policy_archive.crawler.stopping import stop_sending, unless_stopped
from policy_archive.errors import PolicyArchiveError
from policy_archive.hostnames import UnusableHost, ascii_url
from policy_archive.text import quoted

log = logging.getLogger(__name__)

PAUSE_STATUSES = (429, 503)
OUTSIDE_THE_ARCHIVE = "outside the archive"
MAX_ARCHIVE_PAUSES = 6  # with doubling from 60 s this waits over an hour before giving up on one capture
# The archive's own answers (without Memento-Datetime) that mean this replay failed for now; an archived capture's
# 5xx carries a Memento-Datetime and is content, never asked again.
FAILING_STATUSES = (500, 502, 504)
# The statuses Scrapy's RedirectMiddleware follows with a Location (as of 2.19).
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_LIVE_RETRY_AFTER = 300.0  # seconds; a site asking for longer is reported as failing this run
# Meta key of a replay asked again after connection failures: where its run of them began (Reachability.since).
UNANSWERED_SINCE = "unanswered_since"


def retry_after_seconds(response: Response) -> float | None:
    """The response's Retry-After as seconds, or None."""
    value = response.headers.get(b"Retry-After")
    return parse_retry_after(value.decode("latin-1") if value else None)


def is_archive_refusal(response: Response) -> bool:
    """The archive's own 429/503 — not an archived capture whose original status was 429 (that one has a
    Memento-Datetime header and is content, e.g. a site that rate-limited the archive's crawler)."""
    return response.status in PAUSE_STATUSES and b"Memento-Datetime" not in response.headers


class OutsideTheArchive(IgnoreRequest, PolicyArchiveError):
    """A request of an archive crawl not sent because it is no capture URL of the archive; ``str()`` is the
    reason (an IgnoreRequest for Scrapy, which then calls the request's errback without logging an error)."""

    def __init__(self, url: str):
        super().__init__(f"{OUTSIDE_THE_ARCHIVE}: {quoted(url)} is no capture URL of the archive, so it was not asked")


class ArchiveOnlyMiddleware:
    """Nothing an archive crawl sends leaves the archive: a request that is not one of its capture URLs is refused
    before it is sent. The spider only asks the URLs its archive source names (archived redirects included); this
    holds for whatever else would make a request, such as a Scrapy middleware following page content (its
    MetaRefreshMiddleware did: acceptance report 5, finding 1). A page rendered from the archive is opened at its
    original URL, every request of it answered from the archive by its route (crawler/routes.py)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveOnlyMiddleware:
        """The middleware of a crawl; the spider (and so its archive source) is read at each request."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Let ``request`` through when it is a capture URL of the spider's archive source (or a request of a page
        rendered from the archive, which its route answers); else raise :class:`OutsideTheArchive`."""
        rendering = request.meta.get("rendering")
        if rendering is not None and rendering.archive is not None:
            return
        source = self.crawler.spider.source  # type: ignore[union-attr]
        if not source.contains(request.url):
            raise OutsideTheArchive(source.shown(request.url))


class ArchiveRateLimitMiddleware:
    """Every request to the archive waits for a slot of the shared replay limiter; a 429/503 pauses them all."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRateLimitMiddleware:
        """The middleware of a crawl; the spider's replay limiter is read at each request."""
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Wait for a slot of the spider's replay limiter (not for a rendered page's requests: each waits on its
        own); raises :class:`~policy_archive.crawler.stopping.RunStopped` when the run is stopped meanwhile."""
        if "rendering" in request.meta:
            return  # a page rendered from the archive waits for the limiter for each of its own requests
        await unless_stopped(self.crawler, self.crawler.spider.replay_limiter.wait_async())  # type: ignore[union-attr]

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """The response, or the request to ask again: after the pause the archive's own 429/503 sets for every
        request (:data:`MAX_ARCHIVE_PAUSES` times at most), or after ``backoff_seconds`` for its own 500/502/504
        (:data:`LISTING_ATTEMPTS` tries in all); a rendered page's own downloads (``dont_retry``) are never asked
        again (crawler/routes.py ``ArchiveRoute`` takes a refusal)."""
        if (reach := self._reach()) is not None:
            reach.answered()  # whatever it says (a 429 too): the archive was reached
        if request.meta.get("dont_retry"):  # a rendered page's own downloads: a browser does not retry either
            return response  # nor waits out a refusal: its route fails the rendering, and pauses the others
        if is_archive_refusal(response):
            return self._after_the_pause(request, response) or response
        if response.status in FAILING_STATUSES and b"Memento-Datetime" not in response.headers:
            return await self._after_a_wait(request, f"answered {response.status}", {}) or response
        return response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """The request to ask again after ``backoff_seconds`` when its failure is one for now (timeout, refused or
        cut connection), up to :data:`LISTING_ATTEMPTS` tries; None (the failure stands) otherwise and for a rendered
        page's requests. A failure before any answer (refused, host not found, no route) is counted first
        (crawler/reach.py): once the archive is unreachable, nothing more is sent or asked again."""
        if "rendering" in request.meta or request.meta.get("dont_retry"):
            return None
        reach = self._reach()
        # A failure after a connection was made (a timeout, a reset) ends a replay's run of refusals.
        meta: dict[str, object] = {UNANSWERED_SINCE: None}
        if reach is not None and reach.unreached is not None:
            return None  # the run stopped asking the archive: the failure stands, nothing is asked again
        if reach is not None and not_reached(exception):
            since = reach.since(request.meta.get(UNANSWERED_SINCE), request.meta.get("archive_attempt", 1))
            if self._unreachable(request, exception, reach, since if for_now(exception) else None):
                return None
            meta[UNANSWERED_SINCE] = since
        if not for_now(exception):
            return None
        return await self._after_a_wait(request, f"failed ({plain_reason(exception) or message(exception)})", meta)

    def _unreachable(
        self, request: Request, exception: Exception, reach: Reachability, since: tuple[int, int] | None
    ) -> bool:
        """Count a replay that failed before any answer (``since``: where its run of such failures began, None for
        one not asked again); when that makes the archive unreachable (crawler/reach.py), stop sending anything
        to it and return True: the documents left are the rerun's, as a stop leaves them, and the job says why
        (``reach.unreached``)."""
        attempts = None if since is None else request.meta.get("archive_attempt", 1) - since[1] + 1
        if not reach.replay_failed(attempts):
            return False
        problem = plain_reason(exception) or message(exception)
        if proxy := proxy_host(request.url):  # the proxy refused, or could not be found
            problem = f"{problem}, through the proxy {proxy}"
        reach.unreached = Unreached(self._limiter().archive, problem, reach.failures_in_a_row)
        stop_sending(self.crawler, said=False)
        return True

    def _after_the_pause(self, request: Request, response: Response) -> Request | None:
        """A refusal (429/503) pauses every request to the archive; the request is asked again after the pause,
        :data:`MAX_ARCHIVE_PAUSES` times at most."""
        pauses = request.meta.get("archive_pauses", 0) + 1
        cause = f"answered {response.status}"
        seconds = self._limiter().penalize(retry_after_seconds(response), cause=cause)
        if pauses > MAX_ARCHIVE_PAUSES:
            return None
        log.info("archive %s for %s: asking again after the pause of %.0f s", cause, self._shown(request), seconds)
        return request.replace(dont_filter=True, meta={**request.meta, "archive_pauses": pauses})

    async def _after_a_wait(self, request: Request, cause: str, meta: dict[str, object]) -> Request | None:
        """A replay that failed for now (the archive's own 500/502/504, no answer in time, a connection refused,
        reset or cut short) is asked again after ``backoff_seconds``, :data:`LISTING_ATTEMPTS` times in all; then
        the spider reports it not fetched, with its reason.

        Only this request waits: such a failure is often one capture's own (as of 2026-11 the Internet Archive
        answers 5xx for a capture whose WARC is out of reach, every time), and pausing every request for it would
        hold the whole run, doubling, once per broken capture."""
        attempt = request.meta.get("archive_attempt", 1)
        if attempt >= LISTING_ATTEMPTS:
            return None
        limiter = self._limiter()
        log.warning(
            "archive %s %s for %s: asking again in %.0f s (attempt %d of %d)",
            *(limiter.archive, cause, self._shown(request), limiter.backoff_seconds, attempt + 1, LISTING_ATTEMPTS),
        )
        await unless_stopped(self.crawler, asyncio.sleep(limiter.backoff_seconds))
        return request.replace(dont_filter=True, meta={**request.meta, **meta, "archive_attempt": attempt + 1})

    def _limiter(self) -> RateLimiter:
        return self.crawler.spider.replay_limiter  # type: ignore[union-attr,no-any-return]

    def _reach(self) -> Reachability | None:
        """The crawl's count of replays failing before any answer (the archive spider's), None for a crawl without."""
        return getattr(self.crawler.spider, "reach", None)

    def _shown(self, request: Request) -> str:
        """The request's capture, never its URL, which holds ``replay_url`` and so may hold the archive's token."""
        return self.crawler.spider.source.shown(request.url)  # type: ignore[union-attr,no-any-return]


class RetryAfterMiddleware:
    """A live site answering 429/503 with a reasonable Retry-After is asked again once, after that delay (unless
    the run is stopped meanwhile: the page is then not fetched)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        """The middleware of a crawl (whose stop it watches while waiting)."""
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """The request to ask again once, after the delay, for a 429/503 whose Retry-After is at most
        :data:`MAX_LIVE_RETRY_AFTER` seconds; else the response as it is. Raises
        :class:`~policy_archive.crawler.stopping.RunStopped` when the run is stopped during the wait."""
        delay = retry_after_seconds(response) if response.status in PAUSE_STATUSES else None
        if delay is None or delay > MAX_LIVE_RETRY_AFTER or request.meta.get("retried_after"):
            return response
        log.warning("%s answered %s: retrying after %.0f s (Retry-After)", request.url, response.status, delay)
        await unless_stopped(self.crawler, asyncio.sleep(delay))
        return request.replace(dont_filter=True, meta={**request.meta, "retried_after": True})


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, except that every request waiting for a site's robots.txt gets its rules.

    Scrapy 2.19 (checked 2026-11) makes all requests that arrive while a site's robots.txt is downloading await
    one shared Deferred through ``asFuture``, which consumes its result: only the first gets the parser, the
    others get None and are let through unchecked — so a site's second and later documents ignored
    ``Disallow`` on a first run. Each waiter here gets its own Deferred, fed without consuming the shared one.
    A refusal says which URL, in our words (:class:`RobotsDisallowed`).
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The robots.txt parser of the request's site (None when there is none to obey), each waiter for a
        robots.txt still downloading getting it too."""
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def hand_on(parser: RobotParser | None) -> RobotParser | None:
            waiter.callback(parser)
            return parser  # keeps the result for the next waiter

        pending.addCallback(hand_on)
        return await maybe_deferred_to_future(waiter)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        """Scrapy's check, its refusal in our words (Scrapy 2.19 says ``Forbidden by robots.txt``)."""
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            raise RobotsDisallowed(request.url) from None


RobotsRule = Callable[[str], Awaitable[bool]]


def robots_rule(crawler: Crawler) -> RobotsRule | None:
    """Whether the site's robots.txt lets this crawl request a URL, for requests the crawl does not send itself
    (those of a page rendered in the browser); None when robots.txt is not obeyed.

    The crawl's own robots.txt middleware decides, so the rules are the same (our user agent, Scrapy's parser)
    and each origin's robots.txt is fetched once, through the crawl (its download slot, delays and address
    checks), and kept for the run — shared with the pages' own checks.
    """
    middlewares = crawler.engine.downloader.middleware.middlewares  # type: ignore[union-attr]
    middleware = next((m for m in middlewares if isinstance(m, RobotsTxtMiddleware)), None)
    if middleware is None:
        return None

    async def allowed(url: str) -> bool:
        try:
            await middleware.process_request(Request(url))
        except IgnoreRequest:
            return False
        return True

    return allowed


class AsServedMiddleware:
    """A live page whose answer has a header line or block over what this client reads is not asked again at once.

    Scrapy's RetryMiddleware (550) asks again, twice, after any download that broke off; such an answer breaks
    off the same way every time (crawler/lasting.py ``lasting``). Placed after it (its ``process_exception`` is
    called first), this marks the request ``dont_retry``, which RetryMiddleware honours (Scrapy 2.19)."""

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Mark the request ``dont_retry`` when its download broke off for a lasting reason (an answer over what this
        client reads); returns None, so the exception goes on to RetryMiddleware."""
        if (words := plain_reason(exception)) is not None and lasting(words):
            request.meta["dont_retry"] = True


class SizeCutMiddleware:
    """An answer without a Content-Length cut at ``max_page_bytes`` is said to be too large, live or archived.

    Scrapy 2.19's HTTP/1.1 handler counts such an answer's bytes as they come and, past the request's
    ``download_maxsize`` (``DOWNLOAD_MAXSIZE`` otherwise), cancels its download: the DownloadCancelledError that
    follows carries no text (audit 10, 2026-11-28: ``the download failed (no details given)``, asked again as if for
    now). Its ``bytes_received`` signal, sent for each piece before that check, is counted here per request; a
    DownloadCancelledError of a request whose count passed its limit becomes :class:`AnswerTooLarge`, raised from
    ``process_exception`` so that no middleware below asks it again (it is the same answer every time). Placed
    at 840, under DownloaderStats (850), so that its exception is counted as Scrapy's was."""

    def __init__(self, crawler: Crawler):
        self.default_limit = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        # Per request object: a request asked again is a copy, counted afresh; a finished one is forgotten.
        self.received: weakref.WeakKeyDictionary[Request, int] = weakref.WeakKeyDictionary()
        crawler.signals.connect(self.count, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SizeCutMiddleware:
        """The middleware of a crawl, counting its answers' bytes."""
        return cls(crawler)

    def count(self, data: bytes, request: Request, spider: object = None) -> None:
        """Count a piece of ``request``'s answer (Scrapy's ``bytes_received`` signal)."""
        self.received[request] = self.received.get(request, 0) + len(data)

    def process_response(self, request: Request, response: Response) -> Response:
        """The response as it is; its request's count forgotten."""
        self.received.pop(request, None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Raise :class:`AnswerTooLarge` when ``exception`` is the cancelled download of an answer past its limit;
        None (the exception goes on) otherwise."""
        received = self.received.pop(request, 0)
        limit = request.meta.get("download_maxsize", self.default_limit)
        if isinstance(exception, DownloadCancelledError) and limit and received > limit:
            raise AnswerTooLarge(received, limit) from exception


# What w3lib strips from both ends of a URL before reading it (C0 controls and the space), as browsers do.
_URL_STRIPPED = "".join(map(chr, range(0x21)))


def redirect_target(url: str, location: bytes) -> str:
    """Where a live redirect from ``url`` with the ``Location`` header ``location`` (its bytes as sent) leads: the
    absolute URL, its host as browsers send it (:func:`~policy_archive.hostnames.ascii_url`, IDNA 2008).

    Read as Scrapy's RedirectMiddleware reads it (Scrapy 2.19: w3lib's ``safe_url_string``, UTF-8 with any other
    byte percent-encoded, then ``urljoin``), except for the host: w3lib converts a non-ASCII one by Python's IDNA
    2003 codec, so that ``Location: http://straße.example/`` led to ``strasse.example``, another domain, where a
    browser goes to ``xn--strae-oqa.example`` (audit 10, 2026-11-28); and it passes a percent-encoded host on as it
    is (``stra%C3%9Fe.example``), decoded here as browsers decode it. Raises
    :class:`~policy_archive.crawler.failures.UnusableLocation` for a Location that is no URL, or whose host cannot be
    sent (IDNA refuses it, or it is longer than DNS allows)."""
    text = location.decode("utf-8", "percentencode")  # w3lib's error handler, registered by w3lib.url
    try:
        target = urljoin(url, safe_url_string(location))  # what Scrapy cannot follow is refused here
        if not text.isascii():
            target = ascii_url(urljoin(url, text.strip(_URL_STRIPPED)))
        elif "%" in urlsplit(target).netloc:  # a percent-encoded host, which w3lib passes on encoded
            target = ascii_url(target)
    except UnusableHost as error:
        raise UnusableLocation(text, str(error), LOCATION_HOST_UNUSABLE) from None
    except ValueError as error:  # urllib's, e.g. "Invalid IPv6 URL"
        raise UnusableLocation(location.decode("utf-8", "replace"), str(error)) from error
    return target


class RedirectLocationMiddleware:
    """A live redirect's ``Location`` made what Scrapy's RedirectMiddleware (600) follows as a browser would, before
    it reads it: placed above 600 and below the rendering's NavigationRedirectMiddleware (650), whose answers carry
    the browser's redirect's Location.

    One that is no URL (``http://[::1/x``) is refused in words: there urllib's ``ValueError`` ("Invalid IPv6 URL")
    became a download that failed for now, asked again every run under words that hid the cause. One naming a
    non-ASCII host is rewritten to the absolute URL with its host as browsers send it (:func:`redirect_target`), so
    that Scrapy, which would convert it by IDNA 2003, never sees it; then the next hop, checked by
    ``PrivateAddressMiddleware`` like any request, is looked up and checked under the name it is sent to. One
    whose host cannot be sent is refused in words too."""

    def process_response(self, request: Request, response: Response) -> Response:
        """The response as it is, unless it is a redirect: one whose ``Location`` names a non-ASCII or
        percent-encoded host comes back
        with that header the absolute URL to follow, its host in ASCII (a copy); raises
        :class:`~policy_archive.crawler.failures.UnusableLocation` for one Scrapy could not resolve (urllib's words)
        or whose host cannot be sent."""
        raw = response.headers.get(b"Location")
        if raw is None or response.status not in REDIRECT_STATUSES:
            return response
        target = redirect_target(request.url, raw)
        if raw.isascii() and target == urljoin(request.url, safe_url_string(raw)):
            return response  # Scrapy reads it as we did: left as sent
        headers = response.headers.copy()
        headers["Location"] = target
        return response.replace(headers=headers)
