"""Hostile servers on 127.0.0.1: each serves fixed :class:`~standin.pages.Page` answers by path, on its own port,
and logs every path asked. Used by tests/test_hostile.py: a tracked page that redirects inside (another port of
127.0.0.1, ``localhost``, the cloud metadata address), a "secret" internal service that must never be reached.
:class:`EndlessHeaders` answers headers that never end, :class:`EndlessBody` a body that never ends or no answer
at all (tests/test_network_bounds.py)."""

from __future__ import annotations

import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from standin.pages import Page
from standin.sockets import RawSocketServer


class RouteServer:
    """``RouteServer({"/privacy": page}).start()``; ``.url(path)``, ``.paths`` (every path asked, in order).

    A path given a list of pages answers them in turn, then its last one: a server that answers a second
    request otherwise than the first (a browser after a plain fetch)."""

    def __init__(self, routes: dict[str, Page | list[Page]]):
        self.routes = {path: answers if isinstance(answers, list) else [answers] for path, answers in routes.items()}
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
                asked = server.paths.count(self.path)
                server.paths.append(self.path)
                answers = server.routes.get(self.path, [Page(body=b"not found", status=404)])
                page = answers[min(asked, len(answers) - 1)]
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                if page.location:
                    self.send_header("Location", page.location)
                for name, value in page.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> RouteServer:
        self._thread.start()
        return self

    def __enter__(self) -> RouteServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


class EndlessBody:
    """A server on 127.0.0.1 whose answers never end: a 200 without a Content-Length whose chunks keep coming
    until the client hangs up, or (a path ending ``/hang``) no answer at all until then. ``.paths`` logs every
    path asked, ``.url(path)``."""

    CHUNK = b"<p>" + b"stream " * 1000 + b"</p>"

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
                server.paths.append(self.path)
                self.close_connection = True
                try:
                    if self.path.endswith("/hang"):
                        # Nothing to read but the client's closing (its timeout), or the server stopping.
                        while not server._stopping.is_set() and not self._closed_by_client():
                            pass
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"%x\r\n<html><body><main>\r\n" % len(b"<html><body><main>"))
                    chunk = b"%x\r\n%s\r\n" % (len(self.CHUNK), self.CHUNK)
                    while not server._stopping.is_set():
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the client hung up: what it is for

            def _closed_by_client(self) -> bool:
                readable, _, _ = select.select([self.connection], [], [], 0.1)
                return bool(readable) and not self.connection.recv(1024)

            CHUNK = EndlessBody.CHUNK

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> EndlessBody:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


class EndlessHeaders(RawSocketServer):
    """A raw-socket server on 127.0.0.1 answering every request with a status line, then small header lines
    (``X-Filler-N: n``) without end, until the client hangs up: only a bound on the header block ends the
    answer (the client's timeout aside). ``.paths``: every path asked; ``.cut_off``: how many answers the
    client hung up on; ``.sent``: the header bytes each answer got out before that."""

    BATCH = 1_000  # header lines written at a time

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.sent: list[int] = []
        self.cut_off = 0
        super().__init__()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            head = b""
            try:
                while b"\r\n\r\n" not in head and (chunk := connection.recv(4096)):
                    head += chunk
            except OSError:  # the client hung up before its request was read (seen under load in CI)
                return
            self.paths.append(head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "")
            sent, number = 0, 0
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
                while True:
                    batch = b"".join(b"X-Filler-%d: %d\r\n" % (n, n) for n in range(number, number + self.BATCH))
                    connection.sendall(batch)
                    sent, number = sent + len(batch), number + self.BATCH
            except OSError:  # the client hung up: a reset or a broken pipe
                self.cut_off += 1
                self.sent.append(sent)
