"""Pages that hold several legal documents: keep the one of the declared type, or say the page is ambiguous.

A page holds several documents when headings of the same level (the highest level at which a heading names a
legal document) name at least two different document types ("Conditions générales de services" and "Mentions
légales"), and no heading above them names one document that they would be sections of (a privacy policy whose
sections are "Cookies" and "Terms" is one document). The document kept runs from its heading to the next such
heading. What names a type is the heading's text as a whole, in the languages met so far (checked on the OTA
benchmark pages, 2026-11): a heading that merely mentions cookies in a longer title is not a cookie policy.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass

import lxml.html

HEADINGS = ("h1", "h2", "h3", "h4")
# Optional numbering and articles before a document name, trailing words after it ("… de LinkedIn", "(CGU)").
PREFIX = (
    r"^\W*(?:(?:article|section|chapitre|partie|teil)\s+)?(?:[0-9ivx]+\s*[-.):–]\s*)?"
    r"(?:(?:our|notre|nos|unsere|la|le|les|the)\s+)?"
)
SUFFIX = r"(?:\s+(?:of|de|du|des|d['’]|von|der|for|pour|et|and|&)\s+[^.!?]{0,60})?\W*$"
# Full names only: a bare "Cookies", "Terms" or "Données personnelles" is as often a section of one document.
NAMES: dict[str, str] = {
    "privacy-policy": (
        r"privacy\s+(?:policy|notice|statement)|data\s+protection\s+(?:policy|notice)"
        r"|politique\s+de\s+(?:confidentialité|protection\s+des\s+données(?:\s+personnelles)?)"
        r"|(?:charte|déclaration)\s+de\s+confidentialité"
        r"|datenschutz(?:erklärung|hinweise|richtlinie|bestimmungen)"
        r"|política\s+de\s+privacidad|informativa\s+(?:sulla\s+)?privacy|privacybeleid|privacyverklaring"
    ),
    "terms-of-service": (
        r"terms\s+(?:of\s+(?:service|use)|and\s+conditions|&\s+conditions)|conditions\s+of\s+use"
        r"|user\s+agreement|general\s+terms(?:\s+and\s+conditions)?"
        r"|conditions\s+générales(?:\s+(?:d['’]\s*utilisation|de\s+(?:vente|services?|prestations?(?:\s+de\s+services?)?)))?"
        r"|nutzungsbedingungen|allgemeine\s+geschäftsbedingungen"
        r"|términos\s+y\s+condiciones|condizioni\s+(?:generali|d['’]uso)|gebruiksvoorwaarden"
    ),
    "cookie-policy": (
        r"cookies?\s+(?:policy|notice|statement)|politique\s+(?:de\s+gestion\s+des\s+|relative\s+aux\s+)?cookies?"
        r"|cookie-richtlinie|trackers?\s+policy"
    ),
    "imprint": r"imprint|impressum|legal\s+notice|mentions\s+légales|aviso\s+legal",
    "acceptable-use-policy": r"acceptable\s+use\s+policy|usage\s+policy",
    "community-guidelines": r"community\s+(?:guidelines|standards)|standards\s+de\s+la\s+communauté",
}
TYPE_PATTERNS = {kind: re.compile(f"{PREFIX}(?:{names}){SUFFIX}", re.IGNORECASE) for kind, names in NAMES.items()}
MAX_HEADING_CHARS = 90


@dataclass(frozen=True)
class DocumentHeading:
    element: lxml.html.HtmlElement
    level: int
    kind: str


class SeveralDocuments(Exception):
    """The page holds several legal documents and none (or more than one) is of the declared type."""

    def __init__(self, kinds: list[str]) -> None:
        super().__init__(", ".join(kinds))
        self.kinds = kinds


def document_kind(heading_text: str) -> str | None:
    """The legal document type a heading names as a whole ("2. Notre politique de gestion des cookies")."""
    text = " ".join(heading_text.split())
    if not text or len(text) > MAX_HEADING_CHARS:
        return None
    for kind, pattern in TYPE_PATTERNS.items():
        if pattern.match(text):
            return kind
    return None


def document_of_type(root: lxml.html.HtmlElement, document_type: str | None) -> lxml.html.HtmlElement:
    """``root`` itself when it holds one document; else a new element holding the document of the type."""
    headings = _document_headings(root)
    kinds = list(dict.fromkeys(heading.kind for heading in headings))
    if len(kinds) < 2:
        return root
    chosen = [index for index, heading in enumerate(headings) if heading.kind == document_type]
    if len(chosen) != 1:
        raise SeveralDocuments(kinds)
    start = headings[chosen[0]].element
    end = headings[chosen[0] + 1].element if chosen[0] + 1 < len(headings) else None
    return _between(root, start, end)


def _document_headings(root: lxml.html.HtmlElement) -> list[DocumentHeading]:
    """Headings naming a document, at the highest level where one does, unless one above holds them all."""
    named = []
    outline = []
    order = {element: index for index, element in enumerate(root.iter())}
    for element in root.iter(*HEADINGS):
        level = int(element.tag[1])
        kind = document_kind(element.text_content())
        outline.append((element, level, kind))
        if kind:
            named.append(DocumentHeading(element, level, kind))
    if not named:
        return []
    top = min(heading.level for heading in named)
    candidates = [heading for heading in named if heading.level == top]
    first = order[candidates[0].element]
    # A single document-naming heading above the candidates (the page's own title) makes them its sections.
    above = [kind for element, level, kind in outline if level < top and kind and order[element] < first]
    if len(above) == 1:
        return []
    return candidates


def _between(
    root: lxml.html.HtmlElement, start: lxml.html.HtmlElement, end: lxml.html.HtmlElement | None
) -> lxml.html.HtmlElement:
    """A new ``<div>`` with copies of the largest subtrees lying from ``start`` up to (not including) ``end``."""
    order = {element: index for index, element in enumerate(root.iter())}
    first = order[start]
    stop = order[end] if end is not None else len(order)
    container = lxml.html.Element("div")
    for element in root.iter():
        index = order[element]
        if index < first or index >= stop:
            continue
        last = _last_index(element, order)
        parent = element.getparent()
        parent_inside = parent in order and first <= order[parent] and _last_index(parent, order) < stop
        if last < stop and not parent_inside:
            copy = deepcopy(element)
            copy.tail = None
            container.append(copy)
    return container


def _last_index(element: lxml.html.HtmlElement, order: dict[lxml.html.HtmlElement, int]) -> int:
    last = element
    while len(last):
        last = last[-1]
    return order[last]
