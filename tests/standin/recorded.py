"""The Wayback Machine's own recorded answers (tests/fixtures/archive-responses), served on 127.0.0.1.

Replay requests are answered with the recorded answer for the same capture (timestamp and canonical URL, so
``http://www.nasa.gov:80/`` and ``http://www.nasa.gov/`` are one), with ``Location`` headers pointing back at this
server instead of web.archive.org; anything not recorded gets the archive's 404 without ``Memento-Datetime``.
A client taking gzip gets every answer with a body gzipped for the transfer, as every recorded one was (the
recorded bodies are the decoded ones: the decoded bytes of nasa.gov's 1996 capture are those of its CDX digest;
README of the fixtures).
The CDX endpoint answers the rows of ``listings.json`` for the ``url`` asked.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from standin.archive_cdx import CDX_PATH
from standin.archive_replay import NOT_ARCHIVED_PAGE, REPLAY_PREFIX
from standin.capture import surt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "archive-responses"
_REPLAY = re.compile(r"^/web/(?P<timestamp>\d{14})(?P<mode>[a-z]{2}_)?/(?P<original>.+)$")
_ARCHIVE_HOSTS = re.compile(r"^(https?:)?//web\.archive\.org")


def _key(path: str) -> tuple[str, str, str] | None:
    match = _REPLAY.match(path)
    return (match["timestamp"], match["mode"] or "", surt(match["original"])) if match else None


class RecordedArchive:
    def __init__(self, directory: Path = FIXTURES):
        recorded = json.loads((directory / "responses.json").read_text(encoding="utf-8"))
        self.answers = {}
        for answer in recorded["responses"]:
            key = _key(urlsplit(answer["uri"]).path)
            if key:
                body = (directory / answer["body"]).read_bytes() if answer["body"] else b""
                self.answers[key] = (answer, body)
        self.listings = json.loads((directory / "listings.json").read_text(encoding="utf-8"))["rows"]
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        self.requests.append(path)
        parts = urlsplit(path)
        if parts.path == CDX_PATH:
            url = parse_qs(parts.query).get("url", [""])[0]
            rows = "".join(row + "\n" for row in self.listings.get(url, []))
            return 200, [("Content-Type", "text/plain")], rows.encode("utf-8")
        key = _key(parts.path)
        if key is None or key not in self.answers:
            return 404, [("Content-Type", "text/html; charset=utf-8")], NOT_ARCHIVED_PAGE
        answer, body = self.answers[key]
        headers = [("Content-Type", answer["content_type"] or "text/html")]
        for name in ("memento_datetime", "link"):
            if answer[name]:
                headers.append((name.replace("_", "-").title(), answer[name]))
        if answer["location"]:
            location = _ARCHIVE_HOSTS.sub(self.base_url, answer["location"])
            headers.append(("Location", location))
        return answer["status"], headers, body

    def __enter__(self) -> RecordedArchive:
        archive = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, headers, body = archive.answer(self.path)
                if body and "gzip" in self.headers.get("Accept-Encoding", ""):
                    # As recorded: every answer with a body came gzipped to the client taking gzip (all did).
                    body, headers = gzip.compress(body), [*headers, ("Content-Encoding", "gzip")]
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Silent."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def replay_url(self) -> str:
        return self.base_url + REPLAY_PREFIX

    @property
    def cdx_url(self) -> str:
        return self.base_url + CDX_PATH
