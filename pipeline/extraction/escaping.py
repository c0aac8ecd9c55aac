"""Page text written so that Markdown shows it as text (decision 0016): what a CommonMark 0.31.2 reader (or
GitHub's) would read as inline markup, a block's start, raw HTML or an autolink gets a backslash. Used by the
renderer (``markdown``), the PDF reader and the provenance header's title; ``heading_text`` reads a title back, and
``reader_text`` any text written so, for showing it as text."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from html.entities import html5

from policy_archive.pipeline.extraction.normalize import backslashes_before

# What may stand before a block's first character on its line (CommonMark 0.31.2, 5.1 and 5.2): up to 3 spaces
# of indent, and container markers, each with up to 3 spaces before it: a block quote's ">" (one optional space
# after), a list item's "-", "+", "*" or "1." / "1)" (1 to 4 spaces after; 5 or more make the content code).
_BLOCK_PREFIX = re.compile(r"(?: {0,3}(?:> ?|(?:[-+*]|\d{1,9}[.)]) {1,4}(?! )))* {0,3}")
_BLOCK_PREFIX_CHARACTERS = frozenset(" >-+*.)0123456789")
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
# A backslash escape, or a backtick run that may open a code span (reader_text); each whole run of backticks.
_ESCAPE_OR_BACKTICKS = re.compile(r"\\([!-/:-@\[-`{-~])|(`+)")
_BACKTICKS = re.compile(r"`+")
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


def reader_text(markdown: str) -> str:
    """The words a reader of Markdown written here sees, for showing it as text (the report's differences): each
    backslash escape read as the character it stands for (``1\\.``, ``\\*``, ``snake\\_`` → ``1.``, ``*``,
    ``snake_``), except inside a code span, where CommonMark 0.31.2 reads none (6.1: the backslash shows). Other
    markup (``**``, ``[label](url)``, a line's ``#`` or ``-``) stays as written: it is the file's structure, shown
    as such. Near-linear time: each code span's closer is looked up (bisected) among the backtick runs found once."""
    runs: dict[int, list[int]] = {}
    for run in _BACKTICKS.finditer(markdown):
        runs.setdefault(len(run.group()), []).append(run.start())
    read = []
    position = 0
    while (found := _ESCAPE_OR_BACKTICKS.search(markdown, position)) is not None:
        read.append(markdown[position : found.start()])
        position = found.end()
        if found.group(1) is not None:
            read.append(found.group(1))
            continue
        ticks = found.group(2)
        starts = runs.get(len(ticks), [])
        closer = bisect_right(starts, found.start())
        if closer == len(starts):  # no closing run of the same length: the backticks are text
            read.append(ticks)
            continue
        end = starts[closer] + len(ticks)
        read.append(markdown[found.start() : end])  # the code span as written, backslashes and all
        position = end
    read.append(markdown[position:])
    return "".join(read)


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
