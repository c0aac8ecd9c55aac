"""Word-level differences between two versions of a text, as HTML blocks with ``<ins>`` and ``<del>``.

Texts are compared paragraph by paragraph first (blocks separated by blank lines, as the Markdown is written),
then word by word inside paragraphs that were edited rather than replaced: a reader sees the one sentence that
changed, not a whole rewritten paragraph, and unchanged paragraphs are folded away except around a change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from html import escape

from policy_archive.text import plural

# Words (with inner apostrophes and hyphens), runs of spaces, and single punctuation marks: the units compared.
TOKEN = re.compile(r"\s+|\w+(?:['’-]\w+)*|[^\w\s]")
# Two paragraphs at least this similar (share of equal tokens) are shown as one edited paragraph.
EDITED = 0.5
CONTEXT = 1  # unchanged paragraphs shown on each side of a change


@dataclass(frozen=True)
class Block:
    """One paragraph of a change: ``same`` (context), ``edited``, ``added``, ``removed``; or ``folded``."""

    kind: str
    html: str


def paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def word_diff(old: str, new: str) -> tuple[str, float]:
    """The edit from ``old`` to ``new`` as HTML, and how similar they are (0 to 1)."""
    before, after = TOKEN.findall(old), TOKEN.findall(new)
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    parts = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(escape("".join(before[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<del>{escape(''.join(before[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{escape(''.join(after[j1:j2]))}</ins>")
    return "".join(parts), matcher.ratio()


def _replaced(old: list[str], new: list[str]) -> Iterator[Block]:
    """Paragraphs replaced by others: paired in order, edited when alike, else removed then added."""
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before is not None and after is not None:
            html, similarity = word_diff(before, after)
            if similarity >= EDITED:
                yield Block("edited", html)
                continue
        if before is not None:
            yield Block("removed", f"<del>{escape(before)}</del>")
        if after is not None:
            yield Block("added", f"<ins>{escape(after)}</ins>")


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


def change_blocks(old_text: str, new_text: str) -> list[Block]:
    """What changed from ``old_text`` to ``new_text``, paragraph by paragraph, with a little context."""
    old, new = paragraphs(old_text), paragraphs(new_text)
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    blocks: list[Block] = []
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            blocks += _unchanged(old[i1:i2], first=position == 0, last=position == len(opcodes) - 1)
        else:
            blocks += _replaced(old[i1:i2], new[j1:j2])
    return blocks
