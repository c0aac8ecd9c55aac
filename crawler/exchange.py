"""One HTTP exchange outside Scrapy, bounded as a whole: a CDX listing page (crawler/sources/cdx.py), the webhook
posted after a run with changes (pipeline/scheduling/notify.py), a benchmark's download.

- through :mod:`http.client`: no hidden retries, no redirect followed, through the HTTP proxy the environment
  names as Scrapy's fetches go (``http_proxy``, ``https_proxy``, ``no_proxy``);
- ``timeout`` is a deadline for the *whole* exchange, not for each read: the host name (the server's, or the
  proxy's when one is set) is looked up within it on a thread of its own (:func:`.names.lookup_within`: a name
  server that never answers cannot hold the caller), the connection is made in what is left of it, and from then
  on a watchdog shuts the socket when it passes (a proxy's ``CONNECT`` answer, the request sent, the answer read),
  so a server trickling one byte a second cannot hold the caller (a per-read socket timeout would wait forever).
  The TLS handshake too: the watchdog shuts the connection through a duplicate of its socket, taken when it is
  made, which :mod:`ssl` cannot take from it (``wrap_socket`` moves the descriptor to a new socket object and
  leaves the one http.client held closed, so shutting that one reached nothing while the handshake went on);
- :func:`fetch` reads the answer whole, at most ``max_bytes``, as long as its Content-Length, ended by its
  terminating chunk; :func:`post` reads its status line and headers only (the status is its answer).
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.client import (
    HTTPConnection,
    HTTPException,
    HTTPMessage,
    HTTPResponse,
    HTTPSConnection,
    IncompleteRead,
)
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from policy_archive.crawler.names import lookup_within
from policy_archive.text import plural

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as read whole: status, reason phrase, headers and body (empty when not read, as for a POST)."""

    status: int
    reason: str
    headers: HTTPMessage
    body: bytes  # empty when not read (post)


class AnswerCutShort(Exception):
    """The connection ended before the answer did (Content-Length not reached, no terminating chunk)."""


class AnswerTooLarge(Exception):
    """The answer is, or announces itself, larger than the limit."""


def fetch(url: str, user_agent: str, timeout: float, max_bytes: int) -> Answer:
    """GET ``url`` and read the whole answer before ``timeout`` seconds have passed, or raise (``TimeoutError``
    past them)."""
    headers = {"User-Agent": user_agent, "Accept-Encoding": "identity"}
    return _exchange(url, "GET", headers, None, timeout, lambda response: _read_body(response, max_bytes))


def post(url: str, user_agent: str, timeout: float, payload: bytes, content_type: str) -> Answer:
    """POST ``payload`` to ``url``; the answer's status and headers before ``timeout`` seconds have passed, or raise
    (``TimeoutError`` past them). Its body is not read: however long, or slow, it holds nothing of the caller."""
    headers = {"User-Agent": user_agent, "Content-Type": content_type}
    return _exchange(url, "POST", headers, payload, timeout, lambda _response: b"")


def _exchange(
    url: str,
    method: str,
    headers: Mapping[str, str],
    payload: bytes | None,
    timeout: float,
    read_body: Callable[[HTTPResponse], bytes],
) -> Answer:
    connection, target, proxy_headers = _connection(urlsplit(url), timeout)
    watchdog = _Watchdog(timeout)
    # http.client looks the name up with getaddrinfo on this thread, bounded by nothing (the timeout applies to the
    # socket once made): its one hook for making the socket is this attribute (CPython 3.11-3.13).
    connection._create_connection = watchdog.create_connection
    try:
        try:
            connection.connect()
            connection.request(method, target, body=payload, headers={**headers, **proxy_headers})
            response = connection.getresponse()
            body = read_body(response)
        except (OSError, HTTPException, AnswerCutShort):  # a socket shut by the watchdog reads as cut short
            if watchdog.fired:
                raise TimeoutError from None
            raise
        finally:
            watchdog.stop()
        if watchdog.fired:
            raise TimeoutError
        return Answer(response.status, response.reason or "", response.headers, body)
    finally:
        connection.close()


def _connection(parts: SplitResult, timeout: float) -> tuple[HTTPConnection, str, dict[str, str]]:
    """The connection for ``parts``, the request target and the headers the proxy needs.

    Through the proxy the environment names for the scheme (``http_proxy``, ``https_proxy``, ``no_proxy``), as
    Scrapy's fetches of the captures go (its HttpProxyMiddleware reads the same variables), else direct: an
    ``http`` URL is asked of the proxy in absolute form, an ``https`` one through a ``CONNECT`` tunnel.
    """
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
    proxy = _proxy_for(parts)
    if proxy is None:
        return connection_class(parts.hostname or "", parts.port, timeout=timeout), path, {}
    proxy_parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if proxy_parts.scheme != "http":
        raise OSError(f"proxy {proxy_parts.scheme}://{proxy_parts.hostname}: only http:// proxies are supported")
    credentials = _proxy_credentials(proxy_parts)
    if parts.scheme != "https":
        connection = HTTPConnection(proxy_parts.hostname or "", proxy_parts.port, timeout=timeout)
        return connection, urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, "")), credentials
    connection = HTTPSConnection(proxy_parts.hostname or "", proxy_parts.port, timeout=timeout)
    connection.set_tunnel(parts.hostname or "", parts.port, headers=credentials)
    return connection, path, {}


def proxy_host(url: str) -> str | None:
    """``host:port`` of the proxy the environment names for ``url`` (never its credentials), or None when direct."""
    proxy = _proxy_for(urlsplit(url))
    if proxy is None:
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


def _proxy_for(parts: SplitResult) -> str | None:
    """The proxy URL the environment names for this URL's scheme, unless ``no_proxy`` exempts its host."""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return proxy


def _proxy_credentials(proxy: SplitResult) -> dict[str, str]:
    """``Proxy-Authorization`` for a proxy URL with ``user:password@`` (basic, as Scrapy sends it)."""
    if proxy.username is None:
        return {}
    pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode("latin-1")
    return {"Proxy-Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}


class _Watchdog:
    """The deadline of one connection's exchange: its socket is made within it, and shut down when it passes, so
    that a blocked read or write returns at once, whatever the server is doing.

    It is shut through a duplicate of the socket (the same connection, another descriptor): http.client's
    ``sock`` is replaced during the exchange (an HTTPS connection's by the :mod:`ssl` socket ``wrap_socket``
    makes, closing the plain one it took the descriptor from), and a shutdown reaches the connection through any
    of its descriptors, the TLS handshake's included (the handshake then fails at once: its peer is gone)."""

    def __init__(self, timeout: float):
        self.fired = False
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._socket: socket.socket | None = None  # the duplicate, once the connection is made
        self._lock = threading.Lock()  # the timer's thread shuts the duplicate; the caller's closes it
        self._stopped = False
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:  # the exchange ended as the time ran out: its answer stands
                return
            self.fired = True
            if self._socket is None:  # not connected yet: the connection is being made within what is left of it
                return
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:  # the connection already reset: nothing left to interrupt
                pass

    def stop(self) -> None:
        """The exchange is over: no shutdown after this, and the duplicate closed."""
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            if self._socket is not None:
                self._socket.close()

    def create_connection(
        self, address: tuple[str, int], _timeout: float, source_address: tuple[str, int] | None = None
    ) -> socket.socket:
        """:func:`socket.create_connection` to ``address`` before the deadline: its host name looked up within the
        timeout (:class:`.names.LookupTimedOut` past it: the lookup is the exchange's first step), each address
        found tried in turn in the time left (``TimeoutError`` once none is)."""
        host, port = address
        found = lookup_within(host, self._timeout)
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: Name or service not known")
        error: OSError = OSError(f"no address of {host} could be connected to")
        for _family, sockaddr in found:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                made = socket.create_connection((sockaddr[0], port), left, source_address)
            except OSError as failed:
                error = failed
                continue
            with self._lock:
                if self.fired:  # it passed while the connection was being made: nothing would shut this one
                    made.close()
                    raise TimeoutError
                try:
                    self._socket = made.dup()
                except OSError:  # out of descriptors
                    made.close()
                    raise
            return made
        raise error


def _read_body(response: HTTPResponse, max_bytes: int) -> bytes:
    """The whole body, checked against its announced length and the size limit."""
    declared = _content_length(response.getheader("Content-Length"))
    if declared is not None and declared > max_bytes:
        raise AnswerTooLarge(f"the answer announces {_bytes(declared)}, over the limit of {_bytes(max_bytes)}")
    chunks: list[bytes] = []
    size = 0
    try:
        # read1: whatever has arrived, so the watchdog's deadline is checked between small reads too.
        while chunk := response.read1(_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(f"the answer is longer than the limit of {_bytes(max_bytes)}")
            chunks.append(chunk)
    except IncompleteRead:
        raise AnswerCutShort(f"the answer was cut short after {_bytes(size)} (no terminating chunk)") from None
    if declared is not None and size < declared:
        raise AnswerCutShort(f"the answer was cut short: {size} of the {_bytes(declared)} announced")
    return b"".join(chunks)


def _bytes(count: int) -> str:
    return f"{count} {plural(count, 'byte')}"


def _content_length(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None
