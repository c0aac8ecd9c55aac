"""Scrapy's HTTP/1.1 download handler, with an answer's header line over Twisted's limit named as such.

Twisted 26.10's HTTP client parses an answer's status and header lines with a ``LineReceiver`` whose
``MAX_LENGTH`` is 16,384 bytes; a longer line makes it close the connection and nothing more
(``LineReceiver.lineLengthExceeded``), so the download failed as ``ResponseFailed([ConnectionDone])`` — told as a
connection closed before the answer was complete, and asked again as if it could pass (third audit, finding 8: an
8 MB header line). Here the parser raises :class:`~crawler.failures.HeaderLineTooLong` instead: Twisted's
``HTTP11ClientProtocol.dataReceived`` gives up the connection with it, and Scrapy 2.19 wraps it in its
``DownloadFailedError``. The line stays unread past the limit: memory stays bounded.

Scrapy (as of 2.19) sets its own private protocol and parser classes on the handler's connection pool
(``_LenientHTTP11ClientFactory``: header lines without a colon are skipped); ours are subclasses of them, so
that leniency is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)

from policy_archive.crawler.failures import HeaderLineTooLong

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IAddress
    from twisted.web._newclient import HTTP11ClientProtocol, Request
    from twisted.web.client import HTTPConnectionPool
    from twisted.web.iweb import IResponse


class _HeaderLineLimitedParser(_LenientHTTPClientParser):
    def lineLengthExceeded(self, line: bytes) -> None:  # noqa: N802 (Twisted's naming)
        raise HeaderLineTooLong(self.MAX_LENGTH)


class _Protocol(_LenientHTTP11ClientProtocol):
    def request(self, request: Request) -> Deferred[IResponse]:
        answered = super().request(request)
        # As Scrapy's own protocol does: request() creates the parser, whose class is the only way in.
        assert self._parser is not None
        self._parser.__class__ = _HeaderLineLimitedParser
        return answered


class _Factory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: IAddress | None) -> HTTP11ClientProtocol:  # noqa: N802 (Twisted's naming)
        return _Protocol(self._quiescentCallback)  # type: ignore[no-untyped-call]


class HeaderLineLimit:
    """Mixin for Scrapy's HTTP/1.1 handler and its subclasses (scrapy-playwright's): the connection pool's
    protocols name a header line too long."""

    _pool: HTTPConnectionPool

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)  # type: ignore[call-arg]
        self._pool._factory = _Factory


class DownloadHandler(HeaderLineLimit, HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler naming a header line too long: the crawl's ``http``/``https`` handler
    when the ``browser`` extra is not installed (``crawler.render_handler`` is, when it is)."""
