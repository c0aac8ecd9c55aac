"""Render an HTML list as Markdown: one line per item, what an item holds at its content column.

Part of the renderer (:class:`~policy_archive.pipeline.extraction.markdown.MarkdownRenderer` renders each item's
blocks and hands them here). A nested item stands at its parent item's content column (CommonMark 0.31.2, 5.2:
2 spaces under ``- ``, 3 under ``1. ``, 4 under ``10. ``), so that a reader nests it as the page does; an item
holding only a list of its list's kind gives its items in its place (decision 0002: no ``- - item``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html

LIST_ITEM_START = re.compile(r"(?:-|\d+\.) ")


def render_list(
    element: lxml.html.HtmlElement,
    ordered: bool,
    *,
    indented: bool,
    item_blocks: Callable[[lxml.html.HtmlElement], list[str]],
) -> list[str]:
    """A list's items as one Markdown block (none if no item holds text), what is nested in each at its content
    column; ``item_blocks`` renders a child of the list (an item, or anything written directly in the list) as
    its blocks. Not ``indented`` (deeper than the renderer's ``MAX_RENDERED_NESTING``), what an item holds stands
    at its list's indent: the text is kept, the nesting lost."""
    items: list[_Item] = []
    number = int(element.get("start", "1")) if element.get("start", "1").isdigit() else 1
    for child in element:
        if not isinstance(child.tag, str):
            continue
        blocks = item_blocks(child)
        if not "".join(blocks).strip():
            continue
        if LIST_ITEM_START.match(blocks[0]):
            if child.tag != "li" and items:
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
    return ["\n".join(item.text() for item in items)] if items else []


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
