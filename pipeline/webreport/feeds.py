"""Atom feeds (RFC 4287) of the changes: one for the whole report, one per document; newest entry first."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree import ElementTree

ATOM = "http://www.w3.org/2005/Atom"
GENERATOR = "policy-archive"


@dataclass(frozen=True)
class FeedEntry:
    """One change of one document."""

    id: str  # urn:uuid derived from the commit: the same change keeps its id whenever the report is rebuilt
    title: str
    updated: str  # the capture time, ISO 8601 UTC
    link: str  # the change on its document's page, relative to the report's root
    summary: str
    content_html: str = ""  # the word-level change, for feed readers that show it (per-document feeds only)

    def without_content(self) -> FeedEntry:
        return FeedEntry(self.id, self.title, self.updated, self.link, self.summary)


def stable_id(name: str) -> str:
    """A permanent, unique Atom id for ``name`` (a commit id, a document key) without owning a domain name."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"policy-archive:{name}").urn


def _add(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element


def feed_xml(feed_id: str, title: str, home: str, entries: Iterable[FeedEntry], prefix: str = "") -> bytes:
    """The feed document; ``prefix`` turns the entries' root-relative links into links relative to the feed."""
    ordered = sorted(entries, key=lambda entry: (entry.updated, entry.id), reverse=True)
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    # A feed without entries still needs <updated>: the epoch says "nothing yet" without inventing a date.
    _add(feed, "updated", ordered[0].updated if ordered else "1970-01-01T00:00:00Z")
    _add(_add(feed, "author"), "name", GENERATOR)
    _add(feed, "generator", GENERATOR)
    _add(feed, "link", rel="alternate", type="text/html", href=home)
    for entry in ordered:
        element = _add(feed, "entry")
        _add(element, "id", entry.id)
        _add(element, "title", entry.title)
        _add(element, "updated", entry.updated)
        _add(element, "link", rel="alternate", type="text/html", href=prefix + entry.link)
        _add(element, "summary", entry.summary)
        if entry.content_html:
            _add(element, "content", entry.content_html, type="html")
    ElementTree.indent(feed)
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
