"""Hostile servers on 127.0.0.1: each serves fixed :class:`~standin.pages.Page` answers by path, on its own port,
and logs every path asked. Used by tests/test_hostile.py: a tracked page that redirects inside (another port of
127.0.0.1, ``localhost``, the cloud metadata address), a "secret" internal service that must never be reached."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from standin.pages import Page


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
