"""Progress of long work on stderr: a live line on a terminal, a line every few seconds in logs."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO


class Progress:
    def __init__(self, label: str, stream: TextIO = sys.stderr, interval: float = 5.0):
        self.label = label
        self.stream = stream
        self.counts: Counter[str] = Counter()
        self.interactive = stream.isatty()
        self.interval = interval if not self.interactive else 0.1
        self._last = time.monotonic()  # the first line comes after one interval, not at once

    def add(self, counter: str, amount: int = 1) -> None:
        self.counts[counter] += amount
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._show()

    def line(self) -> str:
        parts = ", ".join(f"{value:,} {key}" for key, value in self.counts.items())
        return f"{self.label}: {parts or 'starting'}"

    def _show(self) -> None:
        if self.interactive:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write(("\r\033[K" if self.interactive else "") + self.line() + "\n")
        self.stream.flush()
