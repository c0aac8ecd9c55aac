"""A Wayback-compatible web archive served on 127.0.0.1: CDX search and ``id_`` replay, with fault injection.

It answers like the real Wayback Machine responses recorded in ``../shared/archive-responses/`` (2020–2026):
- CDX: 7-field text rows ``urlkey timestamp original mimetype statuscode digest length``; ``from``/``to``;
  ``limit`` + ``showResumeKey=true`` gives exactly ``limit`` rows, then a blank line and a resume key (also on
  the last full page, whose follow-up request then answers an empty body); ``resumeKey``; optionally every row
  twice (the real index repeats rows); 403 with a "Blocked Site Error" body for blocked URLs.
- Replay ``GET /web/<timestamp>id_/<original>``: the exact capture → its raw bytes, ``Memento-Datetime`` and
  ``Link``; an inexact timestamp → 302 to the nearest capture's ``id_`` URL, without ``Memento-Datetime``; an
  archived redirect → its 3xx *with* ``Memento-Datetime`` and a ``Location`` to the ``id_`` URL of the target at
  the redirect's own timestamp (absolute, path-based or scheme-less, as the real archive writes them); an
  archived 404 or 429 → that status with ``Memento-Datetime``; no capture → a 404 Wayback page without it; a
  blocked URL → a 200 "excluded" page without it (as recorded in 2020).
- Faults: the next N requests of an endpoint answer 429/503 (the archive's own, no ``Memento-Datetime``), a
  delay per endpoint (timeouts), garbage rows, a failing CDX page, a page whose promised resume key is missing,
  a CDX answer whose connection closes after N rows (with its whole Content-Length announced, or chunked
  without the terminating chunk), a CDX answer trickled a byte at a time, a CDX answer announcing a size;
  a URL listed but excluded from replay (the 200 "excluded" page, no ``Memento-Datetime``, as recorded for
  nationalpost.com in 2017); a capture replayed with other bytes than its CDX digest says; a capture whose
  connection is reset before any answer.

Run it by hand (manual trials, benchmarks): ``python tests/standin/archive.py --port 8765 --history FILE.json``
where FILE.json is ``{"captures": [{"url", "timestamp", "body" | "body_file" | "body_base64", "status",
"mimetype", "location", "redirect_form"}], "blocked": [URL, ...]}`` (``body_file`` relative to FILE.json).
Not ``python -m tests.standin.archive``: a top-level ``tests`` package installed by another distribution
would shadow this repository's ``tests`` directory (waybackpy 3.0.6's did, while it was a dependency), so
tests import ``standin.archive``.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import dataclasses
import hashlib
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import format_datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, quote_plus, unquote, unquote_plus, urljoin, urlsplit

from policy_archive.config.settings import WaybackSettings
from policy_archive.records import parse_wayback_timestamp

Endpoint = Literal["cdx", "replay"]
RedirectForm = Literal["absolute", "path", "schemeless"]
Framing = Literal["length", "chunked"]

CDX_PATH = "/cdx/search/cdx"
REPLAY_PREFIX = "/web"
# Byte-for-byte the body the Wayback Machine sent for a blocked URL's CDX search (recorded 2020-06).
BLOCKED_CDX_BODY = (
    b"org.archive.util.io.RuntimeIOException: "
    b"org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error\n"
)
NOT_ARCHIVED_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>"
    b"<p>Hrm.</p><p>The Wayback Machine has not archived that URL.</p></body></html>"
)
EXCLUDED_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>"
    b"<p>This URL has been excluded from the Wayback Machine.</p></body></html>"
)
TOO_MANY_REQUESTS_PAGE = b"<html><head><title>Too Many Requests</title></head><body>Too Many Requests</body></html>"
UNAVAILABLE_PAGE = b"<html><head><title>Service Unavailable</title></head><body>Service Unavailable</body></html>"
GARBAGE_ROW = "<html><body><h1>Internal Server Error</h1></body></html>"
# CDX parameters whose meaning the stand-in does not implement: refusing them beats answering wrongly.
UNSUPPORTED_CDX_PARAMETERS = ("output", "fl", "filter", "collapse", "page", "showNumPages", "closest", "sort")
_REPLAY_PATH = re.compile(r"^/web/(?P<timestamp>\d{4,14})(?P<mode>[a-z]{2}_)?/(?P<original>.+)$", re.DOTALL)


def payload_digest(body: bytes) -> str:
    """Base32 SHA-1 of the payload: the ``digest`` of a CDX row."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def surt(url: str) -> str:
    """The CDX ``urlkey`` of a URL: ``https://www.ACRCloud.com:443/p?b=2&a=1`` → ``com,acrcloud)/p?a=1&b=2``.

    Like the archive's canonicaliser: scheme, ``www.`` prefix, default port and fragment dropped, everything
    lowercased, query arguments sorted; so http/https and www/non-www captures of a page share one key.
    """
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url.strip().lower())
    host = re.sub(r"^www\d*\.", "", parts.hostname or "")
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return ",".join(reversed(host.split("."))) + port + ")" + (parts.path or "/") + (f"?{query}" if query else "")


def http_date(timestamp: str) -> str:
    """``Tue, 31 Dec 1996 23:58:47 GMT``: the form of ``Memento-Datetime``."""
    return format_datetime(parse_wayback_timestamp(timestamp), usegmt=True)


@dataclass(frozen=True)
class StandinCapture:
    """One capture held by the stand-in archive.

    ``location`` makes it an archived redirect (with a 3xx ``status``): where the original site pointed,
    absolute or relative to ``url``. ``redirect_form`` is how the archive writes the replay ``Location``.
    ``status=None`` is a revisit record (identical payload seen again): ``-`` in the CDX status column.
    ``content_encoding`` is the site's Content-Encoding: ``body`` is then the encoded payload (as archived and
    replayed in ``id_`` mode, and as the digest is computed over).
    """

    url: str
    timestamp: str
    body: bytes = b""
    status: int | None = 200
    mimetype: str = "text/html"
    location: str | None = None
    redirect_form: RedirectForm = "absolute"
    content_encoding: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{14}", self.timestamp):
            raise ValueError(f"timestamp must have 14 digits: {self.timestamp!r}")
        parse_wayback_timestamp(self.timestamp)  # a real date, or ValueError
        if self.location is not None and not 300 <= (self.status or 0) < 400:
            raise ValueError(f"a capture with a location must have a 3xx status, not {self.status}")

    @cached_property
    def urlkey(self) -> str:
        return surt(self.url)

    @cached_property
    def digest(self) -> str:
        return payload_digest(self.body)

    @property
    def target(self) -> str | None:
        return urljoin(self.url, self.location) if self.location is not None else None

    def cdx_row(self) -> str:
        status = "-" if self.status is None else str(self.status)
        return f"{self.urlkey} {self.timestamp} {self.url} {self.mimetype} {status} {self.digest} {len(self.body)}"


@dataclass(frozen=True)
class LoggedRequest:
    endpoint: str
    path: str
    status: int
    at: float
    user_agent: str | None


@dataclass(frozen=True)
class _Refusal:
    status: int
    retry_after: float | None


@dataclass
class _Faults:
    refusals: dict[str, deque[_Refusal]] = field(default_factory=lambda: {"cdx": deque(), "replay": deque()})
    delays: dict[str, float] = field(default_factory=lambda: {"cdx": 0.0, "replay": 0.0})
    garbage_rows: bool = False
    repeat_rows: bool = False
    failing_pages: dict[int, int] = field(default_factory=dict)
    pages_without_resume_key: set[int] = field(default_factory=set)
    resume_keys_ignored: bool = False
    cut: tuple[int, Framing] | None = None
    framing: Framing = "length"
    trickle_seconds: float = 0.0
    announced_length: int | None = None
    replay_excluded: set[str] = field(default_factory=set)
    substitutes: dict[tuple[str, str], bytes] = field(default_factory=dict)
    resets: set[tuple[str, str]] = field(default_factory=set)


@dataclass(frozen=True)
class _Delivery:
    """How an answer's body goes out: whole (the default), cut after ``cut_at`` bytes, or a byte at a time."""

    framing: Framing = "length"
    cut_at: int | None = None
    trickle_seconds: float = 0.0
    announced_length: int | None = None


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delivery: _Delivery = _Delivery()


@dataclass
class _Trigger:
    fragment: str
    action: Callable[[], object]
    remaining: int


RESET = _Answer(0)  # no answer: the connection is closed


class StandinArchive:
    """Captures, faults and a request log; :meth:`start` serves them on 127.0.0.1 in a background thread."""

    def __init__(self, captures: Iterable[StandinCapture] = ()):
        self._lock = threading.Lock()
        self._by_key: dict[str, list[StandinCapture]] = {}
        self._blocked: set[str] = set()
        self._faults = _Faults()
        self._log: list[LoggedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._held = threading.Semaphore(0)  # released once per request that starts an injected delay
        self._triggers: list[_Trigger] = []
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
    ) -> StandinCapture:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        return self.add(
            StandinCapture(url, timestamp, payload, status, mimetype, location, redirect_form, content_encoding)
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

    # --- faults ------------------------------------------------------------------------------------------

    def refuse_next(
        self, count: int, status: int = 429, endpoint: Endpoint = "cdx", retry_after: float | None = None
    ) -> None:
        """The next ``count`` requests to ``endpoint`` get the archive's own ``status`` (429, 503, 500, ...)."""
        with self._lock:
            self._faults.refusals[endpoint].extend(_Refusal(status, retry_after) for _ in range(count))

    def delay(self, endpoint: Endpoint, seconds: float) -> None:
        """Every request to ``endpoint`` waits ``seconds`` before being answered (0 switches it off)."""
        with self._lock:
            self._faults.delays[endpoint] = seconds

    def when_asked(self, fragment: str, action: Callable[[], object], nth: int = 1) -> None:
        """Call ``action`` once, when the ``nth`` request whose path contains ``fragment`` arrives, before it is
        answered: a test interrupts a client at a given request, whatever the machine's load."""
        with self._lock:
            self._triggers.append(_Trigger(fragment, action, nth))

    def wait_for_held_request(self, timeout: float = 60) -> None:
        """Block until a request is being held by :meth:`delay` (so a client is known to be waiting on us)."""
        if not self._held.acquire(timeout=timeout):
            raise AssertionError(f"no request reached the injected delay within {timeout} s")

    def serve_garbage_rows(self, enabled: bool = True) -> None:
        with self._lock:
            self._faults.garbage_rows = enabled

    def repeat_rows(self, enabled: bool = True) -> None:
        """List every CDX row twice, as the real index sometimes does."""
        with self._lock:
            self._faults.repeat_rows = enabled

    def fail_page(self, page: int, status: int = 503) -> None:
        """Page ``page`` (0 = first) of every paged CDX listing answers ``status``."""
        with self._lock:
            self._faults.failing_pages[page] = status

    def ignore_resume_keys(self, ignored: bool = True) -> None:
        """Behave like a CDX server without resume keys: ``limit`` cuts the listing, silently."""
        with self._lock:
            self._faults.resume_keys_ignored = ignored

    def frame_cdx(self, framing: Framing) -> None:
        """Send every whole CDX answer with a Content-Length (``length``) or in chunks (``chunked``)."""
        with self._lock:
            self._faults.framing = framing

    def cut_cdx_after(self, rows: int, framing: Framing = "length") -> None:
        """Every CDX answer's connection closes after ``rows`` rows: with ``length`` the whole body's
        Content-Length was announced, with ``chunked`` the terminating chunk never comes."""
        with self._lock:
            self._faults.cut = (rows, framing)

    def trickle_cdx(self, seconds_per_byte: float) -> None:
        """Every CDX answer's body is sent one byte at a time, ``seconds_per_byte`` apart."""
        with self._lock:
            self._faults.trickle_seconds = seconds_per_byte

    def announce_cdx_length(self, length: int) -> None:
        """Every CDX answer claims this Content-Length, and the connection closes after the real body."""
        with self._lock:
            self._faults.announced_length = length

    def drop_resume_key(self, page: int) -> None:
        """Page ``page`` ends with the blank line that announces a resume key, but no key."""
        with self._lock:
            self._faults.pages_without_resume_key.add(page)

    def exclude_from_replay(self, url: str) -> None:
        """List the URL's captures, but answer their replay with the 200 "excluded" page (no Memento-Datetime)."""
        with self._lock:
            self._faults.replay_excluded.add(surt(url))

    def serve_other_bytes(self, url: str, timestamp: str, body: bytes | str) -> None:
        """Replay the capture with ``body`` (and a Memento-Datetime), while its CDX row keeps its own digest."""
        payload = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._faults.substitutes[(surt(url), timestamp)] = payload

    def reset_capture(self, url: str, timestamp: str, enabled: bool = True) -> None:
        """Close the connection without answering whenever this capture is replayed."""
        with self._lock:
            (self._faults.resets.add if enabled else self._faults.resets.discard)((surt(url), timestamp))

    # --- request log -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def counts(self) -> Counter[str]:
        """Requests answered so far, per endpoint (``cdx``, ``replay``, ``other``)."""
        return Counter(request.endpoint for request in self.requests)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- serving -----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> StandinArchive:
        server = ThreadingHTTPServer((host, port), _handler_for(self))
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
        return self.base_url + CDX_PATH

    @property
    def replay_url(self) -> str:
        return self.base_url + REPLAY_PREFIX

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

    def answer(self, raw_path: str, host_header: str | None) -> tuple[str, _Answer]:
        endpoint = _endpoint_of(raw_path)
        if endpoint == "other":
            return endpoint, _text(404, "the stand-in archive serves /cdx/search/cdx and /web/<ts>id_/<url>\n")
        with self._lock:
            delay = self._faults.delays[endpoint]
            refusals = self._faults.refusals[endpoint]
            refusal = refusals.popleft() if refusals else None
            for trigger in self._triggers:
                trigger.remaining -= trigger.fragment in raw_path
            fired = [trigger for trigger in self._triggers if trigger.remaining == 0]
            self._triggers = [trigger for trigger in self._triggers if trigger.remaining > 0]
        for trigger in fired:
            trigger.action()
        if delay:
            self._held.release()
            self._stopping.wait(delay)
        if refusal is not None:
            return endpoint, _refusal(refusal)
        if endpoint == "cdx":
            return endpoint, self._answer_cdx(urlsplit(raw_path).query)
        base = f"http://{host_header}" if host_header else self.base_url
        return endpoint, self._answer_replay(raw_path, base)

    def record(self, endpoint: str, path: str, status: int, user_agent: str | None) -> None:
        with self._lock:
            self._log.append(LoggedRequest(endpoint, path, status, time.time(), user_agent))

    def _answer_cdx(self, query: str) -> _Answer:
        params = parse_qs(query, keep_blank_values=True)
        problem = _cdx_parameter_problem(params)
        if problem:
            return _text(400, problem + "\n")
        key = surt(params["url"][0])
        with self._lock:
            if key in self._blocked:
                return _Answer(403, BLOCKED_CDX_BODY, (("Content-Type", "text/plain;charset=UTF-8"),))
            captures = list(self._by_key.get(key, ()))
            faults = self._faults
            repeat, garbage = faults.repeat_rows, faults.garbage_rows
            failing_pages, keyless_pages = dict(faults.failing_pages), set(faults.pages_without_resume_key)
            cut, trickle, announced = faults.cut, faults.trickle_seconds, faults.announced_length
            framing = faults.framing
            if faults.resume_keys_ignored:
                params = {name: values for name, values in params.items() if name not in ("showResumeKey", "resumeKey")}
        first, last = _first(params), _last(params)
        rows = [
            (capture.timestamp, capture.cdx_row())
            for capture in captures
            for _ in range(2 if repeat else 1)
            if first <= capture.timestamp <= last
        ]
        start = _resume_position(rows, params)
        limit = int(params["limit"][0]) if "limit" in params else None
        page_rows = rows[start : start + limit] if limit else rows[start:]
        page = start // limit if limit else 0
        if limit and page in failing_pages:
            return _text(failing_pages[page], f"error while reading page {page} of the index\n")
        lines = [row for _, row in page_rows]
        if garbage and lines:
            lines.insert(len(lines) // 2, GARBAGE_ROW)
        body = "".join(line + "\n" for line in lines)
        paged = params.get("showResumeKey", ["false"])[0].lower() == "true"
        if paged and limit and len(page_rows) == limit:
            resume_key = "" if page in keyless_pages else _resume_key(key, page_rows[-1][0]) + "\n"
            body += "\n" + resume_key
        delivery = _Delivery(framing=framing, trickle_seconds=trickle, announced_length=announced)
        if cut is not None:
            kept = "".join(line + "\n" for line in lines[: cut[0]])
            delivery = _Delivery(framing=cut[1], cut_at=len(kept.encode("utf-8")))
        return _Answer(200, body.encode("utf-8"), (("Content-Type", "text/plain;charset=UTF-8"),), delivery)

    def _answer_replay(self, raw_path: str, base: str) -> _Answer:
        match = _REPLAY_PATH.match(raw_path)
        if match is None:
            return _text(400, "expected /web/<timestamp>id_/<original url>\n")
        if match["mode"] != "id_":
            return _text(501, "the stand-in archive serves only id_ (raw) replay\n")
        original = _original_url(match["original"])
        key = surt(original)
        with self._lock:
            if key in self._blocked or key in self._faults.replay_excluded:
                return _html(200, EXCLUDED_PAGE)
            if (key, match["timestamp"]) in self._faults.resets:
                return RESET
            substitute = self._faults.substitutes.get((key, match["timestamp"]))
            captures = list(self._by_key.get(key, ()))
        if not captures:
            return _html(404, NOT_ARCHIVED_PAGE)
        requested = match["timestamp"]
        index = bisect.bisect_left(captures, requested, key=_timestamp_of)
        exact = captures[index] if index < len(captures) and captures[index].timestamp == requested else None
        if exact is None:
            nearest = _nearest(captures, requested)
            location = f"{base}{REPLAY_PREFIX}/{nearest.timestamp}id_/{nearest.url}"
            return _Answer(302, b"", (("Content-Type", "text/plain; charset=utf-8"), ("Location", location)))
        if substitute is not None:
            exact = dataclasses.replace(exact, body=substitute)
        return _memento(exact, index, captures, base)


# --- replay helpers --------------------------------------------------------------------------------------


def _timestamp_of(capture: StandinCapture) -> str:
    return capture.timestamp


def _memento(capture: StandinCapture, index: int, captures: list[StandinCapture], base: str) -> _Answer:
    # A revisit is replayed as the response it repeats (the real archive resolves it): an HTML page here.
    media_type = "text/html" if capture.mimetype == "warc/revisit" else capture.mimetype
    headers = [
        ("Content-Type", media_type),
        ("Memento-Datetime", http_date(capture.timestamp)),
        ("Link", _link_header(index, captures, base)),
    ]
    if capture.target is not None:
        headers.append(("Location", _redirect_location(capture, capture.target, base)))
    if capture.content_encoding:
        headers.append(("Content-Encoding", capture.content_encoding))
    return _Answer(capture.status or 200, capture.body, tuple(headers))


def _redirect_location(capture: StandinCapture, target: str, base: str) -> str:
    path = f"{REPLAY_PREFIX}/{capture.timestamp}id_/{target}"
    if capture.redirect_form == "path":
        return path
    if capture.redirect_form == "schemeless":
        return "//" + urlsplit(base).netloc + path
    return base + path


def _link_header(index: int, captures: list[StandinCapture], base: str) -> str:
    capture = captures[index]
    neighbours = [("first memento", captures[0])]
    if index > 0:
        neighbours.append(("prev memento", captures[index - 1]))
    neighbours.append(("memento", capture))
    if index < len(captures) - 1:
        neighbours.append(("next memento", captures[index + 1]))
    neighbours.append(("last memento", captures[-1]))
    links = [
        f'<{capture.url}>; rel="original"',
        f'<{base}{REPLAY_PREFIX}/timemap/link/{capture.url}>; rel="timemap"; type="application/link-format"',
        f'<{base}{REPLAY_PREFIX}/{capture.url}>; rel="timegate"',
    ]
    links += [
        f'<{base}{REPLAY_PREFIX}/{held.timestamp}/{held.url}>; rel="{rel}"; datetime="{http_date(held.timestamp)}"'
        for rel, held in neighbours
    ]
    return ", ".join(links)


def _nearest(captures: list[StandinCapture], requested: str) -> StandinCapture:
    """The capture closest in time to a (possibly partial, left-aligned) timestamp; the earlier one on a tie."""
    wanted = parse_wayback_timestamp(requested)
    return min(captures, key=lambda held: abs((parse_wayback_timestamp(held.timestamp) - wanted).total_seconds()))


def _original_url(text: str) -> str:
    """The archived URL of a replay path, however the client wrote it.

    Accepts ``https%3A//host/...`` (the seeds' links), ``https:/host`` (clients that collapse ``//`` in paths)
    and scheme-less ``host/path``.
    """
    if re.match(r"^https?%3a", text, re.IGNORECASE):
        text = unquote(text)
    text = re.sub(r"^(https?):/+", r"\1://", text, flags=re.IGNORECASE)
    return text if "://" in text else "http://" + text


# --- CDX helpers -----------------------------------------------------------------------------------------


def _cdx_parameter_problem(params: dict[str, list[str]]) -> str | None:
    if "url" not in params or not params["url"][0].strip():
        return "missing url parameter"
    for name in UNSUPPORTED_CDX_PARAMETERS:
        if name in params:
            return f"the stand-in archive does not implement the {name} parameter"
    if params.get("matchType", ["exact"])[0] != "exact":
        return "the stand-in archive implements only matchType=exact"
    for name in ("from", "to"):
        if name in params and not re.fullmatch(r"\d{1,14}", params[name][0]):
            return f"{name} must be 1 to 14 digits"
    if "limit" in params and not re.fullmatch(r"[1-9]\d*", params["limit"][0]):
        return "limit must be a positive integer (negative limits are not implemented)"
    return None


def _first(params: dict[str, list[str]]) -> str:
    return params["from"][0].ljust(14, "0") if "from" in params else "0" * 14


def _last(params: dict[str, list[str]]) -> str:
    return params["to"][0].ljust(14, "9") if "to" in params else "9" * 14


def _resume_key(urlkey: str, last_timestamp: str) -> str:
    """``com%2Ccnn%29%2F+2001041400593%3A``: the real key form, pointing just after the last row's timestamp."""
    after = last_timestamp[:-1] + chr(ord(last_timestamp[-1]) + 1)
    return quote_plus(f"{urlkey} {after}", safe="")


def _resume_position(rows: list[tuple[str, str]], params: dict[str, list[str]]) -> int:
    if "resumeKey" not in params:
        return 0
    after = unquote_plus(params["resumeKey"][0]).rpartition(" ")[2]
    return bisect.bisect_left([timestamp for timestamp, _ in rows], after)


# --- HTTP plumbing ---------------------------------------------------------------------------------------


def _endpoint_of(raw_path: str) -> Literal["cdx", "replay", "other"]:
    path = urlsplit(raw_path).path
    if path == CDX_PATH:
        return "cdx"
    if path.startswith(REPLAY_PREFIX + "/"):
        return "replay"
    return "other"


def _text(status: int, message: str) -> _Answer:
    return _Answer(status, message.encode("utf-8"), (("Content-Type", "text/plain; charset=utf-8"),))


def _html(status: int, page: bytes) -> _Answer:
    return _Answer(status, page, (("Content-Type", "text/html; charset=utf-8"),))


def _refusal(refusal: _Refusal) -> _Answer:
    page = TOO_MANY_REQUESTS_PAGE if refusal.status == 429 else UNAVAILABLE_PAGE
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if refusal.retry_after is not None:
        headers.append(("Retry-After", str(round(refusal.retry_after))))
    return _Answer(refusal.status, page, tuple(headers))


def _handler_for(archive: StandinArchive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real archive: benchmarks measure our side
        # Headers and body go out in two writes; with Nagle on, each keep-alive answer waits ~40 ms for the
        # client's delayed ACK (measured: 22 requests/s from one client instead of ~4,000).
        disable_nagle_algorithm = True
        server_version = "standin-archive"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            endpoint, answer = archive.answer(self.path, self.headers.get("Host"))
            archive.record(endpoint, self.path, answer.status, self.headers.get("User-Agent"))
            if answer is RESET:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self._send_body(answer.body, answer.delivery)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer to

        def _send_body(self, body: bytes, delivery: _Delivery) -> None:
            sent = body if delivery.cut_at is None else body[: delivery.cut_at]
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

        def _write(self, data: bytes, seconds_per_byte: float) -> None:
            if not seconds_per_byte:
                self.wfile.write(data)
                return
            for position in range(len(data)):
                if archive._stopping.wait(seconds_per_byte):
                    return
                self.wfile.write(data[position : position + 1])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
            """Silent: the archive keeps its own request log."""

    return Handler


# --- command line ----------------------------------------------------------------------------------------


def load_history(path: Path) -> StandinArchive:
    """An archive holding the captures of a history file (format in the module docstring)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    archive = StandinArchive()
    for entry in document.get("captures", []):
        archive.add(
            StandinCapture(
                url=entry["url"],
                timestamp=entry["timestamp"],
                body=_entry_body(entry, path.parent),
                status=entry.get("status", 200),
                mimetype=entry.get("mimetype", "text/html"),
                location=entry.get("location"),
                redirect_form=entry.get("redirect_form", "absolute"),
            )
        )
    for url in document.get("blocked", []):
        archive.block(url)
    return archive


def _entry_body(entry: dict[str, str], directory: Path) -> bytes:
    if "body_file" in entry:
        return (directory / entry["body_file"]).read_bytes()
    if "body_base64" in entry:
        return base64.b64decode(entry["body_base64"])
    return entry.get("body", "").encode("utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a Wayback-compatible stand-in archive on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--history", type=Path, help="JSON file of captures (see the module docstring)")
    options = parser.parse_args(argv)
    archive = load_history(options.history) if options.history else StandinArchive()
    archive.start(port=options.port)
    print(f"stand-in archive with {archive.capture_count} captures: cdx_url = {archive.cdx_url!r}")
    print(f"                                          replay_url = {archive.replay_url!r}  (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        archive.stop()


if __name__ == "__main__":
    main()
