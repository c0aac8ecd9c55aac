"""What a backfill plan knows of each of its candidate captures, held by column (:class:`Known`): for each position
of the listing, a number naming the text the capture showed (``None``: fetched, or settled, and no evidence), or
none yet. A listing of one text known through one replay made a dictionary entry per row (2026-11-29: some 100 MB
of a million rows' backfill, README "A long listing of one text"); the column is 4 bytes a row, and each text
(an extracted text's identity, a SHA-1) is held once.

It reads as the mapping it replaced (``Mapping[int, str | None]``, :data:`.strategy.Knowledge`), the positions in
listing order rather than in the order they became known: nothing decided on that order (the strategies sort the
positions, the guards count the days a text was seen)."""

from __future__ import annotations

from array import array
from collections.abc import ItemsView, Iterator, MutableMapping

_UNKNOWN = -1  # nothing known of the capture yet
_NOTHING = 0  # the number of None: no evidence


class Known(MutableMapping[int, "str | None"]):
    """Candidate position → the identity of the text it showed, or None (no evidence), for ``count`` positions."""

    def __init__(self, count: int) -> None:
        self._texts: list[str | None] = [None]
        self._numbers: dict[str | None, int] = {None: _NOTHING}
        self._column = array("i", [_UNKNOWN]) * count
        self._known = 0

    def _number(self, index: int) -> int:
        return self._column[index] if 0 <= index < len(self._column) else _UNKNOWN

    def __getitem__(self, index: int) -> str | None:
        number = self._number(index)
        if number == _UNKNOWN:
            raise KeyError(index)
        return self._texts[number]

    def get(self, index: int, default: str | None = None) -> str | None:  # type: ignore[override]
        """What the capture at ``index`` showed, or ``default`` when nothing is known of it (one lookup)."""
        number = self._number(index)
        return default if number == _UNKNOWN else self._texts[number]

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self._number(index) != _UNKNOWN

    def __setitem__(self, index: int, text: str | None) -> None:
        if not 0 <= index < len(self._column):
            raise IndexError(f"no candidate at position {index} of {len(self._column)}")
        number = self._numbers.get(text)
        if number is None:
            number = self._numbers[text] = len(self._texts)
            self._texts.append(text)
        if self._column[index] == _UNKNOWN:
            self._known += 1
        self._column[index] = number

    def __delitem__(self, index: int) -> None:
        if self._number(index) == _UNKNOWN:
            raise KeyError(index)
        self._column[index] = _UNKNOWN
        self._known -= 1

    def __iter__(self) -> Iterator[int]:
        """The known positions, in listing order."""
        return (index for index, number in enumerate(self._column) if number != _UNKNOWN)

    def __len__(self) -> int:
        return self._known

    def items(self) -> ItemsView[int, str | None]:
        """The (position, text) pairs known, in listing order, read in one pass over the column."""
        return _Items(self)

    def evidence(self) -> array[int]:
        """The positions known to show a text (not None), in listing order: 8 bytes each, not a list's 36."""
        return array("q", (index for index, number in enumerate(self._column) if number > _NOTHING))


class _Items(ItemsView[int, "str | None"]):
    """The (position, text) pairs read off the column in one pass, without a lookup per position."""

    _mapping: Known

    def __iter__(self) -> Iterator[tuple[int, str | None]]:
        texts = self._mapping._texts
        for index, number in enumerate(self._mapping._column):
            if number != _UNKNOWN:
                yield index, texts[number]
