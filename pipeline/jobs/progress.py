"""Progress of long work on stderr: a live line on a terminal, a line every few seconds in logs.

The line gives the counts by outcome and, for the unit of work the job advances through (documents, captures),
how many are done, of how many when known, the rate and the time left: ``track: 40/100 documents (40 %), 35
fetched, 5 failed, 2.1/s, ETA 0:28``. A total learnt as the work goes (:meth:`Progress.estimate`) may be only a
bound: ``backfill: 14 captures examined of at most 400, ..., 3 spans to search, 2 to 386 left, ETA at least
0:00:05`` then has no share and no estimate of the time left, only what is sure: the fewest units left (those
already chosen) and the time they take at the fastest rate allowed, with what the work still holds (the spans
bisect searches). Work that cannot go faster than a rate of requests (:meth:`Progress.at_most`: an archive's
rate budget) never shows a shorter time left than the requests left take at that rate, each unit counted for
as many requests as the units done took on average (a capture reached through archived redirects is several),
and for one request before any is done, even before its first unit is done.
``quiet`` shows nothing (failures are still reported by the command).
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TextIO

from policy_archive.text import counted, plural

# Seconds between two lines in a log (a terminal's line is redrawn every tenth of a second).
INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class Left:
    """The units of work still to do: exactly ``units``, or (``exact`` False) at most that many and at least
    ``fewest``; ``still``: what else is known of the work left, said in the line (``3 spans to search``);
    ``started``: those among them begun (their requests sent, or waiting for the rate budget)."""

    units: int
    exact: bool = True
    fewest: int = 0
    still: str = ""
    # Of an exact total: the least time the work itself sees left (a live crawl's busiest site, one request at a
    # time): the ETA is never shorter; math.inf when none can be told (no ETA is shown).
    seconds: float = 0.0
    started: int = 0


class Progress:
    """The progress line of one command on ``stream``: counts by outcome, the unit of work and its total
    (:meth:`expect`, or learnt as the work goes: :meth:`estimate`), the rate and time left. On a terminal the line is
    redrawn in place at most every tenth of a second, in a log one line is written every ``interval`` seconds (0: at
    every step); ``quiet`` writes nothing. Time is measured with the monotonic clock."""

    def __init__(
        self, label: str, stream: TextIO | None = None, interval: float = INTERVAL_SECONDS, quiet: bool = False
    ):
        self.label = label
        # sys.stderr as it is now, not as it was when this module was imported: a writing command's is one that
        # survives its reader going away (policy_archive/lost_output.py).
        self.stream = sys.stderr if stream is None else stream
        self.quiet = quiet
        self.counts: Counter[str] = Counter()
        self.interactive = self.stream.isatty()
        self.interval = interval if not self.interactive else 0.1
        self.unit = ""
        self.total: int | None = None
        self.singular: dict[str, str] = {}  # counter or unit (``versions recorded``) → its form for 1
        self.details: dict[str, str] = {}  # counter → what its count is made of, said after it in parentheses
        self.done = 0
        self._left: Callable[[], Left] | None = None
        self._started = time.monotonic()
        self._done_before = 0  # units not done by this work: before the rate's clock started (``estimate``) or by an
        # earlier run (``already``)
        self._fastest = math.inf  # requests a second the work cannot exceed (``at_most``)
        self._sent: Callable[[], int] | None = None  # how many of those requests were sent (``at_most``)
        self._request = "request"
        self._last = self._started  # the first line comes after one interval, not at once
        self._written: str | None = None  # the last line written to a log

    def expect(self, total: int | None, unit: str, one: str | None = None) -> None:
        """Name the unit of work (``documents``; ``one``: ``document``) and, when known, how many there are."""
        self.unit, self.total = unit, total
        self._name(unit, one)

    def estimate(self, left: Callable[[], Left]) -> None:
        """From now on the total is learnt as the work goes: ``left()`` (asked only when a line is shown) says how
        many units remain. The rate's clock starts now: what came before (an archive listing) is other work."""
        self._left = left
        self._started = time.monotonic()
        self._done_before = self.done

    def at_most(self, per_second: float, sent: Callable[[], int] | None = None, request: str = "request") -> None:
        """The work cannot go faster than ``per_second`` requests (the archive's rate budget spaces them), each
        unit one request at least: the time left is never shown shorter than the units left take at that rate.
        ``sent()``: how many requests were sent so far (said in the line, ``request`` naming one), so that a unit
        left counts for as many as the units done took on average (retries and redirects included)."""
        self._fastest = per_second
        self._sent = sent
        self._request = request

    def add(self, counter: str, amount: int = 1, done: bool = False, one: str | None = None) -> None:
        """Count ``amount`` outcomes ``counter`` (``versions recorded``; ``one``: its form for 1, ``version
        recorded``, when it names things); ``done``: each one also finishes a unit of work."""
        self._name(counter, one)
        self.counts[counter] += amount
        if done:
            self.done += amount
        self.step()

    def already(self, counter: str, amount: int) -> None:
        """Count ``amount`` units finished by an earlier run (a rerun skips them): they are done of the total but
        not work of this run, so they enter neither the rate nor the time left."""
        self._done_before += amount
        self.add(counter, amount, done=True)

    def step(self) -> None:
        """Show a line if one is due (every step with ``--verbose``): the work changed without a unit done."""
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            total = self._total()
            # Once every unit is done the final line (finish) follows: a line now would say it twice in a log.
            if total is None or not total.exact or self.done < total.units:
                self._show(self._line(total))

    def detail(self, counter: str, words: str) -> None:
        """Say what ``counter``'s count is made of: ``3 versions recorded (1 new, 2 re-chained)``."""
        self.details[counter] = words

    def line(self) -> str:
        """The line as it reads now (``track: 40/100 documents (40 %), ...``), whether or not one is due:
        :meth:`finish` writes it last."""
        return self._line(self._total())

    def _line(self, total: Left | None) -> str:
        parts = [self._advance(total)] if self.unit else []
        parts += [f"{value:,} {self._counted(value, key)}{self._detail(key)}" for key, value in self.counts.items()]
        parts += [counted(self._requests_sent(), self._request)] if self._sent else []
        parts += self._pace(total)
        return f"{self.label}: {', '.join(part for part in parts if part) or 'starting'}"

    def _name(self, words: str, one: str | None) -> None:
        if one is not None:
            self.singular[words] = one

    def _detail(self, counter: str) -> str:
        return f" ({self.details[counter]})" if counter in self.details else ""

    def _counted(self, count: int, words: str) -> str:
        return plural(count, self.singular.get(words, words), words)

    def _total(self) -> Left | None:
        """All the units, done and left (``exact`` False: at most so many), or None when unknown."""
        if self._left is not None:
            left = self._left()
            return replace(left, units=self.done + left.units)
        return None if self.total is None else Left(self.total)

    def _advance(self, total: Left | None) -> str:
        if total is None:
            return f"{self.done:,} {self._counted(self.done, self.unit)}"
        if not total.exact:
            return f"{self.done:,} {self._counted(self.done, self.unit)} of at most {total.units:,}"
        share = f" ({100 * self.done // total.units} %)" if total.units else ""
        return f"{self.done:,}/{total.units:,} {self._counted(total.units, self.unit)}{share}"

    def _pace(self, total: Left | None) -> list[str]:
        if not self.unit:
            return []
        elapsed = time.monotonic() - self._started
        done = self.done - self._done_before
        rate = done / elapsed if done and elapsed > 0 else None
        pace = [_per_time(rate)] if rate else []
        if total is not None and not total.exact:
            return [*self._bounds(total), *pace, *self._least_time(total)]
        if total is None or self.done >= total.units:
            return pace
        pace = [total.still, *pace] if total.still else pace
        if math.isinf(total.seconds) or not (rate or self._fastest < math.inf or total.seconds):
            return pace
        left = total.units - self.done
        floor = max(total.seconds, left * self._requests_per_unit(total) / self._fastest)
        pace.append(f"ETA {timedelta(seconds=round(max(left / rate if rate else 0.0, floor)))}")
        return pace

    def _bounds(self, total: Left) -> list[str]:
        """What is sure of work whose total is only bounded: what it still holds, and the units left (at least
        ``fewest``, at most what the bound leaves)."""
        left = total.units - self.done
        fewest = min(total.fewest, left)
        return [
            *([total.still] if total.still else []),
            f"{fewest:,} to {left:,} left" if fewest < left else f"{left:,} left",
        ]

    def _least_time(self, total: Left) -> list[str]:
        """The least time the ``fewest`` units surely left take at the fastest rate allowed, one request each (no
        estimate from the rate measured: a search's next choices may not keep it); nothing under a second."""
        fewest = min(total.fewest, total.units - self.done)
        if fewest and self._fastest < math.inf and (seconds := round(fewest / self._fastest)) >= 1:
            return [f"ETA at least {timedelta(seconds=seconds)}"]
        return []

    def _requests_sent(self) -> int:
        return self._sent() if self._sent else 0

    def _requests_per_unit(self, total: Left) -> float:
        """The requests a unit of work took on average so far (``at_most``), one before any unit is done. The
        units begun are counted for one request each (what a unit takes at least): with many on their way, the
        requests sent would otherwise be charged to the few units done."""
        done = self.done - self._done_before
        return max(1.0, (self._requests_sent() - total.started) / done) if done else 1.0

    def _show(self, line: str) -> None:
        if self.quiet:
            return
        if self.interactive:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
            self._written = line
        self.stream.flush()

    def finish(self) -> None:
        """Write the final line, whether or not one is due (a terminal's line is replaced and ended with a newline);
        nothing with ``quiet``, nor in a log whose last line says the same already (a step came just before: a
        backfill whose listing failed after its pauses said ``0 captures examined, 0 versions recorded`` twice,
        outside audit A, F4)."""
        if self.quiet or (not self.interactive and self.line() == self._written):
            return
        self.stream.write(("\r\033[K" if self.interactive else "") + self.line() + "\n")
        self.stream.flush()


def _per_time(rate: float) -> str:
    """``2.1/s``; a slower rate per minute or per hour (``0.5/min``, ``1.0/h``), never ``0.0/s``."""
    for unit, seconds in (("s", 1), ("min", 60)):
        if rate * seconds >= 0.1:
            return f"{rate * seconds:.1f}/{unit}"
    return f"{rate * 3600:.1f}/h"
