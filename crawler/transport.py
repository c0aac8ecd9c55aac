"""Scrapy's HTTP/1.1 download handler, with an answer's header line over Twisted's limit named as such.

Twisted 26.10's HTTP client parses an answer's status and header lines with a ``LineReceiver`` whose
``MAX_LENGTH`` is 16,384 bytes; a longer line makes it close the connection and nothing more
(``LineReceiver.lineLengthExceeded``), so the download failed as ``ResponseFailed([ConnectionDone])`` — told as a
connection closed before the answer was complete, and asked again as if it could pass (third audit, finding 8: an
8 MB header line). Here the parser's ``lineLengthExceeded`` (a public hook of ``LineReceiver``) raises
:class:`~crawler.failures.HeaderLineTooLong` instead: Twisted's ``HTTP11ClientProtocol.dataReceived`` gives up
the connection with it, and Scrapy 2.19 wraps it in its ``DownloadFailedError``. The line stays unread past the
limit: memory stays bounded.

The parser is reached through attributes that neither library documents (checked 2026-11-28 in Scrapy 2.19.0 and
Twisted 26.10.0; no library name is imported): the handler's connection pool ``_pool``, its protocol factory
``_factory`` (Scrapy's own, which skips header lines without a colon: kept, only wrapped), and the protocol's
``_parser``, created by ``request()``. ``tests/test_backfill_accounting.py`` fails if any of them changes.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler

from policy_archive.crawler.failures import HeaderLineTooLong


def _refuse_long_line(limit: int) -> Any:
    def line_length_exceeded(line: bytes) -> None:
        raise HeaderLineTooLong(limit)

    return line_length_exceeded


def _naming_long_lines(factory: Any) -> Any:
    """A subclass of the pool's protocol factory whose protocols' parsers raise on a line over their limit."""

    class Factory(factory):  # type: ignore[misc,valid-type]
        def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 (Twisted's naming)
            protocol = super().buildProtocol(addr)
            send = protocol.request

            def request(*args: Any, **kwargs: Any) -> Any:
                answered = send(*args, **kwargs)
                parser = protocol._parser  # created by request(), before any byte of the answer is read
                parser.lineLengthExceeded = _refuse_long_line(parser.MAX_LENGTH)
                return answered

            protocol.request = request
            return protocol

    return Factory


class HeaderLineLimit:
    """Mixin for Scrapy's HTTP/1.1 handler and its subclasses (scrapy-playwright's): the connection pool's
    protocols name a header line too long."""

    _pool: Any

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)  # type: ignore[call-arg]
        self._pool._factory = _naming_long_lines(self._pool._factory)


class DownloadHandler(HeaderLineLimit, HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler naming a header line too long: the crawl's ``http``/``https`` handler
    when the ``browser`` extra is not installed (``crawler.render_handler``'s when it is)."""
