"""Where a page's ``<meta http-equiv="refresh">`` sends a browser: a splash page of the 2000s (``Loading…``, then
the home page in ``/en/``), a page that moved. Read from the parsed page, as a browser reads it, for extraction
(a splash is not the document) and for ``discover`` (a splash home page's links are on the page it leads to).

Never fetched from here: an archive crawl follows nothing a page holds (crawler/settings.py); ``discover`` asks
the archive for the target's capture at the home page's time, as it does for a frame (pipeline.jobs.home_pages).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html

META_REFRESH = "meta-refresh"  # the refusal of a page that is only a meta refresh to another page
# The content attribute as HTML's "shared declarative refresh steps" read it (WHATWG HTML, 2026-11): a delay (its
# fraction ignored), then, after whitespace, ";" or ",", an optional "url=", then the URL, quoted or not.
_CONTENT = re.compile(
    r"\s*(?:\d+|(?=\.))[\d.]*(?:(?:\s*[;,]\s*|\s+)(?:url\s*=\s*)?(?P<url>.*))?",
    re.IGNORECASE | re.DOTALL,
)


def meta_refresh(root: lxml.html.HtmlElement, page_url: str) -> str | None:
    """The absolute http(s) URL the page's first meta refresh leads to, or None: no meta refresh, one that reloads
    the page itself (no URL, or its own URL), or one to anything but http(s). A refresh inside ``<noscript>`` is
    left out, as Scrapy's MetaRefreshMiddleware leaves it out (a browser running scripts never sees it)."""
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh" or _in_noscript(meta):
            continue
        match = _CONTENT.fullmatch(meta.get("content") or "")
        if match is None:
            continue  # an invalid content is skipped by browsers too, and the next refresh is read
        return _target(match["url"] or "", page_url)
    return None


def _target(written: str, page_url: str) -> str | None:
    url = written.strip()
    if url[:1] in ("'", '"'):
        url = url[1:].split(url[0], 1)[0]
    if not url.strip():
        return None
    try:
        target = urljoin(page_url, url.strip())
    except ValueError:  # an unclosed IPv6 bracket
        return None
    if urlsplit(target).scheme not in ("http", "https") or target.split("#")[0] == page_url.split("#")[0]:
        return None
    return target


def _in_noscript(element: lxml.html.HtmlElement) -> bool:
    return any(ancestor.tag == "noscript" for ancestor in element.iterancestors())
