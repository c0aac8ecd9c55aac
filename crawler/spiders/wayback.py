"""Download raw captures from a web archive, following redirects inside it only (the source names its URLs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.spiders.base import FetchPlan, PlanSpider, content_type, payload_sha1, response_headers
from policy_archive.records import Capture, FetchFailure, FetchRequest, Source

MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class WaybackSpider(PlanSpider):
    name = "wayback"
    source = Source.WAYBACK

    def __init__(self, plan: FetchPlan, source: ArchiveSource, replay_limiter: RateLimiter, **kwargs: Any):
        super().__init__(plan, **kwargs)
        self.source = source
        self.replay_limiter = replay_limiter

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        fetch: FetchRequest = response.meta["fetch"]
        hops: tuple[str, ...] = response.meta.get("hops", ())
        if response.status in REDIRECT_STATUSES:
            yield from self._follow(response, fetch, hops)
            return
        if response.status in (429, 503) and b"Memento-Datetime" not in response.headers:
            yield from self.hand_over(FetchFailure(fetch, "archive kept refusing (rate limited)", response.status))
            return
        if response.status == 404 and b"Memento-Datetime" not in response.headers:
            yield from self.hand_over(FetchFailure(fetch, "archive has no such capture", 404))
            return
        assert fetch.ref is not None, "archive fetches always come from a CDX row"
        capture = Capture(
            document=fetch.document,
            source=Source.WAYBACK,
            url=fetch.original_url,
            fetched_url=response.url,
            captured_at=fetch.ref.timestamp,
            status=response.status,
            content_type=content_type(response),
            body=response.body,
            payload_sha1=payload_sha1(response.body),
            headers=response_headers(response),
            redirects=hops,
        )
        yield from self.hand_over(capture)

    def _follow(self, response: Response, fetch: FetchRequest, hops: tuple[str, ...]) -> Iterator[scrapy.Request]:
        location = response.headers.get(b"Location", b"").decode("latin-1")
        target = urljoin(response.url, location) if location else ""
        if not self.source.contains(target):
            # Never leave the archive: a Location outside it would fetch today's live page as history.
            reason = f"redirect leaves the archive ({location or 'no Location'})"
            yield from self.hand_over(FetchFailure(fetch, reason, response.status))
        elif target in hops or target == response.url or len(hops) >= MAX_REDIRECTS:
            yield from self.hand_over(FetchFailure(fetch, "redirect loop inside the archive", response.status))
        else:
            yield self.request(fetch, url=target, hops=(*hops, response.url))
