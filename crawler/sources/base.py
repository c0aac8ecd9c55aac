"""The archive-source seam: what backfill (and discover) need from a web archive, whichever archive it is.

A source answers two questions, and nothing else in the project builds an archive's URLs:

- *which captures of this URL exist in this period?* — :meth:`ArchiveSource.list_captures`, a complete list
  of typed :class:`CaptureRef` rows, or a :class:`ListingError` (never a short or empty list because
  something went wrong);
- *where are the raw bytes of this capture?* — :meth:`ArchiveSource.capture_url` (what the crawler fetches
  and what the ``Snapshot-Url`` trailer names), :meth:`ArchiveSource.locate` (its inverse),
  :meth:`ArchiveSource.contains` (whether a URL is inside the archive) and :meth:`ArchiveSource.redirect_target`
  (where a redirect in a replay leads inside the archive, or that it leaves it).

Fetching itself is Scrapy's job (``crawler.spiders.wayback``): it asks the source for URLs, never writes one.
Adding an archive means adding one module with an :class:`ArchiveSource` subclass and naming it in
``crawler.sources.SOURCES``.
"""

from __future__ import annotations

import html
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar, Self
from urllib.parse import urljoin, urlsplit

from policy_archive.config.checks import shown_secret_url
from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.reach import Reachability, Unreached
from policy_archive.digests import PayloadDigest
from policy_archive.errors import ArchiveError
from policy_archive.hostnames import UnusableHost, ascii_url
from policy_archive.listed import ListedRows, before_in_listing, listed, same_second
from policy_archive.records import CaptureRef, iso_z, utc
from policy_archive.text import safe_url
from policy_archive.urlkey import match_key

# A listing page that failed for now (429; 500, 502, 503 or 504; no complete answer in time; a connection refused,
# reset or closed without an answer) is asked again after the archive-wide pause, at most this often in all
# (backfill and discover alike); only that page, never the pages already read. Three attempts with the doubling
# pause span about 3 x the backoff (3 minutes at the default 60 s); a failure lasting longer fails the document for
# this run, and the next run resumes. As of 2026-11 the Internet Archive's CDX server often answers 500 or not at
# all under load, and answers the same request a moment later. A replay failing for now is asked again as often.
LISTING_ATTEMPTS = 3

# Why a replay answer is not the capture asked for, as the catalog records it: the spider refuses with these
# (``crawler.spiders.wayback``), and the examination reads them back; kept here, free of Scrapy, so that reading
# the catalog does not load the crawler.
NOT_ARCHIVED = "not-archived"
LEAVES_ARCHIVE = "redirect leaves the archive"
REDIRECT_LOOP = "redirect loop inside the archive"
TOO_MANY_REDIRECTS = "too many redirects inside the archive"  # the site's archived redirects
ARCHIVE_REDIRECTING = "the archive kept redirecting"  # its own redirects, never reaching a capture (or too many)
# A redirect whose ``Location`` urllib cannot split (``http://[::1/x``: an unclosed IPv6 bracket; a host that NFKC
# normalisation turns into a separator): it leads nowhere that could be asked of the archive. The site sent it
# (archived) or, in theory, the archive did (its own redirect, no ``Memento-Datetime``).
ARCHIVED_LOCATION_NOT_URL = "the archived redirect's Location is not a URL"
ARCHIVE_LOCATION_NOT_URL = "the archive's redirect Location is not a URL"
# A replay the archive will not serve to us although its listing has the capture (no ``Memento-Datetime``): 401 and
# 403 (access control, an exclusion made after the listing, or a proxy's). Not a refusal of the capture: it may be
# served later, so it is a capture not fetched for now (a rerun asks again), never "not archived" (acceptance
# report 6, F-b2). The Wayback Machine answers an excluded URL's replay 200 with its "excluded" page instead
# (recorded 2017-2026, tests/fixtures/archive-responses), which stays not-archived.
SERVING_REFUSED = "the archive refused to serve it"
SERVING_REFUSED_STATUSES = (401, 403)
# The archive's access rules refuse the capture: its listing row says so (pywb's ``"access": "block"``,
# ``CaptureRef.blocked``), or its replay answers 451 Unavailable For Legal Reasons without ``Memento-Datetime``
# (pywb's answer to a blocked or embargoed capture, read in pywb 2.10's ``warcserver/handlers.py``, 2026-11). An
# access rule lasts until the archive's keeper lifts it: asking every such capture on every run (outside audit 5,
# item 1: 500 listed, 500 replays a run, exit 1 for ever, "for now") cost the archive a request each and told the
# user to run again for nothing. So both are refusals: a row listed as blocked is refused without a replay, and
# judged again by every backfill's listing (a rule lifted, it is a candidate again); a 451 is a refusal of the
# archive's own answer, asked again by ``backfill --retry-refused`` (:data:`ASKED_AGAIN`).
LISTED_BLOCKED = "listed as blocked by the archive's access rules"
ACCESS_BLOCKED = "blocked by the archive's access rules"
ACCESS_BLOCKED_STATUS = 451
# The refusals made on the archive's own answer, not on a capture it served: no ``Memento-Datetime`` (not-archived), its
# own redirects going nowhere, its access rules (listed as blocked, or a 451), or a redirect judged against the
# configured ``replay_url`` (leaving the archive). They may be the configuration's doing (a ``replay_url`` naming
# another path, outside audit 31, F3) or a passing fault's (a proxy's or an outage's 404 without ``Memento-Datetime``)
# as much as the capture's: each is catalogued with the replay_url it was asked of, asked again by a backfill under
# another one, and by ``backfill --retry-refused`` (docs/decisions/0019). Every other refusal is final: a capture was
# served (its ``Memento-Datetime`` says so) and its bytes, status or archived redirects are the verdict, the same on
# every asking. Their texts are the kinds `status` and the FAILED line count them by.
ASKED_AGAIN = (NOT_ARCHIVED, LEAVES_ARCHIVE, ARCHIVE_REDIRECTING, ARCHIVE_LOCATION_NOT_URL, ACCESS_BLOCKED)


def parse_memento_datetime(value: str | None) -> datetime | None:
    """A replay answer's ``Memento-Datetime`` header value (RFC 7089, an HTTP date) as aware UTC, or None when
    absent or unreadable (the answer is then the archive's own, not a capture)."""
    if not value:
        return None
    try:
        return utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


# One link of a Memento ``Link`` header (RFC 7089 §2.2) naming the original resource: ``<URL>; rel="original"``.
_ORIGINAL_LINK = re.compile(r'<([^>]*)>\s*;[^,<]*\brel\s*=\s*"?original"?', re.IGNORECASE)


def original_of_memento(link: str | None, asked: str) -> str:
    """The site URL a replay answer's bytes were archived from: the ``Link`` header's ``rel="original"`` when it
    names a URL of the same key as ``asked`` (an archive serves any capture of a key for any of its URLs: the
    Wayback Machine answered ``http://fws.gov/`` with its capture of ``https://www.fws.gov/``, recorded 2022, see
    tests/fixtures/archive-responses), else ``asked``. The Wayback Machine writes ``&`` as ``&amp;`` in it (recorded
    2020); another key is never taken, so that no archive can file bytes under an unrelated URL."""
    for found in _ORIGINAL_LINK.findall(link or ""):
        for candidate in (found, html.unescape(found)):
            if _same_key(candidate, asked):
                return candidate
    return asked


def _same_key(candidate: str, asked: str) -> bool:
    try:
        return urlsplit(candidate).scheme in ("http", "https") and match_key(candidate) == match_key(asked)
    except ValueError:  # not a URL the archive could key (a bad port, a host IDNA refuses)
        return False


class ListingError(ArchiveError):
    """A listing that failed: ``url`` is the document URL, ``str(error)`` one line saying why."""

    def __init__(self, url: str, message: str):
        self.url = url
        self.message = message
        super().__init__(message)

    @classmethod
    def of(cls, url: str, reason: str) -> Self:
        """The listing of ``url`` failed because of ``reason`` (one line, without the URL)."""
        return cls(url, f"cannot list the captures of {url}: {reason}")


class ListingPaused(ListingError):
    """The archive refused for now: every request to it is paused for ``pause_seconds``, then asking again is
    polite (:meth:`ArchiveSource.list_captures_patiently`)."""

    def __init__(self, url: str, message: str, pause_seconds: float, reason: str):
        self.pause_seconds = pause_seconds
        self.reason = reason  # why, without the URL and the pause (the message says both)
        super().__init__(url, message)


class ListingRateLimited(ListingPaused):
    """The archive answered 429."""


class ListingBlocked(ListingError):
    """The archive refuses to list this URL (403, "Blocked Site Error": excluded from the archive)."""


class ListingUnavailable(ListingError):
    """The archive could not be reached or failed to answer (5xx, timeout, refused connection, unknown host)."""


class ListingOverloaded(ListingPaused, ListingUnavailable):
    """The archive answered 500, 502, 503 or 504: its servers are overloaded or restarting, which passes."""


class ListingInterrupted(ListingPaused, ListingUnavailable):
    """No complete answer came: the deadline passed, or the connection was refused, reset or closed without an
    answer. As with an overloaded archive, every request to it pauses, then asking again is polite."""


class ArchiveUnreachable(ListingUnavailable):
    """The archive failed :data:`~policy_archive.crawler.reach.UNREACHABLE_AFTER` listing requests in a row at the
    connection level: the run stops asking it. ``archive`` is its host (and port), never the endpoint's path or query;
    ``problem`` the last failure's reason; ``unreached`` both, as a crawl's replays say them too."""

    def __init__(self, url: str, archive: str, problem: str, failures: int):
        self.archive = archive
        self.problem = problem
        self.unreached = Unreached(archive, problem, failures)
        reason = f"the archive {archive} is unreachable ({problem}, {failures} requests in a row)"
        super().__init__(url, f"cannot list the captures of {url}: {reason}")


class ListingParseError(ListingError):
    """The archive answered something that is not a complete listing (cut short, malformed, unusable rows)."""


class ListingTooLarge(ListingError):
    """One answer was larger than ``[wayback] max_listing_bytes``."""


@dataclass(frozen=True)
class ListingClient:
    """How a listing talks to the archive: the shared rate limiter of its listing endpoint, our user agent, and
    how often one page is asked in all when it fails for now (a :class:`ListingPaused`; 1: never again), and
    whether the archive has been reachable over the run so far (:class:`Reachability`)."""

    limiter: RateLimiter
    user_agent: str
    attempts: int = 1
    reach: Reachability = field(default_factory=Reachability, compare=False)


class ArchiveSource(ABC):
    """One web archive: lists the captures of a URL, and names the URL of each capture's raw bytes."""

    name: ClassVar[str]

    def __init__(self, settings: WaybackSettings, *, page_size: int | None = None):
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be positive, got {page_size}")
        self.settings = settings
        self.page_size = page_size or self.default_page_size

    default_page_size: ClassVar[int] = 25_000

    @classmethod
    @abstractmethod
    def serves(cls, settings: WaybackSettings) -> bool:
        """Whether the configured endpoints belong to an archive of this kind."""

    # --- listing -----------------------------------------------------------------------------------------

    def list_captures(
        self, url: str, client: ListingClient, since: datetime | None = None, until: datetime | None = None
    ) -> list[CaptureRef]:
        """Every capture of ``url`` between ``since`` and ``until`` (both inclusive), once each, sorted by time.

        Raises a :class:`ListingError` for any failure on any page: a listing is never returned short.
        """
        return list(self.listed_captures(url, client, since, until))

    def listed_captures(
        self, url: str, client: ListingClient, since: datetime | None = None, until: datetime | None = None
    ) -> Sequence[CaptureRef]:
        """:meth:`list_captures`, held by column (:class:`~policy_archive.listed.ListedRows`): a long listing's
        rows as a few integers each, not an object each."""
        lower = utc(since) if since else None
        upper = utc(until) if until else None
        # Asked with the host as browsers send it, in punycode (IDNA 2008), so as it was captured: the archive's
        # canonicaliser keys a Unicode host by IDNA 2003, under another domain (straße.example → strasse.example).
        try:
            asked_url = ascii_url(url)
        except UnusableHost as error:
            raise ListingError.of(url, str(error)) from None
        asked = match_key(asked_url)
        matching: set[str] = set()  # the rows' URLs already checked: most listings name two or three, often

        def within() -> Iterator[CaptureRef]:
            for ref in self.rows(asked_url, client, lower, upper):
                if ref.url not in matching:
                    _check_row_url(url, asked, ref)
                    matching.add(ref.url)
                # The archive bounds the listing already; a server that ignored from/to must not widen it either.
                if (lower is None or ref.timestamp >= lower) and (upper is None or ref.timestamp <= upper):
                    yield ref

        return _once_each(listed(within()))

    def list_captures_patiently(
        self, url: str, client: ListingClient, since: datetime | None = None, until: datetime | None = None
    ) -> list[CaptureRef]:
        """:meth:`list_captures`, each page asked again after a failure for now (a :class:`ListingPaused`: 429,
        500/502/503/504, a timeout, a connection refused or reset), :data:`LISTING_ATTEMPTS` times in
        all. The failure has paused every request to the archive (the limiter makes the next attempt wait for the
        pause to end), so asking again is polite; other errors are final. A page failing every time fails the
        listing, its error ending with how often the page was asked."""
        return list(self.listed_captures_patiently(url, client, since, until))

    def listed_captures_patiently(
        self, url: str, client: ListingClient, since: datetime | None = None, until: datetime | None = None
    ) -> Sequence[CaptureRef]:
        """:meth:`list_captures_patiently`, held by column (:meth:`listed_captures`)."""
        return self.listed_captures(url, replace(client, attempts=LISTING_ATTEMPTS), since, until)

    @abstractmethod
    def rows(
        self, url: str, client: ListingClient, since: datetime | None, until: datetime | None
    ) -> Iterable[CaptureRef]:
        """Every row the archive lists for ``url`` in the period, page after page, repeats allowed."""

    # --- captures ----------------------------------------------------------------------------------------

    @abstractmethod
    def capture_url(self, timestamp: datetime, original: str) -> str:
        """The URL of the raw bytes of the capture of ``original`` at ``timestamp`` (no rewriting, no toolbar)."""

    @abstractmethod
    def locate(self, url: str) -> tuple[datetime, str] | None:
        """``(timestamp, original)`` of a capture URL of this archive, or None for any other URL."""

    def contains(self, url: str) -> bool:
        """Whether ``url`` is a capture URL of this archive (a redirect to anything else leaves the archive)."""
        return self.locate(url) is not None

    def shown(self, url: str) -> str:
        """``url`` as a line names it: a capture by what it captures, another URL of the archive's hosts by scheme
        and host (``shown_secret_url``: its path or query may hold the archive's token, issue 11), any other whole."""
        if (located := self.locate(url)) is not None:
            return f"the capture of {safe_url(located[1])} at {iso_z(located[0])}"
        hosts = {urlsplit(endpoint).hostname for endpoint in (self.settings.replay_url, self.settings.cdx_url)}
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        return shown_secret_url(url) if host is None or host in hosts else safe_url(url)

    def redirect_target(self, location: str, answered: str, archived_at: datetime | None) -> str | None:
        """The capture URL a redirect in the replay of ``answered`` leads to, or None when it leaves the archive.

        ``location`` is the answer's ``Location``, one urllib can split (:func:`url_error`); ``archived_at`` the
        answer's ``Memento-Datetime`` when the redirect is an archived one (the site sent it), None when it is the
        archive's own. An archive that
        rewrites an archived redirect's ``Location`` (the Wayback Machine: ``…/web/T id_/URL``) names a capture
        URL; one that replays it as the site sent it (pywb 2.x in ``id_`` mode, as of 2026-11:
        ``https://www.site.org/legal/privacy``, or a relative path) names the site's own target, followed
        inside the archive at the redirect's time (the archive serves the nearest memento, dated by its own
        ``Memento-Datetime``). The archive's own redirect may only lead to one of its capture URLs."""
        if not location:
            return None
        resolved = urljoin(answered, location)
        if self.contains(resolved) and not _site_own(location):
            return resolved
        located = self.locate(answered)
        if archived_at is None or located is None:
            return None
        target = urljoin(located[1], location)
        if urlsplit(target).scheme not in ("http", "https"):
            return None
        return self.capture_url(archived_at, target)

    def site_location(self, location: str, answered: str) -> str:
        """A ``Location`` (or ``Content-Location``) of the replay of ``answered`` as the site sent it: one the
        archive rewrote into its capture URL given back as the site's URL, the site's own (or one that is no URL
        at all, kept as archived) unchanged."""
        if url_error(location):
            return location
        located = None if _site_own(location) else self.locate(urljoin(answered, location))
        return located[1] if located else location


def url_error(url: str) -> str | None:
    """Why urllib cannot split ``url`` (its words: ``Invalid IPv6 URL``), or None when it can."""
    try:
        urlsplit(url)
    except ValueError as error:
        return str(error)
    return None


def _check_row_url(url: str, asked: str, ref: CaptureRef) -> None:
    """A row for another URL than ``url`` (whose key is ``asked``) fails the listing.

    Every listing asks for one URL, matched exactly, and the archive answers the rows filed under that URL's key
    (:mod:`policy_archive.urlkey`). A row filed under another key is not a capture of the document; and an archive
    that lists one is not answering the question asked — a ``cdx_url`` naming another collection or a proxy that
    drops the ``url`` parameter, a server matching by prefix or host unless told otherwise — so nothing it lists can be
    taken for the document's complete list either. Skipping the row would make such an archive's answer read as
    "no capture" or as a history with gaps, and exit 0; the listing fails instead (the document fails for the
    run, one line saying why and what to check), as it does for any row it cannot use. The row's ``original``
    is compared, not its ``urlkey``: the original is what is fetched and what ``Snapshot-Url`` names, while
    the form of the urlkey varies between archives (SURT or not, ``www.`` kept or not).
    """
    if match_key(ref.url) == asked:
        return
    reason = (
        f"the archive listed a capture of another URL, {ref.url[:200]!r} ({ref.wayback_timestamp}), so it is not"
        " answering this query (check [wayback] cdx_url, or add matchType=exact to its query)"
    )
    raise ListingParseError.of(url, reason)


def _site_own(location: str) -> bool:
    """A Location without an absolute path is never an archive's rewriting of one into its capture URL (which
    always names ``/web/<timestamp>id_/…``): it is the site's own, even where urljoin makes a capture URL of it
    (``privacy/``, ``?page=2``; ``https://`` alone, which resolves to the very URL answered)."""
    return not urlsplit(location).path.startswith("/")


_Identity = tuple[datetime, str, int | None, str | None, PayloadDigest | None]


def _identity(ref: CaptureRef) -> _Identity:
    """What makes two rows the same capture; ``length`` is left out (a WARC record size, it varies by copy)."""
    return (ref.timestamp, ref.url, ref.status, ref.mimetype, ref.digest)


def _time_and_url(ref: CaptureRef) -> tuple[datetime, str]:
    return (ref.timestamp, ref.url)


def _once_each(refs: Sequence[CaptureRef]) -> Sequence[CaptureRef]:
    """``refs`` sorted by time and URL (stably), each capture (:func:`_identity`) once, where it was first listed,
    as the last row listing it says. Only the rows of one URL and second are compared: until 2026-11-29 a key and a
    dictionary entry were held per row of the whole listing (a long listing's peak memory); a listing in time and
    URL order already, as archives answer, is not sorted again."""
    if any(before_in_listing(refs, index, index + 1) for index in range(len(refs) - 1)):
        refs = sorted(refs, key=_time_and_url)
    result: ListedRows | list[CaptureRef] = ListedRows() if isinstance(refs, ListedRows) else []
    start = 0
    for end in range(1, len(refs) + 1):
        if end == len(refs) or not same_second(refs, start, end):
            second: dict[_Identity, CaptureRef] = {}
            for index in range(start, end):
                ref = refs[index]
                second[_identity(ref)] = ref
            result.extend(second.values())
            start = end
    return result
