"""How a stand-in site answers a request for one of its pages: validators, conditional requests (304), 429s, 500s.

RFC 9110 section 13.2.2 decides between If-None-Match and If-Modified-Since; a page changed within a second still
gets a later Last-Modified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler

from standin.pages import Page, server_error


@dataclass
class PageState:
    """A page as served: its validators, and the requests it received since it was set."""

    page: Page
    etag: str
    last_modified: datetime
    requests: int = 0


def page_state(page: Page, previous: PageState | None) -> PageState:
    """``page`` newly set, replacing ``previous`` (if any) at its URL."""
    return PageState(page, _etag(page.body), _next_modification(previous))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def reply(page: Page, validators: Sequence[tuple[str, str]] = ()) -> Reply:
    headers = [("Content-Type", page.content_type), ("Content-Length", str(len(page.body)))]
    if page.location:
        headers.append(("Location", page.location))
    return Reply(page.status, (*headers, *page.headers, *validators), page.body)


def page_reply(handler: BaseHTTPRequestHandler, state: PageState) -> Reply:
    page = state.page
    if state.requests <= page.rate_limited_times:
        too_many = Page(
            body=b"<html><body><h1>429 Too Many Requests</h1></body></html>",
            status=429,
            headers=(("Retry-After", str(page.retry_after_seconds)),),
        )
        return reply(too_many)
    if state.requests <= page.rate_limited_times + page.failing_times:
        return reply(server_error())
    validators = []
    if page.etag:
        validators.append(("ETag", state.etag))
    if page.last_modified:
        validators.append(("Last-Modified", format_datetime(state.last_modified, usegmt=True)))
    if page.status == 200 and _not_modified(handler, state, page):
        return Reply(304, tuple(validators), b"")  # a 304 has no body, hence no Content-Length
    return reply(page, validators)


def write_reply(handler: BaseHTTPRequestHandler, answer: Reply, head: bool) -> None:
    handler.send_response(answer.status)
    for name, value in answer.headers:
        handler.send_header(name, value)
    handler.end_headers()
    if not head:
        handler.wfile.write(answer.body)


def _not_modified(handler: BaseHTTPRequestHandler, state: PageState, page: Page) -> bool:
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


def _next_modification(previous: PageState | None) -> datetime:
    """Now, in whole seconds (HTTP dates have no more), and always later than the previous version's."""
    moment = datetime.now(UTC).replace(microsecond=0)
    if previous is not None and moment <= previous.last_modified:
        moment = previous.last_modified + timedelta(seconds=1)
    return moment
