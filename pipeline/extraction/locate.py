"""Where the document is on a page: drop what is never text (scripts, hidden elements, controls, cookie
notices), then keep the declared ``select`` elements or, with none, drop page furniture (navigation, sidebars,
footers), descend to the block holding the text (``descent``) and trim link lists at its edges
(``content_edges``, which also reports what the descent left beside that block)."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
from lxml.cssselect import CSSSelector

from policy_archive.pipeline.extraction.content_edges import HEADING_TAGS, note_left_out, trim_link_edges
from policy_archive.pipeline.extraction.controls import (
    drop_controls,
    place_tab_labels,
    switch_labels,
)
from policy_archive.pipeline.extraction.descent import action_holders, locate_content, signup_boxes, text_weights
from policy_archive.pipeline.extraction.documents import SeveralDocuments, document_of_type
from policy_archive.pipeline.extraction.dropped import (
    OTHER_DOCUMENT,
    TOO_DEEP,
    DropLog,
    is_link_block,
    sample,
    word_count,
)
from policy_archive.pipeline.extraction.invisible import drop_invisible
from policy_archive.pipeline.extraction.parse import MAX_DEPTH, ParsedPage
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import Dropped, ExtractionRules

# class/id words that mark page furniture (checked on period layouts 1999–2024: "leftnav", "nav-column",
# "site-footer", "cookie-banner", "breadcrumbs", "sidebar", "masthead", "social-share", ...).
# Words that name page regions (layout): furniture whatever the element holds, unless it holds most of the page.
LAYOUT_WORDS = {
    "nav", "navbar", "navigation", "menu", "menubar", "submenu", "subnav", "leftnav", "rightnav", "topnav",
    "sidenav", "breadcrumb", "breadcrumbs", "sidebar", "footer", "foot", "masthead", "toolbar", "topbar",
    "skiplink", "sitemap", "advert", "advertisement", "ads", "cc-window", "cookiebar", "cookienotice",
    "languages", "language-switcher",
}  # fmt: skip
# Class words of a promotional block ("ct17__banner-container", "promo-card", "cta"): with headings and links to
# other pages and no text besides, it is a teaser for another page ("Prenez le contrôle de votre vie privée /
# Ajustez vos paramètres" closing X's privacy policy), not the document.
TEASER_WORDS = {"banner", "promo", "teaser", "cta"}
TEASER_MAX_WORDS = 40
# Words that name widgets but also name sections of a policy ("share", "cookies", "consent", "related"):
# furniture only when the element is also built like a widget, i.e. mostly links (see _looks_like_furniture).
WIDGET_WORDS = {
    "share", "social", "sharing", "skip", "related", "newsletter", "signup", "login", "search", "searchbox",
    "promo", "banner", "copyright", "cookie", "cookies", "consent", "gdpr",
}  # fmt: skip
FURNITURE_TAGS = {"nav", "aside", "footer", "form"}
# How dropped furniture is named in the report of what was dropped (``pipeline.extraction.dropped``).
NAVIGATION_ROLES = {"navigation", "menu", "menubar", "tablist", "toolbar"}
NAVIGATION_WORDS = {
    "nav", "navbar", "navigation", "menu", "menubar", "submenu", "subnav", "leftnav", "rightnav", "topnav",
    "sidenav", "breadcrumb", "breadcrumbs", "sitemap", "skiplink", "skip",
}  # fmt: skip
FOOTER_WORDS = {"footer", "foot", "copyright"}
# Landmarks around the document, and widgets (a language picker is a listbox of options).
FURNITURE_ROLES = {
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "listbox",
    "menu", "menubar", "combobox", "tablist", "toolbar",
}  # fmt: skip
CLASS_WORD_SPLIT = re.compile(r"[\s_-]+")
CLASS_COMPACT = re.compile(r"(?:^|[\s_-])((?:left|right|top|side|sub|main|site|global|page)?(?:nav|menu|footer))")
ACCEPT_CONTROL = re.compile(
    r"^\W*(?:ok|okay|accept(?: all)?(?: cookies)?|i accept|agree|i agree|got it|allow(?: all)?(?: cookies)?|"
    r"close|dismiss|hide|continue|x|×|✕|akzeptieren|einverstanden|schließen|accepter|j'accepte|fermer|同意)\W*$",
    re.IGNORECASE,
)
COOKIE_MENTION = re.compile(r"cookie", re.IGNORECASE)
ACCEPT_CONTROL_TAGS = ("a", "button", "span", "b", "u")
COOKIE_NOTICE_TAGS = ("div", "section", "aside", "p", "table", "td", "span", "font", "center", "dialog")
# (contains() in each case rather than translate(): translate on every text node was most of the time spent.)
COOKIE_TEXT = lxml.etree.XPath("//text()[contains(., 'ookie') or contains(., 'OOKIE')]")
COPYRIGHT_TEXT = lxml.etree.XPath(
    "//text()[contains(., '©') or contains(., 'opyright') or contains(., 'OPYRIGHT') or contains(., '(c)') "
    "or contains(., '(C)')]"
)
COPYRIGHT_TAGS = ("p", "div", "td", "span", "font", "center", "small")
FLOATING_STYLE = re.compile(r"position\s*:\s*(?:fixed|sticky)", re.IGNORECASE)
# "(c)" is a copyright sign only before a year or the word: "(c) any user may…" is item (c) of a policy's list
# (Hily's privacy policy lost eight such items, 168 words, as the report of what was dropped showed).
COPYRIGHT_LINE = re.compile(r"^\s*(?:©|\(c\)\s*(?:\d{4}|copyright\b)|copyright\b)", re.IGNORECASE)
BLOCK_TEXT_LIMIT = 600
WHITESPACE = (" ", "\n", "\t", "\r", "\xa0")
# Furniture holding at least this share of the page's text is kept (a page that is all sidebar is still a page).
FURNITURE_PAGE_SHARE = 0.4
DIALOG_PAGE_SHARE = 0.8


def content_root(
    parsed: ParsedPage, rules: ExtractionRules, document_type: str, title: str, *, checked_rule: bool
) -> tuple[lxml.html.HtmlElement, tuple[Dropped, ...]]:
    """The element holding the document, and what was dropped from inside the content it was located in (with
    what the parser did not read of the page). ``title``: the page's title, which may name the document the page
    is (see ``documents``); ``checked_rule``: the page's style sheets have a ``:checked`` rule (see
    ``controls.has_checked_rule``, read before the style sheets were dropped)."""
    page = parsed.root
    log = DropLog()
    if parsed.unread is not None:
        log.note(parsed.unread)
    # Read before the inputs they name go with the invisible; a row of tabs' labels then stands before its panels.
    switches = place_tab_labels(page, switch_labels(page, checked_rule))
    signups = signup_boxes(page)  # likewise: read from the form's inputs
    drop_invisible(page, log, switches)
    for selector in rules.remove:
        log.drop_all(CSSSelector(selector)(page), None)  # the declaration's choice: not reported
    log.drop_all(_cookie_notices(page), "cookie-notice")
    actions = action_holders(page)  # read before the buttons go as controls (``descent``: calls to action)
    drop_controls(page, log, switches)
    if rules.select:
        selected = _selected(page, rules.select, parsed.emptied)
        return selected, log.inside(selected)
    body = page.find("body")
    if body is None:
        body = page
    _drop_furniture(body, log)
    words, prose = text_weights(body)
    root = locate_content(body, words, prose, signups, actions)
    note_left_out(body, root, words, prose, log)
    trim_link_edges(root, words, prose, log)
    document, other = document_in(root, document_type, title)
    if other is not None:
        log.note(other)
    return document, log.inside(root)


def document_in(
    root: lxml.html.HtmlElement, document_type: str, title: str, *, remedy: str | None = None
) -> tuple[lxml.html.HtmlElement, Dropped | None]:
    """The document of ``document_type`` in ``root`` (``root`` itself when it holds one document), and the record of
    the other documents left out (None when none was); refused ``several-documents`` when the page holds several
    and that one cannot be told apart, saying ``remedy`` when declaring `select` is none (a PDF). Pages and PDFs
    alike (``extraction.pdf`` gives a PDF's headings)."""
    try:
        document, others = document_of_type(root, document_type, title)
    except SeveralDocuments as several:
        summary = f"the page holds several legal documents ({', '.join(several.kinds)}) and no single {document_type}"
        if several.detail:
            detail = f"{several.detail} ({remedy})" if remedy else several.detail
        else:
            detail = f"{summary}; {remedy or 'declare `select` for this document'}"
        raise ExtractionRefused("several-documents", detail) from several
    if not others:
        return document, None
    other_words = word_count(root.text_content()) - word_count(document.text_content())
    return document, Dropped(OTHER_DOCUMENT, other_words, sample(" / ".join(others)))


def _class_words(element: lxml.html.HtmlElement) -> set[str]:
    names = f"{element.get('class', '')} {element.get('id', '')}".lower()
    if names == " ":
        return set()
    words = set(CLASS_WORD_SPLIT.split(names))
    if "nav" in names or "menu" in names or "footer" in names:
        words.update(CLASS_COMPACT.findall(names))
    return words


def _cookie_notices(page: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Cookie banners: short blocks about cookies, marked by class/id or holding an accept/close control.

    Only the innermost such block goes, so a table cell that holds a notice and a short policy survives.
    """
    blocks = _ancestors_of_text(page, COOKIE_TEXT, COOKIE_NOTICE_TAGS)
    candidates = [
        element for element in page.iter(*COOKIE_NOTICE_TAGS) if element in blocks and _is_cookie_notice(element)
    ]
    chosen = set(candidates)
    return [element for element in candidates if not any(inner in chosen for inner in element.iterdescendants())]


def _ancestors_of_text(
    page: lxml.html.HtmlElement, text_test: lxml.etree.XPath, tags: tuple[str, ...]
) -> set[lxml.html.HtmlElement]:
    """Elements of ``tags`` holding a text node that passes ``text_test``: the only ones worth a closer look
    (computing every block's whole text would be quadratic on deep pages)."""
    found: set[lxml.html.HtmlElement] = set()
    seen: set[lxml.html.HtmlElement] = set()
    for text in text_test(page):
        holder = text.getparent()
        for element in (holder, *holder.iterancestors()) if holder is not None else ():
            if element in seen:
                break
            seen.add(element)
            if element.tag in tags:
                found.add(element)
    return found


def _is_cookie_notice(element: lxml.html.HtmlElement) -> bool:
    """A short text about cookies that asks the reader to act on it (an accept/close control) or floats over
    the page (a dialog): never a policy paragraph that merely mentions cookies, whatever its class or id."""
    text = element.text_content()
    if len(text) > BLOCK_TEXT_LIMIT or not COOKIE_MENTION.search(text):
        return False
    return _is_dialog(element) or any(
        ACCEPT_CONTROL.match(" ".join(control.text_content().split())) for control in element.iter(*ACCEPT_CONTROL_TAGS)
    )


def _is_dialog(element: lxml.html.HtmlElement) -> bool:
    """Shown over the page rather than in it: a dialog, a modal, or a fixed-position box."""
    return (
        element.tag == "dialog"
        or element.get("role", "") in ("dialog", "alertdialog")
        or element.get("aria-modal") == "true"
        or bool(FLOATING_STYLE.search(element.get("style", "")))
    )


def _selected(
    page: lxml.html.HtmlElement, selectors: tuple[str, ...], emptied: frozenset[lxml.html.HtmlElement]
) -> lxml.html.HtmlElement:
    """A new ``<div>`` holding every element the selectors match, in document order, without repeats. An
    element nested so deep that its content was moved out of it (``emptied``) is refused, not taken empty."""
    matched = {element for selector in selectors for element in CSSSelector(selector)(page)}
    if not matched:
        raise ExtractionRefused("selector-matched-nothing", f"no element matches {', '.join(selectors)}")
    if not matched.isdisjoint(emptied):
        raise ExtractionRefused(
            TOO_DEEP,
            f"{', '.join(selectors)} matches an element nested more than {MAX_DEPTH} levels deep, whose content"
            " extraction flattens out of it; select an element further up",
        )
    outermost = [element for element in page.iter() if element in matched and not _has_ancestor_in(element, matched)]
    container = lxml.html.Element("div")
    for element in outermost:
        element.tail = None
        container.append(element)
    return container


def _has_ancestor_in(element: lxml.html.HtmlElement, elements: set[lxml.html.HtmlElement]) -> bool:
    return any(ancestor in elements for ancestor in element.iterancestors())


def _drop_furniture(body: lxml.html.HtmlElement, log: DropLog) -> None:
    """Navigation, sidebars, footers and copyright lines, unless the element holds most of the page."""
    page_chars = max(_text_chars(body), 1)
    pending = list(body.iterchildren(lxml.etree.Element))  # elements only (no comments), filtered in C
    while pending:
        element = pending.pop()
        if _looks_like_furniture(element) and _goes_as_furniture(element, page_chars):
            log.drop(element, _furniture_kind(element))
        else:
            pending.extend(element.iterchildren(lxml.etree.Element))
    lines = _ancestors_of_text(body, COPYRIGHT_TEXT, COPYRIGHT_TAGS)
    log.drop_all(
        (
            element
            for element in body.iter(*COPYRIGHT_TAGS)
            if element in lines and len(text := element.text_content()) < 200 and COPYRIGHT_LINE.match(text)
        ),
        "footer",
    )


def _furniture_kind(element: lxml.html.HtmlElement) -> str:
    """What a reviewer would call the furniture dropped: navigation, footer, dialog, or other furniture."""
    role = element.get("role", "")
    if element.tag == "dialog" or _is_dialog(element):
        return "dialog"
    words = _class_words(element)
    if element.tag == "nav" or role in NAVIGATION_ROLES or words & NAVIGATION_WORDS:
        return "navigation"
    if element.tag == "footer" or role == "contentinfo" or words & FOOTER_WORDS:
        return "footer"
    return "furniture"


def _goes_as_furniture(element: lxml.html.HtmlElement, page_chars: int) -> bool:
    """A document's own title (h1) or main landmark marks content, except inside a dialog: a consent modal with
    its own h1 is still a modal, and goes unless it is nearly all the page."""
    chars = _text_chars(element)
    if _is_dialog(element):
        return chars < DIALOG_PAGE_SHARE * page_chars
    return chars < FURNITURE_PAGE_SHARE * page_chars and not element.xpath(".//h1 | .//main")


def _text_chars(element: lxml.html.HtmlElement) -> int:
    """Characters of text other than whitespace (cheaper than collapsing it, and the same measure)."""
    text = element.text_content()
    return len(text) - sum(text.count(space) for space in WHITESPACE)


def _looks_like_furniture(element: lxml.html.HtmlElement) -> bool:
    """Furniture by markup (``nav``, ``footer``, ARIA roles, dialogs), by class/id words naming a layout region,
    or by class/id words naming a widget only when the element is also built like one: mostly links. A policy
    section ``<li id="share">`` or a heading ``id="cookie-consent"`` is prose, and stays."""
    tag = element.tag
    if tag in FURNITURE_TAGS or tag == "dialog" or tag == "header" and not element.xpath(".//h1"):
        return True
    attributes = element.attrib
    if not attributes:  # most elements: decided without reading anything else (speed)
        return False
    if attributes.get("role", "") in FURNITURE_ROLES or _is_dialog(element):
        return True
    if tag in HEADING_TAGS:
        return False
    words = _class_words(element)
    if words & LAYOUT_WORDS:
        return True
    return bool(words & WIDGET_WORDS) and is_link_block(element) or bool(words & TEASER_WORDS) and _is_teaser(element)


def _is_teaser(element: lxml.html.HtmlElement) -> bool:
    """Headings and links to other pages, nothing else, and short: a card promoting another page."""
    words = word_count(element.text_content())
    if not words or words > TEASER_MAX_WORDS:
        return False
    if not any(not link.get("href", "#").startswith(("#", "javascript:", "mailto:")) for link in element.iter("a")):
        return False
    titled = sum(word_count(heading.text_content()) for heading in element.iter(*HEADING_TAGS))
    linked = sum(
        word_count(link.text_content())
        for link in element.iter("a")
        if not any(ancestor.tag in HEADING_TAGS for ancestor in link.iterancestors())
    )
    return titled + linked >= words
