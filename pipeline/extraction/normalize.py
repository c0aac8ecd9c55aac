"""Canonical Markdown: the same policy text always gives byte-identical output.

Change detection compares bodies byte for byte, so anything that varies without the policy changing
(Unicode composition, invisible characters, whitespace, Markdown dialect, session ids, "page generated at"
stamps) must be settled here. ``normalize_markdown`` is idempotent: applying it twice changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Invisible characters that editors and CMSs insert or drop at will (zero-width space, word joiner, byte-order
# mark, soft hyphen), which never carry policy text; and every control character but TAB, LF and CR (CR is a line
# break for normalize_markdown). A browser shows no control; XML 1.0 forbids the C0 ones (the report's Atom feeds)
# and ESC sequences would reach terminals through `git log -p`. The zero-width joiner and non-joiner (U+200D,
# U+200C) stay: they are spelling, not noise (Persian "می‌خواهیم" is misspelt without its ZWNJ, Indic scripts
# choose letter forms with them, emoji sequences such as a family or a rainbow flag fall apart without the ZWJ).
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2060\ufeff\u00ad]")
# ... where they join two characters. Next to a space or at an end of a text they join nothing: Webflow writes an
# empty paragraph as a lone ZWJ and starts paragraphs with one (Grindr, Heloa in the benchmarks), which would
# otherwise be invisible paragraphs and edges. (Per text node, as the renderer passes them: before it escapes.)
# A whole run of joiners (possessive: never part of one) after a space or the start, or before a space or the end.
JOINERS_AT_EDGES = re.compile("(?<![\u200c\u200d])(?:(?<!\\S)[\u200c\u200d]++|[\u200c\u200d]++(?!\\S))")
# The controls Python counts as whitespace (VT, FF, FS to US, NEL) become a space, as every other Unicode space
# does between words (_single_spaced), and so in code blocks too, which keep their lines as they are. The others
# are dropped, not made a space: "priv\x07acy" stays one word, as the browser showed it.
CONTROL_SPACES = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f\x85")
# A code fence (CommonMark 0.31.2, 4.5), read after the line's block quote markers and indent: 3 or more backticks
# with no backtick after them (a line starting with a code span, "```a``b```", is no fence), or 3 or more tildes.
# Page text never starts a line with either: the renderer escapes every backtick and runs of tildes.
FENCE = re.compile(r"(`{3,})[^`]*|(~{3,}).*")
# What may stand before a fence on its opening line: list item markers and block quote markers, the code being an
# item's or a quote's first block ("- ```", "1. > ```"); page text never starts a line with them (escaped).
FENCE_CONTAINERS = re.compile(r"(?:(?:-|[0-9]{1,9}[.)]) +|> ?)*")
BACKTICKS = re.compile(r"`+")
BULLET = re.compile(r"^(\s*)[*+•·▪◦‣]\s+")
RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
SETEXT = re.compile(r"^(=+|-+)$")
# A list item's line: "- " or an ordered item "1. " / "1) " (a paragraph's "1. " is escaped by the renderer, "1\. ").
LIST_ITEM = re.compile(r"- |[0-9]{1,9}[.)] ")
# A block quote's marker at a line's start, or after the one before it: an indent (a quote in a list item stands at
# the item's content column), ">" and its optional space (normalize_markdown's "> " on each line of a quote).
QUOTE_MARKER = re.compile(r"([ \t\u00a0]*)>( ?)")
INLINE_PASSES = 8  # more than any real line needs; a line still changing after that is left as it is
BOLD_UNDERSCORE = re.compile(r"(?<![\w\\])__(?=\S)(.+?)(?<=\S)__(?!\w)")
EM_UNDERSCORE = re.compile(r"(?<![\w\\_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
# Empty strong/emphasis pairs ("****", "** **"); a lone closing "**" after punctuation is not one.
# Not right after "<": "<** **/b>" would become a tag the renderer did not escape.
EMPTY_EMPHASIS = re.compile(r"(?<![\w*\\<])\*\*(?:\s*\*\*)+(?![\w*])")
# Not after a backslash: "\<https://…>" is text the renderer escaped (escaping.escape_markup), not an autolink.
AUTOLINK = re.compile(r"(?<!\\)<((?:https?|mailto):[^\s<>]+)>")
# A label's characters: an escaped one ("\]" is page text, not the label's end: escaping.escape_text) or any other.
LINK = re.compile(
    r"(!?)\[((?:\\.|[^\\\[\]]|\[(?:\\.|[^\\\[\]])*\])*)\]\(\s*<?([^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
# Session identifiers and tracking parameters that servers put into links per visit (checked on real 2000s
# pages: ;jsessionid=..., ?PHPSESSID=..., ?sid=..., ?utm_source=...): they change on every capture.
SESSION_PATH = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^?#/]*", re.IGNORECASE)
VOLATILE_PARAMS = re.compile(
    r"^(?:jsessionid|phpsessid|sid|sessionid|session_id|sessid|s_id|cfid|cftoken|zenid|osCsid|"
    r"utm_[a-z]+|gclid|fbclid|mc_cid|mc_eid|_ga|_hsenc|_hsmi)$",
    re.IGNORECASE,
)
# Lines that only report when or how fast the page was produced, or who is looking at it.
VOLATILE_LINES = re.compile(
    r"^\W*(?:page (?:was )?(?:generated|created|rendered|served)(?: (?:at|on|in))?\b"
    r"|(?:generated|rendered|served) in [\d.,]+ ?(?:s|sec|seconds|ms)\b"
    r"|(?:current|server|local) time\s*:"
    r"|you are (?:currently )?logged in as\b"
    r"|(?:cache|cached) (?:generated|created)\b"
    r"|seite (?:generiert|erstellt) (?:am|um|in)\b"
    r"|page générée (?:le|à|en)\b)",
    re.IGNORECASE,
)


def normalize_markdown(text: str) -> str:
    """Return the canonical form of a Markdown document (see the module docstring)."""
    text = normalize_characters(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines: list[str] = []
    code: set[int] = set()  # indices in ``lines`` of code lines, kept as they are by the later passes too
    fence: _Fence | None = None
    for raw_line in text.split("\n"):
        if fence is not None:
            inside = _quoted(raw_line, fence.quotes)
            if inside is None:  # fewer quote markers than the fence's: its quote ended, and the code with it
                fence = None
            else:
                prefix, rest = inside
                if fence.closed_by(rest):
                    lines.append(prefix + _indent(rest) + rest.strip())
                    fence = None
                else:
                    code.add(len(lines))
                    lines.append((prefix + rest).rstrip())
                continue
        prefix, indent_width, content = _containers(raw_line)
        containers = FENCE_CONTAINERS.match(content)
        opening = FENCE.fullmatch(content.rstrip(), containers.end())
        if opening:
            # A code block, in a list item (at its content column) or a block quote (after its "> ") too: its
            # lines are code, kept as they are; normalised as text they lost their spacing, and a code line
            # such as "* x", "***" or "__init__" was rewritten (before revision 16, in a quote).
            fence = _Fence(opening.group(1) or opening.group(2), prefix.count(">") + containers.group().count(">"))
            lines.append(prefix + " " * indent_width + content.rstrip())
            continue
        line = _normalize_line(raw_line)
        if line is not None:
            lines.append(line)
    return _settle_blank_lines(_setext_to_atx(lines, code), code)


class _Fence:
    """An open code fence: its marker (`````` or ``~~~``, 3 or more) and how many block quotes it stands in."""

    def __init__(self, marker: str, quotes: int) -> None:
        self.marker = marker
        self.quotes = quotes

    def closed_by(self, rest: str) -> bool:
        """Whether a line (after the fence's quote markers) closes it: a run of its character at least as long,
        nothing else (CommonMark 0.31.2, 4.5); the renderer makes its fence longer than any run opening a code
        line, so no line of code closes it."""
        run = rest.strip()
        return len(run) >= len(self.marker) and run == run[0] * len(run) and run[0] == self.marker[0]


def _quoted(raw_line: str, quotes: int) -> tuple[str, str] | None:
    """A code line's first ``quotes`` block quote markers (as ``_containers`` writes them) and the rest as it is
    (the code's own ">" stays code); ``None`` if it has fewer."""
    parts = []
    position = 0
    for _ in range(quotes):
        marker = QUOTE_MARKER.match(raw_line, position)
        if marker is None:
            return None
        parts.append(" " * len(marker.group(1)) + ">" + marker.group(2))
        position = marker.end()
    return "".join(parts), raw_line[position:]


def normalize_characters(text: str) -> str:
    """NFC, without the invisible and control characters: the renderer reads page text through this too, so that
    what it escapes as markup is what this module leaves (a Kelvin sign becomes "K" here, a zero-width space
    vanishes)."""
    # (A regex, not str.translate with a table: measured 20x faster on 100 KB texts; one regex with a function
    # for the rare match, not two substitutions: as fast as one on the short texts the renderer passes.)
    text = INVISIBLE.sub(_replacement, text)
    if "\u200c" in text or "\u200d" in text:
        text = JOINERS_AT_EDGES.sub("", text)
    # NFC last: a removed character can leave a combining mark next to a letter it composes with ("A", U+200B,
    # U+0301 is "Á" once the zero-width space is gone). NFC first gave "A" + U+0301, not NFC, and a second call
    # composed it: the renderer escaped text that normalize_markdown then changed (found by Hypothesis).
    return unicodedata.normalize("NFC", text)


def _replacement(match: re.Match[str]) -> str:
    return " " if match.group() in CONTROL_SPACES else ""


def _normalize_line(raw_line: str) -> str | None:
    """One line outside code fences; ``None`` drops the line."""
    prefix, indent_width, content = _containers(raw_line)
    line = _single_spaced(content)
    if VOLATILE_LINES.match(line):
        return None
    if RULE.match(line):
        line = "---"
    else:
        line = BULLET.sub("- ", line)
        line = _normalize_inline(line)
        if RULE.match(line):  # "------***" is a rule once the empty emphasis is gone (found by Hypothesis)
            line = "---"
    if not line:
        return prefix.rstrip()
    # Every line keeps its indent as it is, and in a block quote the indent after its "> " (the renderer indents
    # nothing else): a nested list item stands at its parent's content column, 2 spaces under "- ", 3 under "1. ",
    # 4 under "10. " (CommonMark 0.31.2, 5.2), and so do an item's further paragraphs, quotes and tables. Rounded to
    # even, or dropped for an ordered item, the nesting under "1. " was lost and a reader saw a sibling list
    # (revision 14); dropped for a further paragraph, the list ended before it; dropped in a quote, a nested item
    # was its parent's sibling (revision 15, decision 0002).
    return prefix + " " * indent_width + line


def _indent(raw_line: str) -> str:
    """A line's indent, each space, tab or no-break space one column (the renderer indents with spaces only)."""
    return " " * (len(raw_line) - len(raw_line.lstrip(" \t\u00a0")))


def _containers(raw_line: str) -> tuple[str, int, str]:
    """A line's block quote markers (each ``>`` with the indent before it and the one space after it, as written),
    the indent after them and the rest. The renderer writes a quote's lines after ``> `` and an item's nested
    lines at its content column, so ``>   - b`` is an item nested in a quoted list, ``  > a`` a quote in an item."""
    parts = []
    position = 0
    while (marker := QUOTE_MARKER.match(raw_line, position)) is not None:
        parts.append(" " * len(marker.group(1)) + ">" + marker.group(2))
        position = marker.end()
    rest = raw_line[position:]
    content = rest.lstrip(" \t\u00a0")
    return "".join(parts), len(rest) - len(content), content


def _single_spaced(line: str) -> str:
    """One space between words, none at the ends: every Unicode space (no-break, thin, ideographic, ...)
    becomes a plain space. (str.split, not a regex substitution: several times faster on long lines.)"""
    return " ".join(line.split())


def _normalize_inline(line: str) -> str:
    """Inline substitutions repeated until nothing changes: one pass can uncover a match for another
    (``__bold__0:__bold__`` — found by Hypothesis), and the result must be idempotent."""
    for _ in range(INLINE_PASSES):
        settled = _inline_pass(line)
        if settled == line:
            break
        line = settled
    return line


def _inline_pass(line: str) -> str:
    """One pass of the substitutions outside code spans (CommonMark shows a code span's text as it is)."""
    if "`" not in line:
        return _joined_words_only(_single_spaced(_substituted(line)))
    pieces = []
    start = 0
    for span_start, span_end in _code_spans(line):
        pieces.append(_substituted(line[start:span_start]))
        pieces.append(line[span_start:span_end])
        start = span_end
    pieces.append(_substituted(line[start:]))
    return _joined_words_only(_single_spaced("".join(pieces)))


def _joined_words_only(line: str) -> str:
    """``line`` without the joiners a substitution left at a word's edge: ``Title`` + ZWNJ + ``******`` loses its
    empty emphasis here, and the joiner, which joined nothing, must go in this call, not the next (Hypothesis)."""
    if "\u200c" in line or "\u200d" in line:
        return JOINERS_AT_EDGES.sub("", line)
    return line


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Where the code spans of a line are: a backtick string not escaped by a backslash, to the next string of
    the same length (CommonMark 0.31.2, 6.1). The next closer is found by bisection among the strings of that
    length: scanning for it made a line of 10,000 escaped backticks take 16 s."""
    runs = [(run.start(), run.end()) for run in BACKTICKS.finditer(line)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    spans = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        start += backslashes_before(line, start) % 2  # "\`" is a backtick shown as it is
        same = by_length.get(end - start, [])
        later = bisect_right(same, index)
        if start < end and later < len(same):
            spans.append((start, runs[same[later]][1]))
            index = same[later] + 1
        else:
            index += 1
    return spans


def backslashes_before(text: str, position: int) -> int:
    """How many backslashes stand right before ``position``: an odd number escapes the character there."""
    count = 0
    while count < position and text[position - count - 1] == "\\":
        count += 1
    return count


def _substituted(line: str) -> str:
    # The substitutions run only on lines holding their trigger characters: most lines hold none (speed).
    if "_" in line:
        line = BOLD_UNDERSCORE.sub(r"**\1**", line)
        line = EM_UNDERSCORE.sub(r"*\1*", line)
    if "**" in line:
        line = EMPTY_EMPHASIS.sub("", line)
    if "<" in line:
        line = AUTOLINK.sub(lambda match: f"[{match.group(1)}]({clean_url(match.group(1))})", line)
    if "](" in line:
        line = LINK.sub(_canonical_link, line)
    return line


def _canonical_link(match: re.Match[str]) -> str:
    bang, label, url = match.group(1), match.group(2).strip(), clean_url(match.group(3))
    if not url:
        return label
    return f"{bang}[{label}]({url})"


def clean_url(url: str) -> str:
    """Drop session ids and tracking parameters from a URL, keeping everything else as written."""
    url = SESSION_PATH.sub("", url)
    if "?" not in url:
        return url
    parts = urlsplit(url)
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    filtered = [(key, value) for key, value in kept if not VOLATILE_PARAMS.match(key)]
    if len(filtered) == len(kept):
        return url
    return urlunsplit(parts._replace(query=urlencode(filtered, safe="/:@!$'()*,;")))


def _setext_to_atx(lines: list[str], code: set[int]) -> list[str]:
    """``Title`` underlined with ``===``/``---`` becomes ``# Title``/``## Title`` (one heading style only); code
    lines (indices in ``code``, kept in the result) are no heading's text or underline."""
    result: list[str] = []
    for index, line in enumerate(lines):
        if index in code or index - 1 in code:
            result.append(line)
            continue
        previous = result[-1] if result else ""
        underline = SETEXT.match(line) or (line == "---" and previous)
        # lstrip: a nested list item keeps its indent and is no paragraph either (found by Hypothesis)
        is_paragraph_line = (
            previous
            and not previous.startswith(" ")  # an item's paragraph or a nested item: no setext heading's text
            and not previous.lstrip().startswith(("#", "- ", ">", "|", "```", "~~~"))
        )
        if underline and is_paragraph_line and (len(result) < 2 or result[-2] == ""):
            level = "#" if line.startswith("=") else "##"
            result[-1] = f"{level} {previous}"
            continue
        result.append(line)
    return result


def _settle_blank_lines(lines: list[str], code: set[int]) -> str:
    """At most one blank line between blocks, none at the ends, one final newline; a code block's blank lines
    (indices in ``code``) are its text and stay."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line or index in code or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""
