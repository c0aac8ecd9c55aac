"""Raw capture bytes → title and normalised Markdown body (the only module that imports trafilatura).

Pipeline for HTML: decode (HTTP charset, then BOM/<meta>, then detection) → parse with lxml → drop
scripts, hidden and interactive elements → drop the declared ``remove`` selectors and cookie notices →
keep the declared ``select`` elements, or, with no selectors, locate the content block and drop page
furniture (navigation, sidebars, footers) → render Markdown ourselves → ``normalize_markdown``.

Why our own content location and rendering instead of trafilatura's (measured 2026-11 with
``python -m benchmarks.extraction``, trafilatura 2.3.1): trafilatura drops section headings that contain
anchor links (GitHub, Bumble, Grindr) and, on table layouts, keeps navigation columns, in-cell cookie
notices and footers (legacy generic mean 0.855, 20 leaked furniture sentences, against 0.9999 and none
here). trafilatura is kept only as the reference the benchmark compares against (``trafilatura_defaults``).
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from importlib.metadata import version
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import trafilatura
from charset_normalizer import from_bytes
from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from pipeline.normalize import normalize_markdown
from pipeline.records import ExtractedDocument, ExtractionRules

# Bump whenever a change here alters output for the same bytes: the "Extractor:" commit trailer then shows
# which versions come from an older extractor, so ``reextract`` knows what to redo. The trailer names the
# libraries that actually shape the text (lxml parses HTML, pypdf reads PDFs), not trafilatura.
EXTRACTOR_REVISION = 1
EXTRACTOR = f"policy-archive-extract {EXTRACTOR_REVISION} (lxml {version('lxml')}, pypdf {version('pypdf')})"


class ExtractionRefused(Exception):
    """The capture holds no document text that may become a version; ``reason`` is a short machine code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def selector_error(selector: str) -> str | None:
    """``None`` if ``selector`` is a CSS selector lxml can apply, else a human-readable reason."""
    try:
        CSSSelector(selector)
    except SelectorError as error:
        return f"invalid CSS selector {selector!r}: {error}"
    except lxml.etree.XPathError as error:
        return f"CSS selector {selector!r} cannot be applied: {error}"
    return None


def extract(body: bytes, url: str, rules: ExtractionRules, content_type: str | None = None) -> ExtractedDocument:
    """Extract the document of one capture; raises ``ExtractionRefused`` when there is none."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if body.lstrip()[:5] == b"%PDF-" or media_type == "application/pdf":
        return _extract_pdf(body)
    if media_type and media_type not in HTML_TYPES and not media_type.startswith("text/"):
        raise ExtractionRefused("unsupported-type", f"content type {media_type} is neither HTML nor PDF")
    if not body.strip():
        raise ExtractionRefused("empty", "the capture has no content")
    text = decode_html(body, content_type)
    if media_type == "text/plain":
        return _checked(ExtractedDocument("Untitled", normalize_markdown(_plain_text_markdown(text))))
    page = _parse(text)
    title = _page_title(page)
    _refuse_error_pages(page, title)
    content = _content_root(page, url, rules)
    markdown = normalize_markdown(MarkdownRenderer(url).render(content))
    if not markdown.strip():
        raise ExtractionRefused("empty", "no text left after extraction")
    return _checked(ExtractedDocument(title, markdown))


def trafilatura_defaults(body: bytes, url: str) -> str:
    """trafilatura's own ``extract()`` with default settings (Markdown): the benchmark's reference."""
    return trafilatura.extract(body, url=url, output_format="markdown") or ""


# ---------------------------------------------------------------------------------------------- decoding

HTML_TYPES = {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "application/octet-stream"}
CHARSET_PARAM = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# WHATWG Encoding Standard: these labels mean windows-1252, which browsers have always used for them.
WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819"}
# Detection results we trust for undeclared pages; single-byte Western guesses are resolved as windows-1252.
MULTIBYTE_OR_NON_LATIN = {
    "shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc_kr",
    "cp949", "koi8_r", "koi8_u", "cp1251", "iso8859_5", "cp1253", "iso8859_7", "cp1255", "iso8859_8",
    "cp1256", "iso8859_6", "tis_620", "cp874", "cp1250", "iso8859_2",
}  # fmt: skip


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode like a browser: HTTP charset, byte-order mark, ``<meta>`` declaration, then detection."""
    for encoding in (_declared_http_charset(content_type), _bom_encoding(body), _meta_charset(body)):
        if encoding:
            return body.decode(encoding, errors="replace").lstrip("\ufeff")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode(_detected_encoding(body), errors="replace")


def _known_encoding(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _declared_http_charset(content_type: str | None) -> str | None:
    match = HTTP_CHARSET.search(content_type or "")
    return _known_encoding(match.group(1)) if match else None


def _bom_encoding(body: bytes) -> str | None:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return encoding
    return None


def _meta_charset(body: bytes) -> str | None:
    match = CHARSET_PARAM.search(body[:4096])
    return _known_encoding(match.group(1).decode("ascii")) if match else None


def _detected_encoding(body: bytes) -> str:
    best = from_bytes(body[:20000]).best()
    guess = _known_encoding(best.encoding) if best else None
    if guess in MULTIBYTE_OR_NON_LATIN:
        return guess
    # Undeclared legacy Western pages: windows-1252 (superset of ISO-8859-1's printable range).
    return "cp1252"


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
        raise ExtractionRefused("javascript-shell", "the page only has text after running its scripts")


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


# ------------------------------------------------------------------------------------------ Markdown

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption",
}  # fmt: skip
HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
STRONG_TAGS = {"b", "strong"}
EMPHASIS_TAGS = {"i", "em", "cite", "dfn", "var"}
LINE_START_MARKER = re.compile(r"^(\s*)([-+*>#]|\d+[.)])(\s)")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


class MarkdownRenderer:
    """Deterministic HTML → Markdown for one page; links are made absolute against the page URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._block_cache: dict[lxml.html.HtmlElement, bool] = {}

    def render(self, root: lxml.html.HtmlElement) -> str:
        return "\n\n".join(self._blocks(root))

    # -- block level

    def _blocks(self, element: lxml.html.HtmlElement) -> list[str]:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in HEADING_LEVELS:
            text = self._inline_text(element).replace("\n", " ").strip()
            return [f"{'#' * HEADING_LEVELS[tag]} {text}"] if text else []
        if tag in ("ul", "ol", "dir", "menu"):
            return self._list(element, ordered=tag == "ol")
        if tag == "table":
            return self._table(element)
        if tag == "pre":
            code = element.text_content().strip("\n")
            return [f"```\n{code}\n```"] if code.strip() else []
        if tag == "blockquote":
            inner = self._children_blocks(element)
            return ["\n".join(f"> {line}" if line else ">" for line in "\n\n".join(inner).split("\n"))] if inner else []
        if tag == "hr":
            return ["---"]
        return self._children_blocks(element)

    def _children_blocks(self, element: lxml.html.HtmlElement) -> list[str]:
        """Blocks of a container: runs of inline content become paragraphs between the block children."""
        blocks: list[str] = []
        run: list[str] = [element.text or ""]
        for child in element:
            if isinstance(child.tag, str) and self._is_block(child):
                blocks.extend(self._paragraphs("".join(run)))
                blocks.extend(self._blocks(child))
                run = [child.tail or ""]
            else:
                run.append(self._inline(child))
                run.append(child.tail or "")
        blocks.extend(self._paragraphs("".join(run)))
        return blocks

    def _paragraphs(self, inline_text: str) -> list[str]:
        paragraphs = []
        for chunk in PARAGRAPH_BREAK.split(inline_text):
            lines = [" ".join(line.split()) for line in chunk.split("\n")]
            text = "\n".join(_escape_line_start(line) for line in lines if line)
            if text:
                paragraphs.append(text)
        return paragraphs

    def _is_block(self, element: lxml.html.HtmlElement) -> bool:
        """Block tags, and inline tags wrapping blocks (``<font><p>…</p></font>`` in 1990s pages)."""
        cached = self._block_cache.get(element)
        if cached is None:
            cached = element.tag in BLOCK_TAGS or any(
                isinstance(child.tag, str) and self._is_block(child) for child in element
            )
            self._block_cache[element] = cached
        return cached

    def _list(self, element: lxml.html.HtmlElement, ordered: bool) -> list[str]:
        items = []
        number = int(element.get("start", "1")) if element.get("start", "1").isdigit() else 1
        for child in element:
            if not isinstance(child.tag, str):
                continue
            content = _join_item_blocks(self._blocks(child) if child.tag == "li" else self._blocks_or_inline(child))
            if not content.strip():
                continue
            marker = f"{number}." if ordered else "-"
            number += 1
            indent = " " * (len(marker) + 1)
            lines = content.split("\n")
            body = "\n".join([lines[0], *[f"{indent}{line}" if line else "" for line in lines[1:]]])
            items.append(f"{marker} {body}")
        return ["\n".join(items)] if items else []

    def _blocks_or_inline(self, element: lxml.html.HtmlElement) -> list[str]:
        if self._is_block(element):
            return self._blocks(element)
        return self._paragraphs(self._inline(element))

    def _table(self, table: lxml.html.HtmlElement) -> list[str]:
        rows = [row for row in table.iter("tr") if _nearest_table(row) is table]
        if self._is_layout_table(table, rows):
            return [block for cell in self._cells(table) for block in self._blocks(cell)]
        grid = [
            [
                self._inline_text(cell).replace("\n", " ").replace("|", "\\|").strip()
                for cell in row
                if cell.tag in ("td", "th")
            ]
            for row in rows
        ]
        grid = [row for row in grid if any(row)]
        if not grid:
            return []
        width = max(len(row) for row in grid)
        grid = [row + [""] * (width - len(row)) for row in grid]
        lines = [f"| {' | '.join(grid[0])} |", f"|{' --- |' * width}"]
        lines.extend(f"| {' | '.join(row)} |" for row in grid[1:])
        return ["\n".join(lines)]

    def _cells(self, table: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
        for cell in table.iter("td", "th", "caption"):
            if _nearest_table(cell) is table:
                yield cell

    def _is_layout_table(self, table: lxml.html.HtmlElement, rows: list[lxml.html.HtmlElement]) -> bool:
        """Tables used for page layout (1990s–2000s) hold blocks; data tables hold short cell text."""
        if table.get("role") == "presentation" or len(rows) == 0:
            return True
        columns = max(len([cell for cell in row if cell.tag in ("td", "th")]) for row in rows)
        if columns < 2 and not table.xpath(".//th"):
            return True
        return any(
            cell.xpath(".//table | .//h1 | .//h2 | .//h3 | .//ul | .//ol | .//div//p") or len(cell.findall("p")) > 1
            for cell in self._cells(table)
        )

    # -- inline level

    def _inline_text(self, element: lxml.html.HtmlElement) -> str:
        parts = [element.text or ""]
        for child in element:
            parts.append(self._inline(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def _inline(self, element: lxml.html.HtmlElement) -> str:
        if not isinstance(element.tag, str):
            return ""
        tag = element.tag
        if tag == "br":
            return "\n"
        if tag == "img":
            return ""
        if tag in BLOCK_TAGS:
            return f"\n\n{self._inline_text(element)}\n\n"
        inner = self._inline_text(element)
        if tag == "a":
            return self._link(element, inner)
        if tag in STRONG_TAGS:
            return _wrap(inner, "**")
        if tag in EMPHASIS_TAGS:
            return _wrap(inner, "*")
        if tag in ("code", "tt", "kbd", "samp"):
            return _wrap(inner, "`")
        return inner

    def _link(self, element: lxml.html.HtmlElement, inner: str) -> str:
        href = (element.get("href") or "").strip()
        label = " ".join(inner.split())
        if not label or not href or href.startswith(("javascript:", "#")) or href == "/":
            return inner
        target = urljoin(self.base_url, href).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"[{label}]({target})"


def _join_item_blocks(blocks: list[str]) -> str:
    """A list item's blocks; a nested list follows its item's text directly, keeping the list tight."""
    joined = blocks[0] if blocks else ""
    for block in blocks[1:]:
        nested_list = block.startswith(("- ", "1. ")) or re.match(r"\d+\. ", block)
        joined += ("\n" if nested_list else "\n\n") + block
    return joined


def _wrap(inner: str, marker: str) -> str:
    """Emphasis around the words only, so whitespace at the edges stays outside the markers."""
    stripped = inner.strip()
    if not stripped or "\n" in stripped:
        return inner
    leading = inner[: len(inner) - len(inner.lstrip())]
    trailing = inner[len(inner.rstrip()) :]
    return f"{leading}{marker}{stripped}{marker}{trailing}"


def _escape_line_start(line: str) -> str:
    """A paragraph line that starts like a list item, quote or heading keeps its text meaning."""
    return LINE_START_MARKER.sub(lambda match: f"{match.group(1)}\\{match.group(2)}{match.group(3)}", line, count=1)


def _nearest_table(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors("table"):
        return ancestor
    return None


def _plain_text_markdown(text: str) -> str:
    return "\n\n".join(" ".join(chunk.split()) for chunk in PARAGRAPH_BREAK.split(text))


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
    return _checked(ExtractedDocument(title, normalize_markdown("\n\n".join(paragraphs))))


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
    return [_escape_line_start(paragraph) for paragraph in paragraphs]
