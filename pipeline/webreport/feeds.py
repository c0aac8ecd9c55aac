"""Atom feeds (RFC 4287) of the changes: one for the whole report, one per document; each of the newest
entries only (see ``document_files.FEED_ENTRIES``), newest first."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree import ElementTree

from policy_archive.text import markup_text

ATOM = "http://www.w3.org/2005/Atom"
GENERATOR = "policy-archive"


@dataclass(frozen=True)
class FeedEntry:
    """One change of one document."""

    # urn:uuid derived from the version's document, date and blob (not its commit, which a backfill inserting an
    # earlier version re-chains): the same change keeps its id whenever the report is rebuilt
    id: str
    title: str
    updated: str  # the capture time, ISO 8601 UTC
    link: str  # the change on its document's page, relative to the report's root
    summary: str
    content_html: str = ""  # the word-level change, for feed readers that show it (per-document feeds only)

    def without_content(self) -> FeedEntry:
        """The entry as the report's state file keeps it: the word-level change left out (it is large, and only the
        document's own feed, written when its page is, carries it); the feed of every change is built from these."""
        return FeedEntry(self.id, self.title, self.updated, self.link, self.summary)


def stable_id(name: str) -> str:
    """A permanent, unique Atom id for ``name`` (a version's document, date and blob; a document key) without owning
    a domain name."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"policy-archive:{name}").urn


def _add(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> ElementTree.Element:
    """A child element; its text and attributes without the characters XML forbids (ElementTree writes them
    as they are, and the feed is then not well-formed)."""
    attributes = {name: markup_text(value) for name, value in attributes.items()}
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = None if text is None else markup_text(text)
    return element


def feed_xml(
    feed_id: str,
    title: str,
    home: str,
    entries: Iterable[FeedEntry],
    since: str,
    prefix: str = "",
    limit: int | None = None,
    self_url: str | None = None,
) -> bytes:
    """The feed document of the newest ``limit`` of ``entries`` (None: all); ``since`` is when what it follows was
    first recorded (ISO 8601 UTC); ``prefix`` turns the entries' root-relative links into links relative to the
    feed; ``self_url`` is the feed's own absolute address (``report --base-url``), None when it is not known.

    RFC 4287 §4.1.1: a feed SHOULD have a ``rel="self"`` link, "the preferred URI for retrieving" it. Its use is to
    find the feed again from its content alone (a browser handing a feed to a reader forgets where it came from), so
    a relative one serves nothing and the W3C Feed Validation Service warns of it (``RelativeSelf``, read
    2026-11-29); a report read from file:// or published at an address we are not told has no true one. Without
    ``self_url`` there is none: no link is better than a wrong one, which would send readers elsewhere."""
    ordered = sorted(entries, key=lambda entry: (entry.updated, entry.id), reverse=True)[:limit]
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    # RFC 4287 requires atom:updated, "the most recent instant in time when the entry or feed was modified in a
    # way the publisher considered significant": the newest change. A feed without entries has announced
    # nothing since what it follows was first recorded (a later capture of the same text is no change), so
    # that first capture is its true date; 1970 was not.
    _add(feed, "updated", ordered[0].updated if ordered else since)
    _add(_add(feed, "author"), "name", GENERATOR)
    _add(feed, "generator", GENERATOR)
    _add(feed, "link", rel="alternate", type="text/html", href=home)
    if self_url is not None:
        _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
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
