"""What extraction removed from inside the located content, and when a page counts as hard (issue 12).

Extraction drops page furniture, hidden blocks and cookie notices before it locates the document, and trims
link lists at the located content's edges. Whatever of that lay *inside* the located content (or inside the
declared ``select`` elements) may have been part of the document: it is reported as ``Dropped`` records so a
reviewer can check. Furniture dropped outside (the site's header, its footer) is what extraction is for, and
what the declared ``remove`` selectors remove is the declaration's choice: neither is reported. What the locator
left beside the block it chose as the content (siblings of that block and of its ancestors that were not
dropped as furniture) is reported, as ``navigation`` when mostly links and ``outside-content`` otherwise: it may
be the document's (audit of 2026-11-29: Qwen's terms lost their preamble so, unsaid). What the HTML parser
could not read (past its depth limit) is reported wherever it lay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import lxml.html

from policy_archive.records import Dropped

# At most this many records, the largest first; smaller ones are folded into one record per reason, so the
# totals stay exact and a page of a thousand dropped icons still gives a short list.
MAX_DROPPED = 8
SAMPLE_WORDS = 12
# A page is hard when this many words went from inside the located content (a short "Share" bar or an icon
# label does not make it so; the 343 words of a side navigation that leaked before the text do), or when a
# page of several documents was cut to one, or the parser did not read all of it. Chosen on the OTA
# benchmark's 88 pages (see decision 0002).
HARD_WORDS = 150
OTHER_DOCUMENT = "other-document"
# Text the locator left beside the block it located as the content (not furniture, not links): reported, since it
# may be the document's own (a title and date set apart from the body).
OUTSIDE_CONTENT = "outside-content"
# The HTML parser stopped at its depth limit and never read the rest of the page (``extraction.parse``): hard
# whatever the count, since what was not read is unknown text.
TOO_DEEP = "too-deep"
CJK_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# Words inside links, as a share of all words, from which a block is navigation rather than text.
LINK_BLOCK_SHARE = 0.7


def word_count(text: str) -> int:
    """Words separated by spaces, plus one per CJK character (those scripts write no spaces)."""
    if not text or text.isspace():
        return 0
    words = len(text.split())
    return words if text.isascii() else words + len(CJK_CHARACTER.findall(text))


def is_link_block(element: lxml.html.HtmlElement) -> bool:
    """Mostly links (navigation, share buttons, link lists), or no text at all."""
    words = word_count(element.text_content())
    if words == 0:
        return True
    link_words = sum(word_count(link.text_content()) for link in element.iter("a"))
    return link_words >= LINK_BLOCK_SHARE * words


def sample(text: str) -> str:
    """The first words of a text, on one line."""
    words = text.split()
    return " ".join(words[:SAMPLE_WORDS]) + (" …" if len(words) > SAMPLE_WORDS else "")


class DropLog:
    """Elements removed during one extraction, each with its reason and the element it was removed from."""

    def __init__(self) -> None:
        self._drops: list[tuple[str, lxml.html.HtmlElement, lxml.html.HtmlElement]] = []
        self._notes: list[Dropped] = []

    def drop_all(self, elements: Iterable[lxml.html.HtmlElement], reason: str | None) -> None:
        """Remove each of ``elements`` (:meth:`drop`), read whole first: removing one changes what a lazy search
        would find next."""
        for element in list(elements):
            self.drop(element, reason)

    def drop(self, element: lxml.html.HtmlElement, reason: str | None) -> None:
        """Remove ``element`` (and its subtree); ``reason`` None: removed by the declaration, not reported."""
        parent = element.getparent()
        if parent is None:
            return
        element.drop_tree()
        if reason is not None:
            self._drops.append((reason, element, parent))

    def note(self, dropped: Dropped) -> None:
        """A removal not made element by element (the other documents of a page)."""
        self._notes.append(dropped)

    def inside(self, root: lxml.html.HtmlElement) -> tuple[Dropped, ...]:
        """The records of what was removed from inside ``root`` (the located content), bounded."""
        found = [*self._notes]
        for reason, element, parent in self._drops:
            if _under(parent, root) and (words := word_count(element.text_content())):
                found.append(Dropped(reason, words, sample(element.text_content())))
        return bounded(found)


def _under(element: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    """``element`` is ``root`` or still lies under it (not removed with a larger block since)."""
    node: lxml.html.HtmlElement | None = element
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False


def bounded(records: Iterable[Dropped]) -> tuple[Dropped, ...]:
    """The largest ``MAX_DROPPED`` records, then one record per reason for the rest (totals stay exact)."""
    ordered = sorted(records, key=lambda d: (-d.words, d.reason, d.sample))
    rest: dict[str, list[int]] = {}
    for record in ordered[MAX_DROPPED:]:
        words_and_blocks = rest.setdefault(record.reason, [0, 0])
        words_and_blocks[0] += record.words
        words_and_blocks[1] += 1
    folded = [Dropped(reason, words, f"({blocks} smaller blocks)") for reason, (words, blocks) in rest.items()]
    return tuple(ordered[:MAX_DROPPED] + folded)


def is_hard(dropped: Iterable[Dropped]) -> bool:
    """Whether a page counts as hard (a reviewer should check it): :data:`HARD_WORDS` or more words dropped from
    inside the content in all, or any record of another document cut away or of text the parser did not read,
    whatever its size. No records: not hard."""
    records = list(dropped)
    return sum(d.words for d in records) >= HARD_WORDS or any(d.reason in (OTHER_DOCUMENT, TOO_DEEP) for d in records)


def hard_note(dropped: Iterable[Dropped]) -> str | None:
    """``dropped 343 words of navigation, 20 of hidden`` when the page was hard, else None."""
    records = list(dropped)
    if not is_hard(records):
        return None
    totals: dict[str, int] = {}
    for record in records:
        totals[record.reason] = totals.get(record.reason, 0) + record.words
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    parts = [f"{words} {'words ' if index == 0 else ''}of {reason}" for index, (reason, words) in enumerate(ranked)]
    return "dropped " + ", ".join(parts)
