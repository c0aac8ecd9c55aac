"""Stand-in live web sites: many sites on one port of 127.0.0.1, told apart by the Host header.

Each site has a real-looking name (``acme.test``: the ``.test`` top-level domain never resolves, so nothing can
leak to the internet) and clients reach every site through this server used as a plain HTTP proxy. Why a proxy
rather than path prefixes: Scrapy keys its per-domain politeness slots by the URL's host name, so only distinct
host names give the realistic "one request at a time per site, many sites in parallel" behaviour. Scrapy (and
urllib) use the proxy when the environment says so::

    http_proxy=http://127.0.0.1:PORT   # StandinSites.proxy_url; robots.txt requests go the same way
    no_proxy=down.invalid              # hosts that must bypass it, e.g. to get a real DNS failure

Each URL serves a :class:`~standin.pages.Page` (factories there, :func:`~standin.legal_text.policy_page` for a
~50 KB legal document, :mod:`standin.scripted_policy` for a single-page application), answered as
:mod:`standin.site_replies` says. Every request is logged (:class:`LoggedRequest`) and the highest number of
requests in flight per site is kept, so tests can check conditional requests and politeness. The benchmark
corpus (:meth:`StandinSites.add_benchmark_sites`) is revised and counted through control requests on the
server's own address: ``POST /_standin/change?fraction=0.1``, ``GET /_standin/stats``
(:mod:`standin.sites_cli` serves it by hand).
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from standin.legal_text import policy_page
from standin.pages import HELD_AT_MOST_SECONDS, Page, not_found, robots_txt
from standin.site_replies import PageState, page_reply, page_state, reply, write_reply
from standin.site_server import SiteServer

CONTROL_PREFIX = "/_standin/"
DOCUMENT_TYPES = (
    "privacy-policy",
    "terms-of-service",
    "cookie-policy",
    "acceptable-use-policy",
    "data-processing-agreement",
    "community-guidelines",
    "copyright-policy",
    "law-enforcement-guidelines",
    "subprocessors",
    "accessibility-statement",
)


@dataclass(frozen=True)
class LoggedRequest:
    """One request a site answered; times are ``time.monotonic()`` seconds."""

    site: str
    method: str
    path: str
    status: int
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None
    body_bytes: int
    started: float
    finished: float

    @property
    def conditional(self) -> bool:
        return self.if_none_match is not None or self.if_modified_since is not None


@dataclass
class _Site:
    pages: dict[str, PageState] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0


class StandinError(LookupError):
    """A test asked about a site or page the stand-in does not serve."""


class StandinSites:
    """The stand-in sites. Use as a context manager (or ``start``/``stop``); every method is thread-safe."""

    def __init__(self, port: int = 0):
        self._lock = threading.Lock()
        self._sites: dict[str, _Site] = {}
        self._log: list[LoggedRequest] = []
        self._benchmark_revisions: dict[str, int] = {}
        self._benchmark_size = 0
        self._server = SiteServer(("127.0.0.1", port), self._answer)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="standin-sites", daemon=True
        )  # polling every 50 ms instead of 500 lets stop() return at once

    # lifecycle

    def start(self) -> StandinSites:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> StandinSites:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def proxy_url(self) -> str:
        """Where every site is reached: set it as ``http_proxy`` (or a Request's ``meta['proxy']``)."""
        return f"http://127.0.0.1:{self.port}"

    # content

    def add_site(self, name: str, disallow: Sequence[str] = ()) -> str:
        """Serve ``name`` (``acme.test``) with a robots.txt disallowing ``disallow``; return its base URL."""
        host = name.lower()
        with self._lock:
            self._sites.setdefault(host, _Site())
        self.set_page(f"http://{host}/robots.txt", robots_txt(disallow))
        return f"http://{host}"

    def set_page(self, url: str, page: Page) -> str:
        """Serve ``page`` at ``url`` (its site is added, allowing everything, if new); return ``url``."""
        host, path = split_url(url)
        if host not in self._sites:
            self.add_site(host)
        with self._lock:
            site = self._sites[host]
            previous = site.pages.get(path)
            site.pages[path] = page_state(page, previous)
        return url

    def change_page(self, url: str, body: bytes) -> None:
        """Give the page at ``url`` a new body (new ETag, later Last-Modified), keeping its other behaviour."""
        self.set_page(url, replace(self.page(url), body=body))

    def page(self, url: str) -> Page:
        host, path = split_url(url)
        with self._lock:
            try:
                return self._sites[host].pages[path].page
            except KeyError:
                raise StandinError(f"no page at {url}") from None

    # observation

    def requests(self, site: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """Requests answered so far, oldest first, optionally of one site (host name) and path."""
        with self._lock:
            return [
                entry
                for entry in self._log
                if (site is None or entry.site == site.lower()) and (path is None or entry.path == path)
            ]

    def received(self, url: str) -> int:
        """Requests the page at ``url`` received since it was last set, counted on arrival (before any delay),
        so a request still in flight counts: a test can act while a page is being answered."""
        host, path = split_url(url)
        with self._lock:
            try:
                return self._sites[host].pages[path].requests
            except KeyError:
                raise StandinError(f"no page at {url}") from None

    def requests_read(self) -> list[str]:
        """Every request the server has read so far, by any client, for any site or none (a proxy request, a
        tunnel, a control request), oldest first: its request line and User-Agent, as soon as its head is read."""
        return list(self._server.requests_read)

    def wait_for_clients_gone(self, timeout: float = 60) -> None:
        """Return once every connection a client opened before this call has ended (its client gone), so that
        every request sent on it has been read (:meth:`requests_read`). Connections are accepted in
        the order they were made: once a connection of our own, made now, is accepted, every earlier one has
        been; then all of them ending means the server read what they carried. Used once the clients are
        stopped (a kept-alive connection of a client still running would hold this until ``timeout``)."""
        deadline = time.monotonic() + timeout
        with socket.create_connection(("127.0.0.1", self.port)) as sentinel:
            ours = sentinel.getsockname()[:2]
            while ours not in self._server.peers():
                if time.monotonic() > deadline:
                    raise StandinError("the server did not accept a connection in time")
                time.sleep(0.01)
        while self._server.peers():
            if time.monotonic() > deadline:
                raise StandinError(f"connections still open: {sorted(self._server.peers())}")
            time.sleep(0.01)

    def max_in_flight(self, site: str) -> int:
        """The most requests this site was ever answering at the same time."""
        with self._lock:
            try:
                return self._sites[site.lower()].max_in_flight
            except KeyError:
                raise StandinError(f"no site {site}") from None

    def clear_log(self) -> None:
        """Forget logged requests and in-flight maxima (e.g. between a first and a second run)."""
        with self._lock:
            self._log.clear()
            for site in self._sites.values():
                site.max_in_flight = 0

    def stats(self) -> dict[str, object]:
        """Counts for the benchmark: requests by status, conditional requests, worst per-site concurrency."""
        with self._lock:
            statuses = Counter(str(entry.status) for entry in self._log)
            return {
                "requests": len(self._log),
                "by_status": dict(sorted(statuses.items())),
                "conditional": sum(entry.conditional for entry in self._log),
                "body_bytes": sum(entry.body_bytes for entry in self._log),
                "max_in_flight_per_site": max((s.max_in_flight for s in self._sites.values()), default=0),
            }

    # the benchmark corpus

    def add_benchmark_sites(self, sites: int, documents: int, size: int = 50_000) -> list[str]:
        """``sites`` sites (``site-000.test`` ...) of ``documents`` ~``size``-byte documents; return the URLs."""
        if documents > len(DOCUMENT_TYPES):
            raise ValueError(f"at most {len(DOCUMENT_TYPES)} documents per site")
        self._benchmark_size = size
        urls = []
        for number in range(sites):
            host = f"site-{number:03d}.test"
            self.add_site(host)
            for document in DOCUMENT_TYPES[:documents]:
                url = self.set_page(f"http://{host}/legal/{document}", policy_page(host, document, 0, size))
                self._benchmark_revisions[url] = 0
                urls.append(url)
        return urls

    def change_benchmark_documents(self, fraction: float, seed: int = 0) -> list[str]:
        """Revise ``fraction`` of the benchmark documents (chosen by ``seed``); return the changed URLs."""
        urls = sorted(self._benchmark_revisions)
        chosen = sorted(random.Random(seed).sample(urls, round(fraction * len(urls))))
        for url in chosen:
            host, path = split_url(url)
            revision = self._benchmark_revisions[url] + 1
            self._benchmark_revisions[url] = revision
            page = policy_page(host, path.rsplit("/", 1)[1], revision, self._benchmark_size)
            self.change_page(url, page.body)
        return chosen

    # serving (called from the handler threads)

    def _answer(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        started = time.monotonic()
        host, path = _target(handler)
        if host not in self._sites:
            self._answer_control(handler, path, head)
            return
        with self._lock:
            site = self._sites[host]
            site.in_flight += 1
            site.max_in_flight = max(site.max_in_flight, site.in_flight)
            state = site.pages.get(path)
            if state is not None:
                state.requests += 1
        if handler.command not in ("GET", "HEAD"):
            answer = reply(replace(not_found(), status=405, body=b""))
        elif state is None:
            answer = reply(not_found())
        else:
            time.sleep(state.page.delay_seconds)
            if state.page.release is not None:
                state.page.release.wait(HELD_AT_MOST_SECONDS)
            answer = page_reply(handler, state)
        # Logged before the answer is written: once a client has its answer, the log already shows the request.
        with self._lock:
            site.in_flight -= 1
            self._log.append(
                LoggedRequest(
                    site=host,
                    method=handler.command,
                    path=path,
                    status=answer.status,
                    if_none_match=handler.headers.get("If-None-Match"),
                    if_modified_since=handler.headers.get("If-Modified-Since"),
                    user_agent=handler.headers.get("User-Agent"),
                    body_bytes=0 if head else len(answer.body),
                    started=started,
                    finished=time.monotonic(),
                )
            )
        write_reply(handler, answer, head)

    def _answer_control(self, handler: BaseHTTPRequestHandler, path: str, head: bool) -> None:
        """Requests not addressed to a site: the control endpoints on the server's own address, else 502."""
        parts = urlsplit(path)
        command = parts.path.removeprefix(CONTROL_PREFIX) if parts.path.startswith(CONTROL_PREFIX) else None
        if command == "stats" and handler.command in ("GET", "HEAD"):
            answer: object = self.stats()
        elif command == "change" and handler.command == "POST":
            query = parse_qs(parts.query)
            fraction = float(query.get("fraction", ["0.1"])[0])
            answer = self.change_benchmark_documents(fraction, seed=int(query.get("seed", ["0"])[0]))
        else:
            write_reply(
                handler, reply(Page(body=b"stand-in: no such site", status=502, content_type="text/plain")), head
            )
            return
        body = json.dumps(answer, indent=1).encode()
        write_reply(handler, reply(Page(body=body, content_type="application/json")), head)


def split_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise StandinError(f"not an absolute URL: {url}")
    return parts.hostname, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _target(handler: BaseHTTPRequestHandler) -> tuple[str, str]:
    """The site and path a request is for: absolute-form targets (proxy requests), else the Host header."""
    if handler.path.startswith(("http://", "https://")):
        return split_url(handler.path)
    host = urlsplit("//" + (handler.headers.get("Host") or "")).hostname or ""
    return host, handler.path
