"""Download raw (``id_``) captures from a Wayback-compatible archive, following redirects inside it only.

Two kinds of redirect come back from a replay, told apart by ``Memento-Datetime`` (RFC 7089; both recorded
from the Wayback Machine in 2020–2026, see tests/fixtures/archive-responses):
- an *archived* redirect (a 3xx the site itself sent, with ``Memento-Datetime``): a capture of its own, kept,
  and followed to its target's memento inside the archive, whether the archive rewrote its ``Location`` into
  a capture URL (the Wayback Machine) or replays it as the site sent it (pywb), see
  :meth:`ArchiveSource.redirect_target`;
- the *archive's* redirect to the nearest memento (no ``Memento-Datetime``): followed, nothing to keep.
What is handed over is dated by the ``Memento-Datetime`` of the answer whose bytes it holds, never by the CDX
row that led there, and filed under the URL those bytes were archived from (the ``Link`` header's
``rel="original"``, within the key asked for), never merely the URL asked for. An answer without
``Memento-Datetime`` is the archive speaking, not a capture: a 200 "This URL has been excluded" page or a 404
"not archived" page is refused as ``not-archived``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response

from policy_archive.config.settings import CrawlSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.render import PageRendering
from policy_archive.crawler.routes import ArchiveRoute
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.sources.base import (
    ARCHIVE_LOCATION_NOT_URL,
    ARCHIVED_LOCATION_NOT_URL,
    LEAVES_ARCHIVE,
    NOT_ARCHIVED,
    REDIRECT_LOOP,
    TOO_MANY_REDIRECTS,
    original_of_memento,
    parse_memento_datetime,
    url_error,
)
from policy_archive.crawler.spiders.base import (
    FetchPlan,
    PlanSpider,
    content_type,
    now,
    response_headers,
)
from policy_archive.records import Capture, FetchFailure, FetchRequest, Source, iso_z, payload_sha1
from policy_archive.text import plural, quoted

MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# The archive's own headers on a replay answer, left out of what is kept: a copy of the site's answer carries the
# site's headers, and its WARC headers say when and where it was archived (WARC-Date, WARC-Source-URI). The names
# pywb's recorder leaves out of what it copies from another archive (pywb 2.10, ``LiveWebLoader.SKIP_HEADERS``,
# read 2026-11); a replay tool adds its own Memento headers to what it serves.
ARCHIVE_HEADERS = frozenset({"link", "memento-datetime", "content-location", "x-archive"})


def memento_datetime(response: Response) -> datetime | None:
    """The response's ``Memento-Datetime`` (aware UTC), or None when absent or unreadable."""
    return parse_memento_datetime(response.headers.get(b"Memento-Datetime", b"").decode("latin-1"))


class WaybackSpider(PlanSpider):
    name = "wayback"
    source = Source.WAYBACK

    def __init__(
        self,
        plan: FetchPlan,
        source: ArchiveSource,
        replay_limiter: RateLimiter,
        user_agent: str = CrawlSettings.user_agent,
        **kwargs: Any,
    ):
        super().__init__(plan, **kwargs)
        self.source = source
        self.replay_limiter = replay_limiter
        self.user_agent = user_agent

    def rendering(self, fetch: FetchRequest) -> tuple[str, PageRendering]:
        """A capture is rendered at its original URL, every request of the page answered from the archive."""
        located = self.source.locate(fetch.url)
        assert located is not None, "render requests of an archive name one of its capture URLs"
        timestamp, original = located
        route = ArchiveRoute(fetch.url, self.source, timestamp, self.replay_limiter, self.user_agent)
        return original, PageRendering(self.render_timeout, archive=route)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        fetch: FetchRequest = response.meta["fetch"]
        hops: tuple[Capture, ...] = response.meta.get("hops", ())
        visited: tuple[str, ...] = response.meta.get("visited", ())
        memento = memento_datetime(response)
        if memento is not None and response.status in REDIRECT_STATUSES:
            hop = self._capture(response, fetch, memento)
            # The same capture served again (a key held only as a redirect to itself) is one record, not two.
            again = any((held.url, held.captured_at) == (hop.url, hop.captured_at) for held in hops)
            yield from self._follow(response, fetch, hops if again else (*hops, hop), visited, memento)
        elif memento is not None and isinstance(payloads := self.payloads(response), str):
            yield from self.rendering_failed(fetch, payloads)
        elif memento is not None:
            yield from self.hand_over(self._capture(response, fetch, memento, hops, payloads))
        elif response.status in REDIRECT_STATUSES:
            yield from self._follow(response, fetch, hops, visited, None)
        elif response.status == 429 or response.status >= 500:
            reason = f"the archive answered {response.status} (kept refusing or failing)"
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, hops=hops))
        else:
            reason = f"{NOT_ARCHIVED}: the archive answered {response.status} without a Memento-Datetime"
            reason += self._after_redirects(response, visited)
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, refused=True, hops=hops))

    def _capture(
        self,
        response: Response,
        fetch: FetchRequest,
        memento: datetime,
        hops: tuple[Capture, ...] = (),
        payloads: tuple[bytes, bytes | None, str] | None = None,
    ) -> Capture:
        body, rendered, fetched_url = payloads or (response.body, None, response.url)
        located = self.source.locate(fetched_url)
        link = response.headers.get(b"Link", b"").decode("latin-1")
        original = original_of_memento(link, located[1] if located else fetch.original_url)
        return Capture(
            document=fetch.document,
            source=Source.WAYBACK,
            url=original,
            fetched_url=fetched_url,
            captured_at=memento,
            status=response.status,
            content_type=content_type(response),
            body=body,
            payload_sha1=payload_sha1(body),
            headers=self._site_headers(response),
            redirects=tuple(hop.fetched_url for hop in hops),
            listed=fetch.ref,
            fetched_at=now(),
            snapshot_url=self.source.capture_url(memento, original),
            hops=hops,
            rendered=rendered,
        )

    def _site_headers(self, response: Response) -> tuple[tuple[str, str], ...]:
        """The answer's headers as the site sent them (what pywb's recorder keeps of a copied answer): the
        archive's own left out, a ``Location`` the archive rewrote into one of its capture URLs given back as the
        site's URL, so that a copied redirect replays inside the collection that holds it (issue 10)."""
        return tuple(
            (name, self.source.site_location(value, response.url) if name.lower() == "location" else value)
            for name, value in response_headers(response)
            if name.lower() not in ARCHIVE_HEADERS
        )

    def _follow(
        self,
        response: Response,
        fetch: FetchRequest,
        hops: tuple[Capture, ...],
        visited: tuple[str, ...],
        memento: datetime | None,
    ) -> Iterator[scrapy.Request]:
        """Follow a redirect inside the archive (``memento``: the archived redirect's time, None for the
        archive's own redirect)."""
        location = response.headers.get(b"Location", b"").decode("latin-1")
        error = url_error(location)
        target = None if error else self.source.redirect_target(location, response.url, memento)
        if error:
            # One capture's garbled header, archived as the site sent it: that capture refused, never the run.
            words = ARCHIVED_LOCATION_NOT_URL if memento else ARCHIVE_LOCATION_NOT_URL
            reason = f"{words}: {quoted(location)} ({error})"
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, refused=True, hops=hops))
        elif target is None:
            # Never leave the archive: a Location outside it would fetch today's live page as history.
            reason = f"{LEAVES_ARCHIVE} ({quoted(location) if location else 'no Location'})"
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, refused=True, hops=hops))
        elif target in visited or target == response.url or len(visited) >= MAX_REDIRECTS:
            yield from self.hand_over(
                FetchFailure(
                    fetch, self._stopped(target, response.url, visited), response.status, refused=True, hops=hops
                )
            )
        else:
            yield self.request(fetch, url=target, hops=hops, visited=(*visited, response.url))

    def _after_redirects(self, response: Response, visited: tuple[str, ...]) -> str:
        """`` (for URL asked at DATE, after N redirects inside the archive)`` when the answer came at the end of a
        chain: what was not archived is then the chain's last URL, not the listed one. Empty for a first answer."""
        if not visited:
            return ""
        located = self.source.locate(response.url)
        where = f"{located[1]} asked at {iso_z(located[0])}" if located else response.url
        return f" (for {where}, after {len(visited)} {plural(len(visited), 'redirect')} inside the archive)"

    def _stopped(self, target: str, asked: str, visited: tuple[str, ...]) -> str:
        """Why a chain of redirects inside the archive is not followed from ``asked`` to ``target``: it comes back
        to a replay already asked for (the one just answered, when a key holds nothing but a redirect to itself),
        or it is longer than :data:`MAX_REDIRECTS`."""
        located = self.source.locate(target)
        where = f"{located[1]} at {iso_z(located[0])}" if located else target
        if target == asked:
            return f"{REDIRECT_LOOP} (the archive serves {where} as a redirect to itself)"
        if target in visited or len(visited) < MAX_REDIRECTS:
            return f"{REDIRECT_LOOP} (back to {where})"
        return f"{TOO_MANY_REDIRECTS} (more than {MAX_REDIRECTS}; the next to {where})"
