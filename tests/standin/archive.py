"""A Wayback-compatible web archive served on 127.0.0.1: CDX search and ``id_`` replay, with fault injection.

It answers like the real Wayback Machine responses recorded in ``../shared/archive-responses/`` (2020–2026):
:class:`StandinArchive` holds the captures (:mod:`standin.capture`), blocked URLs and a request log, and routes
each request to the CDX search (:mod:`standin.archive_cdx`) or the replay (:mod:`standin.archive_replay`) after
the injected faults (:mod:`standin.archive_faults`); :mod:`standin.archive_answers` sends the answers, and
:mod:`standin.archive_cli` runs it by hand from a history file.
"""

from __future__ import annotations

import bisect
import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from http.server import ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from policy_archive.config.settings import WaybackSettings
from standin.archive_answers import RESET, Answer, handler_for, html_answer, text_answer
from standin.archive_cdx import BLOCKED_CDX_BODY, CDX_CONTENT_TYPE, CDX_PATH, cdx_listing, cdx_parameter_problem
from standin.archive_faults import ArchiveFaults
from standin.archive_replay import (
    EXCLUDED_PAGE,
    REPLAY_PREFIX,
    archive_redirect,
    gzipped_for_transfer,
    replay,
    replay_request,
)
from standin.capture import ChunkDigest, RedirectForm, StandinCapture, surt
from standin.cli import WAIT_SECONDS


@dataclass(frozen=True)
class LoggedRequest:
    endpoint: str
    path: str
    status: int
    at: float
    user_agent: str | None


class _CountingServer(ThreadingHTTPServer):
    """An HTTP server that knows the connections it has accepted and those still being served (one thread each,
    keep-alive: until the client closes it), so a test can wait until every request sent to it is logged."""

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        super().__init__(address, handler)
        self.connections = threading.Condition()
        self.accepted: set[tuple[str, int]] = set()
        self.serving = 0
        self.open: set[socket.socket] = set()  # the connections being served (kept alive between requests)
        self.served = threading.local()  # the connection this thread serves

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        with self.connections:  # counted in the accepting thread, before the serving thread starts
            self.accepted.add(client_address[:2])
            self.serving += 1
            self.open.add(request)
            self.connections.notify_all()
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        self.served.connection = request
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections:
                self.serving -= 1
                self.open.discard(request)
                self.connections.notify_all()

    def close_others(self) -> None:
        """Close every connection kept alive but the one this thread serves: a client's next request on one finds
        it closed, and a new connection is refused once the server stopped listening."""
        mine = getattr(self.served, "connection", None)
        with self.connections:
            others = [connection for connection in self.open if connection is not mine]
        for connection in others:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class StandinArchive(ArchiveFaults):
    """Captures, faults and a request log; :meth:`start` serves them on 127.0.0.1 in a background thread."""

    def __init__(self, captures: Iterable[StandinCapture] = ()):
        super().__init__()
        self._by_key: dict[str, list[StandinCapture]] = {}
        self._blocked: set[str] = set()
        self._log: list[LoggedRequest] = []
        self._logged = threading.Condition(self._lock)
        self._server: _CountingServer | None = None
        self._thread: threading.Thread | None = None
        # A path the archive serves under, as a private archive may keep its access token in its URLs' path
        # (``/TOKEN/cdx/search/cdx``, ``/TOKEN/web/...``): :meth:`serve_under`.
        self.path_prefix = ""
        # Where the CDX endpoint has moved (a 301 to it answers every listing), or None: :meth:`move_cdx`.
        self.cdx_moved_to: str | None = None
        for capture in captures:
            self.add(capture)

    # --- content -----------------------------------------------------------------------------------------

    def add(self, capture: StandinCapture) -> StandinCapture:
        with self._lock:
            captures = self._by_key.setdefault(capture.urlkey, [])
            bisect.insort(captures, capture, key=lambda held: (held.timestamp, held.url))
        return capture

    def add_capture(
        self,
        url: str,
        timestamp: str,
        body: bytes | str = b"",
        *,
        status: int | None = 200,
        mimetype: str = "text/html",
        location: str | None = None,
        redirect_form: RedirectForm = "absolute",
        content_encoding: str | None = None,
        chunked: ChunkDigest | None = None,
    ) -> StandinCapture:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        return self.add(
            StandinCapture(
                url, timestamp, payload, status, mimetype, location, redirect_form, content_encoding, chunked
            )
        )

    def block(self, url: str) -> None:
        """Exclude a URL, as a site owner's request does on the real archive."""
        with self._lock:
            self._blocked.add(surt(url))

    @property
    def capture_count(self) -> int:
        with self._lock:
            return sum(len(held) for held in self._by_key.values())

    def captures_of(self, url: str) -> list[StandinCapture]:
        with self._lock:
            return list(self._by_key.get(surt(url), ()))

    # --- request log -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def counts(self) -> Counter[str]:
        """Requests answered so far, per endpoint (``cdx``, ``replay``, ``other``)."""
        return Counter(request.endpoint for request in self.requests)

    def wait_for_requests(self, count: int, matching: str = "", timeout: float = WAIT_SECONDS) -> None:
        """Block until ``count`` requests whose path contains ``matching`` are logged: one held until its client
        gave up is logged by the server's thread, which may come after the client has moved on."""

        def logged() -> int:
            return sum(matching in request.path for request in self._log)

        with self._logged:
            if not self._logged.wait_for(lambda: logged() >= count, timeout):
                raise AssertionError(f"{logged()} requests logged within {timeout} s, not {count}")

    def settle(self, timeout: float = WAIT_SECONDS) -> None:
        """Block until every connection made to the archive so far has been served to its end, so every request
        sent on it is logged: for a client that was killed, whose last requests may still be waiting for an injected
        delay or for a thread of a loaded machine. Any client still running must have ended (or it keeps its
        keep-alive connection open). A connection of our own, made now, is accepted after every earlier one: once
        it is, the threads serving them are all counted."""
        if self._server is None:
            raise RuntimeError("the stand-in archive is not started")
        server = self._server
        with socket.create_connection(server.server_address[:2], timeout=timeout) as probe:
            ours = probe.getsockname()[:2]
        with server.connections:
            if not server.connections.wait_for(lambda: ours in server.accepted and server.serving == 0, timeout):
                raise AssertionError(f"{server.serving} connections to the archive still served after {timeout} s")

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- serving -----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> StandinArchive:
        server = _CountingServer((host, port), handler_for(self, self._stopping))
        server.daemon_threads = True
        self._server = server
        # A short poll interval: stop() returns within 10 ms instead of the default half second per test.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="standin-archive", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases requests sleeping in an injected delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def go_away(self) -> None:
        """Stop, and close the connections clients keep alive: every later request is refused (a server gone, or
        a firewall shutting us out). Called from a trigger (:meth:`when_asked`), the request that fired it is still
        answered, on its own connection."""
        server = self._server
        self.stop()
        if server is not None:
            server.close_others()

    def __enter__(self) -> StandinArchive:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in archive is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def cdx_url(self) -> str:
        return self.base_url + self.path_prefix + CDX_PATH

    @property
    def replay_url(self) -> str:
        return self.base_url + self.path_prefix + REPLAY_PREFIX

    def serve_under(self, prefix: str) -> None:
        """Serve the CDX and replay endpoints under ``prefix`` (``/TOKEN``) as well as at the root; the archive's own
        redirects name the prefixed URLs."""
        self.path_prefix = prefix

    def move_cdx(self, location: str | None) -> None:
        """Answer every listing with a 301 to ``location`` (None: list again)."""
        self.cdx_moved_to = location

    def replay_url_of(self, capture: StandinCapture) -> str:
        return f"{self.replay_url}/{capture.timestamp}id_/{capture.url}"

    def wayback_settings(self, **overrides: float) -> WaybackSettings:
        """Settings pointing at this archive; no rate limit unless ``overrides`` set one."""
        values: dict[str, float | str] = {
            "cdx_url": self.cdx_url,
            "replay_url": self.replay_url,
            "cdx_per_minute": float("inf"),
            "replay_per_minute": float("inf"),
            "backoff_seconds": 0.0,
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return WaybackSettings(**values)  # type: ignore[arg-type]

    # --- answering (called from the server's threads) ----------------------------------------------------

    def answer(self, raw_path: str, host_header: str | None, accept_encoding: str = "") -> tuple[str, Answer]:
        if self.path_prefix and raw_path.startswith(self.path_prefix + "/"):
            raw_path = raw_path[len(self.path_prefix) :]
        endpoint = _endpoint_of(raw_path)
        if endpoint == "other":
            return endpoint, text_answer(404, "the stand-in archive serves /cdx/search/cdx and /web/<ts>id_/<url>\n")
        answer = self._apply_faults(endpoint, raw_path)
        if answer is not None:
            return endpoint, answer
        if endpoint == "cdx" and self.cdx_moved_to is not None:
            return endpoint, Answer(301, b"", (("Location", self.cdx_moved_to),))
        if endpoint == "cdx":
            return endpoint, self._answer_cdx(urlsplit(raw_path).query)
        base = (f"http://{host_header}" if host_header else self.base_url) + self.path_prefix
        return endpoint, self._answer_replay(raw_path, base, accept_encoding)

    def record(self, endpoint: str, path: str, status: int, user_agent: str | None) -> None:
        with self._lock:
            self._log.append(LoggedRequest(endpoint, path, status, time.time(), user_agent))
            self._logged.notify_all()

    def _answer_cdx(self, query: str) -> Answer:
        params = parse_qs(query, keep_blank_values=True)
        problem = cdx_parameter_problem(params)
        if problem:
            return text_answer(400, problem + "\n")
        key = surt(params["url"][0])
        with self._lock:
            key = self._faults.listed_instead.get(key, key)
            if key in self._blocked:
                return Answer(403, BLOCKED_CDX_BODY, CDX_CONTENT_TYPE)
            captures = list(self._by_key.get(key, ()))
            faults = self._faults.listing_copy()
        return cdx_listing(key, params, captures, faults)

    def _answer_replay(self, raw_path: str, base: str, accept_encoding: str) -> Answer:
        request = replay_request(raw_path)
        if isinstance(request, Answer):
            return request
        key = surt(request.original)
        with self._lock:
            if key in self._blocked or key in self._faults.replay_excluded:
                return html_answer(200, EXCLUDED_PAGE)
            if (key, request.timestamp) in self._faults.resets:
                return RESET
            endless = (key, request.timestamp) in self._faults.endless
            if (withheld := self._faults.withheld.get((key, request.timestamp))) is not None:
                return html_answer(withheld, f"<p>Access to this capture is {withheld}.</p>".encode())
            if (served := self._faults.elsewhere.get((key, request.timestamp))) is not None:
                return archive_redirect(base, served, request.original)
            transfer_gzip = self._faults.transfer_gzip and "gzip" in accept_encoding
            dechunk = self._faults.dechunk_replays
            framing = self._faults.replay_framing
            substitute = self._faults.substitutes.get((key, request.timestamp))
            long_header = self._faults.long_headers.get((key, request.timestamp), 0)
            captures = list(self._by_key.get(key, ()))
            held = any(capture.timestamp == request.timestamp for capture in captures)
            detour = self._detour(key, request.timestamp, held)
        if detour is not None:
            return archive_redirect(base, detour, request.original)
        answer = replay(captures, request.timestamp, substitute, base, accept_encoding, dechunk=dechunk)
        if transfer_gzip:
            answer = gzipped_for_transfer(answer)
        if framing != answer.delivery.framing:
            answer = replace(answer, delivery=replace(answer.delivery, framing=framing))
        if endless:
            answer = replace(answer, delivery=replace(answer.delivery, endless=True))
        if not long_header:
            return answer
        name = "X-Archive-Orig-Content-Security-Policy: "  # the archive's prefix for a site's own header
        line = (name[:-2], "a" * (long_header - len(name)))
        return replace(answer, headers=(*answer.headers, line))


def _endpoint_of(raw_path: str) -> Literal["cdx", "replay", "other"]:
    path = urlsplit(raw_path).path
    if path == CDX_PATH:
        return "cdx"
    if path.startswith(REPLAY_PREFIX + "/"):
        return "replay"
    return "other"
