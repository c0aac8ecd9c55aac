"""Word-level differences between two versions of a text, as HTML blocks with ``<ins>`` and ``<del>``.

Texts are compared paragraph by paragraph first (blocks separated by blank lines, as the Markdown is written),
then word by word inside paragraphs that were edited rather than replaced: a reader sees the one sentence that
changed, not a whole rewritten paragraph, and unchanged paragraphs are folded away except around a change.

Both comparisons run in bounded time on any input (a report must end: with difflib on every token, a paragraph
of 2,000 ids that all change took 454 s, and one 150,000-word paragraph, as a policy served in ``<pre>``
extracts, had not ended after 300 s): see :func:`align`. Where the bound is reached, a stretch is shown whole
(removed, then added) and the page says so.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from html import escape
from itertools import pairwise

from policy_archive.pipeline.extraction.escaping import reader_text
from policy_archive.text import plural

# A word (with inner apostrophes and hyphens) or a single punctuation mark, with the spacing before it; or the
# spacing that ends a text. Words are compared without their spacing: text re-wrapped at another width is the
# same text (white space is not a token of its own: difflib's cost grows with how often a token repeats).
TOKEN = re.compile(r"\s*(?:\w+(?:['’-]\w+)*|[^\w\s])|\s+")
# Two paragraphs at least this similar (share of equal words) are shown as one edited paragraph.
EDITED = 0.5
CONTEXT = 1  # unchanged paragraphs shown on each side of a change
# Work (elementary steps, see Work) allowed per compared item, plus a fixed allowance, for one change. Real
# policies' changes measured took at most 40 per word (a paragraph of 1,600 words replaced by another policy's
# text), so only inputs built to be hard reach it; the hardest found (one word repeated) stop at about 160.
WORK_PER_ITEM = 256
WORK_BASE = 50_000
# difflib's SequenceMatcher finds the longest equal run first, which reads best, but its cost grows with how
# often items repeat: it is used only on stretches whose worst case (see _matcher_cost) is at most this.
MATCHER_WORK = 5000
ANCHOR_WIDTHS = (1, 2, 4, 8, 16)  # runs of items tried in turn as anchors (see _cut)
WHOLE_NOTE = (
    "Parts of this paragraph are shown whole (removed, then added): too large to compare word by word in bounded time."
)
PARAGRAPHS_NOTE = (
    "Paragraphs here are compared in their order: too many changed paragraphs to match them up in bounded time."
)
SPACING_NOTE = "Only the spacing or line breaks of this paragraph changed."
ESCAPES_NOTE = (
    "Only how the file writes the text changed (its Markdown escapes, blank lines or spacing around paragraphs): the "
    "text reads the same."
)


@dataclass(frozen=True)
class Block:
    """One paragraph of a change: ``same`` (context), ``edited``, ``added``, ``removed``; ``folded`` or ``note``."""

    kind: str
    html: str


@dataclass
class Work:
    """Elementary steps spent by one comparison (an item looked at, counted or compared), within ``limit``."""

    limit: int
    spent: int = 0

    def take(self, steps: int) -> bool:
        """Spend ``steps`` if the limit allows them (True); else spend nothing (False)."""
        if self.spent + steps > self.limit:
            return False
        self.spent += steps
        return True


Match = tuple[int, int, int]  # equal runs: where in a, where in b, how many items


@dataclass(frozen=True)
class Alignment:
    """Equal runs ``(i, j, size)`` of two sequences in order, and whether a stretch was given up on (too large)."""

    matches: tuple[Match, ...]
    whole: bool
    work: int  # steps spent by its Work so far

    def opcodes(self, a_size: int, b_size: int) -> Iterator[tuple[str, int, int, int, int]]:
        """``equal``/``replace``/``delete``/``insert`` ranges, as difflib's ``get_opcodes``."""
        i = j = 0
        for a_at, b_at, size in (*self.matches, (a_size, b_size, 0)):
            if i < a_at or j < b_at:
                tag = "replace" if i < a_at and j < b_at else "delete" if i < a_at else "insert"
                yield tag, i, a_at, j, b_at
            if size:
                yield "equal", a_at, a_at + size, b_at, b_at + size
            i, j = a_at + size, b_at + size


def budget(a_size: int, b_size: int) -> Work:
    """The allowance of work for comparing sequences of ``a_size`` and ``b_size`` items: :data:`WORK_PER_ITEM` steps
    per item plus :data:`WORK_BASE`, linear in the input so that any change ends in bounded time.
    :func:`change_blocks` takes one for a whole change, its items the tokens (words and punctuation marks)."""
    return Work(WORK_PER_ITEM * (a_size + b_size) + WORK_BASE)


def _pairs(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """How many pairs of equal items ``a`` and ``b`` have (0: nothing in common)."""
    counts = Counter(b)
    return sum(counts[item] for item in a)


def _matcher_cost(a_size: int, b_size: int, pairs: int) -> int:
    """An upper bound on SequenceMatcher's steps: each ``find_longest_match`` looks at every item of its range
    of ``a`` and every equal pair; it is called at most twice per equal run found, plus once."""
    return b_size + (a_size + pairs) * (2 * min(pairs, a_size, b_size) + 1)


def _matched(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Match]:
    return [tuple(block) for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()[:-1]]


def _runs(items: Sequence[Hashable], width: int) -> Sequence[Hashable]:
    """Every run of ``width`` items, as a tuple (the items themselves for 1)."""
    return items if width == 1 else list(zip(*(items[start:] for start in range(width)), strict=False))


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest series of ``pairs`` (in order of their first position) whose second positions increase:
    patience sorting, where ``tails[k]`` ends the best series of ``k + 1`` found so far."""
    tails: list[int] = []
    tail_pair: list[int] = []
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_pair.append(index)
        else:
            tails[length] = j
            tail_pair[length] = index
        previous.append(tail_pair[length - 1] if length else -1)
    chain = []
    index = tail_pair[-1] if tail_pair else -1
    while index >= 0:
        chain.append(pairs[index])
        index = previous[index]
    return chain[::-1]


def _anchors(a: Sequence[Hashable], b: Sequence[Hashable], width: int) -> list[tuple[int, int]]:
    """Runs of ``width`` items found exactly once on each side, as pairs of start positions, the longest series
    in the same order on both sides that do not overlap (patience diff's anchors, found in n log n however
    the items repeat)."""
    runs_a, runs_b = _runs(a, width), _runs(b, width)
    count_a, count_b = Counter(runs_a), Counter(runs_b)
    where_b = {run: j for j, run in enumerate(runs_b) if count_b[run] == 1}
    pairs = [(i, where_b[run]) for i, run in enumerate(runs_a) if count_a[run] == 1 and run in where_b]
    kept: list[tuple[int, int]] = []
    for i, j in _increasing(pairs):
        if not kept or (i >= kept[-1][0] + width and j >= kept[-1][1] + width):
            kept.append((i, j))
    return kept


def _cut(a: Sequence[Hashable], b: Sequence[Hashable], work: Work) -> tuple[list[tuple[int, int]], int]:
    """Anchors of ``a`` and ``b`` and their width: single items first, else ever longer runs (a text of few
    distinct words repeats each of them, but rarely the same run of 8 or 16)."""
    for width in ANCHOR_WIDTHS:
        # Each run is hashed about 5 times (counted, looked up), each hash and match looking at its items.
        if width > min(len(a), len(b)) or not work.take(5 * width * (len(a) + len(b))):
            break
        anchors = _anchors(a, b, width)
        if anchors:
            return anchors, width
    return [], 0


Piece = tuple[int, int, int, int]  # a_lo, a_hi, b_lo, b_hi


def _ends(a: Sequence[Hashable], b: Sequence[Hashable], piece: Piece) -> tuple[int, int]:
    """How many items ``a`` and ``b`` have equal at the start of ``piece``, then (of the rest) at its end."""
    a_lo, a_hi, b_lo, b_hi = piece
    start = 0
    while a_lo + start < a_hi and b_lo + start < b_hi and a[a_lo + start] == b[b_lo + start]:
        start += 1
    end = 0
    while a_lo + start < a_hi - end and b_lo + start < b_hi - end and a[a_hi - end - 1] == b[b_hi - end - 1]:
        end += 1
    return start, end


def _middle(a: Sequence[Hashable], b: Sequence[Hashable], work: Work) -> tuple[list[Match], list[Piece]] | None:
    """Equal runs of ``a`` and ``b`` (both non-empty, their ends differ) and the pieces between them left to
    align; None when given up on (no anchor, or ``work`` spent)."""
    if not work.take(2 * (len(a) + len(b))):  # _pairs: counted, looked up
        return None
    pairs = _pairs(a, b)
    if not pairs:  # nothing in common: a replacement, exactly
        return [], []
    cost = _matcher_cost(len(a), len(b), pairs)
    if cost <= MATCHER_WORK and work.take(cost):
        return _matched(a, b), []
    anchors, width = _cut(a, b, work)
    if not anchors:  # a stretch of common words only: difflib, if affordable
        return (_matched(a, b), []) if work.take(cost) else None
    bounds = [(-width, -width), *anchors, (len(a), len(b))]
    pieces = [(i + width, next_i, j + width, next_j) for (i, j), (next_i, next_j) in pairwise(bounds)]
    return [(i, j, width) for i, j in anchors], pieces


def align(a: Sequence[Hashable], b: Sequence[Hashable], work: Work | None = None) -> Alignment:
    """Equal runs of ``a`` and ``b`` in bounded work: common ends are matched first; a small middle goes to
    difflib; a large one is cut at the items found once on each side (patience diff; else at runs of items
    found once), and each piece between them goes round again. A piece that cannot be cut, or reached when
    ``work`` is spent, is left unmatched (shown removed, then added) and the alignment says so; a piece with no
    item in common is simply replaced.
    """
    work = work or budget(len(a), len(b))
    matches: list[Match] = []
    whole = False
    pieces: list[Piece] = [(0, len(a), 0, len(b))]
    while pieces:
        piece = pieces.pop()
        a_lo, a_hi, b_lo, b_hi = piece
        if not work.take(min(a_hi - a_lo, b_hi - b_lo) + 1):  # _ends
            whole = True
            continue
        start, end = _ends(a, b, piece)
        matches += [(a_lo, b_lo, start), (a_hi - end, b_hi - end, end)]
        a_lo, a_hi, b_lo, b_hi = a_lo + start, a_hi - end, b_lo + start, b_hi - end
        found = _middle(a[a_lo:a_hi], b[b_lo:b_hi], work) if a_lo < a_hi and b_lo < b_hi else ([], [])
        if found is None:
            whole = True
            continue
        matches += [(a_lo + i, b_lo + j, size) for i, j, size in found[0]]
        pieces += [(a_lo + i1, a_lo + i2, b_lo + j1, b_lo + j2) for i1, i2, j1, j2 in found[1]]
    return Alignment(_merged(sorted(match for match in matches if match[2])), whole, work.spent)


def _merged(matches: list[Match]) -> tuple[Match, ...]:
    """Adjacent equal runs joined into one."""
    merged: list[Match] = []
    for i, j, size in matches:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + size)
        else:
            merged.append((i, j, size))
    return tuple(merged)


@dataclass(frozen=True)
class WordDiff:
    """The edit between two paragraphs: the new text as HTML with ``<ins>`` and ``<del>`` (escaped); how much of it
    is equal, from 0 to 1 (two empty texts: 1); and whether a stretch was shown whole because its work ran out."""

    html: str
    similarity: float  # share of words equal on both sides, 0 to 1
    whole: bool  # a stretch was shown whole: too large to compare word by word in bounded time


def _spacing(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _edit(removed: str, added: str) -> str:
    """A replaced stretch; the spacing before it, when both sides have some, is shown outside the marks."""
    if not added:
        return f"<del>{escape(removed)}</del>"
    if not removed:
        return f"<ins>{escape(added)}</ins>"
    space = _spacing(added) if _spacing(removed) else ""
    removed, added = (removed.lstrip(), added.lstrip()) if space else (removed, added)
    return f"{escape(space)}<del>{escape(removed)}</del><ins>{escape(added)}</ins>"


def _removed(before: list[str], i1: int, i2: int, after: list[str], j2: int) -> str:
    """Removed tokens ``before[i1:i2]``; with the spacing that followed them when the next (unchanged) word has
    none in the new text, which starts with it: else "If you" less "If" would show as "<del>If</del>you"."""
    removed = "".join(before[i1:i2])
    if removed and i2 < len(before) and j2 < len(after) and not _spacing(after[j2]):
        removed += _spacing(before[i2])
    return removed


def word_diff(old: str, new: str, work: Work | None = None) -> WordDiff:
    """The edit from ``old`` to ``new`` as HTML (unchanged words with ``new``'s spacing), within ``work``."""
    before, after = TOKEN.findall(old), TOKEN.findall(new)
    words_before, words_after = [token.lstrip() for token in before], [token.lstrip() for token in after]
    alignment = align(words_before, words_after, work)
    parts = []
    for tag, i1, i2, j1, j2 in alignment.opcodes(len(before), len(after)):
        if tag == "equal":
            parts.append(escape("".join(after[j1:j2])))
        else:
            parts.append(_edit(_removed(before, i1, i2, after, j2), "".join(after[j1:j2])))
    equal = sum(size for _, _, size in alignment.matches)
    total = len(before) + len(after)
    return WordDiff("".join(parts), 2 * equal / total if total else 1.0, alignment.whole)


def _replaced(old: list[str], new: list[str], work: Work) -> Iterator[Block]:
    """Paragraphs replaced by others: paired in order, edited when alike, else removed then added."""
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before is not None and after is not None:
            diff = word_diff(before, after, work)
            if diff.whole:
                yield Block("note", WHOLE_NOTE)
            if diff.similarity >= EDITED:
                yield Block("edited", diff.html)
                if "<ins>" not in diff.html and "<del>" not in diff.html:
                    yield Block("note", SPACING_NOTE)
                continue
        if before is not None:
            yield Block("removed", f"<del>{escape(before)}</del>")
        if after is not None:
            yield Block("added", f"<ins>{escape(after)}</ins>")


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs, as the Markdown is written: split at blank lines (a line of only spaces counts as
    blank), each stripped, empty ones left out."""
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def _unchanged(texts: list[str], first: bool, last: bool) -> Iterator[Block]:
    """Unchanged paragraphs: ``CONTEXT`` of them next to each change, the rest folded into one note."""
    keep_start = 0 if first else CONTEXT
    keep_end = 0 if last else CONTEXT
    if len(texts) <= keep_start + keep_end + 1:
        yield from (Block("same", escape(text)) for text in texts)
        return
    yield from (Block("same", escape(text)) for text in texts[:keep_start])
    folded = len(texts) - keep_start - keep_end
    yield Block("folded", f"{folded} unchanged {plural(folded, 'paragraph')}")
    yield from (Block("same", escape(text)) for text in texts[len(texts) - keep_end :])


def shown_paragraphs(text: str) -> list[str]:
    """The paragraphs of a version's Markdown as a reader reads their words (:func:`paragraphs`, each one's backslash
    escapes read as the punctuation they stand for: ``escaping.reader_text``). The version file keeps the escapes;
    a difference shows what the text says, not how the file had to write it (``1\\.``, ``\\*``, ``\\_``)."""
    return [reader_text(part) for part in paragraphs(text)]


def change_blocks(old_text: str, new_text: str) -> list[Block]:
    """What changed from ``old_text`` to ``new_text``, paragraph by paragraph, with a little context: the words as a
    reader reads them (:func:`shown_paragraphs`); a change of the file's escapes or blank lines only is said so."""
    old, new = shown_paragraphs(old_text), shown_paragraphs(new_text)
    if old == new and old_text != new_text:  # nothing a reader sees changed (a re-extraction escaping anew)
        return [Block("note", ESCAPES_NOTE), *_unchanged(old, first=True, last=True)]
    # One allowance for the whole change, paragraphs and words: a thousand small hard paragraphs cost no more
    # than one large one of the same words.
    work = budget(len(TOKEN.findall(old_text)), len(TOKEN.findall(new_text)))
    alignment = align(old, new, work)
    opcodes = list(alignment.opcodes(len(old), len(new)))
    blocks: list[Block] = [Block("note", PARAGRAPHS_NOTE)] if alignment.whole else []
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            blocks += _unchanged(old[i1:i2], first=position == 0, last=position == len(opcodes) - 1)
        else:
            blocks += _replaced(old[i1:i2], new[j1:j2], work)
    return blocks
