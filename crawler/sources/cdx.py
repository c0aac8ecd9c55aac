"""The CDX protocol shared by Wayback-compatible archives: one request, one bounded answer, its rows read.

Both the Internet Archive's CDX server and pywb's CDX server API answer ``GET cdx_url?url=…&from=…&to=…``
with one row per capture; they differ in the dialect of the rows and in how a long listing is paged, which
the source modules (:mod:`.wayback`, :mod:`.pywb`) decide. Here, for both:

- the query string is built with :func:`urllib.parse.urlencode` onto the configured endpoint, keeping any
  query it already has (a second ``?`` made pywb drop the ``to`` bound);
- the request goes out after the shared rate limiter, as one bounded exchange (crawler/exchange.py: no hidden
  retries, through the HTTP proxy the environment names, ``[wayback] timeout_seconds`` a deadline for the *whole*
  exchange, the host name looked up within it on a thread of its own: a name server that never answers fails the
  listing with the host and the time, and the run goes on);
- the answer is complete or an error: at most ``[wayback] max_listing_bytes``, as long as its Content-Length,
  ended by its terminating chunk, and its last row ended by a newline;
- its rows are read in every dialect, whatever was asked for, by :mod:`.cdx_rows`.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Sequence
from http.client import HTTPException, RemoteDisconnected
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from policy_archive.config.checks import shown_secret_url
from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.exchange import Answer, AnswerCutShort, AnswerTooLarge, fetch, proxy_host
from policy_archive.crawler.names import LookupTimedOut
from policy_archive.crawler.ratelimit import archive_key, parse_retry_after
from policy_archive.crawler.sources.base import (
    ArchiveUnreachable,
    ListingBlocked,
    ListingClient,
    ListingError,
    ListingInterrupted,
    ListingOverloaded,
    ListingParseError,
    ListingPaused,
    ListingRateLimited,
    ListingTooLarge,
    ListingUnavailable,
)
from policy_archive.crawler.sources.cdx_rows import CdxPage, RowError, read_page
from policy_archive.text import plural

log = logging.getLogger(__name__)

# What the Internet Archive answers for a URL excluded from the Wayback Machine (recorded 2020-06, still
# tested for by waybackpy 3.0.6 and EDGI's wayback client in 2026).
BLOCKED_MARKERS = ("Blocked Site Error", "AdministrativeAccessControlException")
# Answers that mean "not now" rather than "no": too many requests, and a server failing, overloaded or restarting
# behind its gateway. Each pauses the archive; the page is asked again after the pause (ListingClient.attempts). As of
# 2026-11 the Internet Archive's CDX server answers 500 now and then under load, and the same query a moment later;
# EDGI's wayback client also retries 500/502/503/504 from the Wayback Machine (with 413, 421 and 599).
REFUSED_FOR_NOW = (429, 500, 502, 503, 504)
# Connections that end without an answer for now: refused (a server restarting, or an IP blocked for a while),
# reset, or closed before an answer. Not a host not found, an unreachable network or a TLS failure: those do not
# pass by asking again a minute later; nor an answer cut short (fewer bytes than announced, no terminating chunk),
# which DESIGN.md's contract makes the document's failure for the run.
_INTERRUPTED = (ConnectionError, HTTPException)
# Failures that say the archive's host is not reached at all (crawler/reach.py): counted over the run, so that an
# archive (or a proxy) refusing every connection, or a host not found, ends it soon. A reset, a connection closed
# without an answer and a deadline passed are not: something answered the connection, or may be slow.
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN})


class ListingBound:
    """``[wayback] max_listing_rows`` over all the pages of one URL's listing (outside audit A, F1, 2026-11-29): one
    answer is bounded by ``max_listing_bytes`` and ``timeout_seconds``, but an archive that keeps sending a new resume
    key (or pywb, paged by time, full pages without end) would be followed for ever, every row kept in memory.

    A page the archive says is followed by another counts as at least ``page_size`` rows (a full page), so that pages
    of one row, or none, cannot go on for ever either; the last page counts its rows. The listing fails when more
    rows came than the bound, or when another page is announced after pages counting more than the bound. Pages
    counting the bound exactly are followed by the one announced: the Wayback Machine announces one after a last
    full page and answers it empty, so a listing of exactly the bound, in full pages, is not refused."""

    def __init__(self, requester: CdxRequester, page_size: int):
        self.requester = requester
        self.page_size = page_size
        self.limit = requester.settings.max_listing_rows
        self.rows = 0
        self.pages = 0

    def count(self, page: CdxPage, *, more: bool) -> None:
        """Count one page read; ``more``: the archive says another page follows. Raises :class:`ListingTooLarge`
        past the bound."""
        self.rows += len(page.refs)
        self.pages += 1
        counted = max(self.rows, self.pages * self.page_size)
        read = f"{self.rows:,} {plural(self.rows, 'row')} in {self.pages} {plural(self.pages, 'page')}"
        if self.rows > self.limit:
            counted_as = read
        elif more and counted > self.limit:
            # Said exactly as counted (outside audit 31, F6: "each page counted as at least 25,000 rows" was said
            # of a last page too, which counts its rows).
            counted_as = (
                f"{read} and another announced; a page followed by another counts as at least a full page,"
                f" {self.page_size:,} rows, so at least {counted:,}"
            )
        else:
            return
        reason = (
            f"the listing goes on past [wayback] max_listing_rows = {self.limit:,} ({counted_as}):"
            " not a listing of one URL"
        )
        raise self.requester.error(ListingTooLarge, reason)


def query_url(endpoint: str, params: Sequence[tuple[str, str]]) -> str:
    """``endpoint`` with ``params`` added to whatever query it already carries, encoded by ``urlencode``."""
    parts = urlsplit(endpoint)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class CdxRequester:
    """Asks one CDX endpoint for pages of one document URL's listing; every failure is a :class:`ListingError`."""

    def __init__(self, url: str, settings: WaybackSettings, client: ListingClient):
        self.url = url
        self.settings = settings
        self.client = client
        self.archive = urlsplit(settings.cdx_url).netloc

    def page(self, params: Sequence[tuple[str, str]], page_number: int, *, resume_keys: bool) -> CdxPage:
        """One page of the listing, read whole; ``resume_keys``: a blank line then a key may end it.

        A page that failed for now (:class:`ListingPaused`) is asked again once the archive's pause is over,
        ``client.attempts`` times in all; the pages read before it are not asked again."""
        where = f" (page {page_number + 1})" if page_number else ""
        request_url = query_url(self.settings.cdx_url, params)
        attempt = 1
        while True:
            try:
                return self._read(request_url, where, resume_keys=resume_keys)
            except ListingPaused as error:
                if self.client.attempts == 1:
                    raise
                if attempt >= self.client.attempts:
                    # The run gives the listing up here: the pause holds for a run started while it lasts (the
                    # limiter's state is shared), not for this one, which goes on or ends (outside audit A, F4).
                    pause = f"{error.pause_seconds:.0f} s"
                    message = (
                        f"cannot list the captures of {self.url}: {error.reason} (asked {attempt} times; gave up:"
                        f" a run started within {pause} first waits for the archive's pause to end)"
                    )
                    raise type(error)(self.url, message, error.pause_seconds, error.reason) from None
                attempt += 1
                log.info("%s; asking again after the pause (attempt %d of %d)", error, attempt, self.client.attempts)

    def error(self, kind: type[ListingError], reason: str) -> ListingError:
        """A ``kind`` of :class:`~policy_archive.crawler.sources.base.ListingError` for this listing's URL, saying
        ``reason`` (for the caller to raise)."""
        return kind.of(self.url, reason)

    def _read(self, request_url: str, where: str, *, resume_keys: bool) -> CdxPage:
        answer = self._get(request_url, where)
        if any(marker.encode() in answer.body for marker in BLOCKED_MARKERS):
            raise self.error(ListingBlocked, f"the archive excludes this URL (Blocked Site Error){where}")
        self._check_status(answer, where)
        try:
            text = answer.body.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(ListingParseError, f"answered bytes that are not UTF-8 text{where}") from None
        try:
            return read_page(text, resume_keys=resume_keys)
        except RowError as problem:
            raise self.error(ListingParseError, f"{problem}{where}") from None

    def _for_now(
        self, kind: type[ListingPaused], reason: str, *, cause: str, retry_after: float | None = None
    ) -> ListingPaused:
        """The archive failed for now (``cause`` for the limiter's log line): every request to it pauses."""
        pause = self.client.limiter.penalize(retry_after, cause=cause)
        message = f"cannot list the captures of {self.url}: {reason}; all requests to it pause for {pause:.0f} s"
        return kind(self.url, message, pause, reason)

    # --- HTTP --------------------------------------------------------------------------------------------

    def _get(self, request_url: str, where: str) -> Answer:
        self.client.limiter.wait()
        timeout = self.settings.timeout_seconds
        try:
            answer = fetch(request_url, self.client.user_agent, timeout, self.settings.max_listing_bytes)
        except TimeoutError:
            problem = f"no complete answer within {timeout:g} s"
        except LookupTimedOut as no_answer:
            self._not_reached(str(no_answer))
            raise self.error(ListingUnavailable, f"{no_answer}{where}") from None
        except AnswerTooLarge as too_large:
            raise self.error(ListingTooLarge, f"{too_large} ([wayback] max_listing_bytes){where}") from None
        except AnswerCutShort as cut_short:
            raise self.error(ListingParseError, f"{cut_short}{where}") from None
        except _INTERRUPTED as error:
            problem = _network_problem(error)
            if isinstance(error, ConnectionRefusedError):
                self._not_reached(problem)
        except OSError as error:
            if isinstance(error, socket.gaierror) or error.errno in _NO_ROUTE:
                self._not_reached(_network_problem(error))
            raise self.error(ListingUnavailable, f"{_network_problem(error)}{where}") from None
        else:
            self.client.reach.answered()  # whatever the answer says (a 429 too): the archive was reached
            return answer
        raise self._for_now(ListingInterrupted, f"{problem}{where}", cause=f"failed a listing request ({problem})")

    def _not_reached(self, problem: str) -> None:
        """One more request failed before reaching the archive; raises :class:`ArchiveUnreachable` (no pause, no
        other attempt) when that makes :data:`~policy_archive.crawler.reach.UNREACHABLE_AFTER` in a row over the
        run."""
        if self.client.reach.failed():
            failures = self.client.reach.failures_in_a_row
            if proxy := proxy_host(self.settings.cdx_url):  # the proxy refused, or could not be found
                problem = f"{problem}, through the proxy {proxy}"
            raise ArchiveUnreachable(self.url, archive_key(self.settings.cdx_url), problem, failures)

    def _check_status(self, answer: Answer, where: str) -> None:
        status = answer.status
        if status == 200:
            return
        said = f"{self.archive} answered {status} {answer.reason}".rstrip()
        if status in REFUSED_FOR_NOW:
            # Retry-After (bounded by the limiter's longest pause) when the archive sends one; as of 2026-11 the
            # Internet Archive's CDX server sends none with its 429s and 503s, so the configured backoff applies.
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            kind = ListingRateLimited if status == 429 else ListingOverloaded
            raise self._for_now(kind, f"{said}{where}", cause=f"answered {status}", retry_after=retry_after)
        if status == 403:
            raise self.error(ListingBlocked, f"{said}: the archive refuses to list this URL{where}")
        if 300 <= status < 400:
            # Named by scheme and host only: a redirect of a private archive's CDX endpoint (http to https, a
            # moved path) keeps its key in the query or path (issue 11).
            location = answer.headers.get("Location")
            where = shown_secret_url(urljoin(self.settings.cdx_url, location)) if location else "no Location"
            raise self.error(ListingError, f"{said} to {where}: set [wayback] cdx_url to the final address")
        if status >= 500:
            raise self.error(ListingUnavailable, f"{said}{where}")
        raise self.error(ListingError, f"{said}{where}")


def _network_problem(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, RemoteDisconnected):
        return "the connection was closed without an answer"
    if isinstance(error, socket.gaierror):
        return "archive host not found (no network or DNS?)"
    if isinstance(error, HTTPException):
        return f"connection broken mid-answer ({type(error).__name__})"
    if isinstance(error, OSError) and error.strerror:
        return f"network error: {error.strerror}"
    return f"network error: {error}"
