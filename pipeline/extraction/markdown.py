"""Render an lxml element tree as Markdown (our own renderer: keeps headings with anchor links, tables, lists)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin

import lxml.etree
import lxml.html

from policy_archive.pipeline.extraction.escaping import (
    escape_heading_end,
    escape_line_start,
    escape_markup,
    escape_text,
)
from policy_archive.pipeline.extraction.lists import ITEM, OTHER, TEXT, ListEntry, list_start, render_list
from policy_archive.pipeline.extraction.normalize import normalize_characters
from policy_archive.pipeline.extraction.parse import post_order

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "xmp", "listing", "plaintext",
}  # fmt: skip
# Preformatted text: <pre>, and the obsolete <xmp>, <listing> and <plaintext> that 1990s pages wrote for it and
# browsers still show as <pre> (the HTML standard's rendering rules); as inline text their lines were one paragraph.
PREFORMATTED_TAGS = {"pre", "xmp", "listing", "plaintext"}
HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
STRONG_TAGS = {"b", "strong"}
EMPHASIS_TAGS = {"i", "em", "cite", "dfn", "var"}
CODE_TAGS = {"code", "tt", "kbd", "samp"}
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Block quotes, and lists, rendered nested at most this deep each; deeper ones are rendered at this depth (their
# text kept, only the indent lost). A quote's "> " and an item's indent stand on each of its lines: without a
# bound, 2,000 nested quotes (flattened at parse.MAX_DEPTH = 255) gave every line 255 of them, the Markdown
# growing as depth × lines and the time as its square (audit 2026-11-28: a 272 KB page, 9.5 MB and 47.7 s).
# No benchmark or fixture page nests either more than a few levels (README, Extraction quality and speed).
MAX_RENDERED_NESTING = 10

# A run of backticks opening a code line, after any indent (a code block's line that could close its fence).
_LINE_START_BACKTICKS = re.compile(r"^[ \t]*(`+)", re.MULTILINE)


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
        if tag in PREFORMATTED_TAGS:
            code = preformatted_text(element).strip("\n")
            return [code_block(code)] if code.strip() else []
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
                        self._block_cache[child] for child in node.iterchildren(lxml.etree.Element)
                    )
            cached = self._block_cache[element]
        return cached

    def _list(self, element: lxml.html.HtmlElement, ordered: bool) -> list[str]:
        self._lists += 1
        try:
            indented = self._lists <= MAX_RENDERED_NESTING
            return render_list(self._list_entries(element), ordered, list_start(element), indented=indented)
        finally:
            self._lists -= 1

    def _list_entries(self, element: lxml.html.HtmlElement) -> Iterator[ListEntry]:
        """What a list holds, rendered in order: each ``<li>``, each other block written in the list, and each run
        of text and inline elements written directly in it (a browser shows such a run as one anonymous block)."""
        run: list[str] = [_text(element.text)]
        for child in element:
            if isinstance(child.tag, str) and (child.tag == "li" or self._is_block(child)):
                yield TEXT, self._paragraphs("".join(run))
                yield (ITEM, self._blocks(child)) if child.tag == "li" else (OTHER, self._blocks(child))
                run = [_text(child.tail)]
            else:
                run.append(self._inline(child))
                run.append(_text(child.tail))
        yield TEXT, self._paragraphs("".join(run))

    def _table(self, table: lxml.html.HtmlElement) -> list[str]:
        rows = [row for row in table.iter("tr") if _nearest_table(row) is table]
        if self._is_layout_table(table, rows):
            return [block for cell in self._cells(table) for block in self._blocks(cell)]
        # A data table's caption is its title: a paragraph of its own just before the table, where browsers show it
        # (caption-side: top, the default). GFM tables have no caption, and a row of it would be a cell.
        captions = [block for child in table if child.tag == "caption" for block in self._children_blocks(child)]
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
            return captions
        width = max(len(row) for row in grid)
        grid = [row + [""] * (width - len(row)) for row in grid]
        lines = [f"| {' | '.join(grid[0])} |", f"|{' --- |' * width}"]
        lines.extend(f"| {' | '.join(row)} |" for row in grid[1:])
        return [*captions, "\n".join(lines)]

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
        if tag in CODE_TAGS and not self._is_block(element):
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
    no text or a ``<br>`` (a span would join its lines): it is then rendered as escaped text. Code holding a
    block (a highlighter's ``<div>`` per line) is rendered as text by the caller: its text alone ran the lines
    together ("line1line2") in a heading or table cell."""
    text = normalize_characters(element.text_content())
    words = " ".join(text.split())
    if not words or element.find(".//br") is not None:
        return None
    ticks = "`" * (max((len(run) for run in re.findall("`+", words)), default=0) + 1)
    pad = " " if words.startswith("`") or words.endswith("`") else ""
    return f"{_leading_space(text)}{ticks}{pad}{words}{pad}{ticks}{_trailing_space(text)}"


def preformatted_text(pre: lxml.html.HtmlElement) -> str:
    """The text of a ``<pre>`` as a browser shows it: its characters as they are, a ``<br>`` or a block inside it
    (``<div>``, ``<p>``: a highlighter's one element per line) a line break, as for text outside ``<pre>``. Its
    text alone (``text_content``) ran such lines together ("line1line2"). Walked without recursion (trees run
    ``MAX_DEPTH`` deep)."""
    parts: list[str] = []

    def add(text: str | None) -> None:
        if text:
            parts.append(text)

    def end_line() -> None:  # a block starts or ends: on a line of its own, without a blank line added
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")

    add(pre.text)
    # (node, entered): a node is entered (a line break before a block, its text, then its children), then left (a
    # line break after a block, its tail). Comments and processing instructions give only their tail.
    pending: list[tuple[lxml.html.HtmlElement, bool]] = [(child, False) for child in reversed(pre)]
    while pending:
        node, entered = pending.pop()
        block = isinstance(node.tag, str) and node.tag in BLOCK_TAGS
        if not entered and isinstance(node.tag, str):
            if node.tag == "br":
                parts.append("\n")
            elif block:
                end_line()
            add(node.text)
            pending.append((node, True))
            pending.extend((child, False) for child in reversed(node))
            continue
        if block:
            end_line()
        add(node.tail)
    return "".join(parts)


def code_block(code: str) -> str:
    """A fenced code block showing ``code`` as it is: its fence is longer than any run of backticks opening one of
    its lines, which would otherwise close it (CommonMark 0.31.2, 4.5: a closing fence is a run at least as long,
    indented up to 3 spaces, which in a list item is relative to the item's content column)."""
    runs = _LINE_START_BACKTICKS.findall(code)
    fence = "`" * max(3, max((len(run) + 1 for run in runs), default=0))
    return f"{fence}\n{code}\n{fence}"


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
