"""The HTTP server under the stand-in sites: keep-alive, many connections at once, CONNECT tunnels, and a stop
that also ends kept-alive connections. What a request gets is the ``answer`` callback's business."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[BaseHTTPRequestHandler, bool], None]  # (the request, HEAD?): writes the answer


class SiteServer(ThreadingHTTPServer):
    request_queue_size = 128  # Scrapy opens up to CONCURRENT_REQUESTS connections at once
    daemon_threads = True

    def __init__(self, address: tuple[str, int], answer: Answer):
        self.answer = answer
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.requests_read: list[str] = []  # every request read, whatever it asks for (proxy, tunnel, control)
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        """A client hanging up mid-answer is what a crawler's timeout does (benchmarks.one_host's hanging pages):
        no traceback for it; any other error is printed as the standard library does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def count_request(self, line: str, user_agent: str | None) -> None:
        with self._connections_lock:
            self.requests_read.append(f"{line} ({user_agent})")

    def peers(self) -> set[tuple[str, int]]:
        """The client addresses of the connections open now (accepted, not yet ended)."""
        with self._connections_lock:
            found = set()
            for connection in self._connections:
                try:
                    found.add(connection.getpeername())
                except OSError:
                    pass  # ended by the client, not yet let go of
            return found

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped stand-in really answers nothing more."""
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites and Scrapy do
    timeout = 30  # idle kept-alive connections end after this
    server: SiteServer

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            self.server.count_request(self.requestline, self.headers.get("User-Agent"))
        return parsed

    def do_GET(self) -> None:
        self.server.answer(self, False)

    def do_HEAD(self) -> None:
        self.server.answer(self, True)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # keep the connection usable
        self.server.answer(self, False)

    def do_CONNECT(self) -> None:
        """A tunnel, as Playwright's own requests (``route.fetch``) ask even for ``http://``: the requests that
        follow on this connection are the site's, answered here by their Host header, as through a real tunnel."""
        self.send_response(200, "Connection established")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is the record; stderr chatter would drown test output
