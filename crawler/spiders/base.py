"""What both spiders share: they download what a fetch plan asks for and hand every result back to it.

The plan (``pipeline.run``) decides what to fetch next from what it has learnt (change-point search needs the
text of one capture to choose the next), so requests flow: plan → spider → plan, and results are never kept
in the spider.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from policy_archive.records import Capture, FetchFailure, FetchRequest, Source


class FetchPlan(Protocol):
    def start(self) -> Iterable[FetchRequest]: ...

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]: ...


def payload_sha1(body: bytes) -> str:
    """Base32 SHA-1 of a payload: the form of CDX digests, so live and archive captures compare."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def response_headers(response: Response) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        for value in values
    )


def content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class PlanSpider(scrapy.Spider):
    source: Source

    def __init__(self, plan: FetchPlan, **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for fetch in self.plan.start():
            yield self.request(fetch)

    def request(self, fetch: FetchRequest, url: str | None = None, **meta: Any) -> scrapy.Request:
        return scrapy.Request(
            url or fetch.url,
            headers=dict(fetch.headers),
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={"fetch": fetch, **meta},
        )

    def hand_over(self, result: Capture | FetchFailure) -> Iterator[scrapy.Request]:
        for fetch in self.plan.handle(result):
            yield self.request(fetch)

    def failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        fetch: FetchRequest = failure.request.meta["fetch"]  # type: ignore[attr-defined]
        reason = failure.getErrorMessage() or failure.type.__name__
        if "download max size" in reason:
            reason += " (setting [crawl] max_page_bytes)"
        yield from self.hand_over(FetchFailure(fetch, f"{failure.type.__name__}: {reason}"))
