"""Which archive captures to fetch: pure planning over a document's capture list.

A strategy looks at the candidate captures (oldest first) and at what is known so far — for each fetched
capture, the identity of its extracted text, or ``None`` when the capture turned out to be no evidence (a 404, a
soft-404, a redirect to a home page, ...) — and answers which captures it still needs. When it needs nothing
more, :func:`changes` reads the versions off the knowledge. Being pure, a strategy resumes from whatever the
catalog knows after an interruption, and is tested without any network.

- ``all``: every capture whose bytes (digest) have not been seen: exact, and the most requests.
- ``bisect`` (the default): change-point search guided by what the CDX listing gives for free. Fetch both
  ends. Where the texts at the two ends of a span differ, fetch where the listed lengths say the change is (the
  last capture whose length looks like the left end's version and the first like the right end's), or the
  middle when the lengths do not say it consistently, until the change lies between two adjacent captures:
  every version found is dated at its first capture. Where both ends show the same text, fetch the first
  capture listed with other bytes when both ends are the same bytes (one digest), the first row of each run of
  archived redirects when neither end is one (a redirect's length is its own, never compared), any capture
  whose length lies outside the lengths seen for that version so far (an earlier text or a variant served for
  a while), and the middle of any span still hiding more than MAX_HIDDEN_CAPTURES captures. What remains is
  assumed unchanged and returned by :func:`spans` for the catalog: a change is missed only if it lasts at most
  MAX_HIDDEN_CAPTURES captures, each with a length like the text around it (a same-size edit, or an archive
  that lists no lengths) or a row whose length is not compared (a redirect after the first of its run, or
  between redirect ends; a revisit record). Once the search is done, the backfill asks :func:`dating_probes`
  for the captures after those that cannot date their text (an archived redirect's memento crossing another
  change), so that the text is dated at its first capture that can, as ``all`` dates it.
- ``sample``: one capture per half-year, the one closest to 1 April / 1 October (the Princeton "Privacy
  Policies over Time" method), kept for comparison: it misses changes and dates them to the half-year.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from policy_archive.listed import digest_of, length_of, status_of, timestamp_of
from policy_archive.pipeline.jobs.knowledge import Known
from policy_archive.records import CaptureRef

Knowledge = Mapping[int, str | None]  # candidate index → text identity, or None: fetched but no evidence
# An equal-ended span whose lengths all look like its ends may hide at most this many unfetched captures
# (chosen by simulation: `python -m benchmarks.flips --simulate`, see docs/decisions/0015).
MAX_HIDDEN_CAPTURES = 8


class StrategyName(StrEnum):
    """The backfill strategies ``--strategy`` names (see the module docstring): ``bisect`` (the default), ``all`` and
    ``sample``."""

    BISECT = "bisect"
    ALL = "all"
    SAMPLE = "sample"


@dataclass(frozen=True)
class Change:
    """A version: the candidate index of the first capture showing it, and of the last capture before it."""

    index: int
    window_start: int | None


def wanted(
    strategy: StrategyName,
    refs: Sequence[CaptureRef],
    known: Knowledge,
    *,
    max_hidden: int = MAX_HIDDEN_CAPTURES,
    verify: bool = False,
    pending: Collection[int] = (),
) -> list[int]:
    """Indices of the captures to fetch next (all of them can be fetched at once); empty when done.

    ``max_hidden``: how many unfetched captures ``bisect`` lets a span with equal ends hide. ``verify``: once
    the strategy needs nothing more, fetch every capture it left unfetched (inside :func:`spans`) too.
    ``pending``: captures being fetched; ``bisect`` waits for them before deciding anything about their span
    (deciding without them would cut the span again around a probe already on its way).
    """
    if strategy is StrategyName.ALL:
        chosen = _first_of_each_digest([i for i in range(len(refs)) if i not in known], refs)
    elif strategy is StrategyName.SAMPLE:
        chosen = _sample_wanted(refs, known)
    else:
        chosen = _bisect_wanted(refs, known, max_hidden, pending)
    if chosen or not verify:
        return chosen
    return _first_of_each_digest([i for span in spans(refs, known) for i in span.unfetched], refs)


@dataclass(frozen=True)
class ToFetch:
    """How many captures a strategy still fetches, those being fetched included. ``exact``: so many, as far as
    what is known now tells (a replay refused or rendered asks for a twin of the same bytes more): ``all``,
    ``sample``, and the verification of spans once the search is over. Not ``exact`` while ``bisect`` searches:
    it picks each capture from what the last ones showed, so only bounds are known: at most every capture whose
    bytes have not been seen, at least ``fewest``, those it has chosen (being fetched, or asked for next);
    ``spans``: the parts of the listing it still searches (a probe on its way, or one to send)."""

    captures: int
    exact: bool
    fewest: int = 0
    spans: int = 0


def to_fetch(
    strategy: StrategyName,
    refs: Sequence[CaptureRef],
    known: Knowledge,
    *,
    verify: bool = False,
    pending: Collection[int] = (),
) -> ToFetch:
    """What :func:`wanted` will still ask for in all (``verify`` and ``pending`` as it takes them), for a
    progress display."""
    if strategy is StrategyName.BISECT:
        probes, spans = _bisect_search(refs, known, MAX_HIDDEN_CAPTURES, pending)
        if spans:
            unseen = _first_of_each_digest([i for i in range(len(refs)) if i not in known], refs)
            chosen = _first_of_each_digest(sorted({*probes, *(i for i in pending if i not in known)}), refs)
            return ToFetch(len(unseen), exact=False, fewest=len(chosen), spans=spans)
    return ToFetch(len(wanted(strategy, refs, known, verify=verify)), exact=True)


def changes(known: Knowledge) -> list[Change]:
    """The versions the knowledge shows: each capture whose text differs from the previous known text."""
    result: list[Change] = []
    previous: int | None = None
    for index in _evidence(known):
        if previous is None or known[index] != known[previous]:
            result.append(Change(index, previous))
        previous = index
    return result


@dataclass(frozen=True)
class Span:
    """Captures left unfetched between two fetched ones, assumed to show the text of ``start`` (candidate
    indices; ``start`` is None before the first fetched capture, ``end`` None after the last one)."""

    start: int | None
    end: int | None
    unfetched: tuple[int, ...]
    ends_differ: bool  # only ``sample`` leaves such spans: a change inside is dated at ``end``


def spans(refs: Sequence[CaptureRef], known: Knowledge) -> list[Span]:
    """Every run of unfetched captures between fetched ones: what a strategy assumed instead of looking."""
    evidence = _evidence(known)
    result = []
    for number in range(len(evidence) + 1):  # the spans before, between and after the captures with a text
        start = evidence[number - 1] if number else None
        end = evidence[number] if number < len(evidence) else None
        low = -1 if start is None else start
        high = len(refs) if end is None else end
        unfetched = tuple(i for i in range(low + 1, high) if i not in known)
        if unfetched:
            differ = start is not None and end is not None and known[start] != known[end]
            result.append(Span(start, end, unfetched, differ))
    return result


def dating_probes(refs: Sequence[CaptureRef], known: Knowledge, undated: Collection[int]) -> list[int]:
    """After the search, the captures to fetch so that a text whose fetched captures cannot date it is dated at
    its first capture that can (``bisect`` only; docs/decisions/0008, amendment of 2026-11-28).

    ``undated``: captures known to show a text that the versions' order refuses them to date (an archived
    redirect served a memento that crosses the change before or after it: ``dated_in_order.dating_capture``), those of
    each run before its dating capture. From the first of each run, the walk goes forward over captures of no
    use (refused, failed, or undated with the same text) to the first capture never fetched: that one, one per
    run at a time, since it may be the text's first usable capture, which ``all`` would date the text at. The
    walk ends at a capture of the text that dates it, or at another text. Bounded like the search: the
    captures it passes unfetched lie in the spans the search left, each hiding at most ``max_hidden``."""
    probes = []
    passed: set[int] = set()
    for start in sorted(undated):
        text = known.get(start)
        if start in passed or text is None:
            continue
        for index in range(start + 1, len(refs)):
            if index not in known:
                probes.append(index)
                break
            if known[index] is None:
                continue
            if known[index] != text or index not in undated:
                break
            passed.add(index)
    return _first_of_each_digest(probes, refs)


def _first_of_each_digest(indices: Sequence[int], refs: Sequence[CaptureRef]) -> list[int]:
    """Identical bytes give identical text: one fetch per digest is enough (the caller shares the result)."""
    seen: set[str] = set()
    chosen = []
    for index in indices:
        digest = digest_of(refs, index)
        if digest is None or digest not in seen:
            chosen.append(index)
            if digest:
                seen.add(digest)
    return chosen


def _bisect_wanted(
    refs: Sequence[CaptureRef], known: Knowledge, max_hidden: int, pending: Collection[int]
) -> list[int]:
    return _bisect_search(refs, known, max_hidden, pending)[0]


def _bisect_search(
    refs: Sequence[CaptureRef], known: Knowledge, max_hidden: int, pending: Collection[int]
) -> tuple[list[int], int]:
    """The captures to fetch next, and how many parts of the listing are still searched: the whole listing
    while its ends are not known; then each span between two captures with a text that still needs a probe,
    or waits for one on its way."""
    count = len(refs)
    first = _first_evidence(range(count), known)
    last = _first_evidence(range(count - 1, -1, -1), known)
    needed = [end for end in (first, last) if end is not None and end not in known]
    if needed or first is None or last is None:
        return _first_of_each_digest(sorted(set(needed)), refs), 1 if needed else 0
    evidence = _evidence(known)
    envelopes = _envelopes(refs, known, evidence)
    searched = 0
    for number in range(len(evidence) - 1):
        left, right = evidence[number], evidence[number + 1]
        inside = [i for i in range(left + 1, right) if i not in known]
        if not inside:
            continue
        if any(i in pending for i in inside):
            searched += 1
            continue
        if known[left] != known[right]:
            probes = _change_probes(refs, inside, envelopes[number], envelopes[number + 1])
        else:
            probes = (
                _unlike_digest(refs, left, right, inside)
                or _redirect_probes(refs, known, left, right)
                or _equal_span_probes(refs, inside, envelopes[number], max_hidden)
            )
        searched += bool(probes)
        needed.extend(probes)
    return _first_of_each_digest(sorted(set(needed)), refs), searched


Envelope = tuple[int, int] | None  # smallest and largest CDX length of a version's fetched 200 captures


def _length(refs: Sequence[CaptureRef], index: int) -> int | None:
    """The CDX length of the capture at ``index``, where it can be compared: redirects and revisit records are
    small whatever the text."""
    length = length_of(refs, index)
    return length if length and status_of(refs, index) == 200 else None


def _envelopes(refs: Sequence[CaptureRef], known: Knowledge, evidence: Sequence[int]) -> list[Envelope]:
    """The length envelope of each fetched capture's version (the run of fetched captures with its text), in the
    order of ``evidence``: one envelope a run, shared by its captures (a listing of one text known through one
    replay is one run of a million; a dictionary of them was most of its backfill's peak memory, 2026-11-29).

    The envelope widens with every capture of the version fetched, so it learns how much the length of one
    text varies from capture to capture (tokens, dates, compression) without a fixed tolerance.
    """
    result: list[Envelope] = []
    start = 0  # where the run being read began, in ``evidence``
    low = high = None
    for number in range(len(evidence) + 1):
        index = evidence[number] if number < len(evidence) else None
        if number > start and (index is None or known[index] != known[evidence[number - 1]]):
            envelope = None if low is None or high is None else (low, high)
            result.extend([envelope] * (number - start))
            start, low, high = number, None, None
        if index is not None and (size := _length(refs, index)) is not None:
            low = size if low is None else min(low, size)
            high = size if high is None else max(high, size)
    return result


def _distance(size: int, envelope: Envelope) -> float:
    if envelope is None:
        return float("inf")
    low, high = envelope
    return max(low - size, size - high, 0)


def _equal_span_probes(
    refs: Sequence[CaptureRef], inside: Sequence[int], envelope: Envelope, max_hidden: int
) -> list[int]:
    """Inside a span whose ends show the same text: the capture whose length looks least like that text; else,
    if the span hides more than ``max_hidden`` captures, evenly spaced ones cutting it into pieces of at most
    that many; else nothing (assumed unchanged, see :func:`spans`)."""
    if envelope is not None:
        unlike = [
            (distance, i) for i in inside if (size := _length(refs, i)) and (distance := _distance(size, envelope))
        ]
        if unlike:
            return [max(unlike, key=lambda pair: (pair[0], -pair[1]))[1]]
    count = len(inside)
    cuts = -(-(count - max_hidden) // (max_hidden + 1))  # the fewest probes leaving pieces within the bound
    return [inside[(n + 1) * count // (cuts + 1)] for n in range(max(cuts, 0))]


def _unlike_digest(refs: Sequence[CaptureRef], left: int, right: int, inside: Sequence[int]) -> list[int]:
    """Inside a span whose ends are the same bytes (one CDX digest: a site serving stable bytes), the first 200
    capture the archive lists with other bytes: its digest proves it differs, whatever its length says. Where
    every capture's bytes differ (tokens, dates), the ends' digests differ and this asks for nothing."""
    digest = digest_of(refs, left)
    if not digest or digest_of(refs, right) != digest or status_of(refs, left) != 200 or status_of(refs, right) != 200:
        return []
    return [i for i in inside if status_of(refs, i) == 200 and (other := digest_of(refs, i)) and other != digest][:1]


def _redirect_probes(refs: Sequence[CaptureRef], known: Knowledge, left: int, right: int) -> list[int]:
    """Inside a span whose ends show the same text and are no redirects, the first row of each run of archived
    redirects (3xx rows listed one after another) none of whose rows was fetched: a redirect among pages is unlike
    its ends (the page moved, maybe to another text, dated at the target's own memento), and its length, the
    redirect's own, says nothing of that text (decision 0015, amendment of 2026-11-29). One probe per run: a
    run's redirects are one move, usually to one target; a run of redirect rows around redirect ends is no
    sign of anything and costs nothing."""
    if _redirect_row(refs, left) or _redirect_row(refs, right):
        return []
    probes: list[int] = []
    run: list[int] = []
    for index in range(left + 1, right + 1):
        if index < right and _redirect_row(refs, index):
            run.append(index)
            continue
        if run and not any(i in known for i in run):
            probes.append(run[0])
        run = []
    return probes


def _redirect_row(refs: Sequence[CaptureRef], index: int) -> bool:
    """Whether the row at ``index`` is listed as an archived redirect (a 3xx status)."""
    return 300 <= (status_of(refs, index) or 0) < 400


def _change_probes(refs: Sequence[CaptureRef], inside: Sequence[int], left: Envelope, right: Envelope) -> list[int]:
    """Inside a span whose ends differ: where the lengths say the change is (the last capture like the left end
    and the first like the right one), if they say it consistently; otherwise the middle (bisection)."""
    sides = []
    for i in inside:
        size = _length(refs, i)
        if size is None or left is None or right is None:
            continue
        to_left, to_right = _distance(size, left), _distance(size, right)
        if to_left != to_right:
            sides.append((i, to_left < to_right))
    last_left = max((i for i, is_left in sides if is_left), default=None)
    first_right = min((i for i, is_left in sides if not is_left), default=None)
    if sides and (last_left is None or first_right is None or last_left < first_right):
        return [i for i in (last_left, first_right) if i is not None]
    return [inside[len(inside) // 2]]


def _evidence(known: Knowledge) -> Sequence[int]:
    """The positions known to show a text (not None), in listing order (read off the column of :class:`Known`)."""
    if isinstance(known, Known):
        return known.evidence()
    return sorted(i for i, text in known.items() if text is not None)


def _first_evidence(indices: range, known: Knowledge) -> int | None:
    """The first index in ``indices`` that is unknown or has a text; None if all are known non-evidence."""
    for index in indices:
        if index not in known or known[index] is not None:
            return index
    return None


def _sample_wanted(refs: Sequence[CaptureRef], known: Knowledge) -> list[int]:
    by_half_year: dict[tuple[int, int], list[int]] = {}
    for index in range(len(refs)):
        moment = timestamp_of(refs, index)
        by_half_year.setdefault((moment.year, 0 if moment.month <= 6 else 1), []).append(index)
    needed = []
    for (year, half), indices in by_half_year.items():
        target = datetime(year, 4 if half == 0 else 10, 1, tzinfo=UTC)
        for index in sorted(indices, key=lambda i: abs((timestamp_of(refs, i) - target).total_seconds())):
            if index not in known:
                needed.append(index)
                break
            if known[index] is not None:
                break  # this half-year is sampled
    return _first_of_each_digest(needed, refs)
