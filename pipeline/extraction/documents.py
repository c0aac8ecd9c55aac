"""Pages that hold several legal documents: keep the one of the declared type, or say the page is ambiguous.

A page holds several documents when headings of the same level (the highest level at which a heading names a
legal document) name at least two different document types ("Conditions générales de services" and "Mentions
légales"), and no heading above them names one document that they would be sections of (a privacy policy whose
sections are "Cookies" and "Terms" is one document). The document kept runs from its heading to the next such
heading, and never beyond the part of the page its heading belongs to (the largest block around it holding no
other document's heading: a tab panel, not the dialogs after it). What names a type is the heading's text as a
whole, accents aside ("MENTIONS LEGALES"), in the languages met so far (checked on the OTA benchmark pages,
2026-11): a heading that merely mentions cookies in a longer title is not a cookie policy.

Two more shapes are refused rather than recorded as the wrong text (the benchmark's several-documents pages):
- a hub: the section of the declared type links to that document on another page ("Accéder à la politique de
  confidentialité"): it is a summary, the document is elsewhere;
- a page that is another document (its title names another type) holding the declared one as a section
  without heading markup (an imprint as "1 - MENTIONS LEGALES" in bold inside terms): it cannot be cut out
  by structure. A privacy policy holding its cookie policy is the exception: that is how many sites write it.

And a page that is only another document is not the declared one (:func:`another_document`): its title or
``<h1>`` names one other known type and neither its title nor any heading names the declared type at all
(outside audit B, 2026-11-29: a privacy policy recorded as the terms; an old terms URL redirected to the privacy
page). "Terms and Privacy", "Legal", "Privacy & Terms" name no document as a whole, so they refuse nothing.
"""

from __future__ import annotations

import re
import unicodedata
from copy import deepcopy
from dataclasses import dataclass

import lxml.html

HEADINGS = ("h1", "h2", "h3", "h4")
# Optional numbering and articles before a document name, trailing words after it ("… de LinkedIn", "(CGU)").
# "Current" too: a page of policies titles the one in force "Current Terms of Use" beside its "Archived Terms of
# Use" (a list of links to past versions, no document of its own) and its "Privacy Policy" (OTA unseen set,
# 2026-11-28: the whole page was recorded as either document).
PREFIX = (
    r"^\W*(?:(?:article|section|chapitre|partie|teil)\s+)?(?:[0-9ivx]+\s*[-.):–]\s*)?"
    r"(?:(?:our|notre|nos|unsere|la|le|les|the)\s+)?(?:(?:current|aktuelle)\s+)?"
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
MAX_HEADING_CHARS = 90
# A paragraph that is only a short bold line ("<p><strong>PRIVACY POLICY</strong></p>", "<p><b>TERMS OF
# SERVICE</b></p>") is how older pages head each document of a family (the project's seed policies head their
# sections so): it names a document as a heading does, one level below every heading (``BOLD_LINE_LEVEL``), so a
# real heading naming a document outranks it and one above it makes it a section (audit of 2026-11-29: a privacy
# policy and terms under such lines were recorded whole as either, the terms with the policy's stated date).
BOLD_TAGS = ("b", "strong")
BOLD_LINE_HOLDERS = {"p", "div"}
BOLD_LINE_LEVEL = 7
INLINE_WRAPPERS = {"b", "strong", "u", "span", "font", "em", "i"}
BLOCK_PARTS = {"p", "div", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "br"}
# A numbered section's heading: "2. ACCES AU SITE", "VIII. …", "ARTICLE 3 – …", "1.2) …".
SECTION_NUMBER = re.compile(
    r"^\W*(?:(?:article|section|chapitre|partie|teil)\s+)?(?:\d+(?:\.\d+)*|[ivx]+)\s*[-.):–]", re.IGNORECASE
)
# A page's title names its document with the site's name around it: "Privacy Policy - JDate".
TITLE_SEPARATOR = re.compile(r"\s+[|–—-]\s+|\s*[|:]\s*")
# Documents commonly written as a section of another one (OTA records the whole privacy page as the trackers
# policy of Christian Mingle, JDate and Parship): such a section is not a second document.
PARTS = {"privacy-policy": {"cookie-policy"}}


@dataclass(frozen=True)
class DocumentHeading:
    """A heading that names a legal document as a whole: its element, its level (1 to 4, from ``h1``–``h4``; a bold
    line's ``BOLD_LINE_LEVEL``) and the document type it names (a key of :data:`NAMES`)."""

    element: lxml.html.HtmlElement
    level: int
    kind: str


def _plain(text: str) -> str:
    """Without accents: uppercase French often drops them ("MENTIONS LEGALES", "CONDITIONS GENERALES")."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


TYPE_PATTERNS = {
    kind: re.compile(f"{PREFIX}(?:{_plain(names)}){SUFFIX}", re.IGNORECASE) for kind, names in NAMES.items()
}


class SeveralDocuments(Exception):
    """The page holds several legal documents and none (or more than one) is of the declared type; ``detail``
    says why the page cannot give that document when it is not simply missing."""

    def __init__(self, kinds: list[str], detail: str | None = None) -> None:
        super().__init__(", ".join(kinds))
        self.kinds = kinds
        self.detail = detail


def document_kind(heading_text: str) -> str | None:
    """The legal document type a heading names as a whole ("2. Notre politique de gestion des cookies")."""
    text = " ".join(heading_text.split())
    if not text or len(text) > MAX_HEADING_CHARS:
        return None
    text = _plain(text)
    for kind, pattern in TYPE_PATTERNS.items():
        if pattern.match(text):
            return kind
    return None


def document_of_type(
    root: lxml.html.HtmlElement, document_type: str, title: str = ""
) -> tuple[lxml.html.HtmlElement, list[str]]:
    """``root`` itself when it holds one document; else a new element holding the document of the type, and
    the headings of the other documents (what was left out). ``title``: the page's ``<title>``."""
    headings = _document_headings(root)
    kinds = list(dict.fromkeys(heading.kind for heading in headings))
    if len(kinds) < 2:
        _refuse_untitled_section(root, document_type, title)
        return root, []
    chosen = [index for index, heading in enumerate(headings) if heading.kind == document_type]
    if len(chosen) != 1:
        raise SeveralDocuments(kinds)
    start = headings[chosen[0]].element
    end = headings[chosen[0] + 1].element if chosen[0] + 1 < len(headings) else None
    region = _region(root, start, {heading.element for heading in headings} - {start})
    document = _between(root, start, end, region)
    if elsewhere := _link_to_own_type(document, document_type):
        raise SeveralDocuments(
            kinds,
            f"the page summarises several legal documents ({', '.join(kinds)}) and links to the {document_type}"
            f" elsewhere ({elsewhere}); declare that page, or `select` for this one",
        )
    others = [" ".join(h.element.text_content().split()) for i, h in enumerate(headings) if i != chosen[0]]
    return document, others


def _region(
    root: lxml.html.HtmlElement, start: lxml.html.HtmlElement, others: set[lxml.html.HtmlElement]
) -> lxml.html.HtmlElement:
    """The largest block around ``start`` (within ``root``) holding no other document's heading; at least the
    block around it that holds more than the heading's own text."""
    region = start
    holding_others = {ancestor for heading in others for ancestor in heading.iterancestors()}
    for ancestor in start.iterancestors():
        if ancestor in holding_others:
            break
        region = ancestor
        if ancestor is root:
            break
    heading_text = " ".join(start.text_content().split())
    while region is not root and " ".join(region.text_content().split()) == heading_text:
        parent = region.getparent()
        if parent is None:
            break
        region = parent
    return region


def _link_to_own_type(document: lxml.html.HtmlElement, document_type: str) -> str | None:
    """The target of a link to another page named as a document of ``document_type`` (a summary's "read the
    privacy policy"), or None."""
    for link in document.iter("a"):
        href = (link.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:")) and document_kind(link.text_content()) == document_type:
            return href
    return None


def _refuse_untitled_section(root: lxml.html.HtmlElement, document_type: str, title: str) -> None:
    """A page whose title names another document type, holding the declared type as a section without heading
    markup: refused (recording the whole other document would be wrong, and there is no heading to cut at)."""
    page_kinds = {document_kind(part) for part in TITLE_SEPARATOR.split(title)} - {None}
    page_kinds |= {document_kind(h1.text_content()) for h1 in root.iter("h1")} - {None}
    if len(page_kinds) != 1 or document_type in page_kinds:
        return
    (page_kind,) = page_kinds
    if document_type not in TYPE_PATTERNS or document_type in PARTS.get(page_kind, ()):
        return
    for text in root.xpath(".//text()[not(ancestor::a)]"):
        if 4 < len(text) < 2 * MAX_HEADING_CHARS and document_kind(text) == document_type:
            raise SeveralDocuments(
                [page_kind, document_type],
                f"the page is a {page_kind} holding the {document_type} as one of its sections"
                f" ({' '.join(text.split())!r}); declare `select` for this document",
            )


NAMED_ANYWHERE = {kind: re.compile(_plain(names), re.IGNORECASE) for kind, names in NAMES.items()}
# A word of the type in a page's title or <h1> is enough to say the page may be it: a site's "Privacy & Terms" or
# "Terms and Privacy" page names no document as a whole, and may well hold the terms.
TYPE_WORDS = {
    "privacy-policy": r"\bprivacy|datenschutz|confidentialit|privacidad|donnees personnelles",
    "terms-of-service": r"\bterms\b|conditions|\bcgu\b|\bagb\b|nutzungsbedingungen|terminos|condiciones",
    "cookie-policy": r"cookie|trackers?\b",
}
ALL_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A page's title or <h1> may put the site's name first: "Acme Privacy Policy", "SHOP.TEST PRIVACY POLICY".
OWNED_NAME = {
    kind: re.compile(rf"^[^!?:|]{{0,40}}?\b(?:{_plain(names)})\W*$", re.IGNORECASE) for kind, names in NAMES.items()
}


def _page_kind(text: str) -> str | None:
    """The type a title's part or an ``<h1>`` names as a whole (:func:`document_kind`), or after a short owner's
    name ("Acme Privacy Policy")."""
    if kind := document_kind(text):
        return kind
    plain = _plain(" ".join(text.split()))
    if len(plain) > MAX_HEADING_CHARS:
        return None
    return next((kind for kind, pattern in OWNED_NAME.items() if pattern.match(plain)), None)


def another_document(root: lxml.html.HtmlElement, document_type: str, title: str) -> str | None:
    """Why ``root`` (a page's content, ``title`` its ``<title>``) is another document than ``document_type``, or
    None. It is when the title's parts and the ``<h1>``s name exactly one known type, another (a whole name, as
    :func:`document_kind` reads it, or after a short owner's name), the declared type is known (:data:`NAMES`)
    and not commonly a part of that one (:data:`PARTS`), no heading nor the title names the declared type
    anywhere in its text ("Privacy Policy and Terms of Service" names the terms too), and no word of it is in the
    title or an ``<h1>`` (:data:`TYPE_WORDS`: "Privacy & Terms")."""
    if document_type not in NAMES:
        return None
    named = {part: _page_kind(part) for part in TITLE_SEPARATOR.split(title)}
    named |= {h1.text_content(): _page_kind(h1.text_content()) for h1 in root.iter("h1")}
    kinds = set(named.values()) - {None}
    if len(kinds) != 1 or document_type in kinds or document_type in PARTS.get(next(iter(kinds)), ()):
        return None
    wanted = NAMED_ANYWHERE[document_type]
    if any(wanted.search(_plain(text)) for text in (title, *(h.text_content() for h in root.iter(*ALL_HEADINGS)))):
        return None
    words = TYPE_WORDS.get(document_type)
    if words and any(re.search(words, _plain(text), re.IGNORECASE) for text in named):
        return None
    (kind,) = kinds
    evidence = " ".join(next(text for text, named_kind in named.items() if named_kind == kind).split())
    return (
        f"the page is a {kind} ({evidence!r}) and no heading names a {document_type}; declare the address where"
        f" the site publishes the {document_type}"
    )


def _document_headings(root: lxml.html.HtmlElement) -> list[DocumentHeading]:
    """Headings naming a document, at the highest level where one does, unless one above holds them all."""
    outline = []
    order = {element: index for index, element in enumerate(root.iter())}
    lines = _bold_lines(root)
    for element in sorted((*root.iter(*HEADINGS), *lines), key=order.__getitem__):
        text = element.text_content()
        level = BOLD_LINE_LEVEL if element in lines else int(element.tag[1])
        outline.append((element, level, document_kind(text), bool(SECTION_NUMBER.match(text))))
    # A heading naming a document that is one number of a sequence whose other numbers name none is a section
    # ("1. MENTIONS LEGALES", "2. ACCES AU SITE" of terms; "VIII. Politique de confidentialité des utilisateurs
    # patients" among "I." to "XI." of a privacy policy).
    numbered_levels = {level for _, level, kind, numbered in outline if numbered and not kind}
    named = [
        DocumentHeading(element, level, kind)
        for element, level, kind, numbered in outline
        if kind and not (numbered and level in numbered_levels)
    ]
    if not named:
        return []
    top = min(heading.level for heading in named)
    candidates = [heading for heading in named if heading.level == top]
    first = order[candidates[0].element]
    # A single document-naming heading above the candidates (the page's own title) makes them its sections.
    above = [kind for element, level, kind, _ in outline if level < top and kind and order[element] < first]
    if len(above) == 1:
        return []
    return candidates


def _bold_lines(root: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """Paragraphs (``<p>``, a ``<div>`` without blocks) whose whole text, at most ``MAX_HEADING_CHARS``, is one
    ``<b>``/``<strong>`` (underlined or in a ``<span>`` inside it, or it inside them) and holds no link: bold
    lines standing as headings (see ``BOLD_LINE_LEVEL``)."""
    lines = set()
    for bold in root.iter(*BOLD_TAGS):
        holder = bold.getparent()
        while holder is not None and holder.tag in INLINE_WRAPPERS and len(holder) == 1:
            holder = holder.getparent()
        if holder is None or holder.tag not in BOLD_LINE_HOLDERS or holder in lines or len(holder) != 1:
            continue
        text = " ".join(bold.text_content().split())
        if not text or len(text) > MAX_HEADING_CHARS or " ".join(holder.text_content().split()) != text:
            continue
        if any(part.tag == "a" or part.tag in BLOCK_PARTS for part in holder.iterdescendants()):
            continue
        lines.add(holder)
    return lines


def _between(
    root: lxml.html.HtmlElement,
    start: lxml.html.HtmlElement,
    end: lxml.html.HtmlElement | None,
    region: lxml.html.HtmlElement,
) -> lxml.html.HtmlElement:
    """A new ``<div>`` with copies of the largest subtrees lying from ``start`` up to (not including) ``end``,
    inside ``region``."""
    order = {element: index for index, element in enumerate(root.iter())}
    first = order[start]
    stop = min(order[end] if end is not None else len(order), _last_index(region, order) + 1)
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
