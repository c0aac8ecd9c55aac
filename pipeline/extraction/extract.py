"""Raw capture bytes → title, normalised Markdown body and stated date.

Pipeline for HTML: decode (``pipeline.decode``) → parse with lxml → drop
scripts, hidden and interactive elements → drop the declared ``remove`` selectors and cookie notices →
keep the declared ``select`` elements, or, with no selectors, locate the content block and drop page
furniture (navigation, sidebars, footers) → render Markdown (``pipeline.markdown``) → ``normalize_markdown``.

Why our own content location and rendering instead of trafilatura's (measured 2026-11 with
``python -m benchmarks.extraction``, trafilatura 2.3.1): trafilatura drops section headings that contain
anchor links (GitHub, Bumble, Grindr) and, on table layouts, keeps navigation columns, in-cell cookie
notices and footers (legacy generic mean 0.855, 20 leaked furniture sentences, against 0.9999 and none
here). trafilatura is only the benchmark's reference (``benchmarks/extraction.py``, the ``benchmark`` extra).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from importlib.metadata import version

import lxml.etree
import lxml.html
from lxml.cssselect import CSSSelector
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from policy_archive.errors import PolicyArchiveError
from policy_archive.pipeline.extraction.decode import decode_html
from policy_archive.pipeline.extraction.markdown import MarkdownRenderer, escape_line_start, plain_text_markdown
from policy_archive.pipeline.extraction.normalize import normalize_markdown
from policy_archive.pipeline.extraction.stated_date import stated_date
from policy_archive.records import ExtractedDocument, ExtractionRules

# Bump whenever a change here alters output for the same bytes: the "Extractor:" commit trailer then shows
# which versions come from an older extractor, so ``reextract`` knows what to redo. The trailer names the
# libraries that actually shape the text (lxml parses HTML, pypdf reads PDFs), not trafilatura.
EXTRACTOR_REVISION = 1
EXTRACTOR = f"policy-archive-extract {EXTRACTOR_REVISION} (lxml {version('lxml')}, pypdf {version('pypdf')})"


class ExtractionRefused(PolicyArchiveError):
    """The capture holds no document text that may become a version; ``reason`` is a short machine code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def extract(
    body: bytes,
    url: str,
    rules: ExtractionRules,
    content_type: str | None = None,
    *,
    captured: date | None = None,
) -> ExtractedDocument:
    """Extract the document of one capture; raises ``ExtractionRefused`` when there is none.

    ``captured`` (the capture's day) only settles ambiguous numeric stated dates (3/11/2025).
    """
    media_type = (content_type or "").split(";")[0].strip().lower()
    if body.lstrip()[:5] == b"%PDF-" or media_type == "application/pdf":
        return _dated(_extract_pdf(body), None, captured)
    if media_type and media_type not in HTML_TYPES and not media_type.startswith("text/"):
        raise ExtractionRefused("unsupported-type", f"content type {media_type} is neither HTML nor PDF")
    if not body.strip():
        raise ExtractionRefused("empty", "the capture has no content")
    text = decode_html(body, content_type)
    if media_type == "text/plain":
        return _dated(ExtractedDocument("Untitled", normalize_markdown(plain_text_markdown(text))), None, captured)
    page = _parse(text)
    title = _page_title(page)
    language = page.get("lang") or page.get("xml:lang")
    _refuse_error_pages(page, title)
    content = _content_root(page, url, rules)
    markdown = normalize_markdown(MarkdownRenderer(url).render(content))
    return _dated(ExtractedDocument(title, markdown), language, captured)


def _dated(document: ExtractedDocument, language: str | None, captured: date | None) -> ExtractedDocument:
    """The checked document with the date its text states for itself."""
    document = _checked(document)
    return replace(document, stated_date=stated_date(document.body, language, captured))


HTML_TYPES = {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/octet-stream"}

# ---------------------------------------------------------------------------------------------- parsing

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
DROPPED_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "frame", "frameset", "object",
    "embed", "canvas", "video", "audio", "map", "input", "select", "button", "textarea", "label", "option",
    "head", "link", "meta",
)  # fmt: skip
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _parse(text: str) -> lxml.html.HtmlElement:
    text = XML_DECLARATION.sub("", text)
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as error:
        raise ExtractionRefused("empty", f"not parseable as HTML: {error}") from error


def _page_title(page: lxml.html.HtmlElement) -> str:
    for candidate in [*page.xpath("//title"), *page.xpath("//h1 | //h2")]:
        title = _collapse(candidate.text_content())
        if title:
            return title
    return "Untitled"


def _collapse(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------- refusal checks

NOT_FOUND = re.compile(
    r"\b(?:404|page not found|not found|file not found|no longer available|does not exist|"
    r"seite nicht gefunden|page introuvable|ページが見つかりません)\b",
    re.IGNORECASE,
)
LOGIN_WALL = re.compile(
    r"\b(?:(?:please )?(?:sign|log) ?in(?: to (?:continue|view|access))?|anmelden|connexion|ログイン)\b",
    re.IGNORECASE,
)
JAVASCRIPT_SHELL = "javascript-shell"  # the refusal that a rendering in a browser may overcome
JAVASCRIPT_NEEDED = re.compile(
    r"enable javascript|javascript (?:is )?(?:required|disabled)|requires javascript|turn on javascript",
    re.IGNORECASE,
)
# Words that any privacy policy, terms of service or cookie policy contains, in the languages we meet.
LEGAL_WORDS = re.compile(
    r"privacy|personal (?:data|information)|cookie|terms|conditions|agreement|liabilit|licen[cs]e|"
    r"warrant|datenschutz|personenbezogen|nutzungsbedingungen|vertrag|haftung|"
    r"confidentialit|données personnelles|conditions générales|responsabilit|"
    r"privacidad|datos personales|términos|riservatezza|dati personali|"
    r"個人情報|プライバシー|利用規約|隐私|个人信息|条款",
    re.IGNORECASE,
)
SHORT_PAGE_CHARS = 1500


def _refuse_error_pages(page: lxml.html.HtmlElement, title: str) -> None:
    """Error pages, login walls and script shells are refused before any content is located."""
    for dropped in page.xpath("//script | //style | //template"):
        dropped.drop_tree()
    body_text = _collapse(page.text_content())
    is_short = len(body_text) < SHORT_PAGE_CHARS
    headings = " ".join(_collapse(h.text_content()) for h in page.xpath("//h1 | //h2")[:2])
    if is_short and NOT_FOUND.search(f"{title} {headings}"):
        raise ExtractionRefused("not-found", f"the page says it was not found ({title!r})")
    if is_short and page.xpath("//input[@type='password']"):
        raise ExtractionRefused("login-wall", "the page asks for a password")
    if is_short and LOGIN_WALL.fullmatch(title.strip()):
        raise ExtractionRefused("login-wall", f"the page is a sign-in page ({title!r})")
    if len(body_text) < 200 and (JAVASCRIPT_NEEDED.search(body_text) or _is_script_mount(page)):
        raise ExtractionRefused(JAVASCRIPT_SHELL, "the page only has text after running its scripts")


def _is_script_mount(page: lxml.html.HtmlElement) -> bool:
    return bool(page.xpath("//body//*[@id='root' or @id='app' or @id='__next' or @id='__nuxt']"))


def _checked(document: ExtractedDocument) -> ExtractedDocument:
    if not document.body.strip():
        raise ExtractionRefused("empty", "no text left after extraction")
    if not LEGAL_WORDS.search(document.body) and not LEGAL_WORDS.search(document.title):
        raise ExtractionRefused("not-a-legal-document", "the text mentions no privacy, terms or cookie matter")
    return document


# ------------------------------------------------------------------------------------- content root

# class/id words that mark page furniture (checked on period layouts 1999–2024: "leftnav", "nav-column",
# "site-footer", "cookie-banner", "breadcrumbs", "sidebar", "masthead", "social-share", ...).
FURNITURE_WORDS = {
    "nav", "navbar", "navigation", "menu", "menubar", "submenu", "subnav", "leftnav", "rightnav", "topnav",
    "sidenav", "breadcrumb", "breadcrumbs", "sidebar", "footer", "foot", "masthead", "toolbar", "topbar",
    "share", "social", "sharing", "skip", "skiplink", "sitemap", "related", "advert", "advertisement", "ads",
    "newsletter", "signup", "login", "search", "searchbox", "promo", "banner", "copyright", "languages",
    "language-switcher", "cookie", "cookies", "consent", "gdpr", "cc-window", "cookiebar", "cookienotice",
}  # fmt: skip
COOKIE_WORDS = {"cookie", "cookies", "consent", "gdpr", "cookiebar", "cookienotice", "cc-window", "cc-banner"}
FURNITURE_TAGS = {"nav", "aside", "footer", "form"}
FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog"}
CLASS_WORD_SPLIT = re.compile(r"[\s_-]+")
CLASS_COMPACT = re.compile(r"(?:^|[\s_-])((?:left|right|top|side|sub|main|site|global|page)?(?:nav|menu|footer))")
ACCEPT_CONTROL = re.compile(
    r"^\W*(?:ok|okay|accept(?: all)?(?: cookies)?|i accept|agree|i agree|got it|allow(?: all)?(?: cookies)?|"
    r"close|dismiss|hide|continue|x|×|✕|akzeptieren|einverstanden|schließen|accepter|j'accepte|fermer|同意)\W*$",
    re.IGNORECASE,
)
COOKIE_MENTION = re.compile(r"cookie", re.IGNORECASE)
COPYRIGHT_LINE = re.compile(r"^\s*(?:©|\(c\)|copyright\b)", re.IGNORECASE)
BLOCK_TEXT_LIMIT = 600
CJK_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# A single child holding this share of a block's text is where the content is (generic mode).
DESCEND_SHARE = 0.85


def _content_root(page: lxml.html.HtmlElement, url: str, rules: ExtractionRules) -> lxml.html.HtmlElement:
    _drop_invisible(page)
    for selector in rules.remove:
        _drop_all(CSSSelector(selector)(page))
    _drop_all(_cookie_notices(page))
    if rules.select:
        return _selected(page, rules.select)
    body = page.find("body")
    if body is None:
        body = page
    _drop_furniture(body)
    return _locate_content(body, url)


def _drop_all(elements: Iterable[lxml.html.HtmlElement]) -> None:
    for element in list(elements):
        if element.getparent() is not None:
            element.drop_tree()


def _drop_invisible(page: lxml.html.HtmlElement) -> None:
    lxml.etree.strip_elements(
        page, *DROPPED_TAGS, lxml.etree.Comment, lxml.etree.ProcessingInstruction, with_tail=False
    )
    flagged = page.xpath("//*[@hidden or @aria-hidden='true' or @style]")
    _drop_all(element for element in flagged if _is_hidden(element))


def _is_hidden(element: lxml.html.HtmlElement) -> bool:
    return (
        element.get("hidden") is not None
        or element.get("aria-hidden") == "true"
        or bool(HIDDEN_STYLE.search(element.get("style", "")))
    )


def _class_words(element: lxml.html.HtmlElement) -> set[str]:
    names = f"{element.get('class', '')} {element.get('id', '')}".lower()
    words = set(CLASS_WORD_SPLIT.split(names))
    words.update(CLASS_COMPACT.findall(names))
    return words


def _cookie_notices(page: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Cookie banners: short blocks about cookies, marked by class/id or holding an accept/close control.

    Only the innermost such block goes, so a table cell that holds a notice and a short policy survives.
    """
    candidates = [
        element
        for element in page.iter("div", "section", "aside", "p", "table", "td", "span", "font", "center", "dialog")
        if _is_cookie_notice(element)
    ]
    chosen = set(candidates)
    return [element for element in candidates if not any(inner in chosen for inner in element.iterdescendants())]


def _is_cookie_notice(element: lxml.html.HtmlElement) -> bool:
    text = element.text_content()
    if len(text) > BLOCK_TEXT_LIMIT or not COOKIE_MENTION.search(text):
        return False
    return bool(_class_words(element) & COOKIE_WORDS) or any(
        ACCEPT_CONTROL.match(_collapse(control.text_content())) or control.get("href", "").startswith("javascript:")
        for control in element.iter("a", "span", "b", "u")
    )


def _selected(page: lxml.html.HtmlElement, selectors: tuple[str, ...]) -> lxml.html.HtmlElement:
    """A new ``<div>`` holding every element the selectors match, in document order, without repeats."""
    matched = {element for selector in selectors for element in CSSSelector(selector)(page)}
    if not matched:
        raise ExtractionRefused("selector-matched-nothing", f"no element matches {', '.join(selectors)}")
    outermost = [element for element in page.iter() if element in matched and not _has_ancestor_in(element, matched)]
    container = lxml.html.Element("div")
    for element in outermost:
        element.tail = None
        container.append(element)
    return container


def _has_ancestor_in(element: lxml.html.HtmlElement, elements: set[lxml.html.HtmlElement]) -> bool:
    return any(ancestor in elements for ancestor in element.iterancestors())


def _drop_furniture(body: lxml.html.HtmlElement) -> None:
    """Navigation, sidebars, footers and copyright lines, unless the element holds most of the page."""
    page_chars = max(len(_collapse(body.text_content())), 1)
    for element in list(body.iter()):
        if element.getparent() is None or not isinstance(element.tag, str):
            continue
        if not _looks_like_furniture(element):
            continue
        if len(_collapse(element.text_content())) < 0.4 * page_chars and not element.xpath(".//h1 | .//main"):
            element.drop_tree()
    _drop_all(
        element
        for element in body.iter("p", "div", "td", "span", "font", "center", "small")
        if COPYRIGHT_LINE.match(element.text_content()) and len(element.text_content()) < 200
    )


def _looks_like_furniture(element: lxml.html.HtmlElement) -> bool:
    if element.tag in FURNITURE_TAGS or element.get("role", "") in FURNITURE_ROLES:
        return True
    if element.tag == "header" and not element.xpath(".//h1"):
        return True
    return bool(_class_words(element) & FURNITURE_WORDS)


def _locate_content(body: lxml.html.HtmlElement, url: str) -> lxml.html.HtmlElement:
    """Descend from ``<body>`` while one child holds nearly all the text and its siblings hold no headings."""
    node = body
    while True:
        children = [child for child in node if isinstance(child.tag, str)]
        if not children:
            return node
        weights = [(_prose_weight(child), child) for child in children]
        total = sum(weight for weight, _ in weights) + _own_text_words(node)
        best_weight, best = max(weights, key=lambda pair: pair[0])
        if total == 0 or best_weight < DESCEND_SHARE * total:
            return node
        if any(
            sibling is not best and sibling.xpath("descendant-or-self::*[self::h1 or self::h2 or self::h3]")
            for sibling in children
        ):
            return node
        node = best


def _prose_weight(element: lxml.html.HtmlElement) -> int:
    """Words outside links (navigation is mostly links, policy text mostly is not); each CJK character
    counts as a word, since Chinese and Japanese text has no spaces between words."""
    link_text = " ".join(link.text_content() for link in element.iter("a"))
    return max(_word_count(element.text_content()) - _word_count(link_text), 0)


def _word_count(text: str) -> int:
    words = len(text.split())
    return words if text.isascii() else words + len(CJK_CHARACTER.findall(text))


def _own_text_words(element: lxml.html.HtmlElement) -> int:
    return _word_count((element.text or "") + " " + " ".join(child.tail or "" for child in element))


# ----------------------------------------------------------------------------------------------- PDF

SENTENCE_END = re.compile(r"[.:;!?)\]\"”]$")


def _extract_pdf(body: bytes) -> ExtractedDocument:
    """PDF text via pypdf: one paragraph per run of lines, lines joined unless one ends a sentence."""
    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ExtractionRefused("pdf-unreadable", f"pypdf could not read the PDF: {error}") from error
    paragraphs = [paragraph for page in pages for paragraph in _pdf_paragraphs(page)]
    if not paragraphs:
        raise ExtractionRefused("pdf-unreadable", "the PDF has no text layer (scanned pages?)")
    title = _collapse(str(metadata_title)) or paragraphs[0][:200]
    return ExtractedDocument(title, normalize_markdown("\n\n".join(paragraphs)))


def _pdf_paragraphs(page_text: str) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in page_text.splitlines():
        line = " ".join(raw_line.split())
        if not line:
            if current:
                paragraphs.append(" ".join(current))
            current = []
            continue
        if current and line[:1].isupper() and SENTENCE_END.search(current[-1]):
            paragraphs.append(" ".join(current))
            current = []
        if current and current[-1].endswith("-") and line[:1].islower():
            current[-1] = current[-1][:-1] + line
        else:
            current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return [escape_line_start(paragraph) for paragraph in paragraphs]
