"""Stand-in live web sites: many sites on one port of 127.0.0.1, told apart by the Host header.

Each site has a real-looking name (``acme.test``: the ``.test`` top-level domain never resolves, so nothing can
leak to the internet) and clients reach every site through this server used as a plain HTTP proxy. Why a proxy
rather than path prefixes: Scrapy keys its per-domain politeness slots by the URL's host name, so only distinct
host names give the realistic "one request at a time per site, many sites in parallel" behaviour. Scrapy (and
urllib) use the proxy when the environment says so::

    http_proxy=http://127.0.0.1:PORT   # StandinSites.proxy_url; robots.txt requests go the same way
    no_proxy=down.invalid              # hosts that must bypass it, e.g. to get a real DNS failure

A page is a frozen :class:`Page`: body bytes (any charset), status, validators (ETag / Last-Modified, answered
with 304 to If-None-Match / If-Modified-Since), redirects, a delay, a number of 429 answers with Retry-After
before the real one. Factories build the usual cases: :func:`policy_page` (~50 KB legal document),
:func:`bot_wall`, :func:`javascript_shell`, :func:`empty_page`, :func:`not_found`, :func:`server_error`,
:func:`redirect`, :func:`rate_limited`, :func:`slow`; :func:`scripted_policy` (with :func:`policy_script`
and :func:`json_data`) is a single-page application whose text only exists after its scripts ran. Every request
is logged (:class:`LoggedRequest`) and the highest number of requests in flight per site is kept, so tests can
check conditional requests and politeness.

``python tests/standin/sites.py`` serves the benchmark corpus (100 sites x 10 documents of ~50 KB by default),
writes the matching ``services/*.toml`` with ``--config-out DIR``, and takes control requests on its own
address: ``POST /_standin/change?fraction=0.1`` revises 10 % of the documents, ``GET /_standin/stats``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/_standin/"
HTML_UTF8 = "text/html; charset=utf-8"
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


# --- pages -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """What one URL answers. ``rate_limited_times`` first requests get 429 + ``Retry-After`` instead."""

    body: bytes = b""
    status: int = 200
    content_type: str = HTML_UTF8
    location: str | None = None
    etag: bool = True
    last_modified: bool = True
    delay_seconds: float = 0.0
    rate_limited_times: int = 0
    retry_after_seconds: int = 1
    headers: tuple[tuple[str, str], ...] = ()


def html_page(title: str, paragraphs: Sequence[str], charset: str = "utf-8") -> Page:
    """A simple document page, encoded in ``charset`` and declared so in the header and a meta tag."""
    body = "".join(f"<p>{escape(text)}</p>\n" for text in paragraphs)
    document = (
        f'<!DOCTYPE html>\n<html><head><meta charset="{charset}"><title>{escape(title)}</title></head>\n'
        f"<body><main><h1>{escape(title)}</h1>\n{body}</main></body></html>\n"
    )
    return Page(body=document.encode(charset), content_type=f"text/html; charset={charset}")


def text_page(text: str) -> Page:
    return Page(body=text.encode("utf-8"), content_type="text/plain; charset=utf-8")


def robots_txt(disallow: Sequence[str] = ()) -> Page:
    """``robots.txt`` for every user agent; no paths means everything is allowed."""
    rules = "".join(f"Disallow: {path}\n" for path in disallow) or "Disallow:\n"
    return text_page(f"User-agent: *\n{rules}")


def redirect(location: str, status: int = 301) -> Page:
    body = f'<html><body>Moved to <a href="{escape(location)}">{escape(location)}</a></body></html>'
    return Page(body=body.encode(), status=status, location=location, etag=False, last_modified=False)


def bot_wall() -> Page:
    """A 403 challenge page shaped like Cloudflare's managed challenge (as served in 2026-11)."""
    body = (
        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        "<h1>Checking if the site connection is secure</h1>"
        "<p>Enable JavaScript and cookies to continue</p>"
        '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></body></html>'
    )
    return Page(
        body=body.encode(),
        status=403,
        etag=False,
        last_modified=False,
        headers=(("Server", "cloudflare"), ("cf-mitigated", "challenge"), ("Cache-Control", "no-store")),
    )


def javascript_shell(title: str = "Privacy Policy") -> Page:
    """A single-page-application shell: 200, but the text only exists after running JavaScript."""
    body = (
        f"<!DOCTYPE html><html><head><title>{escape(title)}</title>"
        '<script defer src="/static/js/main.4f2a9c.js"></script></head>'
        '<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>'
        "</body></html>"
    )
    return Page(body=body.encode())


def scripted_policy(
    title: str, script_url: str, image_url: str = "/static/banner.png", other_scripts: Sequence[str] = ()
) -> Page:
    """A single-page application's HTML: 200, a script shell over HTTP; in a browser, an inline script writes
    the heading and the external ``script_url`` (see :func:`policy_script`) the rest. The image must never be
    downloaded by a renderer. ``other_scripts`` are loaded too (analytics, say), adding no text."""
    inline = (
        "document.getElementById('root').innerHTML = '<main><h1></h1><p id=\"intro\"></p>"
        '<div id="sections"></div></main>\';'
        f"document.querySelector('h1').textContent = {json.dumps(title)};"
        "document.getElementById('intro').textContent = 'Loading the policy';"
    )
    body = (
        f"<!DOCTYPE html><html><head><title>{escape(title)}</title>"
        f'<script defer src="{escape(script_url)}"></script>'
        + "".join(f'<script defer src="{escape(url)}"></script>' for url in other_scripts)
        + "</head>"
        '<body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>'
        f'<img src="{escape(image_url)}" alt=""><script>{inline}</script></body></html>'
    )
    return Page(body=body.encode())


def policy_script(data_url: str, delay_ms: int) -> Page:
    """The external script of :func:`scripted_policy`: fetches the policy's sections as JSON from ``data_url``
    (see :func:`json_data`), then shows them only ``delay_ms`` later, as pages animating their content do."""
    code = (
        f"fetch({json.dumps(data_url)}).then(answer => answer.json()).then(data => setTimeout(() => {{"
        "  document.getElementById('intro').textContent = data.intro;"
        "  const sections = document.getElementById('sections');"
        "  for (const section of data.sections) {"
        "    const heading = document.createElement('h2'); heading.textContent = section.heading;"
        "    sections.appendChild(heading);"
        "    for (const text of section.paragraphs) {"
        "      const paragraph = document.createElement('p'); paragraph.textContent = text;"
        "      sections.appendChild(paragraph);"
        "    }"
        "  }"
        f"}}, {int(delay_ms)}));"
    )
    return Page(body=code.encode(), content_type="text/javascript; charset=utf-8")


def json_data(value: object) -> Page:
    return Page(body=json.dumps(value).encode(), content_type="application/json")


def add_scripted_policy(
    sites: StandinSites, host: str, data: object, delay_ms: int, data_delay_seconds: float = 0.0
) -> str:
    """A single-page application at ``http://HOST/privacy`` (page, ``/static/policy.js``, ``/api/policy.json``
    answering ``data`` after ``data_delay_seconds``); return its URL. ``data``: ``{"intro": str, "sections":
    [{"heading": str, "paragraphs": [str, ...]}, ...]}``."""
    url = sites.set_page(f"http://{host}/privacy", scripted_policy(f"{host} Privacy Policy", "/static/policy.js"))
    sites.set_page(f"http://{host}/static/policy.js", policy_script("/api/policy.json", delay_ms))
    sites.set_page(f"http://{host}/api/policy.json", slow(json_data(data), data_delay_seconds))
    return url


def scripted_policy_data(site: str, revision: int = 0, sections: int = 8) -> dict[str, object]:
    """Pseudo-legal sections for :func:`add_scripted_policy`, the same for the same arguments."""
    rng = random.Random(f"{site}/scripted/{revision}")
    return {
        "intro": f"This privacy policy explains how {site} processes personal data (revision {revision}).",
        "sections": [
            {"heading": " ".join(rng.sample(_WORDS, 3)).capitalize(), "paragraphs": [_paragraph(rng) for _ in range(3)]}
            for _ in range(sections)
        ],
    }


def empty_page() -> Page:
    return Page(body=b"")


def not_found() -> Page:
    return Page(body=b"<html><body><h1>404 Not Found</h1></body></html>", status=404, etag=False, last_modified=False)


def server_error() -> Page:
    body = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
    return Page(body=body, status=500, etag=False, last_modified=False)


def rate_limited(page: Page, retry_after_seconds: int = 1, times: int = 1) -> Page:
    """``page``, answered with 429 and ``Retry-After`` for its first ``times`` requests."""
    return replace(page, rate_limited_times=times, retry_after_seconds=retry_after_seconds)


def slow(page: Page, seconds: float) -> Page:
    """``page``, answered only after ``seconds`` (before the status line)."""
    return replace(page, delay_seconds=seconds)


# --- a realistic legal document ----------------------------------------------------------------------------

_WORDS = (
    "personal data information we you your services process processing collect use share third parties "
    "controller processor consent legitimate interest purposes retention period account contact request "
    "access rectification erasure portability object restrict cookies analytics advertising partners "
    "security measures transfer countries safeguards contractual clauses law enforcement authorities "
    "children age device identifiers location usage logs communications support marketing opt-out "
    "rights complaint supervisory authority applicable laws changes policy effective date website "
    "application features payment billing fraud prevention compliance obligations storage encryption "
    "anonymised aggregated statistics research improvement providers hosting infrastructure vendors"
).split()
_SENTENCE_POOL_SIZE = 4000
_SENTENCES: list[str] = []


def _sentences() -> list[str]:
    """A fixed pool of pseudo-legal sentences (built once, same for every run of the test suite)."""
    if not _SENTENCES:
        rng = random.Random(20261104)
        for _ in range(_SENTENCE_POOL_SIZE):
            words = rng.choices(_WORDS, k=rng.randint(10, 24))
            _SENTENCES.append(" ".join(words).capitalize() + rng.choice((".", ".", ".", ";", " — où applicable.")))
    return _SENTENCES


def _paragraph(rng: random.Random) -> str:
    return " ".join(rng.sample(_sentences(), rng.randint(3, 7)))


def policy_page(site: str, document: str, revision: int = 0, size: int = 50_000) -> Page:
    """A ~``size``-byte legal document of ``site``, the same bytes for the same arguments.

    Each revision replaces one more paragraph than the previous one and updates the "Last updated" line, so
    consecutive revisions differ by a few lines, as real policy updates mostly do.
    """
    title = f"{site} {document.replace('-', ' ').title()}"
    rng = random.Random(f"{site}/{document}")
    sections: list[tuple[str, list[str]]] = []
    used = 2000  # the page chrome around the sections
    while used < size:
        heading = " ".join(rng.sample(_WORDS, 3)).capitalize()
        paragraphs = [_paragraph(rng) for _ in range(rng.randint(2, 5))]
        sections.append((heading, paragraphs))
        used += len(heading) + sum(len(p) + 8 for p in paragraphs) + 16
    for number in range(1, revision + 1):
        edit = random.Random(f"{site}/{document}/revision {number}")
        _, paragraphs = sections[edit.randrange(len(sections))]
        paragraphs[edit.randrange(len(paragraphs))] = _paragraph(edit)
    updated = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=revision)).strftime("%B %d, %Y")
    body = "".join(
        f"<section><h2>{index}. {escape(heading)}</h2>\n"
        + "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
        + "</section>\n"
        for index, (heading, paragraphs) in enumerate(sections, start=1)
    )
    document_html = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<link rel="stylesheet" href="/static/site.css"></head>\n<body>\n'
        '<div class="cookie-banner">We use cookies. <button>Accept all</button> <button>Reject</button></div>\n'
        '<header><nav><a href="/">Home</a> <a href="/products">Products</a> <a href="/pricing">Pricing</a> '
        '<a href="/about">About us</a> <a href="/careers">Careers</a> <a href="/login">Sign in</a></nav></header>\n'
        f"<main><article><h1>{escape(title)}</h1>\n<p><em>Last updated: {updated}</em></p>\n{body}</article></main>\n"
        '<footer><p>© 2026 Example Corp. All rights reserved.</p><nav><a href="/legal/privacy-policy">Privacy</a> '
        '<a href="/legal/terms-of-service">Terms</a> <a href="/legal/cookie-policy">Cookies</a></nav></footer>\n'
        "</body></html>\n"
    )
    return Page(body=document_html.encode("utf-8"))


# --- the server --------------------------------------------------------------------------------------------


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
class _PageState:
    page: Page
    etag: str
    last_modified: datetime
    requests: int = 0


@dataclass
class _Site:
    pages: dict[str, _PageState] = field(default_factory=dict)
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
        self._server = _Server(("127.0.0.1", port), _Handler, self)
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
        host, path = _split(url)
        if host not in self._sites:
            self.add_site(host)
        with self._lock:
            site = self._sites[host]
            previous = site.pages.get(path)
            site.pages[path] = _PageState(page, _etag(page.body), _next_modification(previous))
        return url

    def change_page(self, url: str, body: bytes) -> None:
        """Give the page at ``url`` a new body (new ETag, later Last-Modified), keeping its other behaviour."""
        self.set_page(url, replace(self.page(url), body=body))

    def page(self, url: str) -> Page:
        host, path = _split(url)
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
        host, path = _split(url)
        with self._lock:
            try:
                return self._sites[host].pages[path].requests
            except KeyError:
                raise StandinError(f"no page at {url}") from None

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
            host, path = _split(url)
            revision = self._benchmark_revisions[url] + 1
            self._benchmark_revisions[url] = revision
            page = policy_page(host, path.rsplit("/", 1)[1], revision, self._benchmark_size)
            self.change_page(url, page.body)
        return chosen

    # serving (called from the handler threads)

    def _answer(self, handler: _Handler, head: bool) -> None:
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
            reply = _reply(replace(not_found(), status=405, body=b""))
        elif state is None:
            reply = _reply(not_found())
        else:
            time.sleep(state.page.delay_seconds)
            reply = _page_reply(handler, state)
        # Logged before the answer is written: once a client has its answer, the log already shows the request.
        with self._lock:
            site.in_flight -= 1
            self._log.append(
                LoggedRequest(
                    site=host,
                    method=handler.command,
                    path=path,
                    status=reply.status,
                    if_none_match=handler.headers.get("If-None-Match"),
                    if_modified_since=handler.headers.get("If-Modified-Since"),
                    user_agent=handler.headers.get("User-Agent"),
                    body_bytes=0 if head else len(reply.body),
                    started=started,
                    finished=time.monotonic(),
                )
            )
        _write(handler, reply, head)

    def _answer_control(self, handler: _Handler, path: str, head: bool) -> None:
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
            _write(handler, _reply(Page(body=b"stand-in: no such site", status=502, content_type="text/plain")), head)
            return
        body = json.dumps(answer, indent=1).encode()
        _write(handler, _reply(Page(body=body, content_type="application/json")), head)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _reply(page: Page, validators: Sequence[tuple[str, str]] = ()) -> _Reply:
    headers = [("Content-Type", page.content_type), ("Content-Length", str(len(page.body)))]
    if page.location:
        headers.append(("Location", page.location))
    return _Reply(page.status, (*headers, *page.headers, *validators), page.body)


def _page_reply(handler: _Handler, state: _PageState) -> _Reply:
    page = state.page
    if state.requests <= page.rate_limited_times:
        too_many = Page(
            body=b"<html><body><h1>429 Too Many Requests</h1></body></html>",
            status=429,
            headers=(("Retry-After", str(page.retry_after_seconds)),),
        )
        return _reply(too_many)
    validators = []
    if page.etag:
        validators.append(("ETag", state.etag))
    if page.last_modified:
        validators.append(("Last-Modified", format_datetime(state.last_modified, usegmt=True)))
    if page.status == 200 and _not_modified(handler, state, page):
        return _Reply(304, tuple(validators), b"")  # a 304 has no body, hence no Content-Length
    return _reply(page, validators)


def _write(handler: _Handler, reply: _Reply, head: bool) -> None:
    handler.send_response(reply.status)
    for name, value in reply.headers:
        handler.send_header(name, value)
    handler.end_headers()
    if not head:
        handler.wfile.write(reply.body)


def _not_modified(handler: _Handler, state: _PageState, page: Page) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present; If-Modified-Since only without it."""
    if_none_match = handler.headers.get("If-None-Match")
    if if_none_match is not None:
        if not page.etag:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or state.etag in tags
    if_modified_since = handler.headers.get("If-Modified-Since")
    if if_modified_since is None or not page.last_modified:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored, as the RFC says
    return since.tzinfo is not None and state.last_modified <= since


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha1(body).hexdigest()[:20]}"'


def _next_modification(previous: _PageState | None) -> datetime:
    """Now, in whole seconds (HTTP dates have no more), and always later than the previous version's."""
    moment = datetime.now(UTC).replace(microsecond=0)
    if previous is not None and moment <= previous.last_modified:
        moment = previous.last_modified + timedelta(seconds=1)
    return moment


def _split(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise StandinError(f"not an absolute URL: {url}")
    return parts.hostname, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _target(handler: _Handler) -> tuple[str, str]:
    """The site and path a request is for: absolute-form targets (proxy requests), else the Host header."""
    if handler.path.startswith(("http://", "https://")):
        return _split(handler.path)
    host = urlsplit("//" + (handler.headers.get("Host") or "")).hostname or ""
    return host, handler.path


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # Scrapy opens up to CONCURRENT_REQUESTS connections at once
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sites: StandinSites):
        self.sites = sites
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

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
    server: _Server

    def do_GET(self) -> None:
        self.server.sites._answer(self, head=False)

    def do_HEAD(self) -> None:
        self.server.sites._answer(self, head=True)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # keep the connection usable
        self.server.sites._answer(self, head=False)

    def do_CONNECT(self) -> None:
        """A tunnel, as Playwright's own requests (``route.fetch``) ask even for ``http://``: the requests that
        follow on this connection are the site's, answered here by their Host header, as through a real tunnel."""
        self.send_response(200, "Connection established")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is the record; stderr chatter would drown test output


# --- the benchmark server ----------------------------------------------------------------------------------


def write_services(directory: Path, urls: Sequence[str]) -> list[Path]:
    """Write ``services/<site>.toml`` declaring ``urls`` (one service per host); return the files."""
    by_site: dict[str, list[str]] = {}
    for url in urls:
        by_site.setdefault(_split(url)[0], []).append(url)
    services = directory / "services"
    services.mkdir(parents=True, exist_ok=True)
    written = []
    for host, site_urls in sorted(by_site.items()):
        service_id = host.removesuffix(".test")
        lines = [f'name = "{service_id.title()}"', ""]
        for url in site_urls:
            document = _split(url)[1].rsplit("/", 1)[1]
            lines += [f"[documents.{document}]", f'url = "{url}"', 'select = ["main"]', ""]
        path = services / f"{service_id}.toml"
        path.write_text("\n".join(lines))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/standin/sites.py", description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--documents", type=int, default=10, help=f"per site, at most {len(DOCUMENT_TYPES)}")
    parser.add_argument("--page-bytes", type=int, default=50_000)
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    parser.add_argument("--config-out", type=Path, help="write services/*.toml for the corpus here")
    options = parser.parse_args(argv)
    with StandinSites(options.port) as sites:
        started = time.monotonic()
        urls = sites.add_benchmark_sites(options.sites, options.documents, options.page_bytes)
        print(sites.proxy_url, flush=True)  # first line: for scripts
        print(
            f"{len(urls)} documents on {options.sites} sites built in {time.monotonic() - started:.1f} s; "
            f"export http_proxy={sites.proxy_url}",
            file=sys.stderr,
        )
        if options.config_out:
            files = write_services(options.config_out, urls)
            print(f"wrote {len(files)} service files to {options.config_out / 'services'}", file=sys.stderr)
        print(
            f"change 10 %: curl -X POST '{sites.proxy_url}{CONTROL_PREFIX}change?fraction=0.1'; "
            f"counts: curl {sites.proxy_url}{CONTROL_PREFIX}stats; stop: Ctrl-C or SIGTERM",
            file=sys.stderr,
        )
        _wait_for_stop_signal()
    return 0


def _wait_for_stop_signal() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM ends it like Ctrl-C
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
