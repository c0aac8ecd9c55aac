"""Page text → lxml tree, for extraction and discovery alike: one parser setting, its depth limit, and what it
could not read.

libxml2 (2.14, as lxml 6.1 bundles it) stops at 256 levels of nesting with its default options and drops the
rest of the page without failing. Legacy pages that never close a ``<font>`` or ``<div>`` nest one level deeper
at every paragraph, so a 300-paragraph policy was recorded with its first 7 or 253 paragraphs (acceptance
report 3, finding 1). ``huge_tree`` raises that limit to 2,048 levels; past them the parser still stops, and
the text it did not read is reported as a ``Dropped`` record of reason ``too-deep`` (never silent).

The tree is then flattened deeper than ``MAX_DEPTH`` levels, as browsers do (as of 2026-11 Chromium's HTML tree
builder, like WebKit's, puts elements deeper than 512 levels beside the element at that depth, not inside it): every
character of text is kept in order, only nesting that deep is lost, and the recursive tree walkers (the
Markdown renderer goes two Python frames per level) stay well within Python's recursion limit (1,000 frames).
"""

from __future__ import annotations

import collections
import itertools
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

from policy_archive.pipeline.extraction.dropped import SAMPLE_WORDS, TOO_DEEP, sample
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import Dropped

# Elements with this many ancestors hold all their descendants as flat children. libxml2's default limit, so
# that every page its default parser read whole (what the extractor was measured on) keeps its tree as it was.
MAX_DEPTH = 255
# libxml2's limit with huge_tree (2.14: parserInternals' maxDepth, 2048 with XML_PARSE_HUGE), for messages.
PARSER_MAX_DEPTH = 2048
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Markup in the page's source, to count the words the parser never read (tags only: text in a comment counts).
_MARKUP = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\S+")
# Elements with MAX_DEPTH ancestors and an element inside: one XPath step per level, a fraction of a millisecond
# on a page of 2,000 elements (a walk in Python over every element took ten times as long).
_DEEPEST_PARENTS = lxml.etree.XPath("/*" + "/*" * MAX_DEPTH + "[*]")
_TEXT_NODES = lxml.etree.XPath("//text()")
# Elements of a table that hold cells, not text; and the cells.
TABLE_PARTS = {"table", "thead", "tbody", "tfoot", "tr", "colgroup"}
TABLE_CELLS = {"td", "th", "caption"}


def _html_class_lookup() -> lxml.etree.ElementNamespaceClassLookup:
    """The element classes lxml.html's own lookup gives (``HtmlElement``, ``FormElement`` for ``<form>``, …),
    chosen in C: lxml.html's lookup is a Python method called for every element object made, 5 % of generic
    extraction's time (cProfile, 2026-11-29). The parser lowercases tag names, so a match by name is the same."""
    fallback = lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
    lookup = lxml.etree.ElementNamespaceClassLookup(fallback)
    names = lookup.get_namespace(None)
    for name, element_class in lxml.html.HtmlElementClassLookup._default_element_classes.items():
        names[name] = element_class
    return lookup


_HTML_CLASSES = _html_class_lookup()


@dataclass(frozen=True)
class ParsedPage:
    """The page's tree (``<html>``), and what the parser could not read (``None``: it read the whole page)."""

    root: lxml.html.HtmlElement
    unread: Dropped | None = None
    # Elements nested deeper than MAX_DEPTH whose children now follow them as siblings (see _flatten).
    emptied: frozenset[lxml.html.HtmlElement] = frozenset()

    def unread_reason(self) -> str | None:
        """What the parser left out, in one sentence (None: it read the whole page): the words it never read,
        which may hold what the caller looks for (the document's text, a home page's footer link)."""
        if self.unread is None:
            return None
        return (
            f"the page nests elements more than {PARSER_MAX_DEPTH:,} levels deep and the HTML parser stopped"
            f" there, leaving {self.unread.words:,} words unread ({self.unread.sample})"
        )


def parse_html(text: str) -> ParsedPage:
    """The tree of a page's decoded text, at most ``MAX_DEPTH`` levels deep; refused ``empty`` when lxml reads
    no document at all."""
    text = XML_DECLARATION.sub("", text)  # lxml refuses a str that declares an encoding
    parser = lxml.html.HTMLParser(huge_tree=True)
    parser.set_element_class_lookup(_HTML_CLASSES)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError) as error:
        raise ExtractionRefused("empty", f"not parseable as HTML: {error}") from error
    unread = _unread(text, root) if _stopped_early(parser) else None
    return ParsedPage(root, unread, _flatten_deep(root))


def _stopped_early(parser: lxml.html.HTMLParser) -> bool:
    """The parser stopped at its depth limit (libxml2 logs one fatal resource-limit error and halts)."""
    return any(entry.type == lxml.etree.ErrorTypes.ERR_RESOURCE_LIMIT for entry in parser.error_log)


def _unread(text: str, root: lxml.html.HtmlElement) -> Dropped:
    """The words of the source the parser did not read: the source's words past as many as the tree holds (the
    tree is what came before the parser stopped). Counted on the source with its tags taken out, one word at a
    time (a 20 MB page is not split into a list), so an entity or a tag inside a word may move it by a word."""
    read = sum(len(node.split()) for node in _TEXT_NODES(root))  # apart, as tags part the source's words
    words = _WORD.finditer(_MARKUP.sub(" ", text))
    collections.deque(itertools.islice(words, read), maxlen=0)
    first = [word.group() for word in itertools.islice(words, SAMPLE_WORDS + 1)]
    count = len(first) + sum(1 for _ in words)
    return Dropped(TOO_DEEP, max(count, 1), sample(" ".join(first)) or "(markup only)")


def _flatten_deep(root: lxml.html.HtmlElement) -> frozenset[lxml.html.HtmlElement]:
    """Every element with ``MAX_DEPTH`` ancestors gets its descendants as flat children, text in order. In a
    table, the nearest cell (or the element around the table) does: text directly in a ``<tr>`` is no cell's.
    Returns the descendants that had children (they hold only their own text now)."""
    holders: dict[lxml.html.HtmlElement, None] = {}
    for element in _DEEPEST_PARENTS(root):
        while element.tag in TABLE_PARTS and element.getparent() is not None:
            element = element.getparent()
        holders[element] = None
    return frozenset(emptied for element in holders for emptied in _flatten(element))


def _flatten(element: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """``element``'s descendants, in document order, become its children: each keeps its own text, and the
    text after a descendant's end (its tail) follows the last node before that end."""
    order: list[lxml.html.HtmlElement] = []
    tails: dict[lxml.html.HtmlElement, str] = {}
    for event, node in lxml.etree.iterwalk(element, events=("start", "end", "comment", "pi")):
        if node is element:
            continue
        if event != "end":
            order.append(node)
            tails[node] = ""
        if event != "start" and node.tail:
            tails[order[-1]] += node.tail
    emptied = [node for node in order if len(node)]
    for node in reversed((element, *order)):  # the deepest first: each node moved holds no subtree (lxml walks it)
        for child in list(node):
            node.remove(child)
    for node in order:
        node.tail = tails[node] or None
        if node.tag in TABLE_PARTS or node.tag in TABLE_CELLS:  # a flat table part is no table: a block
            node.tag = "div"
    element.extend(order)
    return emptied


def post_order(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Elements under ``root`` (itself included), each after all of its descendants: for walks from the leaves
    up that need no recursion."""
    elements = list(root.iter(lxml.etree.Element))  # elements only, no comments: filtered in C
    elements.reverse()
    return elements
