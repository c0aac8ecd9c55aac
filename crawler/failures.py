"""Why a download failed, in the words a user reads in `FAILED` lines, `status` and the catalog.

Scrapy 2.19 wraps Twisted's errors in its own (``DownloadFailedError``, ``DownloadTimeoutError``, ...) whose text
is Twisted's: a reset connection reads ``[<twisted.python.failure.Failure twisted.internet.error.ConnectionDone:
Connection was closed cleanly.>]``. Each known kind is said plainly here, the Python names left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from OpenSSL import SSL
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet.error import (
    ConnectError,
    ConnectionClosed,
    ConnectionRefusedError,
    DNSLookupError,
    NoRouteError,
    TCPTimedOutError,
)
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived

# The openings of the reasons that asking again cannot change, and the test of them, are in crawler/lasting.py
# (read by `status`, which loads no Scrapy); imported here, where every other kind of failure is said.
from policy_archive.crawler.lasting import HEADER_LINE_TOO_LONG, HEADERS_TOO_LARGE, TOO_LARGE, lasting  # noqa: F401
from policy_archive.errors import PolicyArchiveError
from policy_archive.text import plural, quoted

CLOSED_EARLY = "the connection was closed before the answer was complete"
# A live redirect whose ``Location`` is no URL (``http://[::1/x``): Scrapy's RedirectMiddleware cannot follow it and
# asking again at once gets the same header, so it is a refusal (as the redirect limit is), never a failure for now;
# the next run asks again, the site may have fixed it. The archive's kind: crawler/sources/base.py.
LOCATION_NOT_URL = "the redirect's Location is not a URL"
# A live redirect whose ``Location`` names a host no request can carry (IDNA refuses it, or it is longer than DNS
# allows: policy_archive/hostnames.py): refused as one that is no URL.
LOCATION_HOST_UNUSABLE = "the redirect's Location names a host that cannot be sent"
# Scrapy's texts, as of 2.19: "Expected to receive 235384 bytes which is larger than download max size (100000)
# in request <GET ...>." (an answer whose Content-Length announced it), "Getting URL took longer than 5.0 seconds.".
# An answer without a Content-Length (chunked, or ended by closing) that streams past the limit is cut by
# cancelling its download, and that DownloadCancelledError has no text at all (http11's _ResponseReader:
# ``self._finished.cancel()``; its "Received N bytes ..." goes to the log only): :class:`AnswerTooLarge` says it,
# from the bytes counted (crawler/middlewares.py ``SizeCutMiddleware``).
_TOO_LARGE = re.compile(r"(Expected to receive|Received) (\d+) bytes which is larger than download max size \((\d+)\)")
# A live page served compressed (COMPRESSION_ENABLED, live fetches only): Scrapy 2.19's HttpCompressionMiddleware
# refuses one decompressing past DOWNLOAD_MAXSIZE with IgnoreRequest and this text: "Ignored response <200 URL>
# because its body (2087392 B compressed, 21037056 B decompressed so far) exceeded DOWNLOAD_MAXSIZE (20971520 B)
# during decompression.".
_DECOMPRESSED_TOO_LARGE = re.compile(
    r"\((\d+) B compressed, (\d+) B decompressed so far\) exceeded DOWNLOAD_MAXSIZE \((\d+) B\) during decompression"
)
_TIMEOUT = re.compile(r"took longer than ([\d.]+) seconds")
# Failures that may pass by asking again a little later: no answer in time, a connection refused (a server
# restarting), or closed, reset or cut short on the way (Scrapy 2.19's kinds and Twisted's beneath them). Not a host
# not found, an answer over the size limit nor a header line or block too long: asking again at once changes nothing.
_FAILED_FOR_NOW = (
    DownloadTimeoutError,
    TwistedTimeoutError,
    TCPTimedOutError,
    DownloadConnectionRefusedError,
    ConnectionRefusedError,
    ResponseDataLossError,
    DownloadFailedError,
    ResponseFailed,
    ResponseNeverReceived,
    ConnectionClosed,
)


# Failures before any answer that say the host was not reached at all (crawler/reach.py): a connection refused, the
# host not found, no route to it. Not a timeout, a reset or a connection closed early: something took the
# connection, or the host is slow.
_NOT_REACHED = (
    DownloadConnectionRefusedError,
    ConnectionRefusedError,
    CannotResolveHostError,
    DNSLookupError,
    NoRouteError,
)


def not_reached(error: BaseException) -> bool:
    """Whether a download failed because its host could not be reached at all (:data:`_NOT_REACHED`)."""
    return isinstance(error, _NOT_REACHED)


# Live fetches only: Scrapy's RedirectMiddleware follows a site's redirects, at most REDIRECT_MAX_TIMES (20) per
# request, then refuses with IgnoreRequest and this text (as of Scrapy 2.19). Redirects inside an archive are the
# Wayback spider's own (crawler/sources/base.py ``REDIRECT_LOOP``).
SCRAPY_REDIRECT_LIMIT = "max redirections reached"
# Our words for that refusal: a chain that comes back to a URL is a loop; one that never does is only too long.
REDIRECT_LOOP = "redirect-loop"
TOO_MANY_REDIRECTS = "too-many-redirects"
ROBOTS_DISALLOWED = "robots.txt"
_LOOP_SHOWN = 3  # URLs of a loop named in full; a longer loop is counted


def redirects_exceeded(chain: Sequence[str]) -> str:
    """Why a live fetch stopped following redirects: ``chain`` is every URL asked for, the document's first, the
    last one's answer being one redirect too many. Not :func:`lasting`: the next run asks again (a site's redirect
    loop is often a fault fixed within days)."""
    count = len(chain) - 1
    stopped = f"stopped after {count} {plural(count, 'redirect')}"
    loop = _loop(chain)
    if loop is None:
        return (
            f"{TOO_MANY_REDIRECTS}: more than {count} {plural(count, 'redirect')} from {chain[0]} (last: {chain[-1]})"
        )
    if len(loop) == 1:
        return f"{REDIRECT_LOOP}: {loop[0]} redirects to itself ({stopped})"
    if len(loop) <= _LOOP_SHOWN:
        return f"{REDIRECT_LOOP}: {' → '.join([*loop, loop[0]])} ({stopped})"
    return f"{REDIRECT_LOOP}: {loop[0]} redirects back to itself through {len(loop) - 1} other URLs ({stopped})"


def _loop(chain: Sequence[str]) -> list[str] | None:
    """The first loop of a redirect chain (the URLs from one asked twice to just before its second time), or None."""
    first: dict[str, int] = {}
    for index, url in enumerate(chain):
        if url in first:
            return list(chain[first[url] : index])
        first[url] = index
    return None


class RobotsDisallowed(IgnoreRequest, PolicyArchiveError):
    """A live request not sent because its site's robots.txt disallows it; ``str()`` is the reason (an
    IgnoreRequest for Scrapy, as the refusal of its own robots.txt middleware is)."""

    def __init__(self, url: str):
        super().__init__(f"{ROBOTS_DISALLOWED}: disallows {url} for this crawler (setting [crawl] obey_robots)")


def location_not_url(words: str, location: str, error: str) -> str:
    """Why a redirect is not followed when its ``location`` is no URL (``words``: whose redirect), in one bounded
    line: ``the redirect's Location is not a URL: 'http://[::1/x' (Invalid IPv6 URL)``."""
    return f"{words}: {quoted(location)} ({error})"


class UnusableLocation(IgnoreRequest, PolicyArchiveError):
    """A live redirect not followed because its ``Location`` is no URL, or names a host that cannot be sent
    (``words``: :data:`LOCATION_HOST_UNUSABLE`); ``str()`` is the reason (an IgnoreRequest for Scrapy, so the
    request's errback gets it, counted a refusal, not a download that failed)."""

    def __init__(self, location: str, error: str, words: str = LOCATION_NOT_URL):
        super().__init__(location_not_url(words, location, error))


class HeaderLineTooLong(Exception):
    """An answer's status or header line longer than Twisted's HTTP client reads (``limit`` bytes).

    Twisted 26.10's parser (a ``LineReceiver``) only closes the connection then, so that the failure read like a
    connection closed by the server (third audit, finding 8); :mod:`crawler.transport` raises this instead."""

    def __init__(self, limit: int):
        super().__init__(f"a header line over {limit} bytes")
        self.limit = limit


class HeadersTooLarge(Exception):
    """An answer with more header lines, or more header bytes, than :mod:`crawler.transport` reads: ``limit`` says
    which limit, e.g. ``1,000 lines``. Twisted 26.10 bounds each line only, so 200,000 small headers were read
    whole, bounded by the download's timeout alone."""

    def __init__(self, limit: str):
        super().__init__(f"headers over {limit}")
        self.limit = limit


_AS_SERVED = (HeaderLineTooLong, HeadersTooLarge)


def too_large(size: int, verb: str, limit: int) -> str:
    """Why an answer over ``max_page_bytes`` (``limit``) was not read: ``size`` bytes ``announced`` (its
    Content-Length) or ``received`` (streamed until the limit cut it)."""
    return (
        f"{TOO_LARGE}: {size:,} bytes {verb}, over the limit of {limit:,} bytes"
        " (setting [crawl] max_page_bytes: raise it to fetch this answer)"
    )


def rendering_too_large(received: int, limit: int) -> str:
    """Why a page rendered from an archive was not taken when the answers to its requests (scripts, data, frames,
    the page itself) came to ``received`` bytes in all, over ``max_page_bytes`` (``limit``)."""
    return (
        f"{TOO_LARGE}: the answers to the page's requests came to {received:,} bytes in all, over the limit of"
        f" {limit:,} bytes (setting [crawl] max_page_bytes: raise it to render this page)"
    )


class AnswerTooLarge(DownloadCancelledError, PolicyArchiveError):
    """An answer without a Content-Length whose download was cut once it passed ``max_page_bytes``: ``received``
    bytes had come, over ``limit``. ``str()`` is the reason; a DownloadCancelledError still, as the one it
    replaces (Scrapy's, which says nothing)."""

    def __init__(self, received: int, limit: int):
        super().__init__(too_large(received, "received", limit))
        self.received = received
        self.limit = limit


def asked_times(reason: str, times: int) -> str:
    """``reason`` with how many times its request was asked, when more than once: `` (asked 3 times)``, as a
    listing's failure says it (crawler/sources/cdx.py)."""
    return f"{reason} (asked {times} times)" if times > 1 else reason


def status_for_now(status: int) -> bool:
    """Whether a live answer's ``status`` says the site failed or was busy at that moment (a 5xx, 408 Request
    Timeout, 429 Too Many Requests): the page could not be fetched for now, as after a timeout; the next run may
    get it. Any other status (a 404, a 410) is the site's answer about the page: a refusal."""
    return status >= 500 or status in (408, 429)


def for_now(error: BaseException) -> bool:
    """Whether a download that failed so may succeed if asked again a little later (in the same run)."""
    return isinstance(error, _FAILED_FOR_NOW) and not any(isinstance(r, _AS_SERVED) for r in _reasons(error))


def plain_reason(error: BaseException) -> str | None:
    """The failure in plain words, or None when it is none of the kinds known here."""
    if isinstance(error, AnswerTooLarge):
        return str(error)
    if isinstance(error, DownloadCancelledError) and (large := _TOO_LARGE.search(str(error))):
        verb = "announced" if large.group(1).startswith("Expected") else "received"
        return too_large(int(large.group(2)), verb, int(large.group(3)))
    if isinstance(error, IgnoreRequest) and (large := _DECOMPRESSED_TOO_LARGE.search(str(error))):
        compressed, decompressed, limit = (int(group) for group in large.groups())
        return (
            f"{TOO_LARGE}: {compressed:,} bytes received, {decompressed:,} bytes or more once decompressed, over"
            f" the limit of {limit:,} bytes (setting [crawl] max_page_bytes: raise it to fetch this answer)"
        )
    if isinstance(error, HeaderLineTooLong):
        return f"{HEADER_LINE_TOO_LONG} {error.limit:,} bytes, more than this client reads (no setting changes it)"
    if isinstance(error, HeadersTooLarge):
        return f"{HEADERS_TOO_LARGE}: over {error.limit}, more than this client reads (no setting changes it)"
    if isinstance(error, DownloadTimeoutError | TwistedTimeoutError | TCPTimedOutError):
        seconds = _TIMEOUT.search(str(error))
        amount = float(seconds.group(1)) if seconds else None
        within = f" within {amount:g} {plural(1 if amount == 1 else 2, 'second')}" if amount is not None else ""
        return f"timeout: no complete answer{within} (setting [wayback] timeout_seconds)"
    if isinstance(error, CannotResolveHostError | DNSLookupError):
        return "host not found (the DNS lookup failed)"
    if isinstance(error, DownloadConnectionRefusedError | ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ResponseDataLossError):
        return f"{CLOSED_EARLY} (fewer bytes than its Content-Length announced)"
    if isinstance(error, DownloadFailedError | ResponseFailed | ResponseNeverReceived):
        return _failed(error)
    if isinstance(error, ConnectionClosed):
        return CLOSED_EARLY
    if isinstance(error, ConnectError):
        return f"could not connect ({error.osError})" if error.osError else "could not connect"
    if isinstance(error, SSL.Error):
        return f"the TLS handshake failed ({_tls_reasons(error)})"
    return None


def _tls_reasons(error: SSL.Error) -> str:
    """What OpenSSL says failed: pyOpenSSL (26.x) gives a list of ``(library, function, reason)`` triples, e.g.
    ``[('SSL routines', '', 'wrong version number')]`` for a server that does not speak TLS on that port."""
    said = error.args[0] if error.args else None
    if isinstance(said, list):
        reasons = [str(entry[-1]) for entry in said if isinstance(entry, tuple) and entry and entry[-1]]
        if reasons:
            return "; ".join(reasons)
    return message(error)


def _failed(error: BaseException) -> str:
    """A download that broke off: what Twisted says broke it (the ``reasons`` of ``ResponseFailed``, which
    Scrapy keeps as the cause of its ``DownloadFailedError``).

    A body cut short is told without Twisted's private ``_DataLoss`` (as of Twisted 26.10 it has no public
    name): Twisted raises it only inside a ``ResponseFailed`` that carries the ``response`` whose status and
    headers had arrived, and Scrapy 2.19 turns that one into ``ResponseDataLossError`` (:func:`plain_reason`).
    """
    cause = _cause(error)
    reasons = _reasons(error)
    began = getattr(cause, "response", None) is not None  # the answer had begun: its body was cut short
    if not reasons or began or any(isinstance(reason, ConnectionClosed) for reason in reasons):
        return CLOSED_EARLY
    known = [words for reason in reasons if isinstance(reason, BaseException) and (words := plain_reason(reason))]
    return known[0] if known else f"the download failed ({message(reasons[0])})"


def _cause(error: BaseException) -> BaseException | None:
    """Twisted's ``ResponseFailed`` (or ``ResponseNeverReceived``): the error itself, or the one Scrapy wrapped."""
    return error if isinstance(error, ResponseFailed | ResponseNeverReceived) else error.__cause__


def _reasons(error: BaseException) -> list[object]:
    """What Twisted says broke a download off (its ``reasons``, unwrapped from their ``Failure``); empty when
    it says nothing."""
    return [r.value if isinstance(r, Failure) else r for r in getattr(_cause(error), "reasons", [])]


def described(error: BaseException) -> str:
    """Any download failure in one line of our words: a known kind plainly (:func:`plain_reason`), any other
    (a kind not met yet) as the download failing, with what the error says — never a Python class name."""
    return plain_reason(error) or f"the download failed ({message(error)})"


def message(error: object) -> str:
    """An error's own first line, without Python's representation (``no details given`` when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else "no details given"
