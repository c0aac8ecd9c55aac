"""Raw capture bytes → title, normalised Markdown body and stated date.

Pipeline for HTML: decode (``extraction.decode``) → parse with lxml (``extraction.parse``) → refuse error pages
(``extraction.refusals``) → locate the document (``extraction.locate``: drop scripts, hidden and interactive
elements, the declared ``remove`` selectors and cookie notices; keep the declared ``select`` elements, or, with no
selectors, locate the content block and drop page furniture) → render Markdown (``extraction.markdown``) →
``normalize_markdown``. PDF: ``extraction.pdf`` reads headings, paragraphs and lists into the same kind of tree,
which then goes through the same choice of document (``locate.document_in``) and rendering.

Why our own content location and rendering instead of trafilatura's (measured 2026-11 with
``python -m benchmarks.extraction``, trafilatura 2.3.1): trafilatura drops section headings that contain
anchor links (GitHub, Bumble, Grindr) and, on table layouts, keeps navigation columns, in-cell cookie
notices and footers (legacy generic mean 0.855, 20 leaked furniture sentences, against 0.9999 and none
here). trafilatura is only the benchmark's reference (``benchmarks/extraction.py``, the ``benchmark`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from importlib.metadata import version

import lxml.html

from policy_archive.pipeline.extraction.controls import has_checked_rule
from policy_archive.pipeline.extraction.decode import decode_html
from policy_archive.pipeline.extraction.documents import BOLD_TAGS, HEADINGS, another_document
from policy_archive.pipeline.extraction.dropped import OTHER_DOCUMENT, TOO_DEEP
from policy_archive.pipeline.extraction.locate import content_root, document_in
from policy_archive.pipeline.extraction.markdown import MarkdownRenderer, plain_text_markdown
from policy_archive.pipeline.extraction.normalize import normalize_characters, normalize_markdown
from policy_archive.pipeline.extraction.parse import ParsedPage, parse_html
from policy_archive.pipeline.extraction.pdf import PdfText, read_pdf
from policy_archive.pipeline.extraction.refusals import ExtractionRefused, checked, refuse_error_pages
from policy_archive.pipeline.extraction.stated_date import stated_date
from policy_archive.records import Dropped, ExtractedDocument, ExtractionRules
from policy_archive.text import one_line

# Bump whenever a change in extraction (any module of this package) alters output for the same bytes: the
# "Extractor:" commit trailer then shows which versions come from an older extractor, so ``reextract`` knows
# what to redo. The trailer names the
# libraries that actually shape the text (lxml parses HTML, pypdf reads PDFs), not trafilatura.
# 3: a leading heading that repeats the title is dropped (the file starts with it); 4: a document of several
# stops where its part of the page ends, hubs and unheaded sections refused, "(c)" list items kept; 5: page text
# that reads as HTML or an autolink in Markdown ("<script>", "<https://…>") has its "<" escaped, and is no
# longer turned into a link; 6: every other page text that reads as Markdown (links, emphasis, code, entities,
# line-start blocks, rules, hard breaks) escaped where it would (decision 0016), code spans keep their text; 7:
# pages nested deeper than 255 levels read whole (to 2,048 levels; flattened past 255, ``extraction.parse``),
# and the content is never located inside an inline element continuing its parent's text (unclosed ``<font>``);
# 8: a page without ``<title>`` cut to one of several documents is titled by that document's heading;
# 9: a short page that is a meta refresh to another page is refused ``meta-refresh`` (``extraction.refresh``);
# 10: control characters that are not whitespace (BEL, ESC, DEL, C1) are dropped from the text and the title,
# VT/FF/FS-US/NEL become spaces in code blocks too, titles are NFC without invisible characters as the text is,
# and the zero-width joiner and non-joiner are kept (Persian words, emoji sequences); 11: numeric stated dates
# read in both orders, an ambiguous one with no order on the page is no date (``extraction.stated_date``;
# ``verify`` compares the stated date, so a version holding the old guess is another revision's, not damage);
# 12: a heading naming the current version of a document ("Current Terms of Use", "Aktuelle
# Datenschutzerklärung") names that document, so a page of policies holding it is cut to the declared type;
# 13: quotes and lists nested deeper than 10 levels rendered at 10 (text kept, indent lost), a ``<meta>`` naming
# UTF-16 on bytes without a byte-order mark read as UTF-8 (WHATWG), no benchmark or fixture page changed;
# 14: a nested list item stands at its parent item's content column (3 spaces under "1. ": normalisation had
# rounded bullets to 2 and dropped numbered items' indent, so a CommonMark reader saw sibling lists), an item
# holding only a list of the other kind is an item of its own ("- 1. item"), a list written in a list goes under
# the item before, a ``<meta>`` naming x-user-defined read as windows-1252 (WHATWG); 15: every line keeps its
# indent, and its indent after a block quote's "> ", so an item's further paragraphs, quotes and code blocks stay
# in the item and a list in a quote keeps its nesting (decision 0017), an HTTP charset naming x-user-defined read
# as the ``<meta>`` is (windows-1252); 16: a code block in a block quote, or opening a list item, keeps its lines
# as they are (they were normalised as text), a code block's blank lines and "---" lines are its text (no blank
# lines merged, no setext heading), and a fence is longer than any backtick run opening a code line (decision
# 0017, amended); and content hidden only until the reader clicks a control of the page is kept: an accordion's
# panel after a title naming none (``aria-expanded``), a panel named by Bootstrap's collapse toggle, a bare button
# titling a panel kept as a bold line (decision 0002, amendment of 2026-11-29); no benchmark or fixture page
# changed by either; 17: a pure-CSS accordion's or tab's label (for a checkbox or radio button) titles the panel
# just after it, kept as a bold line, and that panel is kept though hidden when the label names its input beside
# it; a ``<pre>``'s lines separated by ``<br>`` or written one block per line are lines of its code block,
# ``<xmp>``, ``<listing>`` and ``<plaintext>`` are code blocks as ``<pre>`` is, and code whose lines are blocks is
# text in a heading or table cell, its lines' words apart (they ran together: "line1line2"; decision 0002,
# amendment of 2026-11-29, the second).
# 18: a PDF keeps its headings, list items and paragraphs (read from its fonts and lines,
# ``extraction.pdf``) and goes through the document selection pages do: a PDF of several documents is cut to the
# declared one or refused ``several-documents`` (it was recorded whole); no page changed (no benchmark page is a PDF).
# 19: the locator never descends into a list (its introduction beside it
# was lost) nor past a short block before the content stating a date (the title and "Last updated" line), and
# reports as ``dropped`` what it leaves beside the located content (``outside-content``, ``navigation``); text
# written directly in a list, outside any item, is rendered (a paragraph before the list, or of the item before
# it); "the 1st of June, 2020" is a stated date (decision 0002, amendment "the locator keeps a list's
# introduction").
# 20: a label is a pure-CSS accordion's or tab's switch (revision 17) only on a page whose own ``<style>`` has a
# ``:checked`` rule: elsewhere a checkbox's label and the hidden block after it (a consent box and its validation
# message) stay a control and hidden, as before revision 17; no benchmark or fixture page changed (decision 0002,
# amendment of 2026-11-29, the fifth).
# 21: furniture that leaked on real pages goes (outside audit of 2026-11-29, issue 12): a link's screen-reader-only
# notice that it opens a new window or tab ("(opens in a new window)" in a ``sr-only`` class, ChatGPT's pages),
# the small screens' copy of a block whose large screens' copy is on the page (X's summary cards, twice), a
# banner or promotion of headings and links to other pages only (X's "Jouez le jeu"); and a newsletter sign-up
# (a short box around a form asking only for an e-mail address) no longer keeps the locator from descending to the
# document beside it (Withings' policies recorded their legal link list and two sign-ups; decision 0002,
# amendment of 2026-11-29, the sixth).
# 22: known gaps on real pages (issue 12): a data table's ``<caption>`` is a paragraph just before the table (the
# renderer dropped it: Buffer's tables); a PDF table's header row and its cells (a line set beside another, a row
# of pieces over the next line's columns) are text, never headings; and a row of pure-CSS tab labels before as
# many panels titles them in order, each label a bold line before its panel, kept though hidden (decision 0002,
# amendment of 2026-11-29, the seventh).
# 23: a date spoken of as another version's ("The previous version …, effective January 1, 2015, is archived", "La
# version précédente, en vigueur depuis le …") or as the end of validity ("effective until March 1, 2016", "bis
# zum") is not the stated date (outside audit of 2026-11-29); no benchmark or fixture page changed (decision 0002,
# amendment of 2026-11-29, the eighth).
# 24: the page's one ``<main>`` landmark holding at least half its text bounds the document (the locator descends
# to it past anything beside it but a dated header or an ``<h1>``), and a call to action beside the content (a
# heading below ``<h1>`` over a pitch and a link to another page or a button, at most 40 words) no longer keeps
# the locator above the content's block: promotions after a policy were recorded as its last section; and a
# paragraph that is only a short bold line names a document as a heading does, so a page of documents headed so
# is cut to the declared one or refused (it was recorded whole); Maiia's, Vivoptim's and npm's pages lost
# furniture (decision 0002, amendment of 2026-11-29, the ninth).
# 25: a legal word met once, in passing, in a text of 100 words or more, and in neither its title nor a heading, is
# no legal document (``not-a-legal-document``): an EPA signpost page offering an "index of terms and topics", at
# the end of a real archived redirect chain, was recorded as a privacy policy; German community guidelines
# ("Gemeinschaftsrichtlinien") are a legal word (decision 0002, amendment of 2026-11-29, the tenth).
# 26: a page that is only another known document than the declared type (its title or ``<h1>`` names another, no
# heading or title names the declared one) is refused ``not-the-document`` (``documents.another_document``): a
# privacy policy was recorded as the terms (outside audit B, 2026-11-29); no benchmark case changed (decision 0002,
# amendment of 2026-11-29, the eleventh).
EXTRACTOR_REVISION = 26
EXTRACTOR = f"policy-archive-extract {EXTRACTOR_REVISION} (lxml {version('lxml')}, pypdf {version('pypdf')})"


def extractor_label(rules: ExtractionRules) -> str:
    """The ``Extractor:`` trailer of a version extracted with ``rules``: this extractor, and which rules it had
    (``policy-archive-extract 4 (lxml 6.1.3, pypdf 7.1.0); rules 64f294690d8c``)."""
    return f"{EXTRACTOR}; rules {rules.fingerprint}"


# What generic extraction looks for on a page holding several documents when nobody says (``extract``).
DEFAULT_DOCUMENT_TYPE = "privacy-policy"
# The refusal of a page that is only another known document than the declared one (``documents.another_document``).
NOT_THE_DOCUMENT = "not-the-document"


def extract(
    body: bytes,
    url: str,
    rules: ExtractionRules,
    content_type: str | None = None,
    *,
    captured: date | None = None,
    document_type: str | None = None,
) -> ExtractedDocument:
    """Extract the document of one capture; raises ``ExtractionRefused`` when there is none.

    ``document_type`` (``privacy-policy``, ``terms-of-service``, …) picks the document when a page holds several
    and no ``select`` is declared, and refuses ``not-the-document`` a page that is only another known document;
    None: nobody said (``extract`` without ``--type``), :data:`DEFAULT_DOCUMENT_TYPE` picks among several and no
    page is refused for being another. ``captured`` (the capture's day) only settles ambiguous numeric stated dates.
    """
    said = document_type is not None
    document_type = document_type or DEFAULT_DOCUMENT_TYPE
    media_type = (content_type or "").split(";")[0].strip().lower()
    if body.lstrip()[:5] == b"%PDF-" or media_type == "application/pdf":
        return _dated(_extract_pdf(read_pdf(body), url, document_type, said), None, captured)
    if media_type and media_type not in HTML_TYPES and not media_type.startswith("text/"):
        raise ExtractionRefused("unsupported-type", f"content type {media_type} is neither HTML nor PDF")
    if not body.strip():
        raise ExtractionRefused("empty", "the capture has no content")
    text = decode_html(body, content_type)
    if media_type == "text/plain":
        return _dated(ExtractedDocument("Untitled", normalize_markdown(plain_text_markdown(text))), None, captured)
    parsed = parse_html(text)
    try:
        return _extract_html(parsed, url, rules, document_type, said, captured)
    except ExtractionRefused as refusal:
        if parsed.unread is None:
            raise
        # The refusal was decided on part of the page: that part is not the reason to give.
        raise ExtractionRefused(TOO_DEEP, f"{parsed.unread_reason()}; on the part it read: {refusal}") from refusal


def _extract_html(
    parsed: ParsedPage, url: str, rules: ExtractionRules, document_type: str, said: bool, captured: date | None
) -> ExtractedDocument:
    page = parsed.root
    titled = bool(_title_text(page))  # asked now: locating the content drops the page's <head>
    title = _page_title(page)
    language = page.get("lang") or page.get("xml:lang")
    checked_rule = has_checked_rule(page)  # asked now: the error-page check drops the page's style sheets
    refuse_error_pages(page, title, url)
    content, dropped = content_root(parsed, rules, document_type, title, checked_rule=checked_rule)
    if said and not rules.select:  # a declared selection is the declaration's word on what the document is
        _refuse_another_document(content, document_type, title, dropped)
    if not titled and any(record.reason == OTHER_DOCUMENT for record in dropped):
        # No <title>: the page's first heading stood for it, which on a page cut to one of several documents may
        # be another document's (audit 5 #7: terms titled "Privacy Policy"). The document's own heading is, or the
        # bold line heading it (the kept part starts with it: ``documents``).
        title = _first_text(content.iter(*HEADINGS, *BOLD_TAGS)) or title
    markdown = _without_title(normalize_markdown(MarkdownRenderer(url).render(content)), title)
    return _dated(ExtractedDocument(title, markdown, dropped=dropped), language, captured)


PDF_REMEDY = "`select` does not apply to a PDF: declare the address where the site publishes that document alone"


def _extract_pdf(pdf: PdfText, url: str, document_type: str, said: bool) -> ExtractedDocument:
    """A PDF's document: its headings, paragraphs and lists (``extraction.pdf``) go through the document selection
    a page's content does, so a PDF of several legal documents is cut to the declared one or refused
    ``several-documents`` as the page would be (audit 2026-11-29, finding 5)."""
    # The page's reason, but not its remedy: `select` does not reach into a PDF.
    content, other = document_in(pdf.root, document_type, pdf.metadata_title, remedy=PDF_REMEDY)
    if said:
        _refuse_another_document(content, document_type, pdf.metadata_title, (other,) if other else ())
    # No metadata title: the (kept) document's first heading, else its first words, as a page without <title>.
    title = (
        pdf.metadata_title
        or _first_text(content.iter(*HEADINGS))
        or one_line(normalize_characters(content.text_content()[:200]))
        or "Untitled"
    )
    markdown = _without_title(normalize_markdown(MarkdownRenderer(url).render(content)), title)
    return ExtractedDocument(title, markdown, dropped=(other,) if other else ())


def _refuse_another_document(
    content: lxml.html.HtmlElement, document_type: str, title: str, dropped: Iterable[Dropped]
) -> None:
    """Refuse ``not-the-document`` a page (or PDF) that is only another known document than ``document_type``
    (``documents.another_document``); never one cut to that type out of several."""
    if any(record.reason == OTHER_DOCUMENT for record in dropped):
        return
    if (why := another_document(content, document_type, title)) is not None:
        raise ExtractionRefused(NOT_THE_DOCUMENT, why)


LEADING_HEADING = re.compile(r"^#{1,6} +(?P<text>[^\n]*)(?:\n+|$)")
HEADING_MARKUP = re.compile(r"\\(?=[!-/:-@\[-`{-~])|[*_]+|\[|\]\([^)]*\)")


def _without_title(markdown: str, title: str) -> str:
    """The body without its first line when that is a heading saying the title again: the version file starts
    with ``# title``, so a page whose ``<h1>`` repeats its ``<title>`` (or gave the title) shows it once."""
    match = LEADING_HEADING.match(markdown)
    if match is None or _plain(match["text"]) != _plain(title):
        return markdown
    return markdown[match.end() :]


def _plain(text: str) -> str:
    """A heading's or title's words without Markdown markup, case or spacing, to compare them."""
    return " ".join(HEADING_MARKUP.sub("", text).casefold().split())


def _dated(document: ExtractedDocument, language: str | None, captured: date | None) -> ExtractedDocument:
    """The checked document with the date its text states for itself."""
    document = checked(document)
    return replace(document, stated_date=stated_date(document.body, language, captured))


HTML_TYPES = {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/octet-stream"}


def _page_title(page: lxml.html.HtmlElement) -> str:
    """The page's ``<title>``, else its first ``<h1>`` or ``<h2>``, else ``Untitled``."""
    return _title_text(page) or _first_text(page.xpath("//h1 | //h2")) or "Untitled"


def _title_text(page: lxml.html.HtmlElement) -> str:
    return _first_text(page.xpath("//title"))


def _first_text(elements: Iterable[lxml.html.HtmlElement]) -> str:
    """The first of ``elements`` with text, on one line; ``""`` when none has any. Its characters are settled as
    the body's are (a control character dropped, not made a space), so a heading repeating it is recognised."""
    return next((text for element in elements if (text := one_line(normalize_characters(element.text_content())))), "")
