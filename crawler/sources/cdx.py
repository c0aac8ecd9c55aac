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
- every dialect is read, whatever was asked for: 7-field text (the Internet Archive's default), JSON arrays
  (its ``output=json``), CDXJ ``urlkey timestamp {json}`` (pywb's default), JSON lines (pywb's
  ``output=json``), and the classic CDX files' 11-field (``CDX N b a m s k r M S V g``) and 9-field
  (``CDX N b a m s k r V g``) rows, with or without their legend line; a row without a usable timestamp or
  original URL, with a status or length no capture has, or in none of these forms, makes the listing fail.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import re
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException, RemoteDisconnected
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
from policy_archive.digests import PayloadDigest
from policy_archive.records import CaptureRef, parse_wayback_timestamp
from policy_archive.text import plural

log = logging.getLogger(__name__)

# What the Internet Archive answers for a URL excluded from the Wayback Machine (recorded 2020-06, still
# tested for by waybackpy 3.0.6 and EDGI's wayback client in 2026).
BLOCKED_MARKERS = ("Blocked Site Error", "AdministrativeAccessControlException")
TEXT_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# The classic CDX file formats, by their legend letters (the Internet Archive's CDX format, archive.org/web/
# researcher/cdx_legend.php, and webarchive-commons' CDXFormat, as of 2026-11): N massaged URL, b date, a original
# URL, m mimetype, s status, k digest, r redirect, M meta tags, S compressed record size, V offset, g file name.
# An index made by a crawler's tools (Heritrix's, OpenWayback's, pywb's `cdx-indexer` without `-j`) is written in
# one of these, and some Wayback-compatible archives list from such files as they are.
CDX_LETTERS = {
    "N": "urlkey",
    "b": "timestamp",
    "a": "original",
    "m": "mimetype",
    "s": "statuscode",
    "k": "digest",
    "r": "redirect",
    "M": "metatags",
    "S": "length",
    "V": "offset",
    "g": "filename",
}
CDX11_LEGEND = "N b a m s k r M S V g"
CDX9_LEGEND = "N b a m s k r V g"
# Text rows by their number of space-separated fields; the 7 are the Internet Archive's CDX server's own default.
TEXT_ROWS: dict[int, tuple[str, ...]] = {
    len(TEXT_FIELDS): TEXT_FIELDS,
    9: tuple(CDX_LETTERS[letter] for letter in CDX9_LEGEND.split()),
    11: tuple(CDX_LETTERS[letter] for letter in CDX11_LEGEND.split()),
}
# pywb names its JSON fields differently from the Internet Archive's columns (pywb 2.x, as of 2026-11).
_PYWB_NAMES = {"url": "original", "mime": "mimetype", "status": "statuscode"}
_TIMESTAMP = re.compile(r"[0-9]{14}")
# ASCII digits only: ``\d`` also matches other scripts' digits, which ``int()`` reads too.
_NUMBER_OR_DASH = re.compile(r"[0-9]+|-")
# A listed status is an HTTP status code, three digits (RFC 9110 §15). Only 100–599 are defined, but servers send
# the rest of the three digits and an archive lists what it was sent: LinkedIn answers crawlers 999 (2017 to 2026,
# as link checkers' issues record), and one such capture must not make a whole listing fail. Any other number is
# no status: the row is unusable (review and outside audit 31, F1, 2026-11-29: an 11-digit status was read, then
# ended the run with an OverflowError, too big for the 32-bit column policy_archive/listed.py keeps statuses in).
LISTED_STATUSES = range(100, 1000)
# A listed length is the size of the capture's (compressed) WARC record, or ``-`` when the archive does not know it
# (the Wayback Machine's rows for some revisits, 2026-11): at most 18 digits, which the signed 64-bit column
# listed.py keeps lengths in holds (an exabyte; WARC files are customarily cut at 1 GB, ISO 28500 annex C).
MAX_LISTED_LENGTH = 10**18 - 1
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
# Failures that say the archive's host is not reached at all (:class:`~.base.Reachability`): counted over the run, so
# that an archive (or a proxy) refusing every connection, or a host not found, ends it soon. A reset, a connection
# closed without an answer and a deadline passed are not: something answered the connection, or may be slow.
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN})


@dataclass(frozen=True)
class CdxPage:
    """One answer's rows, in the archive's order, and the resume key it ended with (Internet Archive paging)."""

    refs: tuple[CaptureRef, ...]
    resume_key: str | None


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
        other attempt) when that makes :data:`~.base.UNREACHABLE_AFTER` in a row over the run."""
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
            location = answer.headers.get("Location", "no Location")
            raise self.error(ListingError, f"{said} to {location}: set [wayback] cdx_url to the final address")
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


# --- rows, in every dialect ------------------------------------------------------------------------------


class RowError(Exception):
    """Why an answer is not a complete listing; ``str()`` is the reason, without the document's URL."""


def read_page(text: str, *, resume_keys: bool) -> CdxPage:
    """The rows of one answer in whichever dialect it is written, and its resume key if it has one."""
    if text.lstrip().startswith("["):
        return _read_json_array(text)
    if text and not text.endswith("\n"):
        raise RowError(f"the answer was cut inside a row: {text.rsplit(chr(10), 1)[-1][:120]!r}")
    lines = [line.rstrip("\r") for line in text.split("\n")][:-1]
    names = None
    if lines and _is_legend(lines[0]):
        names, lines = _legend_names(lines[0]), lines[1:]
    resume_key = None
    if "" in lines:
        blank = lines.index("")
        if not resume_keys:
            raise RowError("a blank line among the rows")
        if blank == len(lines) - 1:
            raise RowError("a page announced a resume key but ended without it")
        if blank != len(lines) - 2 or " " in lines[-1].strip():
            raise RowError("a blank line in the middle of the rows")
        resume_key = lines[-1].strip()
        lines = lines[:blank]
    return CdxPage(tuple(_ref(_line_fields(line, names), line) for line in lines), resume_key)


def _is_legend(line: str) -> bool:
    """A classic CDX file's first line, `` CDX N b a m s k r M S V g`` (the leading space is usual, not required)."""
    return line.lstrip(" ").startswith("CDX ")


def _legend_names(line: str) -> tuple[str, ...]:
    """The field names a legend line gives, in order. A letter of the legend this reader has no use for (the older
    formats' ``A`` canonical URL, ``e`` IP, ``c`` old checksum, …) names a column that is skipped: columns are
    placed by the legend, so skipping one cannot shift another. A legend without ``b`` and ``a`` is an error."""
    letters = line.split()[1:]
    if len(set(letters)) != len(letters) or "b" not in letters or "a" not in letters:
        raise RowError(f"unreadable CDX legend (no b date, no a original URL, or a letter twice): {line[:120]!r}")
    return tuple(CDX_LETTERS.get(letter, f"legend {letter}") for letter in letters)


def _line_fields(line: str, names: tuple[str, ...] | None = None) -> Mapping[str, object]:
    """The named fields of one text line: JSON lines, CDXJ, or space-separated columns (named by the page's
    legend line when it had one, else by their number: 7, 9 or 11)."""
    if line.startswith("{"):
        return _json_object(line, line)
    parts = line.split(" ", 2)
    if names is None and len(parts) == 3 and parts[2].startswith("{"):
        return {"urlkey": parts[0], "timestamp": parts[1], **_json_object(parts[2], line)}
    fields = line.split(" ")
    if names is not None:
        if len(fields) != len(names):
            wanted = f"the legend's {len(names)}"
            raise RowError(f"unreadable row ({_fields(len(fields), wanted)}): {line[:120]!r}")
        return dict(zip(names, fields, strict=True))
    if len(fields) not in TEXT_ROWS:
        counts = ", ".join(str(count) for count in sorted(TEXT_ROWS)[:-1]) + f" or {max(TEXT_ROWS)}"
        raise RowError(f"unreadable row ({_fields(len(fields), counts)}): {line[:120]!r}")
    return dict(zip(TEXT_ROWS[len(fields)], fields, strict=True))


def _fields(found: int, wanted: int | str) -> str:
    """``6 fields instead of 7``."""
    return f"{found} {plural(found, 'field')} instead of {wanted}"


def _json_object(text: str, line: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        raise RowError(f"unreadable row (broken JSON): {line[:120]!r}") from None
    if not isinstance(value, dict):
        raise RowError(f"unreadable row (not a JSON object): {line[:120]!r}")
    return {_PYWB_NAMES.get(name, name): field for name, field in value.items()}


def _read_json_array(text: str) -> CdxPage:
    """The Internet Archive's ``output=json``: a header row of names, the rows, then ``[]`` and ``[key]``."""
    try:
        table = json.loads(text)
    except ValueError:
        raise RowError("the JSON answer is cut short or broken") from None
    if not isinstance(table, list) or not all(isinstance(row, list) for row in table):
        raise RowError("the JSON answer is not a list of rows")
    if not table:
        return CdxPage((), None)
    names, rows, resume_key = table[0], table[1:], None
    if [] in rows:
        blank = rows.index([])
        if blank != len(rows) - 2 or len(rows[-1]) != 1:
            raise RowError("the JSON answer has an empty row that is not followed by a resume key")
        resume_key, rows = str(rows[-1][0]), rows[:blank]
    refs = []
    for row in rows:
        if len(row) != len(names):
            raise RowError(f"unreadable row ({_fields(len(row), len(names))}): {str(row)[:120]!r}")
        refs.append(_ref(dict(zip(names, row, strict=True)), json.dumps(row)))
    return CdxPage(tuple(refs), resume_key)


def _ref(fields: Mapping[str, object], row: str) -> CaptureRef:
    """A checked :class:`CaptureRef`: a real 14-digit timestamp and an absolute http(s) original URL."""
    timestamp = str(fields.get("timestamp", ""))
    original = str(fields.get("original", ""))
    problem = _row_problem(timestamp, original, fields)
    if problem:
        raise RowError(f"unusable row ({problem}): {row[:120]!r}")
    mimetype = _optional(fields.get("mimetype"))
    # One string for each URL and type a listing repeats (a listing of one URL names it on every row): a long
    # listing held as many copies as rows (2026-11-29).
    return CaptureRef(
        url=sys.intern(original),
        timestamp=parse_wayback_timestamp(timestamp),
        status=_optional_int(fields.get("statuscode")),
        mimetype=None if mimetype is None else sys.intern(mimetype),
        digest=_digest(fields.get("digest")),
        length=_optional_int(fields.get("length")),
        blocked=_blocked(fields.get("access")),
    )


def _blocked(access: object) -> bool:
    """Whether a row's ``access`` field says the archive will not serve the capture. pywb 2.x (read in 2.10's
    ``warcserver/access_checker.py`` and ``handlers.py``, 2026-11) writes ``allow``, ``block`` (an access rule or
    an embargo: its replay answers 451) or ``exclude`` (such rows are not listed at all), and serves a capture only
    when it is ``allow``; a row without the field (any other archive, an older pywb) is served as listed."""
    return access not in (None, "", "-", "allow")


def _row_problem(timestamp: str, original: str, fields: Mapping[str, object]) -> str | None:
    if not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp is not 14 digits"
    try:
        parse_wayback_timestamp(timestamp)
    except ValueError:
        return "timestamp is not a date"
    parts = urlsplit(original)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"original URL {original!r} is not an http(s) URL"
    for name in ("statuscode", "length"):
        if not _NUMBER_OR_DASH.fullmatch(str(fields.get(name, "-"))):
            return f"{name} is not a number"
    status, length = str(fields.get("statuscode", "-")), str(fields.get("length", "-"))
    if not _within(status, LISTED_STATUSES.start, LISTED_STATUSES.stop - 1):
        return f"statuscode {_shown(status)} is no HTTP status (100 to 999)"
    if not _within(length, 0, MAX_LISTED_LENGTH):
        return f"length {_shown(length)} has more than {len(str(MAX_LISTED_LENGTH))} digits"
    return None


def _within(number: str, least: int, most: int) -> bool:
    """Whether ``number`` (digits, or ``-`` for none) is from ``least`` to ``most``; its digits are counted before
    it is read, as Python refuses to read an int of more than 4,300 digits (a ValueError of its own)."""
    if number == "-":
        return True
    return len(number.lstrip("0")) <= len(str(most)) and least <= int(number) <= most


def _shown(number: str) -> str:
    """A number as a reason quotes it: its first 24 digits, and how many more."""
    return number if len(number) <= 24 else f"{number[:24]}… ({len(number):,} digits)"


def _optional(value: object) -> str | None:
    return None if value in (None, "", "-") else str(value)


def _optional_int(value: object) -> int | None:
    text = _optional(value)
    return None if text is None else _number(text)


@functools.lru_cache(maxsize=4096)
def _number(text: str) -> int:
    """One int object for each status and length read recently: a listing repeats them (one text's records differ
    by a few bytes), and a million rows held a million equal lengths (2026-11-29)."""
    return int(text)


def _digest(value: object) -> PayloadDigest | None:
    """A bare base32 SHA-1 as the Internet Archive writes it; pywb's CDXJ labels any other algorithm
    (``sha256:…`` from Browsertrix-crawler's WARCs), and may label a SHA-1 ``sha1:``."""
    text = _optional(value)
    return None if text is None else PayloadDigest.parse(text)
