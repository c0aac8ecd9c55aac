"""How the stand-in archive's answers go out over HTTP: whole, cut short, trickled, or not at all (a reset, or a
connection held open until the client gives up)."""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from standin.archive import StandinArchive

Framing = Literal["length", "chunked"]


@dataclass(frozen=True)
class Delivery:
    """How an answer's body goes out: whole (the default), cut after ``cut_at`` bytes, or a byte at a time."""

    framing: Framing = "length"
    cut_at: int | None = None
    trickle_seconds: float = 0.0
    announced_length: int | None = None
    endless: bool = False  # chunked, the body repeated until the client hangs up


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delivery: Delivery = Delivery()


RESET = Answer(0)  # no answer: the connection is closed
HANG = Answer(-1)  # no answer: the connection is held open until the client closes it (its timeout)


def text_answer(status: int, message: str) -> Answer:
    return Answer(status, message.encode("utf-8"), (("Content-Type", "text/plain; charset=utf-8"),))


def html_answer(status: int, page: bytes) -> Answer:
    return Answer(status, page, (("Content-Type", "text/html; charset=utf-8"),))


def handler_for(archive: StandinArchive, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving ``archive``; ``stopping`` ends a trickled answer early."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real archive: benchmarks measure our side
        # Headers and body go out in two writes; with Nagle on, each keep-alive answer waits ~40 ms for the
        # client's delayed ACK (measured: 22 requests/s from one client instead of ~4,000).
        disable_nagle_algorithm = True
        server_version = "standin-archive"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            endpoint, answer = archive.answer(
                self.path, self.headers.get("Host"), self.headers.get("Accept-Encoding", "")
            )
            archive.record(endpoint, self.path, answer.status, self.headers.get("User-Agent"))
            if answer is RESET:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if answer is HANG:
                self.close_connection = True
                self._hold_until_closed()
                return
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self._send_body(answer.body, answer.delivery)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer to

        def _send_body(self, body: bytes, delivery: Delivery) -> None:
            sent = body if delivery.cut_at is None else body[: delivery.cut_at]
            if delivery.endless:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n"
                self.close_connection = True  # the end never comes
                while not stopping.is_set():  # until the client hangs up (BrokenPipeError, caught above)
                    self.wfile.write(chunk)
                    archive.count_endless(len(body))
                return
            if delivery.framing == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(sent), 256):
                    chunk = sent[start : start + 256]
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                if delivery.cut_at is None:
                    self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(delivery.announced_length or len(body)))
                self.end_headers()
                self._write(sent, delivery.trickle_seconds)
            if delivery.cut_at is not None or delivery.announced_length is not None:
                self.close_connection = True  # the rest never comes

        def _hold_until_closed(self) -> None:
            """Answer nothing until the client closes the connection (or the archive stops)."""
            while not stopping.is_set():
                # select's timeout only lets a stopping archive end the wait; the client's closing ends it at once.
                readable, _, _ = select.select([self.connection], [], [], 0.1)
                try:
                    if readable and not self.connection.recv(1024):
                        return
                except OSError:  # reset by the client
                    return

        def _write(self, data: bytes, seconds_per_byte: float) -> None:
            if not seconds_per_byte:
                self.wfile.write(data)
                return
            for position in range(len(data)):
                if stopping.wait(seconds_per_byte):
                    return
                self.wfile.write(data[position : position + 1])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
            """Silent: the archive keeps its own request log."""

    return Handler
