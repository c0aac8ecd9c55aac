"""Which archive captures to fetch: pure planning over a document's capture list.

A strategy looks at the candidate captures (oldest first) and at what is known so far — for each fetched
capture, the identity of its extracted text, or ``None`` when the capture turned out to be no evidence (a 404, a
soft-404, a redirect to a home page, ...) — and answers which captures it still needs. When it needs nothing
more, :func:`changes` reads the versions off the knowledge. Being pure, a strategy resumes from whatever the
catalog knows after an interruption, and is tested without any network.

- ``all``: every capture whose bytes (digest) have not been seen: exact, and the most requests.
- ``bisect``: change-point search. Fetch both ends; when the texts at the two ends of a span are equal, assume
  nothing changed inside it, otherwise fetch the middle and recurse. Every version is found at the first capture
  showing it, in O(versions × log(captures)) fetches. Assumption: a text that changes and changes back (A→B→A)
  entirely between two fetched captures is missed; ``all`` does not make that assumption.
- ``sample``: one capture per half-year, the one closest to 1 April / 1 October (the Princeton "Privacy
  Policies over Time" method), kept for comparison: it misses changes and dates them to the half-year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from policy_archive.records import CaptureRef

Knowledge = Mapping[int, str | None]  # candidate index → text identity, or None: fetched but no evidence


class StrategyName(StrEnum):
    BISECT = "bisect"
    ALL = "all"
    SAMPLE = "sample"


@dataclass(frozen=True)
class Change:
    """A version: the candidate index of the first capture showing it, and of the last capture before it."""

    index: int
    window_start: int | None


def wanted(strategy: StrategyName, refs: Sequence[CaptureRef], known: Knowledge) -> list[int]:
    """Indices of the captures to fetch next (all of them can be fetched at once); empty when done."""
    if strategy is StrategyName.ALL:
        return _first_of_each_digest([i for i in range(len(refs)) if i not in known], refs)
    if strategy is StrategyName.SAMPLE:
        return _sample_wanted(refs, known)
    return _bisect_wanted(refs, known)


def changes(refs: Sequence[CaptureRef], known: Knowledge) -> list[Change]:
    """The versions the knowledge shows: each capture whose text differs from the previous known text."""
    result: list[Change] = []
    previous: int | None = None
    for index in sorted(i for i, text in known.items() if text is not None):
        if previous is None or known[index] != known[previous]:
            result.append(Change(index, previous))
        previous = index
    return result


def _first_of_each_digest(indices: Sequence[int], refs: Sequence[CaptureRef]) -> list[int]:
    """Identical bytes give identical text: one fetch per digest is enough (the caller shares the result)."""
    seen: set[str] = set()
    chosen = []
    for index in indices:
        digest = refs[index].digest
        if digest is None or digest not in seen:
            chosen.append(index)
            if digest:
                seen.add(digest)
    return chosen


def _bisect_wanted(refs: Sequence[CaptureRef], known: Knowledge) -> list[int]:
    count = len(refs)
    first = _first_evidence(range(count), known)
    last = _first_evidence(range(count - 1, -1, -1), known)
    needed = [end for end in (first, last) if end is not None and end not in known]
    if needed or first is None or last is None:
        return _first_of_each_digest(sorted(set(needed)), refs)
    evidence = sorted(i for i, text in known.items() if text is not None)
    for left, right in zip(evidence, evidence[1:], strict=False):
        if known[left] == known[right]:
            continue  # equal ends: assume no change inside (see the module docstring)
        inside = [i for i in range(left + 1, right) if i not in known]
        if inside:
            middle = (left + right) / 2
            needed.append(min(inside, key=lambda i: (abs(i - middle), i)))
    return _first_of_each_digest(needed, refs)


def _first_evidence(indices: range, known: Knowledge) -> int | None:
    """The first index in ``indices`` that is unknown or has a text; None if all are known non-evidence."""
    for index in indices:
        if index not in known or known[index] is not None:
            return index
    return None


def _sample_wanted(refs: Sequence[CaptureRef], known: Knowledge) -> list[int]:
    by_half_year: dict[tuple[int, int], list[int]] = {}
    for index, ref in enumerate(refs):
        by_half_year.setdefault((ref.timestamp.year, 0 if ref.timestamp.month <= 6 else 1), []).append(index)
    needed = []
    for (year, half), indices in by_half_year.items():
        target = datetime(year, 4 if half == 0 else 10, 1, tzinfo=UTC)
        for index in sorted(indices, key=lambda i: abs((refs[i].timestamp - target).total_seconds())):
            if index not in known:
                needed.append(index)
                break
            if known[index] is not None:
                break  # this half-year is sampled
    return _first_of_each_digest(needed, refs)
