"""What the locator leaves around the content it located: link lists at the located block's edges (side
navigation, footer link lists, promotions) are dropped as ``navigation``, and what the descent left beside the
block (siblings of it and of its ancestors, and their own text) is reported, as ``navigation`` when mostly links
and ``outside-content`` otherwise, since it may be the document's (``locate`` finds the block)."""

from __future__ import annotations

import lxml.html

from policy_archive.pipeline.extraction.dropped import LINK_BLOCK_SHARE, OUTSIDE_CONTENT, DropLog, sample, word_count
from policy_archive.records import Dropped

HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Blocks that are text themselves: edge trimming stops at them instead of descending.
TEXT_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "blockquote", "dl"}

Weights = dict[lxml.html.HtmlElement, int]


def note_left_out(
    body: lxml.html.HtmlElement, root: lxml.html.HtmlElement, words: Weights, prose: Weights, log: DropLog
) -> None:
    """Report what the descent to ``root`` left beside it (siblings of ``root`` and of its ancestors below
    ``<body>``, and their own text): mostly links, ``navigation``; anything else ``outside-content``, since it
    may be the document's (issue 12: the locator must never lose text silently)."""
    node = root
    while node is not body:
        parent = node.getparent()
        if parent is None:
            return
        for sibling in parent:
            if sibling is node or not isinstance(sibling.tag, str) or not words.get(sibling):
                continue
            reason = "navigation" if is_navigation(sibling, 2, words, prose) else OUTSIDE_CONTENT
            log.note(Dropped(reason, words[sibling], sample(sibling.text_content())))
        own = (parent.text or "") + " " + " ".join(child.tail or "" for child in parent)
        if word_count(own):
            log.note(Dropped(OUTSIDE_CONTENT, word_count(own), sample(own)))
        node = parent


def trim_link_edges(root: lxml.html.HtmlElement, words: Weights, prose: Weights, log: DropLog) -> None:
    """Link lists before the first text and after the last (side navigation, footer link lists, promotions),
    with the headings that only title them. In-page links (a table of contents) are text, not navigation."""
    for from_end in (False, True):
        node = root
        while node is not None:
            node = _trim_edge(node, from_end, words, prose, log)


def _trim_edge(
    node: lxml.html.HtmlElement, from_end: bool, words: Weights, prose: Weights, log: DropLog
) -> lxml.html.HtmlElement | None:
    """Drop link blocks at one edge of ``node``; return the child to trim further, if the edge runs into one."""
    children = [child for child in node if isinstance(child.tag, str)]
    if from_end:
        children.reverse()
    dropped_links = False
    for child in children:
        # Once a link list went, a lone link block next to it (a promotion, "Download the app") goes too.
        if is_navigation(child, 1 if dropped_links else 2, words, prose):
            log.drop(child, "navigation")
            dropped_links = True
        elif from_end and dropped_links and child.tag in HEADING_TAGS:
            log.drop(child, "navigation")
        elif not words.get(child):
            continue
        else:
            is_text = child.tag in TEXT_BLOCK_TAGS or (child.text or "").strip()
            return None if is_text else child
    return None


def is_navigation(element: lxml.html.HtmlElement, min_links: int, words: Weights, prose: Weights) -> bool:
    """Links to other pages, at least ``min_links``, and little else."""
    if element.tag in HEADING_TAGS or element.tag in TEXT_BLOCK_TAGS and element.tag != "p":
        return False
    total = words.get(element, 0)
    if not total or total - prose.get(element, 0) < LINK_BLOCK_SHARE * total:
        return False
    away = [link for link in element.iter("a") if not link.get("href", "#").startswith(("#", "javascript:"))]
    return len(away) >= min_links
