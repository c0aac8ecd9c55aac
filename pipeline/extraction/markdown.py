"""Render an lxml element tree as Markdown (our own renderer: keeps headings with anchor links, tables, lists)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.entities import html5
from urllib.parse import urljoin

import lxml.html

from policy_archive.pipeline.extraction.lists import render_list
from policy_archive.pipeline.extraction.normalize import backslashes_before, normalize_characters
from policy_archive.pipeline.extraction.parse import post_order

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption",
}  # fmt: skip
HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
STRONG_TAGS = {"b", "strong"}
EMPHASIS_TAGS = {"i", "em", "cite", "dfn", "var"}
CODE_TAGS = {"code", "tt", "kbd", "samp"}
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# What may stand before a block's first character on its line (CommonMark 0.31.2, 5.1 and 5.2): up to 3 spaces
# of indent, and container markers, each with up to 3 spaces before it: a block quote's ">" (one optional space
# after), a list item's "-", "+", "*" or "1." / "1)" (1 to 4 spaces after; 5 or more make the content code).
_BLOCK_PREFIX = re.compile(r"(?: {0,3}(?:> ?|(?:[-+*]|\d{1,9}[.)]) {1,4}(?! )))* {0,3}")
_BLOCK_PREFIX_CHARACTERS = frozenset(" >-+*.)0123456789")
# Block quotes, and lists, rendered nested at most this deep each; deeper ones are rendered at this depth (their
# text kept, only the indent lost). A quote's "> " and an item's indent stand on each of its lines: without a
# bound, 2,000 nested quotes (flattened at parse.MAX_DEPTH = 255) gave every line 255 of them, the Markdown
# growing as depth × lines and the time as its square (audit 2026-11-28: a 272 KB page, 9.5 MB and 47.7 s).
# No benchmark or fixture page nests either more than a few levels (README, Extraction quality and speed).
MAX_RENDERED_NESTING = 10

# Page text that reads as inline markup (escape_text): a backslash before ASCII punctuation, whitespace or a
# node's end; backticks; delimiter runs (judged in _escaped_inline); "](" and "]:"; entities and, at a node's
# end, what an entity may continue in the next node ("&am" + "p;"). A name is an entity only if HTML5 names it.
_INLINE_CHARACTERS = re.compile(r"[\\`*_~\]&]")
_INLINE_MARKUP = re.compile(
    r"\\(?=[!-/:-@\[-`{-~]|\s|\Z)|`|\*+|_+|~+|\](?=[(:]|\Z)"
    r"|&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z][A-Za-z0-9]*);|[#A-Za-z0-9]*\Z)"
)
# A backslash escape (CommonMark 0.31.2, 2.4): a backslash before ASCII punctuation stands for that character.
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Line starts that open a block (CommonMark 0.31.2, 4.1–4.3, 5.1–5.3; GitHub's tables): escaped by a backslash
# before the line's first character, or before an ordered list item's "." or ")".
_BLOCK_MARKER = re.compile(r"(?:#{1,6}|[-+*])(?=[ \t]|$)|>")
_ORDERED_MARKER = re.compile(r"[0-9]{1,9}(?=[.)](?:[ \t]|$))")
_UNDERLINE_CHARACTERS = frozenset("-:| ")
_UNDERLINE_STARTS = frozenset("=-:|*_ ")
_LINE_MARKER_STARTS = frozenset("#-+*>=:|_ 0123456789")
_CLOSING_SEQUENCE = re.compile(r"(?:^|(?<=[ \t]))#+$")

# What CommonMark 0.31.2 reads as raw HTML or an autolink, anywhere in a line (spec 6.5 and 6.6). Tags and
# autolinks are matched here; a match cannot run past the next "<" (no part of them may hold one outside a quoted
# attribute value), so untrusted text full of "<" stays linear. Whitespace is any Unicode space, not only ASCII's
# as in the spec: markdown-it (4.x) reads a no-break space as one, and normalisation turns each into " " later.
_WS = r"\s"
_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTRIBUTE = rf"{_WS}+[A-Za-z_:][A-Za-z0-9_.:-]*(?:{_WS}*={_WS}*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?"
_EMAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TAG_OR_AUTOLINK = re.compile(
    "|".join(
        [
            rf"<{_TAG_NAME}(?:{_ATTRIBUTE})*{_WS}*/?>",
            rf"</{_TAG_NAME}{_WS}*>",
            r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\x00-\x20<>\x7f]*>",
            rf"<[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_EMAIL_LABEL}(?:\.{_EMAIL_LABEL})*>",
        ]
    )
)
# Comments, processing instructions, CDATA and declarations end at the first closer after their opening, found
# or not by one search from the end of the text (a regex per "<" would read to the end each time: quadratic).
_CLOSED_BY = (("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>"))
_DECLARATION = re.compile(r"<![A-Za-z]")
# A "<" that can open anything above: followed by a letter, "/", "!", "?" or a character of an e-mail address.
_CANDIDATE = re.compile(r"<(?=[A-Za-z0-9/!?.#$%&'*+=^_`{|}~-])")
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|"
    "dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|"
    "li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|"
    "tfoot|th|thead|title|tr|track|ul"
)
_BLOCK_MARKUP = re.compile(
    rf"<(?:(?:pre|script|style|textarea)(?=\s|>|$)|!--|\?|![A-Za-z]|!\[CDATA\[|/?(?:{_BLOCK_TAGS})(?=\s|>|/>|$))",
    re.IGNORECASE | re.MULTILINE,
)


class MarkdownRenderer:
    """Deterministic HTML → Markdown for one page; links are made absolute against the page URL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._block_cache: dict[lxml.html.HtmlElement, bool] = {}
        self._quotes = 0  # block quotes around the element being rendered
        self._lists = 0  # lists around it

    def render(self, root: lxml.html.HtmlElement) -> str:
        """The Markdown of ``root`` and everything under it: blocks joined by one blank line, the page's text escaped
        so that none of it reads as Markdown or HTML markup, links made absolute against ``base_url``; not yet
        normalized (:func:`~policy_archive.pipeline.extraction.normalize.normalize_markdown` follows). An element
        without text gives an empty string."""
        return "\n\n".join(self._blocks(root))

    # -- block level

    def _blocks(self, element: lxml.html.HtmlElement) -> list[str]:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in HEADING_LEVELS:
            text = escape_markup(escape_heading_end(" ".join(self._inline_text(element).split())))
            return [f"{'#' * HEADING_LEVELS[tag]} {text}"] if text else []
        if tag in ("ul", "ol", "dir", "menu"):
            return self._list(element, ordered=tag == "ol")
        if tag == "table":
            return self._table(element)
        if tag == "pre":
            code = element.text_content().strip("\n")
            return [f"```\n{code}\n```"] if code.strip() else []
        if tag == "blockquote":
            if self._quotes >= MAX_RENDERED_NESTING:
                return self._children_blocks(element)
            self._quotes += 1
            try:
                inner = self._children_blocks(element)
            finally:
                self._quotes -= 1
            return ["\n".join(f"> {line}" if line else ">" for line in "\n\n".join(inner).split("\n"))] if inner else []
        if tag == "hr":
            return ["---"]
        return self._children_blocks(element)

    def _children_blocks(self, element: lxml.html.HtmlElement) -> list[str]:
        """Blocks of a container: runs of inline content become paragraphs between the block children."""
        blocks: list[str] = []
        run: list[str] = [_text(element.text)]
        for child in element:
            if isinstance(child.tag, str) and self._is_block(child):
                blocks.extend(self._paragraphs("".join(run)))
                blocks.extend(self._blocks(child))
                run = [_text(child.tail)]
            else:
                run.append(self._inline(child))
                run.append(_text(child.tail))
        blocks.extend(self._paragraphs("".join(run)))
        return blocks

    def _paragraphs(self, inline_text: str) -> list[str]:
        paragraphs = []
        for chunk in PARAGRAPH_BREAK.split(inline_text):
            lines = [" ".join(line.split()) for line in chunk.split("\n")]
            # Markup is looked for in the whole paragraph: a tag's attributes may run over a line break.
            text = escape_markup("\n".join(escape_line_start(line) for line in lines if line))
            if text:
                paragraphs.append(text)
        return paragraphs

    def _is_block(self, element: lxml.html.HtmlElement) -> bool:
        """Block tags, and inline tags wrapping blocks (``<font><p>…</p></font>`` in 1990s pages). Decided for the
        whole subtree in one pass from the leaves up, without recursion (trees run ``MAX_DEPTH`` deep)."""
        cached = self._block_cache.get(element)
        if cached is None:
            for node in post_order(element):
                if node not in self._block_cache:
                    self._block_cache[node] = node.tag in BLOCK_TAGS or any(
                        self._block_cache[child] for child in node if isinstance(child.tag, str)
                    )
            cached = self._block_cache[element]
        return cached

    def _list(self, element: lxml.html.HtmlElement, ordered: bool) -> list[str]:
        self._lists += 1
        try:
            indented = self._lists <= MAX_RENDERED_NESTING
            return render_list(element, ordered, indented=indented, item_blocks=self._item_blocks)
        finally:
            self._lists -= 1

    def _item_blocks(self, child: lxml.html.HtmlElement) -> list[str]:
        """The blocks of a list's child: an item's, or those of anything else written directly in the list."""
        return self._blocks(child) if child.tag == "li" else self._blocks_or_inline(child)

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
                escape_markup(" ".join(self._inline_text(cell).replace("|", "\\|").split()))
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
        parts = [_text(element.text)]
        for child in element:
            parts.append(self._inline(child))
            parts.append(_text(child.tail))
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
        if tag in CODE_TAGS:
            return _code_span(element) or self._inline_text(element)
        inner = self._inline_text(element)
        if tag == "a":
            return self._link(element, inner)
        if tag in STRONG_TAGS:
            return _wrap(inner, "**")
        if tag in EMPHASIS_TAGS:
            return _wrap(inner, "*")
        return inner

    def _link(self, element: lxml.html.HtmlElement, inner: str) -> str:
        href = (element.get("href") or "").strip()
        label = " ".join(inner.split())
        if not label or not href or href.startswith(("javascript:", "#")) or href == "/":
            return inner
        # The target's characters as normalisation leaves them, for escape_markup: "\x01<\u200bscript>" in an href
        # ends the link at the control character and would become "<script>" once the zero-width space goes.
        target = normalize_characters(urljoin(self.base_url, href))
        target = target.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        # Spaces at the link's edges separate words around it: `<a>our </a>users` is "our users".
        return f"{_leading_space(inner)}[{label}]({target}){_trailing_space(inner)}"


def _text(value: str | None) -> str:
    """A text node as Markdown: its characters as normalisation will leave them (markup is looked for in those),
    with what would read as inline markup escaped (``escape_text``)."""
    return escape_text(normalize_characters(value)) if value else ""


def _code_span(element: lxml.html.HtmlElement) -> str | None:
    """Code (``<code>``, ``<kbd>``, …) as a code span showing its text as it is: CommonMark escapes nothing in a
    code span, so the text is not escaped; the span's backtick string is longer than any run inside it, and a
    space pads a text starting or ending with a backtick (CommonMark 0.31.2, 6.1). ``None`` when the code holds
    no text or a ``<br>`` (a span would join its lines): it is then rendered as escaped text."""
    text = normalize_characters(element.text_content())
    words = " ".join(text.split())
    if not words or element.find(".//br") is not None:
        return None
    ticks = "`" * (max((len(run) for run in re.findall("`+", words)), default=0) + 1)
    pad = " " if words.startswith("`") or words.endswith("`") else ""
    return f"{_leading_space(text)}{ticks}{pad}{words}{pad}{ticks}{_trailing_space(text)}"


def _wrap(inner: str, marker: str) -> str:
    """Emphasis around the words only, so whitespace at the edges stays outside the markers."""
    stripped = inner.strip()
    if not stripped or "\n" in stripped:
        return inner
    return f"{_leading_space(inner)}{marker}{stripped}{marker}{_trailing_space(inner)}"


def _leading_space(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _trailing_space(text: str) -> str:
    return text[len(text.rstrip()) :]


def escape_text(text: str) -> str:
    """Page text (one text node) with a backslash before each character that would make a CommonMark 0.31.2 reader
    (or GitHub's, which adds strikethrough and tables) show something the page did not say (decision 0016): a
    backslash that would escape the next character or break the line; every backtick (a code span may close
    anywhere later); a run of ``*``, ``_`` or ``~`` that could open or close emphasis or strikethrough (one
    between spaces cannot, nor ``_`` inside a word: ``snake_case``); a ``]`` before ``(`` or ``:`` (a link, a link
    reference definition); an ``&`` starting an entity (``&amp;``). A node's edges count as unknown neighbours
    (the next node or the renderer's own markup comes there), so a run or ``]``, ``&``, ``\\`` at an edge is escaped.
    Line starts (``escape_line_start``) and HTML (``escape_markup``) are judged on the assembled lines."""
    # Most text nodes hold none of the characters: one scan for a character class first (speed).
    return _INLINE_MARKUP.sub(_escaped_inline, text) if _INLINE_CHARACTERS.search(text) else text


def _escaped_inline(match: re.Match[str]) -> str:
    found = match.group()
    if found == "&" and match.group(1) and f"{match.group(1)};" not in html5:
        return found  # "R&D;": not an entity, CommonMark shows it as it is
    if found[0] in "*_~":
        text, start, end = match.string, match.start(), match.end()
        before, after = text[start - 1 : start], text[end : end + 1]
        if (len(found) == 1 and before.isspace() and after.isspace()) or (
            found[0] == "_" and before.isalnum() and after.isalnum()
        ):
            return found
    return "".join(f"\\{character}" for character in found)


def escape_line_start(line: str) -> str:
    """A paragraph line (no indent: the renderer's lines have none) that would open a block keeps its text: an ATX
    heading (``# ``), a list item (``- ``, ``+ ``, ``* ``, ``1. ``, ``1) ``), a block quote (``>``), a setext
    underline or thematic break (``===``, ``---``, ``_ _ _``), a table's delimiter row (``--- | ---``, GitHub)."""
    if line[:1] not in _LINE_MARKER_STARTS:  # most lines start with a letter (speed)
        return line
    if _BLOCK_MARKER.match(line) or _is_underline_or_rule(line):
        return f"\\{line}"
    number = _ORDERED_MARKER.match(line)
    return f"{line[: number.end()]}\\{line[number.end() :]}" if number else line


def _is_underline_or_rule(line: str) -> bool:
    """A setext underline (``===``, ``---``), a thematic break (``***``, ``_ _ _``) or a GitHub table's delimiter row
    (``--- | :---:``). Compared as sets of characters: a pattern like ``[-:| ]*-[-:| ]*`` backtracks quadratically
    on a long line of dashes ending in a letter."""
    if line[:1] not in _UNDERLINE_STARTS:  # most lines: one look at their first character (speed)
        return False
    characters = set(line)
    return (
        characters == {"="}
        or ("-" in characters and characters <= _UNDERLINE_CHARACTERS)
        or any(characters <= {mark, " "} and line.count(mark) >= 3 for mark in "*_")
    )


def escape_heading_end(text: str) -> str:
    """A heading's inline text ending in a space and ``#``s (or only ``#``s): CommonMark would drop them as the
    heading's closing sequence."""
    return _CLOSING_SEQUENCE.sub(r"\\\g<0>", text, count=1)


def heading_markdown(text: str) -> str:
    """Plain text (the page's title) as the content of an ATX heading showing exactly that text."""
    return escape_markup(escape_heading_end(escape_text(text)))


def heading_text(markdown: str) -> str:
    """The plain text a reader sees of an ATX heading's content written by :func:`heading_markdown` (the
    title of a version file): each backslash escape read as the character it stands for."""
    return _BACKSLASH_ESCAPE.sub(r"\1", markdown)


def escape_markup(text: str) -> str:
    """Text that reads as HTML or an autolink in Markdown (``<script>``, ``<img onerror=…>``, ``</p>``,
    ``<!-- … -->``, ``<https://…>``, ``<name@host>``) keeps its text meaning: its ``<`` gets a backslash, so a
    Markdown viewer shows the characters instead of running or hiding them. Only such a ``<`` is escaped
    ("3 < 5", "a<b" stay as they are), and one already escaped is left alone. Code spans are not told apart:
    a backslash there shows, which costs a character where not escaping could cost a script (deciding what is
    a code span needs the whole block structure around the text)."""
    if "<" not in text:
        return text
    escaped = []
    start = 0
    for position in _markup_starts(text):
        escaped.append(text[start:position])
        escaped.append("\\")
        start = position
    escaped.append(text[start:])
    return "".join(escaped)


def _markup_starts(text: str) -> Iterator[int]:
    """Positions of each unescaped ``<`` that opens raw HTML, an autolink or an HTML block (CommonMark 0.31.2,
    sections 4.6, 6.5 and 6.6)."""
    last_closers = {closer: text.rfind(closer) for closer in (*(closer for _, closer in _CLOSED_BY), ">")}
    for candidate in _CANDIDATE.finditer(text):
        position = candidate.start()
        if backslashes_before(text, position) % 2 == 0 and (
            _TAG_OR_AUTOLINK.match(text, position)
            or _closed_markup(text, position, last_closers)
            or (_at_line_start(text, position) and _opens_html_block(text, position))
        ):
            yield position


def _opens_html_block(text: str, position: int) -> bool:
    """Whether an HTML block starts at ``position``. Its names are ASCII: matched ignoring case, "<ſcript" (long
    s) or "<!K" (Kelvin sign) would pass for "<script" and "<!K" with a letter, which CommonMark does not read."""
    match = _BLOCK_MARKUP.match(text, position)
    return match is not None and match.group().isascii()


def _closed_markup(text: str, position: int, last_closers: dict[str, int]) -> bool:
    """A comment, processing instruction, CDATA section or declaration opening at ``position`` and closed later."""
    if text.startswith(("<!-->", "<!--->"), position):
        return True
    for opener, closer in _CLOSED_BY:
        if text.startswith(opener, position):
            return last_closers[closer] >= position + len(opener)
    return bool(_DECLARATION.match(text, position)) and last_closers[">"] > position + 2


def _at_line_start(text: str, position: int) -> bool:
    """Whether ``position`` starts a block: at most 3 spaces after the line's start, or after the markers of
    block quotes and list items ("><script" is a quote holding an HTML block, "- <script" a list item holding
    one). The renderer's lines have no indent of their own: a list item's or quote's comes after, relative to
    which this is still the start."""
    start = position
    while start and text[start - 1] in _BLOCK_PREFIX_CHARACTERS:  # not back to the line's start: a long line of
        start -= 1  # "<" would be read again for each
    at_line_start = start == 0 or text[start - 1] == "\n"
    return at_line_start and _BLOCK_PREFIX.fullmatch(text, start, position) is not None


def _nearest_table(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors("table"):
        return ancestor
    return None


def plain_text_markdown(text: str) -> str:
    """A ``text/plain`` page as Markdown: one paragraph per blank-line-separated chunk, its line breaks and runs of
    spaces folded into one space (a plain text's hard wraps are not kept), after
    :func:`~policy_archive.pipeline.extraction.normalize.normalize_characters` (NFC, no invisible characters);
    anything that would read as Markdown or HTML markup is escaped."""
    chunks = PARAGRAPH_BREAK.split(normalize_characters(text))
    return "\n\n".join(escape_markup(escape_line_start(escape_text(" ".join(chunk.split())))) for chunk in chunks)
