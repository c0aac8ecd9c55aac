"""Scrapy's HTTP/1.1 download handler, with an answer's header line over Twisted's limit named as such, and its
header block bounded.

Twisted 26.10's HTTP client parses an answer's status and header lines with a ``LineReceiver`` whose
``MAX_LENGTH`` is 16,384 bytes; a longer line makes it close the connection and nothing more
(``LineReceiver.lineLengthExceeded``), so the download failed as ``ResponseFailed([ConnectionDone])`` — told as a
connection closed before the answer was complete, and asked again as if it could pass (third audit, finding 8: an
8 MB header line). Here the parser's ``lineLengthExceeded`` (a public hook of ``LineReceiver``) raises
:class:`~crawler.failures.HeaderLineTooLong` instead: Twisted's ``HTTP11ClientProtocol.dataReceived`` gives up
the connection with it, and Scrapy 2.19 wraps it in its ``DownloadFailedError``. The line stays unread past the
limit: memory stays bounded.

Twisted bounds each line only: an answer of 200,000 small headers was read whole into memory, bounded by the
download's timeout alone. The parser's ``lineReceived`` is wrapped too, counting the status and header lines and
their bytes: past :data:`MAX_HEADER_LINES` lines or :data:`MAX_HEADER_BYTES` bytes it raises
:class:`~crawler.failures.HeadersTooLarge`, given up the same way, the rest unread.

The parser is reached through attributes that neither library documents (checked 2026-11-28 in Scrapy 2.19.0 and
Twisted 26.10.0; no library name is imported): the handler's connection pool ``_pool``, its protocol factory
``_factory`` (Scrapy's own, which skips header lines without a colon: kept, only wrapped), and the protocol's
``_parser``, created by ``request()``. ``tests/test_backfill_accounting.py`` fails if any of them changes.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler

from policy_archive.crawler.failures import HeaderLineTooLong, HeadersTooLarge

# An answer's status and header lines, at most, and their bytes (line ends included). 256 KiB is the limit of
# Chromium's HTTP stack (as of 2026-11, net::ERR_RESPONSE_HEADERS_TOO_BIG); a Wayback Machine replay sends 20 to 60
# lines (the site's own headers, as X-Archive-Orig-*), a live page rarely a hundred.
MAX_HEADER_LINES = 1_000
MAX_HEADER_BYTES = 256 * 1024


def _refuse_long_line(limit: int) -> Any:
    def line_length_exceeded(line: bytes) -> None:
        raise HeaderLineTooLong(limit)

    return line_length_exceeded


def _bounding_headers(parser: Any) -> Any:
    """The parser's ``lineReceived``, raising once the status and header lines pass either limit. After the
    blank line that ends the headers the parser reads the body raw: no line reaches it any more."""
    receive = parser.lineReceived
    lines = size = 0

    def line_received(line: bytes) -> None:
        nonlocal lines, size
        lines, size = lines + 1, size + len(line) + 1  # the "\n" LineReceiver split it on
        if lines > MAX_HEADER_LINES:
            raise HeadersTooLarge(f"{MAX_HEADER_LINES:,} lines")
        if size > MAX_HEADER_BYTES:
            raise HeadersTooLarge(f"{MAX_HEADER_BYTES:,} bytes")
        receive(line)

    return line_received


def _bounded_parsers(factory: Any) -> Any:
    """A subclass of the pool's protocol factory whose protocols' parsers raise on a line over their limit, or
    on a header block over ours."""

    class Factory(factory):  # type: ignore[misc,valid-type]
        def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 (Twisted's naming)
            protocol = super().buildProtocol(addr)
            send = protocol.request

            def request(*args: Any, **kwargs: Any) -> Any:
                answered = send(*args, **kwargs)
                parser = protocol._parser  # created by request(), before any byte of the answer is read
                parser.lineLengthExceeded = _refuse_long_line(parser.MAX_LENGTH)
                parser.lineReceived = _bounding_headers(parser)
                return answered

            protocol.request = request
            return protocol

    return Factory


class BoundedHeaders:
    """Mixin for Scrapy's HTTP/1.1 handler and its subclasses (scrapy-playwright's): the connection pool's
    protocols name a header line too long, and bound the header block."""

    _pool: Any

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)  # type: ignore[call-arg]
        self._pool._factory = _bounded_parsers(self._pool._factory)


class DownloadHandler(BoundedHeaders, HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler with an answer's headers bounded: the crawl's ``http``/``https`` handler
    when the ``browser`` extra is not installed (``crawler.render_handler``'s when it is)."""
