"""Downloader middlewares: the archive's shared rate limit, Retry-After for live sites, robots.txt shared.

Scrapy 2.19 ignores Retry-After and retries 429s immediately; both middlewares replace that behaviour (429 and
503 are removed from RETRY_HTTP_CODES in :mod:`crawler.settings`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from policy_archive.crawler.ratelimit import parse_retry_after
from policy_archive.crawler.stopping import unless_stopped

log = logging.getLogger(__name__)

PAUSE_STATUSES = (429, 503)
MAX_ARCHIVE_PAUSES = 6  # with doubling from 60 s this waits over an hour before giving up on one capture
MAX_LIVE_RETRY_AFTER = 300.0  # seconds; a site asking for longer is reported as failing this run


def retry_after_seconds(response: Response) -> float | None:
    """The response's Retry-After as seconds, or None."""
    value = response.headers.get(b"Retry-After")
    return parse_retry_after(value.decode("latin-1") if value else None)


def is_archive_refusal(response: Response) -> bool:
    """The archive's own 429/503 — not an archived capture whose original status was 429 (that one has a
    Memento-Datetime header and is content, e.g. a site that rate-limited the archive's crawler)."""
    return response.status in PAUSE_STATUSES and b"Memento-Datetime" not in response.headers


class ArchiveRateLimitMiddleware:
    """Every request to the archive waits for a slot of the shared replay limiter; a 429/503 pauses them all."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRateLimitMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if "rendering" in request.meta:
            return  # a page rendered from the archive waits for the limiter for each of its own requests
        await unless_stopped(self.crawler, self.crawler.spider.replay_limiter.wait_async())  # type: ignore[union-attr]

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if not is_archive_refusal(response):
            return response
        pauses = request.meta.get("archive_pauses", 0) + 1
        seconds = self.crawler.spider.replay_limiter.penalize(retry_after_seconds(response))  # type: ignore[union-attr]
        if pauses > MAX_ARCHIVE_PAUSES:
            return response
        log.warning("archive answered %s for %s: retrying after %.0f s", response.status, request.url, seconds)
        return request.replace(dont_filter=True, meta={**request.meta, "archive_pauses": pauses})


class RetryAfterMiddleware:
    """A live site answering 429/503 with a reasonable Retry-After is asked again once, after that delay (unless
    the run is stopped meanwhile: the page is then not fetched)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
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
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def hand_on(parser: RobotParser | None) -> RobotParser | None:
            waiter.callback(parser)
            return parser  # keeps the result for the next waiter

        pending.addCallback(hand_on)
        return await maybe_deferred_to_future(waiter)


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
