"""Render an HTML list as Markdown: one line per item, what an item holds at its content column.

Part of the renderer (:class:`~policy_archive.pipeline.extraction.markdown.MarkdownRenderer` renders each item's
blocks and hands them here). A nested item stands at its parent item's content column (CommonMark 0.31.2, 5.2:
2 spaces under ``- ``, 3 under ``1. ``, 4 under ``10. ``), so that a reader nests it as the page does; an item
holding only a list of its list's kind gives its items in its place (decision 0002: no ``- - item``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import lxml.html

LIST_ITEM_START = re.compile(r"(?:-|\d+\.) ")


# What a list holds, rendered, in order (see :func:`render_list`): an ``<li>``'s blocks, the blocks of another
# element written directly in the list, or the paragraphs of text (and inline elements) written directly in it.
ITEM, OTHER, TEXT = "item", "other", "text"
ListEntry = tuple[str, list[str]]


def render_list(entries: Iterable[ListEntry], ordered: bool, start: int, *, indented: bool) -> list[str]:
    """A list's items as one Markdown block (none if no item holds text), what is nested in each at its content
    column; ``entries``: what the list holds, rendered (``ITEM``, ``OTHER`` or ``TEXT`` and its blocks). Not
    ``indented`` (deeper than the renderer's ``MAX_RENDERED_NESTING``), what an item holds stands at its list's
    indent: the text is kept, the nesting lost.

    Text written directly in a list, outside any ``<li>`` (invalid HTML, which browsers show: Qwen's privacy
    policy writes each lettered clause as ``<ol>(a) …</ol>``), is shown where a browser shows it: before the
    first item, as paragraphs before the list; after an item, as a paragraph of that item (at its content column,
    where a browser indents it), never as an item of its own, which would give it a number it does not have."""
    items: list[_Item] = []
    before: list[str] = []
    number = start
    for kind, blocks in entries:
        if not "".join(blocks).strip():
            continue
        if kind == TEXT:
            if items:
                items[-1].nest(_join_item_blocks(blocks), indented=indented)
            else:
                before.extend(blocks)
            continue
        if LIST_ITEM_START.match(blocks[0]):
            if kind != ITEM and items:
                # A list written directly in a list (`<ul><li>a</li><ul>…</ul></ul>`): browsers show it under
                # the item before, one level deeper; so it goes there, at that item's content column.
                items[-1].nest(_join_item_blocks(blocks), indented=indented)
                continue
            if blocks[0].startswith("-") != ordered:
                # An item holding only a list of this list's kind (`<li><ul>…</ul></li>`): its items take its
                # place (decision 0002: no "- - item"), whatever follows them going under the last of them.
                items.append(_Item.spliced(blocks[0]))
                if blocks[1:]:
                    items[-1].nest(_join_item_blocks(blocks[1:]), indented=indented)
                continue
            # Of the other kind it stays an item of its own, "- 1. item", as browsers show it (the item's
            # marker, then the list's): unindented, its items would start a sibling list.
        marker = f"{number}." if ordered else "-"
        number += 1
        items.append(_Item.marked(marker, _join_item_blocks(blocks), indented=indented))
    return before + (["\n".join(item.text() for item in items)] if items else [])


def list_start(element: lxml.html.HtmlElement) -> int:
    """The number of an ordered list's first item (``start``, else 1)."""
    start = element.get("start", "1")
    return int(start) if start.isdigit() else 1


def _join_item_blocks(blocks: list[str]) -> str:
    """A list item's blocks; a nested list follows its item's text directly, keeping the list tight."""
    joined = blocks[0] if blocks else ""
    for block in blocks[1:]:
        joined += _separator(block) + block
    return joined


def _separator(block: str) -> str:
    """What goes between an item's text and ``block``: a nested list follows it directly, keeping the list tight,
    if it can interrupt a paragraph; an ordered list starting at another number than 1 cannot (CommonMark 0.31.2,
    5.2: "9. x" right under a line of text continues that text), so it comes after a blank line."""
    return "\n" if block.startswith(("- ", "1. ")) else "\n\n"


class _Item:
    """A list item being rendered: its text so far (kept as parts, so that nesting many lists under one item is not
    quadratic), and the column its content starts at, where what is nested under it goes."""

    def __init__(self, first: str, column: int) -> None:
        self.parts = [first]
        self.column = column

    @classmethod
    def marked(cls, marker: str, content: str, *, indented: bool) -> _Item:
        """An item of ``content`` after ``marker``: its lines after the first at the content column."""
        first, _, rest = content.partition("\n")
        item = cls(f"{marker} {first}", len(marker) + 1)
        if rest:
            item.parts.append("\n" + item._indented(rest, indented))
        return item

    @classmethod
    def spliced(cls, rendered_list: str) -> _Item:
        """A rendered list standing in an item's place: what is nested later goes under its last item."""
        return cls(rendered_list, _last_item_column(rendered_list))

    def nest(self, content: str, *, indented: bool) -> None:
        """Blocks (a nested list, or what follows one) added under the item, at its content column."""
        self.parts.append(_separator(content) + self._indented(content, indented))

    def _indented(self, lines: str, indented: bool) -> str:
        """Lines at the item's content column; deeper than MAX_RENDERED_NESTING, at its list's indent."""
        if not indented:
            return lines
        indent = " " * self.column
        return "\n".join(f"{indent}{line}" if line else "" for line in lines.split("\n"))

    def text(self) -> str:
        return "".join(self.parts)


def _last_item_column(rendered_list: str) -> int:
    """The content column of the last item of a rendered list (its lines at column 0 start its items)."""
    for line in reversed(rendered_list.split("\n")):
        marker = LIST_ITEM_START.match(line)
        if marker:
            return marker.end()
    return 2
