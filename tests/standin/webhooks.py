"""Webhooks on 127.0.0.1 that never finish answering, at the socket level (tests/test_notify.py,
tests/test_webhook_bounds.py): audit 6's F-c1 webhook answered ``200``, chunked, then one byte every 2 s for good.

:class:`TricklingWebhook` reads each request whole, keeps its body, then sends ``head`` at once and ``drip`` after it
again and again, ``every`` seconds apart, until the client hangs up (or ``limit`` bytes of drip are out).
"""

from __future__ import annotations

import socket
import threading
import time

from standin.sockets import RawSocketServer

CHUNKED_200 = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"


class TricklingWebhook(RawSocketServer):
    """``.received``: each request's body; ``.connected``: set once a request has been read whole (its client is
    then waiting for the answer); ``.hung_up``: set when a client closed the connection on the answer; ``.sent``:
    the bytes of drip each answer got out before that."""

    def __init__(self, head: bytes, drip: bytes, every: float, limit: int | None = None):
        self.head, self.drip, self.every, self.limit = head, drip, every, limit
        self.received: list[bytes] = []
        self.sent: list[int] = []
        self.connected = threading.Event()
        self.hung_up = threading.Event()
        super().__init__()
        self.origin = f"http://127.0.0.1:{self.port}"  # what a warning may name of it
        self.hook = f"{self.origin}/hooks/SECRET-TOKEN"

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                self.received.append(_read_request(connection))
            except OSError:
                return
            self.connected.set()
            sent = 0
            try:
                connection.sendall(self.head)
                while self.limit is None or sent < self.limit:
                    connection.sendall(self.drip)
                    sent += len(self.drip)
                    time.sleep(self.every)
            except OSError:  # the client hung up: a reset or a broken pipe
                self.hung_up.set()
            self.sent.append(sent)


def dripping_body() -> TricklingWebhook:
    """F-c1's webhook: ``200`` at once, then its chunked body one byte at a time without end."""
    return TricklingWebhook(CHUNKED_200, b"1\r\nx\r\n", every=0.1)


def dripping_headers() -> TricklingWebhook:
    """A status line at once, then a header line one byte at a time without end: the answer never comes."""
    return TricklingWebhook(b"HTTP/1.1 200 OK\r\nX-Drip: ", b"x", every=0.1)


def huge_body(size: int) -> TricklingWebhook:
    """``200`` announcing ``size`` bytes of body, sent as fast as the client takes them."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % size
    return TricklingWebhook(head, b"x" * 65536, every=0, limit=size)


def _read_request(connection: socket.socket) -> bytes:
    """The body of the request on ``connection``, read whole (its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionResetError("the client hung up before its request ended")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionResetError("the client hung up before its request ended")
        body += chunk
    return body
