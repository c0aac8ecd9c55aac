"""List the captures of a URL in a Wayback-compatible archive's CDX API: the only module importing waybackpy.

Why waybackpy builds the query and parses the rows, but this module sends the requests and pages itself
(read in waybackpy 3.0.6, its last release, 2022): its ``get_response`` opens a fresh ``requests`` session
with **no timeout**, mounts automatic retries on ``https://`` only (a retry storm against a 503, bypassing our
rate limiter) and **never looks at the status code**, so a 429 or a plain-http 503 page is parsed as rows: lines
shorter than 46 characters are skipped silently, and the listing comes back empty or short with no exception.
Its resume-key loop also reads a page that ends with a blank line but no key as the last page. Any of these
would turn "the archive refused" into "this document has no history". So here:

- waybackpy's :class:`WaybackMachineCDXServerAPI` builds each request URL exactly as it would (``endpoint``
  set to the configured ``cdx_url``; ``from``/``to``/``limit``/``showResumeKey``/``resumeKey`` encoded by its
  ``full_url``, which double-encodes resume keys the way the Internet Archive expects), and its
  :class:`CDXSnapshot` parses every row (after we checked it has exactly 7 fields);
- the request goes through :mod:`urllib.request` (no extra dependency, no hidden retries) with the configured
  timeout as a deadline for the whole answer, after waiting for the shared CDX rate limiter;
- every refusal, error status, network failure or malformed page raises a :class:`CdxError`: a listing is
  returned complete or not at all, never short or empty because something went wrong.
"""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Protocol
from urllib.parse import urlsplit

from waybackpy.cdx_api import WaybackMachineCDXServerAPI
from waybackpy.cdx_snapshot import CDXSnapshot
from waybackpy.cdx_utils import full_url

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.errors import ArchiveError
from policy_archive.records import CaptureRef, format_wayback_timestamp, utc

CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# One CDX query answers at most 150,000 rows (as of 2026-11); smaller pages keep each answer quick and a
# failure cheap, larger ones save rate-limited requests. 25,000 is waybackpy's own default.
DEFAULT_PAGE_SIZE = 25_000
# What the Internet Archive answers for a URL excluded from the Wayback Machine (recorded 2020-06, still
# tested for by waybackpy 3.0.6 and EDGI's wayback client in 2026).
BLOCKED_MARKERS = ("Blocked Site Error", "AdministrativeAccessControlException")
_CHUNK_BYTES = 64 * 1024
_TIMESTAMP = re.compile(r"\d{14}")
_STATUS = re.compile(r"\d{3}|-")
_LENGTH = re.compile(r"\d+|-")


class CdxError(ArchiveError):
    """A CDX listing that failed: ``url`` is the document URL, ``str(error)`` one line saying why."""

    def __init__(self, url: str, message: str):
        self.url = url
        self.message = message
        super().__init__(message)


class CdxRateLimited(CdxError):
    """The archive answered 429: every request to it is paused for ``pause_seconds``."""

    def __init__(self, url: str, message: str, pause_seconds: float):
        self.pause_seconds = pause_seconds
        super().__init__(url, message)


class CdxBlocked(CdxError):
    """The archive refuses to list this URL (403, "Blocked Site Error": excluded from the archive)."""


class CdxUnavailable(CdxError):
    """The archive could not be reached or failed to answer (5xx, timeout, refused connection, unknown host)."""


class CdxParseError(CdxError):
    """The archive answered something that is not a complete CDX listing."""


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: Message
    body: bytes


@dataclass(frozen=True)
class _Page:
    rows: tuple[str, ...]
    resume_key: str | None


def list_captures(
    url: str,
    settings: WaybackSettings,
    limiter: RateLimiter,
    user_agent: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> list[CaptureRef]:
    """Every capture of ``url`` between ``since`` and ``until`` (both inclusive), sorted by time.

    Pages through the listing with ``showResumeKey``/``resumeKey``, drops repeated rows, and raises a
    :class:`CdxError` for any failure on any page; a listing is never returned short.
    """
    listing = _Listing(url, settings, limiter, user_agent, page_size)
    lower = utc(since) if since else None
    upper = utc(until) if until else None
    refs = {
        _identity(ref): ref
        for ref in listing.refs(lower, upper)
        # The archive bounds the listing already; a server that ignored from/to must not widen it either.
        if (lower is None or ref.timestamp >= lower) and (upper is None or ref.timestamp <= upper)
    }
    return sorted(refs.values(), key=lambda ref: (ref.timestamp, ref.url))


class _Listing:
    def __init__(self, url: str, settings: WaybackSettings, limiter: RateLimiter, user_agent: str, page_size: int):
        if page_size < 1:
            raise ValueError(f"page_size must be positive, got {page_size}")
        self.url = url
        self.settings = settings
        self.limiter = limiter
        self.user_agent = user_agent
        self.page_size = page_size
        self.archive = urlsplit(settings.cdx_url).netloc

    def refs(self, since: datetime | None, until: datetime | None) -> Iterable[CaptureRef]:
        api = WaybackMachineCDXServerAPI(
            self.url,
            user_agent=self.user_agent,
            start_timestamp=format_wayback_timestamp(since) if since else None,
            end_timestamp=format_wayback_timestamp(until) if until else None,
            limit=str(self.page_size),
        )
        api.endpoint = self.settings.cdx_url
        payload: dict[str, str] = {}
        api.add_payload(payload)
        payload.update(showResumeKey="true", limit=str(self.page_size))
        seen_keys: set[str] = set()
        page_number = 0
        while True:
            page = self._page(full_url(api.endpoint, payload), page_number)
            yield from (self._ref(row, page_number) for row in page.rows)
            if page.resume_key is None:
                return
            if page.resume_key in seen_keys:
                raise self._error(CdxParseError, f"page {page_number + 1} repeated an earlier resume key")
            seen_keys.add(page.resume_key)
            payload["resumeKey"] = page.resume_key
            page_number += 1

    # --- one page ----------------------------------------------------------------------------------------

    def _page(self, request_url: str, page_number: int) -> _Page:
        where = f" (page {page_number + 1})" if page_number else ""
        answer = self._get(request_url, where)
        if any(marker.encode() in answer.body for marker in BLOCKED_MARKERS):
            raise self._error(CdxBlocked, f"the archive excludes this URL (Blocked Site Error){where}")
        self._check_status(answer, where)
        try:
            text = answer.body.decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(CdxParseError, f"answered bytes that are not UTF-8 text{where}") from None
        return self._parse(text, where)

    def _parse(self, text: str, where: str) -> _Page:
        lines = [line.rstrip("\r") for line in text.split("\n")]
        if lines[-1] == "":
            lines.pop()
        resume_key = None
        if "" in lines:
            blank = lines.index("")
            if blank == len(lines) - 1:
                raise self._error(CdxParseError, f"a page announced a resume key but ended without it{where}")
            if blank != len(lines) - 2 or " " in lines[-1].strip():
                raise self._error(CdxParseError, f"a blank line in the middle of the rows{where}")
            resume_key = lines[-1].strip()
            lines = lines[:blank]
        if resume_key is None and len(lines) >= self.page_size:
            # A full page without a key: the archive ignored showResumeKey and cut the listing at the limit.
            raise self._error(
                CdxParseError, f"a full page of {len(lines)} rows came without a resume key: listing truncated{where}"
            )
        return _Page(tuple(lines), resume_key)

    def _ref(self, row: str, page_number: int) -> CaptureRef:
        fields = row.split(" ")
        problem = _row_problem(fields)
        if problem:
            where = f" on page {page_number + 1}" if page_number else ""
            raise self._error(CdxParseError, f"unreadable row{where} ({problem}): {row[:120]!r}")
        snapshot = CDXSnapshot(dict(zip(CDX_FIELDS, fields, strict=True)))
        return CaptureRef(
            url=snapshot.original,
            timestamp=snapshot.datetime_timestamp.replace(tzinfo=UTC),
            status=_optional_int(snapshot.statuscode),
            mimetype=_optional(snapshot.mimetype),
            digest=_optional(snapshot.digest),
            length=_optional_int(snapshot.length),
        )

    # --- HTTP --------------------------------------------------------------------------------------------

    def _get(self, request_url: str, where: str) -> _Answer:
        self.limiter.wait()
        request = urllib.request.Request(request_url, headers={"User-Agent": self.user_agent})
        timeout = self.settings.timeout_seconds
        deadline = time.monotonic() + timeout
        try:
            try:
                response = urllib.request.urlopen(request, timeout=timeout)
            except urllib.error.HTTPError as error:  # a status the archive chose: read it like any answer
                response = error
            with response:
                body = _read_until(response, deadline)
                return _Answer(response.status, response.reason or "", response.headers, body)
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._error(CdxUnavailable, f"no answer within {timeout:g} s{where}") from None
            raise self._error(CdxUnavailable, f"{_network_problem(error.reason)}{where}") from None
        except TimeoutError:
            raise self._error(CdxUnavailable, f"no complete answer within {timeout:g} s{where}") from None
        except (OSError, HTTPException) as error:
            raise self._error(CdxUnavailable, f"{_network_problem(error)}{where}") from None

    def _check_status(self, answer: _Answer, where: str) -> None:
        status = answer.status
        if status == 200:
            return
        said = f"{self.archive} answered {status} {answer.reason}".rstrip()
        if status in (429, 503):
            pause = self.limiter.penalize(_retry_after(answer.headers), status=status)
            message = f"{said}{where}; all requests to it pause for {pause:.0f} s"
            if status == 429:
                raise CdxRateLimited(self.url, self._message(message), pause)
            raise self._error(CdxUnavailable, message)
        if status == 403:
            raise self._error(CdxBlocked, f"{said}: the archive refuses to list this URL{where}")
        if status >= 500:
            raise self._error(CdxUnavailable, f"{said}{where}")
        raise self._error(CdxError, f"{said}{where}")

    def _message(self, reason: str) -> str:
        return f"cannot list the captures of {self.url}: {reason}"

    def _error(self, kind: type[CdxError], reason: str) -> CdxError:
        return kind(self.url, self._message(reason))


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _read_until(response: _Readable, deadline: float) -> bytes:
    """The whole body, or TimeoutError: the socket timeout alone would let a trickling server run forever."""
    chunks = []
    while chunk := response.read(_CHUNK_BYTES):
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(chunks)


def _row_problem(fields: list[str]) -> str | None:
    if len(fields) != len(CDX_FIELDS):
        return f"{len(fields)} fields instead of {len(CDX_FIELDS)}"
    _, timestamp, original, _, status, _, length = fields
    if not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp is not 14 digits"
    try:
        datetime.strptime(timestamp, "%Y%m%d%H%M%S")
    except ValueError:
        return "timestamp is not a date"
    if not original:
        return "no original URL"
    if not _STATUS.fullmatch(status):
        return "status is not a number"
    if not _LENGTH.fullmatch(length):
        return "length is not a number"
    return None


def _identity(ref: CaptureRef) -> tuple[datetime, str, int | None, str | None, str | None]:
    """What makes two rows the same capture; ``length`` is left out (a WARC record size, it varies by copy)."""
    return (ref.timestamp, ref.url, ref.status, ref.mimetype, ref.digest)


def _optional(value: str) -> str | None:
    return None if value == "-" else value


def _optional_int(value: str) -> int | None:
    return None if value == "-" else int(value)


def _retry_after(headers: Message) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or HTTP-date form); the Internet Archive sends none (2026-11)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (utc(moment) - datetime.now(UTC)).total_seconds())


def _network_problem(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "archive host not found (no network or DNS?)"
    if isinstance(reason, HTTPException):
        return f"connection broken mid-answer ({type(reason).__name__})"
    if isinstance(reason, OSError) and reason.strerror:
        return f"network error: {reason.strerror}"
    return f"network error: {reason}"
