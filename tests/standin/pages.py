"""What a stand-in site answers at one URL: a frozen :class:`Page`, and factories for the usual cases.

A page is body bytes (any charset), a status, validators (ETag / Last-Modified, answered with 304 to
If-None-Match / If-Modified-Since), a redirect, a delay or an answer held until a test releases it, a number of 429
answers with Retry-After before the real one. Factories: :func:`html_page`, :func:`text_page`, :func:`robots_txt`,
:func:`redirect`, :func:`bot_wall`, :func:`javascript_shell`, :func:`json_data`, :func:`empty_page`,
:func:`not_found`, :func:`server_error`, :func:`rate_limited`, :func:`failing`, :func:`slow`, :func:`held`;
:func:`frameset_page` and :func:`iframe_page` for home pages whose links are in frames; :func:`meta_refresh_page`
for a splash page that is only a ``<meta http-equiv="refresh">``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import escape

HTML_UTF8 = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """What one URL answers. ``rate_limited_times`` first requests get 429 + ``Retry-After`` instead, the
    ``failing_times`` next ones a 500."""

    body: bytes = b""
    status: int = 200
    content_type: str = HTML_UTF8
    location: str | None = None
    etag: bool = True
    last_modified: bool = True
    delay_seconds: float = 0.0
    release: threading.Event | None = None  # answered only once set (see held)
    rate_limited_times: int = 0
    retry_after_seconds: int = 1
    failing_times: int = 0  # then a 500 to as many requests (see failing)
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


def frameset_html(*sources: str) -> str:
    """A frameset page of 1997–2004, one ``<frame>`` per source: its links are in its frames' pages (the
    ``<noframes>`` text is what browsers without frames showed)."""
    frames = "".join(f"<frame src='{escape(source)}'>" for source in sources)
    return (
        f"<html><head><title>Welcome</title></head><frameset rows='{','.join(['*'] * len(sources))}'>{frames}"
        "<noframes><body>Your browser does not show frames.</body></noframes></frameset></html>"
    )


def frameset_page(*sources: str) -> Page:
    return Page(body=frameset_html(*sources).encode(), content_type=HTML_UTF8)


def iframe_page(source: str) -> Page:
    """A page that only frames another, full window, as registrars' "masked forwarding" serves it; with a tag
    manager's hidden iframe in ``<noscript>``, as most pages carry."""
    body = (
        "<html><head><title>Welcome</title></head><body style='margin:0'>"
        "<noscript><iframe src='https://tags.test/ns.html?id=GTM-1' height='0' width='0'></iframe></noscript>"
        f"<iframe src='{escape(source)}' style='border:0;width:100%;height:100vh'></iframe></body></html>"
    )
    return Page(body=body.encode(), content_type=HTML_UTF8)


def meta_refresh_html(target: str, delay: int = 0) -> str:
    """A splash page: nothing but a ``<meta http-equiv="refresh">`` to ``target`` (the 2000s' ``Loading…``)."""
    return (
        f"<html><head><meta http-equiv='refresh' content='{delay}; url={escape(target)}'><title>Loading</title>"
        "</head><body>Loading…</body></html>"
    )


def meta_refresh_page(target: str, delay: int = 0) -> Page:
    return Page(body=meta_refresh_html(target, delay).encode(), etag=False, last_modified=False)


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


def json_data(value: object) -> Page:
    return Page(body=json.dumps(value).encode(), content_type="application/json")


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


def failing(page: Page, times: int = 1) -> Page:
    """``page``, answered with a 500 (a failure Scrapy retries) to its first ``times`` requests."""
    return replace(page, failing_times=times)


def slow(page: Page, seconds: float) -> Page:
    """``page``, answered only after ``seconds`` (before the status line)."""
    return replace(page, delay_seconds=seconds)


HELD_AT_MOST_SECONDS = 120.0  # a test that never releases its page fails on its own timeout, not by hanging


def held(page: Page, release: threading.Event) -> Page:
    """``page``, answered only once ``release`` is set (before the status line): a test acts while a request is on
    the wire, whatever the load, instead of racing a delay."""
    return replace(page, release=release)
