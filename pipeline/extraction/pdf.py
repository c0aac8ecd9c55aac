"""The text of a PDF capture, read with pypdf (the only module that imports it), as an HTML tree of headings,
paragraphs and lists: the same document selection and Markdown rendering as pages then apply (``extract``).

A PDF has no markup, only lines of text in fonts. What it shows as structure is recovered from the lines alone,
conservatively: a wrong heading would cut a document in the wrong place (``documents``), a missed one only
leaves a paragraph. Each rule looks at one whole line:

- a heading: a line in a font larger than the body's (the size most of the text is set in) by
  :data:`HEADING_RATIO`, each larger size one level (largest ``h1``); or, at the body's size, a line standing
  alone (the line before ended a block) that is in bold, or numbered like a section ("1. Introduction",
  "2.3 Cookies", no numbered line beside it), or in capitals ("DEFINITIONS", the next line not in capitals), short
  and not ending a sentence: those one level below the sized ones;
- a list item: a line starting with a bullet ("•", "▪", "◦", …), or with "-", "*" or a number ("1.", "2)") when
  the line before ended a sentence or was an item (a line wrapped before "- 3" or "1. " is text);
- the rest: paragraphs, lines joined unless one ends a sentence and the next starts with a capital, a line is
  blank, set further apart than the body's lines are (:data:`PARAGRAPH_SPACING`) or follows a line stopping well
  short of the margin (:data:`SHORT_LINE`); a hyphen ending a line before a lowercase word is a word broken in
  two. A page break ends no paragraph.

Deterministic: the same bytes give the same lines, fonts and sizes, so the same tree.
"""

from __future__ import annotations

import bisect
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

import lxml.html
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from policy_archive.pipeline.extraction.normalize import normalize_characters
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.text import one_line

SENTENCE_END = re.compile(r"[.:;!?)\]\"”]$")
# A line larger than the body by this ratio is a heading (Chromium prints <h2> at 1.5 times the body, <h3> at
# 1.17, <h4> at 1: 18, 14 and 12 pt over a 12 pt body, Chromium 156's --print-to-pdf read by pypdf, 2026-11-29; word
# processors set headings from 1.2 up): smaller differences are a lead paragraph or a sub- or superscript.
HEADING_RATIO = 1.15
# A line further below the one before than this times the body's usual line spacing starts a paragraph (word
# processors and browsers space paragraphs by half a line or more; a line spacing of 1.5 or 2 is the usual one).
PARAGRAPH_SPACING = 1.3
# A line of the body shorter than this share of a full one (the body's line length that 90 % of its lines do
# not exceed) ends its block: the lines of a paragraph but its last run to the margin, justified or not, and a
# list whose bullets are drawn (Chromium prints them as shapes, not text: Chromium 156, 2026-11-29) is one short
# line an item.
SHORT_LINE = 0.6
FULL_LINE_RANK = 0.9
HEADING_LINE = 0.8  # a heading at the body's size stops before this share of a full line
# A heading's next line at most this many times its size below it: the heading wrapped (Chromium sets a 13.5 pt
# heading's lines 19.5 pt apart; Chromium 156 a 14 pt <h3>'s 16.5 pt apart, 2026-11-29; two headings in a row have
# a margin between them).
WRAPPED_LINE = 1.6
MAX_HEADING_CHARS = 120
MAX_HEADING_WORDS = 12
MAX_LEVEL = 4  # documents.HEADINGS: the headings that may name a document
# Under a table's header row, the first cell's lines before the next cell's climb back up (a wrapped cell of a
# few words a line): looked for this many lines down.
CELL_LINES = 8
BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
BULLET = re.compile(r"^[•●◦○▪■□‣⁃∙·◆◇➢►▶✓✔]\s*(?=\S)")
DASH_ITEM = re.compile(r"^[-–*]\s+(?=\S)")
NUMBER_ITEM = re.compile(r"^(?P<number>\d{1,3})[.)]\s+(?=\S)")
# "1. Introduction", "2.3 Cookies", "IV. Rights", "Article 3 - …": a section's number, then its name.
# Case matters: the name starts with a capital ("section 7 de la présente" is a line of text).
SECTION_LINE = re.compile(
    r"^(?:(?:[Aa]rticle|ARTICLE|[Ss]ection|SECTION|[Aa]rt\.)\s+\d{1,3}\.?"
    r"|\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)]|[IVX]{1,6}[.)])\s+\W*[A-ZÀ-ÖØ-Þ]"
)
NOT_A_HEADING_END = re.compile(r"[.,;]$")


@dataclass
class _Line:
    """One line of a page: its text and, per character of text, the font size and boldness it was shown in."""

    text: str = ""
    sizes: Counter[float] = field(default_factory=Counter)
    bold_chars: int = 0
    chars: int = 0
    y: float | None = None  # the baseline's height on the page, of the line's first text
    gap: float | None = None  # the distance down from the line before on the page, when both have text
    starts: list[float] = field(default_factory=list)  # where each piece of text set apart starts (x on the page)
    # Set level with or above the line before on the same page: beside it, as a table's next cell is (a table is
    # drawn cell by cell, each cell's lines down from the row's top, the next cell's up again).
    beside: bool = False

    def add(self, text: str, size: float, bold: bool, x: float, y: float) -> None:
        self.text += text
        count = sum(1 for c in text if not c.isspace())
        if count and self.y is None:
            self.y = y
        if count and (not self.starts or self.starts[-1] != x):
            self.starts.append(x)
        self.sizes[size] += count
        self.chars += count
        self.bold_chars += count if bold else 0

    @property
    def size(self) -> float:
        """The size most of the line's characters are in (the smaller on a tie)."""
        return _mode(self.sizes)

    @property
    def bold(self) -> bool:
        return self.chars > 0 and self.bold_chars == self.chars


@dataclass(frozen=True)
class PdfText:
    """A PDF's text as an HTML ``<div>`` of headings, paragraphs and lists, and the title its metadata gives
    (``""`` when none)."""

    root: lxml.html.HtmlElement
    metadata_title: str


def read_pdf(body: bytes) -> PdfText:
    """The text of the PDF ``body`` as headings, paragraphs and lists; refused ``pdf-unreadable`` when pypdf cannot
    read it or it has no text layer."""
    lines: list[_Line] = []
    try:
        reader = PdfReader(io.BytesIO(body))
        for page in reader.pages:
            # A page break is no paragraph break: a sentence runs on; a running footer stands apart (gap, short).
            lines.extend(_page_lines(page))
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, ZeroDivisionError) as error:
        raise ExtractionRefused("pdf-unreadable", f"pypdf could not read the PDF: {error}") from error
    for line in lines:
        line.text = " ".join(normalize_characters(line.text).split())
    root = _tree(_blocks(lines))
    if not len(root):
        raise ExtractionRefused("pdf-unreadable", "the PDF has no text layer (scanned pages?)")
    return PdfText(root, one_line(normalize_characters(str(metadata_title))))


def _page_lines(page: object) -> list[_Line]:
    """The page's lines as pypdf lays them out, each character with its font's size as shown (the font size
    scaled by the text and transformation matrices) and whether the font is bold. A page ends its last line."""
    lines = [_Line()]

    def visit(text: str, cm: list[float], tm: list[float], font: dict | None, font_size: float) -> None:
        # Vertical scale of the text space on the page: the text matrix's, then the transformation's.
        b, d = tm[0] * cm[1] + tm[1] * cm[3], tm[2] * cm[1] + tm[3] * cm[3]
        scale = (b * b + d * d) ** 0.5 or 1.0
        size = round(font_size * scale * 2) / 2  # half points: the same size set through other matrices agrees
        bold = bool(BOLD_FONT.search(str((font or {}).get("/BaseFont", ""))))
        x = round(tm[4] * cm[0] + tm[5] * cm[2] + cm[4], 1)
        y = round(tm[4] * cm[1] + tm[5] * cm[3] + cm[5], 1)
        parts = text.split("\n")
        for index, part in enumerate(parts):
            if index:
                lines.append(_Line())
            lines[-1].add(part, size, bold, x, y)

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    with_text = [line for line in lines if line.y is not None]
    for above, below in zip(with_text, with_text[1:], strict=False):
        above_y, below_y = above.y or 0.0, below.y or 0.0
        if above_y > below_y:
            below.gap = round((above_y - below_y) * 2) / 2
        else:
            below.beside = True
    return lines


def _mode(sizes: Counter[float]) -> float:
    return min(sizes, key=lambda size: (-sizes[size], size)) if sizes else 0.0


# A block: ("h", level, text), ("p", text) or ("li", marker kind, number, text).
Block = tuple


class _Layout(NamedTuple):
    """What a PDF's lines are judged against: the body's size (most of the text's), its usual line spacing, a full
    line's length (in characters), each larger size's heading level, and the level of a heading at the body's size."""

    body: float
    spacing: float
    full: int
    levels: dict[float, int]
    plain_level: int


def _layout(lines: list[_Line]) -> _Layout:
    body = _mode(sum((line.sizes for line in lines), Counter()))
    spacing = _mode(Counter(line.gap for line in lines if line.gap and line.size == body))
    lengths = sorted(len(line.text) for line in lines if line.text and line.size == body)
    full = lengths[int(FULL_LINE_RANK * (len(lengths) - 1))] if lengths else 0
    heading_sizes = sorted({line.size for line in lines if _sized_heading(line, body)}, reverse=True)
    levels = {size: min(rank + 1, MAX_LEVEL) for rank, size in enumerate(heading_sizes)}
    return _Layout(body, spacing, full, levels, min(len(heading_sizes) + 1, MAX_LEVEL))


def _following_texts(texts: list[str]) -> list[str]:
    """The text of the nearest line with text after each line ("" after the last), found once: a long PDF has tens
    of thousands of lines."""
    following, after = [""] * len(texts), ""
    for index in range(len(texts) - 1, -1, -1):
        following[index], after = after, texts[index] or after
    return following


def _blocks(lines: list[_Line]) -> list[Block]:
    body, spacing, full, levels, plain_level = _layout(lines)
    blocks: list[Block] = []
    current: list[str] = []  # the paragraph or item being read
    item: tuple[str, int] | None = None  # its marker kind and number when it is a list item

    def close() -> None:
        nonlocal current, item
        if current:
            text = " ".join(current)
            blocks.append(("li", item[0], item[1], text) if item else ("p", text))
        current, item = [], None

    texts = [line.text for line in lines]
    following_texts = _following_texts(texts)
    previous = ""  # the text of the line with text before
    for index, line in enumerate(lines):
        text = line.text
        if not text:
            close()
            continue
        following = following_texts[index]
        before, previous = previous, text
        after_block = (
            not current
            or bool(SENTENCE_END.search(current[-1]))
            or _spaced(line, spacing)
            or _ended_short(lines, index, body, full)
        )
        if _sized_heading(line, body):
            close()
            if _wrapped_heading(blocks, levels[line.size], line, texts, index):
                blocks[-1] = ("h", blocks[-1][1], f"{blocks[-1][2]} {text}")
            else:
                blocks.append(("h", levels[line.size], text))
            continue
        marker = _item_marker(text, after_block or item is not None)
        if after_block and _plain_heading(lines, index, full, before, following):
            close()
            blocks.append(("h", plain_level, text))
            continue
        if marker is not None:
            close()
            kind, number, rest = marker
            current, item = [rest], (kind, number)
            continue
        if current and (
            (text[:1].isupper() and SENTENCE_END.search(current[-1]))
            or _spaced(line, spacing)
            or _ended_short(lines, index, body, full)
        ):
            close()
        if current and current[-1].endswith("-") and text[:1].islower():
            current[-1] = current[-1][:-1] + text
        else:
            current.append(text)
    close()
    return blocks


def _ended_short(lines: list[_Line], index: int, body: float, full: int) -> bool:
    """The line before ``index`` (at the body's size) stopped well before the body's lines do: it ended its block
    (a paragraph's last line, an item, a line of an address). Counted in characters: the width pypdf gives is not
    the line's."""
    before = lines[index - 1] if index else None
    return before is not None and before.size == body and 0 < len(before.text) < full * SHORT_LINE


def _spaced(line: _Line, spacing: float) -> bool:
    """Set further below the line before than the body's lines are below each other: a new paragraph."""
    return bool(spacing) and line.gap is not None and line.gap > spacing * PARAGRAPH_SPACING


def _wrapped_heading(blocks: list[Block], level: int, line: _Line, texts: list[str], index: int) -> bool:
    """``line`` continues the heading just read: same level, right under it (a line of its own size below)."""
    return (
        bool(blocks)
        and blocks[-1][0] == "h"
        and blocks[-1][1] == level
        and index > 0
        and bool(texts[index - 1])
        and line.gap is not None
        and line.gap <= line.size * WRAPPED_LINE
    )


def _short(text: str) -> bool:
    return len(text) <= MAX_HEADING_CHARS and len(text.split()) <= MAX_HEADING_WORDS


def _sized_heading(line: _Line, body: float) -> bool:
    return bool(line.text) and line.size >= body * HEADING_RATIO and len(line.text) <= MAX_HEADING_CHARS


def _plain_heading(lines: list[_Line], index: int, full: int, previous: str, following: str) -> bool:
    """A line at the body's size that reads as a heading: short, stopping before the margin (``full``: a full
    line's length), not ending a sentence, not continued by the next line (which starts in lowercase: the first
    line of a numbered paragraph, a bold cell wrapped), no table row, and bold (the lines around it not), or
    numbered as a section (no numbered line around it), or in capitals (the next line not)."""
    line = lines[index]
    text = line.text
    if not _short(text) or NOT_A_HEADING_END.search(text) or BULLET.match(text) or DASH_ITEM.match(text):
        return False
    if len(text) > full * HEADING_LINE or following[:1].islower() or _in_table(line, lines, index):
        return False
    if text.count("(") != text.count(")"):  # a piece of a sentence wrapped in a table's cell: "IP (CCPA"
        return False
    if line.bold:
        neighbours = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines) and lines[i].text]
        return not any(other.bold and other.size == line.size for other in neighbours)
    if SECTION_LINE.match(text):
        return not NUMBER_ITEM.match(previous) and not NUMBER_ITEM.match(following)
    return _capitals(text) and not _capitals(following)


def _in_table(line: _Line, lines: list[_Line], index: int) -> bool:
    """``line`` is a table's row or cell, no heading (a header row, a row's header cell, is bold and short): a
    cell set beside the line before it or with the next line beside it (a row whose cells wrap, drawn cell by cell,
    see ``_Line.beside``), or a row of pieces set apart (see :func:`_table_row`)."""
    following = lines[index + 1] if index + 1 < len(lines) else None
    return line.beside or (following is not None and following.beside) or _table_row(line, lines, index)


def _table_row(line: _Line, lines: list[_Line], index: int) -> bool:
    """A line of pieces set apart over the columns of the next or last line (see :func:`_over_columns`: a header
    row's cells centred over left-set ones, as Chromium prints ``<th>``), or a header row over rows whose cells
    wrap (the lines under it, a cell's short lines, soon climb back up beside each other: :data:`CELL_LINES`)."""
    if len(line.starts) < 2:
        return False
    neighbours = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    if any(_over_columns(line.starts, other.starts) for other in neighbours):
        return True
    for other in lines[index + 1 : index + 1 + CELL_LINES]:
        if other.beside:
            return True
        if not other.text or other.gap is None or len(other.starts) > 1:  # a cell's lines are one piece each
            return False
    return False


def _over_columns(starts: list[float], columns: list[float]) -> bool:
    """Pieces starting at ``starts`` stand in every column of a line whose pieces start at ``columns`` (two at
    least), each piece in the column whose start is the last at or before its own (pypdf may cut a cell's text in
    pieces: "Categories of" and "Third Parties"). A line of text beside a heading has one piece, or pieces a
    heading's words do not spread over."""
    if len(columns) < 2:
        return False
    edges = sorted(set(columns))
    found = {max(0, bisect.bisect_right(edges, start) - 1) for start in starts}
    return len(found) == len(edges)


def _capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters if c.lower() != c.upper())


def _item_marker(text: str, may_start: bool) -> tuple[str, int, str] | None:
    """The list marker ``text`` starts with: ``("ul", 0, rest)`` or ``("ol", number, rest)``; a bullet always,
    "-", "*" and numbers only when ``may_start`` (the line before ended a sentence or was an item)."""
    if match := BULLET.match(text):
        return "ul", 0, text[match.end() :]
    if not may_start:
        return None
    if match := DASH_ITEM.match(text):
        return "ul", 0, text[match.end() :]
    if match := NUMBER_ITEM.match(text):
        return "ol", int(match["number"]), text[match.end() :]
    return None


def _tree(blocks: list[Block]) -> lxml.html.HtmlElement:
    """A ``<div>`` of the blocks: items of one kind in a row make one list, numbers in sequence one ``<ol>``."""
    root = lxml.html.Element("div")
    listing: lxml.html.HtmlElement | None = None
    last_number = 0
    for block in blocks:
        if block[0] != "li":
            listing = None
            element = lxml.html.Element("p" if block[0] == "p" else f"h{block[1]}")
            element.text = block[-1]
            root.append(element)
            continue
        _, kind, number, text = block
        if listing is None or listing.tag != kind or (kind == "ol" and number != last_number + 1):
            listing = lxml.html.Element(kind)
            if kind == "ol" and number != 1:
                listing.set("start", str(number))
            root.append(listing)
        last_number = number
        element = lxml.html.Element("li")
        element.text = text
        listing.append(element)
    return root
