"""Progress of long work on stderr: a live line on a terminal, a line every few seconds in logs.

The line gives the counts by outcome and, for the unit of work the job advances through (documents, captures),
how many are done, of how many when known, the rate and the time left: ``track: 40/100 documents (40 %), 35
fetched, 5 failed, 2.1/s, ETA 0:28``. ``quiet`` shows nothing (failures are still reported by the command).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import timedelta
from typing import TextIO

from policy_archive.text import plural


class Progress:
    def __init__(self, label: str, stream: TextIO = sys.stderr, interval: float = 5.0, quiet: bool = False):
        self.label = label
        self.stream = stream
        self.quiet = quiet
        self.counts: Counter[str] = Counter()
        self.interactive = stream.isatty()
        self.interval = interval if not self.interactive else 0.1
        self.unit = ""
        self.total: int | None = None
        self.singular: dict[str, str] = {}  # counter or unit (``versions recorded``) → its form for 1
        self.details: dict[str, str] = {}  # counter → what its count is made of, said after it in parentheses
        self.done = 0
        self._started = time.monotonic()
        self._last = self._started  # the first line comes after one interval, not at once

    def expect(self, total: int | None, unit: str, one: str | None = None) -> None:
        """Name the unit of work (``documents``; ``one``: ``document``) and, when known, how many there are."""
        self.unit, self.total = unit, total
        self._name(unit, one)

    def add(self, counter: str, amount: int = 1, done: bool = False, one: str | None = None) -> None:
        """Count ``amount`` outcomes ``counter`` (``versions recorded``; ``one``: its form for 1, ``version
        recorded``, when it names things); ``done``: each one also finishes a unit of work."""
        self._name(counter, one)
        self.counts[counter] += amount
        if done:
            self.done += amount
        now = time.monotonic()
        # Once every unit is done the final line (finish) follows: a periodic line now would say it twice in a log.
        if now - self._last >= self.interval and not self._all_done():
            self._last = now
            self._show()

    def detail(self, counter: str, words: str) -> None:
        """Say what ``counter``'s count is made of: ``3 versions recorded (1 new, 2 re-chained)``."""
        self.details[counter] = words

    def _all_done(self) -> bool:
        return self.total is not None and self.done >= self.total

    def line(self) -> str:
        parts = [self._advance()] if self.unit else []
        parts += [f"{value:,} {self._counted(value, key)}{self._detail(key)}" for key, value in self.counts.items()]
        parts += self._pace()
        return f"{self.label}: {', '.join(part for part in parts if part) or 'starting'}"

    def _name(self, words: str, one: str | None) -> None:
        if one is not None:
            self.singular[words] = one

    def _detail(self, counter: str) -> str:
        return f" ({self.details[counter]})" if counter in self.details else ""

    def _counted(self, count: int, words: str) -> str:
        return plural(count, self.singular.get(words, words), words)

    def _advance(self) -> str:
        if self.total is None:
            return f"{self.done:,} {self._counted(self.done, self.unit)}"
        share = f" ({100 * self.done // self.total} %)" if self.total else ""
        return f"{self.done:,}/{self.total:,} {self._counted(self.total, self.unit)}{share}"

    def _pace(self) -> list[str]:
        elapsed = time.monotonic() - self._started
        if not self.unit or not self.done or elapsed <= 0:
            return []
        rate = self.done / elapsed
        pace = [f"{rate:.1f}/s"]
        if self.total is not None and self.done < self.total:
            pace.append(f"ETA {timedelta(seconds=round((self.total - self.done) / rate))}")
        return pace

    def _show(self) -> None:
        if self.quiet:
            return
        if self.interactive:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.quiet:
            return
        self.stream.write(("\r\033[K" if self.interactive else "") + self.line() + "\n")
        self.stream.flush()
