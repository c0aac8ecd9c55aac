"""Text that is safe to put into a commit message, a log line or a header: one line, no control characters.

Configuration values (service names, user agent, URLs) are *refused* when they hold such characters; text from
pages (titles) is *cleaned* with :func:`one_line`, because a page cannot be asked to fix itself. Text written into
XML or HTML is cleaned with :func:`markup_text`. And the one plural rule of our messages (:func:`plural`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from urllib.parse import quote

from policy_archive.hostnames import joiner_in_context

# Unicode categories that never belong in a one-line value: controls (NUL, CR, LF, ESC, DEL, NEL ...),
# line and paragraph separators (str.splitlines() breaks on them) and lone surrogates. (Unassigned code points
# are left alone: which ones are unassigned depends on the Python version, and titles must not.)
_UNSAFE_CATEGORIES = {"Cc", "Zl", "Zp", "Cs"}
# Bidirectional overrides and isolates reorder what a terminal shows ("Trojan Source", CVE-2021-42574).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters no XML 1.0 document may hold, not even as a character reference (its "Char" production): C0
# controls but TAB, LF and CR, lone surrogates, U+FFFE and U+FFFF; with them DEL and the C1 controls, which XML 1.0
# discourages and HTML calls parse errors. A browser shows none of them.
_NOT_MARKUP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# A quoted value shows at most this many characters: enough to recognise a line of a list, short enough for one line.
QUOTE_LIMIT = 80


def is_unsafe_character(character: str) -> bool:
    """Whether ``character`` must not appear in a one-line value: a control, a line or paragraph separator, a lone
    surrogate or a bidirectional override or isolate."""
    return unicodedata.category(character) in _UNSAFE_CATEGORIES or character in _BIDI_CONTROLS


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that must not appear in a one-line value, as ``U+000A``; or None."""
    for character in text:
        if is_unsafe_character(character):
            return f"U+{ord(character):04X}"
    return None


# Joiners some scripts need (the Indic scripts after a virama, Persian between joining letters): the one format
# characters (Unicode category Cf) a name may hold, and only where IDNA 2008 lets a domain name hold them.
_JOINERS = frozenset("\u200c\u200d")
# Unicode's Default_Ignorable_Code_Point property: the code points a renderer shows as nothing when it has no glyph
# for them, as DerivedCoreProperties.txt of Unicode 16.0.0 lists them (4,174 code points; the set unchanged since
# Unicode 14.0.0 added U+180F; written out 2026-11-29, and the same 4,174 as the `regex` package's
# ``\p{Default_Ignorable_Code_Point}`` in its version 2026.11.19). Besides category Cf, it holds letters (the
# Hangul fillers), marks (the combining grapheme joiner, the variation selectors) and reserved code points: a name
# holding one looks like another (outside audit 31, F4: ``Exa\u3164mple`` passed as ``Example``). Inclusive
# ranges, in order.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),  # Cf SOFT HYPHEN
    (0x034F, 0x034F),  # Mn COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # Cf ARABIC LETTER MARK
    (0x115F, 0x1160),  # Lo HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # Mn KHMER VOWEL INHERENT AQ, AA
    (0x180B, 0x180D),  # Mn MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180E, 0x180E),  # Cf MONGOLIAN VOWEL SEPARATOR
    (0x180F, 0x180F),  # Mn MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0x200B, 0x200F),  # Cf ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # Cf LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x206F),  # Cf WORD JOINER..NOMINAL DIGIT SHAPES (U+2065 reserved)
    (0x3164, 0x3164),  # Lo HANGUL FILLER
    (0xFE00, 0xFE0F),  # Mn VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # Cf ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # Lo HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # Cn reserved
    (0x1BCA0, 0x1BCA3),  # Cf SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # Cf MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0FFF),  # Cf LANGUAGE TAG, TAG SPACE..CANCEL TAG; Mn VARIATION SELECTOR-17..256; Cn reserved
)
# Not default ignorable, but drawn as blank space in the fonts that have them: a name padded with one looks like
# another just the same (outside audit 31, F4; the Hangul fillers, drawn so too, are default ignorable above).
_BLANK_LOOKING = (
    (0x2800, 0x2800),  # So BRAILLE PATTERN BLANK
    (0x1D159, 0x1D159),  # So MUSICAL SYMBOL NULL NOTEHEAD
)
_INVISIBLE = tuple(sorted(_DEFAULT_IGNORABLE + _BLANK_LOOKING))
_INVISIBLE_STARTS = tuple(start for start, _ in _INVISIBLE)
# Variation selectors choose how the character before them is drawn, but only for the characters Unicode gives
# variation sequences: kept there, refused anywhere else, where the name draws as the one without (issue 11,
# 2026-11-29: ``Café\ufe0f`` passed and shows as ``Café``). Python's unicodedata has neither StandardizedVariants.txt
# nor emoji-variation-sequences.txt, so this is a small rule after them (their Unicode 15.1 and 16.0 versions,
# written 2026-11-29): the Mongolian free variation selectors after a Mongolian letter (its positional forms);
# VS1..VS16 after a non-ASCII math or other symbol (categories Sm, So: the emoji and text forms of ❤ ☺ ↔ ©, the
# serifed ∩) and after the five non-ASCII emoji bases of other categories (‼ ⁉ ℹ 〰 〽); VS1..VS3 after a CJK
# unified ideograph (the CJK compatibility variants use only those); VS17..VS256, the ideographic variation
# sequences of the IVD, after a CJK unified ideograph only. Left out, so refused: the few letters of other scripts
# with standardized variants (Myanmar, Phags-pa, Manichaean: VS1), and the ASCII bases (keycaps, ``0\ufe00``).
_MONGOLIAN_SELECTORS = ((0x180B, 0x180D), (0x180F, 0x180F))
_VS1_TO_VS16 = ((0xFE00, 0xFE0F),)
_VS1_TO_VS3 = ((0xFE00, 0xFE02),)
_IDEOGRAPHIC_SELECTORS = ((0xE0100, 0xE01EF),)
_EMOJI_BASES_NOT_SYMBOLS = frozenset("\u203c\u2049\u2139\u3030\u303d")
_MONGOLIAN_BLOCK = (0x1800, 0x18AF)


def _listed(character: str, ranges: Sequence[tuple[int, int]], starts: Sequence[int]) -> bool:
    at, point = bisect_right(starts, ord(character)) - 1, ord(character)
    return at >= 0 and point <= ranges[at][1]


def _invisible(character: str) -> bool:
    return unicodedata.category(character) == "Cf" or _listed(character, _INVISIBLE, _INVISIBLE_STARTS)


def invisible_character(text: str) -> str | None:
    """The first invisible character of ``text`` as ``U+200B``, or None: a format character (Unicode category Cf:
    U+200B zero width space, U+FEFF, U+00AD soft hyphen, U+2060 word joiner, the bidi controls...), any other
    default ignorable code point (U+3164 Hangul filler, U+034F combining grapheme joiner, the variation selectors,
    reserved ones...) or a character drawn blank (U+2800 braille pattern blank). Such a character makes a name look
    like another one (``A\u200bB`` shows as ``AB``; outside audit A, F3, and audit 31, F4, 2026-11-29). Not
    counted: a zero width joiner or non-joiner where IDNA 2008 allows one in a domain name (RFC 5892's ContextJ:
    after a virama, as the Indic scripts write them, and a non-joiner between two joining letters, as Persian does:
    :func:`~policy_archive.hostnames.joiner_in_context`) — not elsewhere, emoji ZWJ sequences included (issue 11,
    2026-11-29) — and a variation selector right after a character Unicode gives variation sequences with it (the
    emoji ``❤\ufe0f``, a Mongolian letter's form, an ideograph's variant; not ``Café\ufe0f``, which shows as
    ``Café``: :func:`_varies`, issue 11, 2026-11-29)."""
    for at, character in enumerate(text):
        if not _invisible(character):
            continue
        before = text[at - 1] if at > 0 else ""
        if character in _JOINERS and joiner_in_context(text, at):
            continue
        if before and _varies(before, character) and not _invisible(before):
            continue
        return f"U+{ord(character):04X}"
    return None


def lookalike_space(text: str) -> str | None:
    """The first space of ``text`` that is not U+0020 as ``U+00A0``, or None: any other character of Unicode's
    category Zs (the no-break space U+00A0, the hair space U+200A, the thin spaces U+2009 and U+202F, the em and
    en spaces, the ideographic space U+3000...). Each shows as a space, or as nothing much (a hair space between
    two letters): a name holding one looks like another with a plain space or none (issue 11, 2026-11-29). Refused
    in names rather than made plain spaces, as every character that makes a name look like another is: the name
    a person wrote is the one recorded, or none."""
    for character in text:
        if character != " " and unicodedata.category(character) == "Zs":
            return f"U+{ord(character):04X}"
    return None


def _varies(base: str, selector: str) -> bool:
    """Whether ``selector`` (any character) is a variation selector that Unicode gives variation sequences of
    ``base`` with, by the rule written above :data:`_MONGOLIAN_SELECTORS`."""
    point = ord(selector)
    if _in(point, _MONGOLIAN_SELECTORS):
        low, high = _MONGOLIAN_BLOCK
        return low <= ord(base) <= high and unicodedata.category(base)[0] == "L"
    ideograph = unicodedata.name(base, "").startswith("CJK UNIFIED IDEOGRAPH-")
    if _in(point, _IDEOGRAPHIC_SELECTORS):
        return ideograph
    if _in(point, _VS1_TO_VS16):
        symbol = unicodedata.category(base) in ("Sm", "So") and not base.isascii()
        return symbol or base in _EMOJI_BASES_NOT_SYMBOLS or (ideograph and _in(point, _VS1_TO_VS3))
    return False


def _in(point: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(first <= point <= last for first, last in ranges)


def one_line(text: str) -> str:
    """``text`` as one line: every control character, line break or bidi control becomes a space, runs of
    whitespace collapse to one space, and the ends are stripped."""
    cleaned = "".join(" " if is_unsafe_character(character) else character for character in text)
    return " ".join(cleaned.split())


def markup_text(text: str) -> str:
    """``text`` without the characters an XML or HTML document must not hold (:data:`_NOT_MARKUP`): for the
    report's pages and feeds, whose texts come from versions that may predate extraction dropping them (extractor
    revision 10) or were never extracted by us. One dropped control makes a feed not well-formed: a reader then
    rejects every entry."""
    return _NOT_MARKUP.sub("", text)


def printable(text: str) -> str:
    """``text`` with every unsafe character written as an escape (``\\n``, ``\\x1b``, ``\\u202e``): for messages
    that must stay one line and show exactly what was found."""
    if unsafe_character(text) is None:
        return text
    return "".join(repr(character)[1:-1] if is_unsafe_character(character) else character for character in text)


def quoted(text: str) -> str:
    """``text`` between quotes for a one-line message, its unsafe characters escaped (:func:`printable`) and at
    most :data:`QUOTE_LIMIT` characters of it shown (then ``…``): a line of a user's file, however long or odd,
    quoted in a line a person can read."""
    return f"'{clipped(text)}'"


def clipped(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` for a one-line message, without quotes: its unsafe characters escaped (:func:`printable`) and at
    most ``limit`` characters of it shown (then ``…``): what another library says of a value (it may repeat the
    value whole) put in a line a person can read."""
    shown: list[str] = []
    length = 0
    for character in text:
        piece = printable(character)
        if length + len(piece) > limit:
            return f"{''.join(shown)}…"
        shown.append(piece)
        length += len(piece)
    return "".join(shown)


def first_few(items: Sequence[str], limit: int) -> str:
    """``a, b, c, …``: the first ``limit`` of ``items``, and an ellipsis when there are more."""
    return ", ".join([*items[:limit], *(["…"] if len(items) > limit else [])])


def safe_url(url: str) -> str:
    """``url`` with every unsafe or whitespace character percent-encoded, as a browser would send it: still the
    same address, and safe to write on one line (a commit trailer, a header, a log)."""
    return "".join(
        quote(character, safe="", errors="surrogatepass")
        if is_unsafe_character(character) or character.isspace()
        else character
        for character in url
    )


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``noun`` as it goes after ``count``: ``version`` for 1, ``versions`` otherwise (``many`` when the plural
    is not the noun plus ``s``). Every message that counts uses it, so that none says "1 versions"."""
    return noun if count == 1 else many or f"{noun}s"


def counted(count: int, noun: str, many: str | None = None) -> str:
    """``1 version``, ``1,234 words``: the count (with thousands separators) and :func:`plural`'s noun."""
    return f"{count:,} {plural(count, noun, many)}"
