"""A stand-in for ``raw.githubusercontent.com``: files at ``/OWNER/REPO/COMMIT/PATH`` (the path percent-encoded,
as GitHub takes it), answers made to fail on purpose, and a log of what was asked (path and User-Agent)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from urllib.parse import unquote, urlsplit

from standin.site_server import SiteServer


class StandinRawGitHub:
    """Serves ``files`` (``"OWNER/REPO/COMMIT/PATH"`` → bytes); ``fail(key, 503, 503)`` makes the next two asks of
    that file answer 503 first. Use as a context manager."""

    def __init__(self, files: dict[str, bytes]):
        self._lock = threading.Lock()
        self._files = dict(files)
        self._failures: dict[str, list[int]] = {}
        self._log: list[tuple[str, str]] = []
        self._server = SiteServer(("127.0.0.1", 0), self._answer)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> StandinRawGitHub:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def fail(self, key: str, *statuses: int) -> None:
        with self._lock:
            self._failures[key] = list(statuses)

    def log(self) -> list[tuple[str, str]]:
        """What was asked, in order: (``OWNER/REPO/COMMIT/PATH``, User-Agent)."""
        with self._lock:
            return list(self._log)

    def _answer(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        key = unquote(urlsplit(handler.path).path).lstrip("/")
        with self._lock:
            self._log.append((key, handler.headers.get("User-Agent", "")))
            failures = self._failures.get(key)
            status = failures.pop(0) if failures else (200 if key in self._files else 404)
            body = self._files.get(key, b"") if status == 200 else b"not this time"
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head:
            handler.wfile.write(body)
