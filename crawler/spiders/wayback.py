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
"not archived" page is refused as ``not-archived``; a 401 or 403 without it is the archive refusing to serve a
capture it lists, which may change: a failure for now, asked again by the next run (``SERVING_REFUSED``); a 451
without it is the archive's access rules refusing the capture, which last: refused (``ACCESS_BLOCKED``), asked again
by ``backfill --retry-refused``.

A chain of redirects is bounded twice over (:class:`Trail`): the site's archived redirects followed, at most
:data:`MAX_REDIRECTS`; the archive's own, apart (:data:`MAX_ARCHIVE_REDIRECTS_IN_A_ROW`), so that neither kind uses
up the other's allowance; together they bound what one listed capture costs (:data:`MAX_REPLAY_REQUESTS`). A loop
is a capture reached again: the same URL key (:func:`~policy_archive.urlkey.match_key`) at the same
time, however its URLs are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from http import HTTPStatus
from typing import Any

from scrapy.http import Response

from policy_archive.config.settings import CrawlSettings
from policy_archive.crawler.failures import asked_times, location_not_url
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.reach import Reachability
from policy_archive.crawler.render import PageRendering
from policy_archive.crawler.rendered_downloads import ArchiveDownloads
from policy_archive.crawler.routes import ArchiveRoute
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.sources.base import (
    ACCESS_BLOCKED,
    ACCESS_BLOCKED_STATUS,
    ARCHIVE_LOCATION_NOT_URL,
    ARCHIVE_REDIRECTING,
    ARCHIVED_LOCATION_NOT_URL,
    LEAVES_ARCHIVE,
    NOT_ARCHIVED,
    REDIRECT_LOOP,
    SERVING_REFUSED,
    SERVING_REFUSED_STATUSES,
    TOO_MANY_REDIRECTS,
    original_of_memento,
    parse_memento_datetime,
    url_error,
)
from policy_archive.crawler.spiders.base import (
    FetchPlan,
    Output,
    PlanSpider,
    content_type,
    now,
    response_headers,
    times_asked,
)
from policy_archive.records import Capture, FetchFailure, FetchRequest, Source, iso_z, payload_sha1
from policy_archive.text import plural, quoted, safe_url
from policy_archive.urlkey import match_key

# The site's archived redirects (3xx captures, kept as WARC response records) followed from one listed capture:
# a common chain of site moves (http → https → www. → a new path) is 3, and 5 leaves room for more.
MAX_REDIRECTS = 5
# The archive's own redirects (no Memento-Datetime) only lead to a capture, so they are bounded apart, for an archive
# that redirects without end (between timestamps, never serving a capture) to cost a few requests, not a run: at most
# 2 in a row, one to the nearest memento of the URL asked (the Wayback Machine's answer to a timestamp it holds no
# capture at, recorded 2020–2026 in tests/fixtures/archive-responses), and one more when that memento is a
# self-redirect it skips for the nearest other capture (recorded 2020-09-21 for epa.gov/climatechange); a third
# without a capture between is the archive going round.
MAX_ARCHIVE_REDIRECTS_IN_A_ROW = 2
# The replay requests one listed capture costs at most, then: the longest chain followed reaches MAX_REDIRECTS + 1
# captures (the archived redirects and the page they lead to), each asked once and reached through at most
# MAX_ARCHIVE_REDIRECTS_IN_A_ROW of the archive's own redirects, (1 + 2) × (5 + 1) = 18. It follows from the two
# bounds, which stop a chain before it asks for more, so it is not checked apart: a lower bound of its own refused
# chains both allow (2 × (5 + 1) = 12 did: 5 site moves, each behind 2 of the archive's redirects, ask for 16).
MAX_REPLAY_REQUESTS = (1 + MAX_ARCHIVE_REDIRECTS_IN_A_ROW) * (MAX_REDIRECTS + 1)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# The archive's own headers on a replay answer, left out of what is kept: a copy of the site's answer carries the
# site's headers, and its WARC headers say when and where it was archived (WARC-Date, WARC-Source-URI). The names
# pywb's recorder leaves out of what it copies from another archive (pywb 2.10, ``LiveWebLoader.SKIP_HEADERS``,
# read 2026-11); a replay tool adds its own Memento headers to what it serves.
ARCHIVE_HEADERS = frozenset({"link", "memento-datetime", "content-location", "x-archive"})


def _without_memento_datetime(response: Response) -> str:
    """How an answer lacks a date: no ``Memento-Datetime`` at all, or one that cannot be read (said as sent)."""
    sent = response.headers.get(b"Memento-Datetime")
    if sent is None:
        return "without a Memento-Datetime"
    return f"with an unreadable Memento-Datetime ({sent.decode('latin-1')[:80]!r})"


def memento_datetime(response: Response) -> datetime | None:
    """The response's ``Memento-Datetime`` (aware UTC), or None when absent or unreadable."""
    return parse_memento_datetime(response.headers.get(b"Memento-Datetime", b"").decode("latin-1"))


CaptureKey = tuple[str, datetime]  # a capture as the archive files it: its URL key and its time


@dataclass(frozen=True)
class Trail:
    """Where a chain of redirects inside the archive has been, from one listed capture, up to the answer in hand:
    the replay requests made, the archive's own redirects since the last capture served, and the captures reached
    (the site's archived redirects) in order."""

    requests: int = 1
    in_a_row: int = 0
    reached: tuple[CaptureKey, ...] = ()

    def served(self, capture: CaptureKey) -> Trail:
        """The trail once the archive served ``capture`` (an archived redirect): reached, and the archive's own
        redirects counted from zero again."""
        return replace(self, in_a_row=0, reached=(*self.reached, capture))

    def redirected(self) -> Trail:
        """The trail after one more redirect of the archive's own (no ``Memento-Datetime``)."""
        return replace(self, in_a_row=self.in_a_row + 1)

    def asked(self) -> Trail:
        """The trail after one more replay request."""
        return replace(self, requests=self.requests + 1)


def named(url: str, at: datetime) -> str:
    """``URL at DATE`` in a reason, the URL written safe for one line (a Location may hold control characters)."""
    return f"{safe_url(url)} at {iso_z(at)}"


def back_to(capture: Capture) -> str:
    """Why a chain is refused when it reaches ``capture`` a second time (named by the URL it was archived from)."""
    return f"{REDIRECT_LOOP} (back to {named(capture.url, capture.captured_at)})"


class WaybackSpider(PlanSpider):
    """Downloads captures from an archive source's replay, following archived redirects to their targets' captures,
    its requests paced by ``replay_limiter`` (crawler/middlewares.py), their failures before any answer counted in
    ``reach`` (crawler/reach.py: the crawl stops once the archive is unreachable)."""

    name = "wayback"
    source = Source.WAYBACK

    def __init__(
        self,
        plan: FetchPlan,
        source: ArchiveSource,
        replay_limiter: RateLimiter,
        user_agent: str = CrawlSettings.user_agent,
        reach: Reachability | None = None,
        **kwargs: Any,
    ):
        super().__init__(plan, **kwargs)
        self.source = source
        self.replay_limiter = replay_limiter
        self.reach = reach or Reachability()
        self.user_agent = user_agent
        self._page_downloads: ArchiveDownloads | None = None

    def page_downloads(self) -> ArchiveDownloads:
        """How a page rendered from the archive has its requests downloaded: by this crawl (made once)."""
        if self._page_downloads is None:
            self._page_downloads = ArchiveDownloads.of(self.crawler)
        return self._page_downloads

    def rendering(self, fetch: FetchRequest) -> tuple[str, PageRendering]:
        """A capture is rendered at its original URL, every request of the page answered from the archive; opened
        with the declared URL's fragment (``fetch.fragment``), which the replay URL has not, so that a hash-routed
        page's scripts show the section it names. The browser never sends it: the route is asked for the URL
        without it, and answers with ``fetch.url``, the capture's ``id_`` replay (checked with Playwright 1.65.2 and
        Debian's Chromium, 2026-11-29: a request's URL has no fragment, ``location.hash`` has it)."""
        located = self.source.locate(fetch.url)
        assert located is not None, "render requests of an archive name one of its capture URLs"
        timestamp, original = located
        route = ArchiveRoute(fetch.url, self.source, timestamp, self.replay_limiter, self.page_downloads())
        return original + fetch.fragment, PageRendering(self.render_timeout, archive=route)

    def parse(self, response: Response) -> Iterator[Output]:
        """Hand the plan what a replay answer is: a capture (with the archived redirects on the way), or why none was
        served (not archived, the serving refused, a redirect loop, the archive failing); an archived or archive
        redirect is followed instead."""
        fetch: FetchRequest = response.meta["fetch"]
        hops: tuple[Capture, ...] = response.meta.get("hops", ())
        trail: Trail = response.meta.get("trail", Trail())
        memento = memento_datetime(response)
        if memento is not None and response.status in REDIRECT_STATUSES:
            hop = self._capture(response, fetch, memento)
            here = (match_key(hop.url), memento)
            if here in trail.reached:  # served again (pywb serves the nearest memento at once, without a 302)
                yield from self.hand_over(FetchFailure(fetch, back_to(hop), response.status, refused=True, hops=hops))
            else:
                yield from self._follow(response, fetch, (*hops, hop), trail.served(here), memento)
        elif memento is not None and isinstance(payloads := self.payloads(response), str):
            yield from self.rendering_failed(fetch, payloads)
        elif memento is not None:
            yield from self.hand_over(self._capture(response, fetch, memento, hops, payloads))
        elif response.status in REDIRECT_STATUSES:
            yield from self._follow(response, fetch, hops, trail.redirected(), None)
        elif response.status == 429 or response.status >= 500:
            reason = f"the archive answered {response.status} (kept refusing or failing)"
            reason = asked_times(reason, times_asked(response.meta))
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, hops=hops))
        elif response.status == ACCESS_BLOCKED_STATUS:
            status = HTTPStatus(response.status)
            reason = f"{ACCESS_BLOCKED}: it answered {status.value} {status.phrase}, for a capture its listing has"
            reason += self._after_redirects(response, trail)
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, refused=True, hops=hops))
        elif response.status in SERVING_REFUSED_STATUSES:
            status = HTTPStatus(response.status)
            reason = f"{SERVING_REFUSED}: {status.value} {status.phrase}, for a capture its listing has"
            reason += self._after_redirects(response, trail)
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, hops=hops))
        else:
            reason = f"{NOT_ARCHIVED}: the archive answered {response.status} {_without_memento_datetime(response)}"
            reason += self._after_redirects(response, trail)
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
        trail: Trail,
        memento: datetime | None,
    ) -> Iterator[Output]:
        """Follow a redirect inside the archive (``memento``: the archived redirect's time, None for the
        archive's own redirect; ``trail``: the chain up to this answer)."""
        location = response.headers.get(b"Location", b"").decode("latin-1")
        error = url_error(location)
        target = None if error else self.source.redirect_target(location, response.url, memento)
        if error:
            # One capture's garbled header, archived as the site sent it: that capture refused, never the run.
            words = ARCHIVED_LOCATION_NOT_URL if memento else ARCHIVE_LOCATION_NOT_URL
            reason = location_not_url(words, location, error)
        elif target is None:
            # Never leave the archive: a Location outside it would fetch today's live page as history.
            reason = f"{LEAVES_ARCHIVE} ({quoted(location) if location else 'no Location'})"
        else:
            # What answered: the archived redirect just reached, or the replay the archive redirected from.
            if memento:
                here, answered = trail.reached[-1], named(hops[-1].url, memento)
            else:
                here, answered = self._key(response.url), self._named(response.url)
            reason = self._stopped(target, here, answered, hops, trail)
        if reason is None:
            yield self.request(fetch, url=target, hops=hops, trail=trail.asked())
        else:
            yield from self.hand_over(FetchFailure(fetch, reason, response.status, refused=True, hops=hops))

    def _key(self, url: str) -> CaptureKey | None:
        """The capture a replay URL asks for, as the archive files it (URL key and time); None for another URL."""
        located = self.source.locate(url)
        return (match_key(located[1]), located[0]) if located else None

    def _named(self, url: str) -> str:
        """``URL at DATE`` for a capture URL of the archive, another as :meth:`shown` names it."""
        located = self.source.locate(url)
        return named(located[1], located[0]) if located else self.shown(url)

    def shown(self, url: str) -> str:
        """``url`` as a line names it: never whole when it is the archive's (its token: ``ArchiveSource.shown``)."""
        return self.source.shown(url)

    def _after_redirects(self, response: Response, trail: Trail) -> str:
        """`` (for URL asked at DATE, after N redirects inside the archive)`` when the answer came at the end of a
        chain: what was not archived is then the chain's last URL, not the listed one. Empty for a first answer."""
        redirects = trail.requests - 1
        if not redirects:
            return ""
        located = self.source.locate(response.url)
        where = f"{located[1]} asked at {iso_z(located[0])}" if located else response.url
        return f" (for {where}, after {redirects} {plural(redirects, 'redirect')} inside the archive)"

    def _stopped(
        self, target: str, here: CaptureKey | None, answered: str, hops: tuple[Capture, ...], trail: Trail
    ) -> str | None:
        """Why a chain of redirects inside the archive is not followed from the answer in hand (``here``: the
        capture it is, or the replay it answered; ``answered``: that, named) to ``target``, or None to follow it:
        the target is that answer again (a key holding nothing but a redirect to itself) or a capture already
        reached, in whatever form its URL is written; the site's archived redirects are more than
        :data:`MAX_REDIRECTS`; the archive's own redirects in a row are more than
        :data:`MAX_ARCHIVE_REDIRECTS_IN_A_ROW`."""
        where = self._named(target)
        key = self._key(target)
        if key is not None and key == here:
            return f"{REDIRECT_LOOP} (the archive serves {answered} as a redirect to itself)"
        if key in trail.reached:
            return back_to(hops[trail.reached.index(key)])
        if len(hops) > MAX_REDIRECTS:
            return f"{TOO_MANY_REDIRECTS} (more than {MAX_REDIRECTS} archived redirects; the next to {where})"
        if trail.in_a_row > MAX_ARCHIVE_REDIRECTS_IN_A_ROW:
            return (
                f"{ARCHIVE_REDIRECTING}: it redirected {trail.in_a_row} times in a row without serving a capture "
                f"(at most {MAX_ARCHIVE_REDIRECTS_IN_A_ROW} followed; the next to {where})"
            )
        return None
