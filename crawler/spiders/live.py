"""Download the live documents now: conditional requests, robots.txt, one request at a time per site."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from policy_archive.crawler.middlewares import robots_rule
from policy_archive.crawler.render import PageRendering
from policy_archive.crawler.rendered_downloads import CrawlDownloads
from policy_archive.crawler.spiders.base import (
    Output,
    PlanSpider,
    content_type,
    now,
    response_headers,
    times_asked,
)
from policy_archive.records import Capture, FetchFailure, FetchRequest, Source, payload_sha1


class LiveSpider(PlanSpider):
    """Downloads live pages (:func:`~policy_archive.crawler.runner.crawl_live`): a capture per answer, a 304 handed
    over as not modified."""

    name = "live"
    source = Source.LIVE
    retried: Callable[[FetchRequest], None] | None = None

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, *args: Any, retried: Callable[[FetchRequest], None] | None = None, **kwargs: Any
    ) -> LiveSpider:
        """``retried``, if given, is told each fetch whose request failed and is asked again: Scrapy's
        RetryMiddleware hands the engine a copy of the request, counting its attempts in ``retry_times``."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if retried is not None:
            spider.retried = retried
            crawler.signals.connect(spider.scheduled, signal=signals.request_scheduled)
        return spider

    def scheduled(self, request: scrapy.Request) -> None:
        """Tell ``retried`` of a fetch whose request Scrapy's RetryMiddleware scheduled again (the
        ``request_scheduled`` signal)."""
        if self.retried is not None and request.meta.get("retry_times") and "fetch" in request.meta:
            self.retried(request.meta["fetch"])

    @cached_property
    def page_downloads(self) -> CrawlDownloads:
        """How a rendered page's own requests are downloaded: through this crawl, under its robots.txt rule."""
        return CrawlDownloads(self.crawler, robots_rule(self.crawler))

    def rendering(self, fetch: FetchRequest) -> tuple[str, PageRendering]:
        """Every request the rendered page makes is downloaded by the crawl: held to the same internal-address
        policy (on the address it connects to) and robots.txt rules as the crawl's own, one at a time per site."""
        return fetch.url, PageRendering(self.render_timeout, live=self.page_downloads)

    def parse(self, response: Response) -> Iterator[Output]:
        """Hand the plan the live capture of ``response`` (dated now, UTC), or why it cannot be used; a 304 as not
        modified."""
        fetch: FetchRequest = response.meta["fetch"]
        if response.status == 304:
            yield from self.hand_over(FetchFailure(fetch, "not modified", 304, not_modified=True))
            return
        payloads = self.payloads(response)
        if isinstance(payloads, str):
            yield from self.rendering_failed(fetch, payloads, response.status)
            return
        body, rendered, fetched_url = payloads
        rendering: PageRendering | None = response.meta.get("rendering")
        capture = Capture(
            document=fetch.document,
            source=Source.LIVE,
            url=fetch.original_url,
            fetched_url=fetched_url,
            captured_at=now(),
            status=response.status,
            content_type=content_type(response),
            body=body,
            payload_sha1=payload_sha1(body),
            headers=response_headers(response),
            redirects=tuple(response.meta.get("redirect_urls", ())),
            rendered=rendered,
            not_requested=tuple(rendering.not_requested) if rendering else (),
            asked=times_asked(response.meta),
        )
        yield from self.hand_over(capture)
