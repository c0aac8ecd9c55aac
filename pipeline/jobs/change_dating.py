"""Which capture dates each change a backfill plan found, decided in order without writing anything.

Backfill makes the versions from these decisions once its plan is worked through, and asks them during the
search which captures cannot date their text (:func:`undated`), so that ``bisect`` probes past them
(``strategy.dating_probes``; docs/decisions/0008, amendment of 2026-11-28).
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TypeVar

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.listed import timestamp_of, url_of
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan
from policy_archive.pipeline.jobs.dated_in_order import dating_capture, last_seen, refused_by_the_guards, shows_its_text
from policy_archive.pipeline.jobs.examine import as_twin
from policy_archive.pipeline.jobs.guards import Verdict, judge
from policy_archive.pipeline.jobs.strategy import changes
from policy_archive.records import CaptureRef, Source

# A catalog's captures of one document, by (URL, listed time).
Rows = dict[tuple[str, datetime], CaptureRow]
T = TypeVar("T")

# How many captures the decisions walk between two questions to ``check`` (besides one at each change): often
# enough that a stop is acted on long before a walk over a million captures ends, seldom enough to cost nothing.
CHECK_EVERY = 10_000


def _go_on() -> None:
    """The check of decisions nothing stops (``bisect``'s dry runs during the crawl, whose stop is the crawl's)."""


@dataclasses.dataclass(frozen=True)
class Shown:
    """The capture a change was found at: its listing, its catalog row, and the twin it is known through."""

    ref: CaptureRef
    row: CaptureRow
    twin: CaptureRow | None


@dataclasses.dataclass(frozen=True)
class Decision:
    """What becomes of one change found: the capture it was found at (``first``), the run of captures known to
    show its text, its change window's start, the guards' verdict, and either the position in ``run`` of the
    capture dating it (``shown``) or why the text is refused (the guards' or the dating's: ``shown`` None).
    ``judged_again``: the catalog rows of the run an earlier run's guards refused, whose verdict this one makes
    again (:func:`~.dated_in_order.refused_by_the_guards`)."""

    first: Shown
    run: Sequence[int]
    unchanged_since: datetime | None
    verdict: Verdict
    dating: int | str
    shown: Shown | None
    judged_again: tuple[int, ...] = ()

    @property
    def undated(self) -> Sequence[int]:
        """The captures of the run that cannot date its text: before the dating one (none when the guards
        refused the text: it is refused for its text, not its date)."""
        if self.verdict.refusal:
            return []
        return self.run if isinstance(self.dating, str) else self.run[: self.dating]


def undated(catalog: Catalog, plan: DocumentPlan) -> set[int]:
    """The captures known to show a text that cannot date it, as the versions would be made now: those of each
    run before the one dating its text, or the whole run where none does (``bisect`` probes after them)."""
    return {index for decision in decide(catalog, plan) for index in decision.undated}


def decide(catalog: Catalog, plan: DocumentPlan, check: Callable[[], None] = _go_on) -> list[Decision]:
    """Each change the plan's knowledge shows, decided in order, without writing anything: backfill makes the
    versions from it, and asks it during the search which captures cannot date their text (:func:`undated`).
    ``check`` is called at each change and every :data:`CHECK_EVERY` captures walked, and raises to stop the
    decisions: backfill's raises :class:`~policy_archive.stop_signals.Stopped` once a stop signal came (before
    2026-11-29 one came to it only after a long listing's decisions were all made, minutes later).

    Each change is dated by the first capture of its run (those known to show its text before the next change)
    whose bytes lie in the order the changes were found (:func:`dating_capture`): an archived redirect's first
    capture may be served from a memento that crosses another run's, when a later one of the same text is not."""
    rows = _rows(catalog, plan)
    # A text is known through a capture extracted, or through one an earlier run refused when it made the
    # versions (for its date, by the guards), preferably the former.
    by_text = {row.body_sha1: row for row in rows.values() if shows_its_text(row)}
    by_text.update({row.body_sha1: row for row in rows.values() if row.outcome is Outcome.EXTRACTED})
    found = changes(plan.known)
    # When each text was seen, gathered once: per change, a walk over every capture known made a history of many
    # changes over a long listing quadratic. One time a day is kept (the guards count the days a text was seen):
    # a time per capture known was some 60 MB of a million rows of one text (2026-11-29).
    seen: dict[str | None, dict[date, datetime]] = {}
    for i, known in _checked(plan.known.items(), check):
        moment = timestamp_of(plan.refs, i)
        seen.setdefault(known, {}).setdefault(moment.date(), moment)
    decisions: list[Decision] = []
    previous: CaptureRow | None = None  # the capture of the version kept before (its bytes date it)
    dated = True  # whether the text before the change is a version
    for change, after in zip(found, [*found[1:], None], strict=False):
        check()
        text = plan.known[change.index]
        end = after.index if after else len(plan.refs)
        # Positions by column (8 bytes each): the run of a listing of one text is every row.
        run = array("q", (i for i in _checked(range(change.index, end), check) if plan.known.get(i) == text))
        first = _shown(plan, rows, by_text, change.index)
        judged_again = _refused_by_the_guards(rows, plan.refs, run)
        seen_at = seen[text].values()
        verdict = judge(first.row.body or "", previous.body if previous else None, seen_at)
        unchanged_since = _unchanged_since(rows, plan.refs, change.window_start, dated)
        dated = False
        if verdict.refusal:
            decisions.append(Decision(first, run, unchanged_since, verdict, verdict.refusal, None, judged_again))
            continue
        # Read as the dating walks the run (it stops at the first capture that dates the text), not all made first.
        dating = dating_capture(
            (_bytes_time(rows, plan.refs, i) for i in _checked(run, check)),
            previous.bytes_at if previous else None,
            unchanged_since,
            plan.refs[after.index] if after else None,
        )
        shown = None if isinstance(dating, str) else _shown(plan, rows, by_text, run[dating])
        decisions.append(Decision(first, run, unchanged_since, verdict, dating, shown, judged_again))
        if shown is not None:
            previous, dated = shown.row, True
    return decisions


def _checked(items: Iterable[T], check: Callable[[], None]) -> Iterator[T]:
    """``items``, with ``check`` called before the first and after every :data:`CHECK_EVERY` of them."""
    for count, item in enumerate(items):
        if not count % CHECK_EVERY:
            check()
        yield item


def _rows(catalog: Catalog, plan: DocumentPlan) -> Rows:
    """The catalog rows of the plan's document that the decisions read (:meth:`~.Catalog.dating_captures`), read
    again only once the catalog was written since the plan last read them: during a search that no longer fetches,
    ``bisect`` asks the decisions at each of its steps (``DocumentPlan.undated``), and backfill once more to make the
    versions. Rows left out look as absent ones do (the twin's text, the listed time): the same decisions."""
    written = catalog.changes_made()
    if plan.dating_rows is None or plan.dating_rows[0] != written:
        rows = catalog.dating_captures(plan.declaration.key, Source.WAYBACK)
        plan.dating_rows = (written, {(row.url, row.captured_at): row for row in rows})
    return plan.dating_rows[1]


def _shown(plan: DocumentPlan, rows: Rows, by_text: dict[str | None, CaptureRow], index: int) -> Shown:
    """The capture at ``index``, with its catalog row: its own once fetched, else as its identical twin shows it
    (same digest, a 200): the twin's text at this capture's time and address."""
    ref = plan.refs[index]
    row = rows.get((ref.url, ref.timestamp))
    if row is not None and shows_its_text(row):
        return Shown(ref, row, None)
    twin = by_text[plan.known[index]]
    return Shown(ref, as_twin(twin, ref, plan.source.capture_url(ref.timestamp, ref.url)), twin)


def _refused_by_the_guards(rows: Rows, refs: Sequence[CaptureRef], run: Sequence[int]) -> tuple[int, ...]:
    """The catalog rows of the captures at ``run`` that an earlier run's guards refused."""
    found = (rows.get((url_of(refs, index), timestamp_of(refs, index))) for index in run)
    return tuple(row.id for row in found if row is not None and refused_by_the_guards(row))


def _bytes_time(rows: Rows, refs: Sequence[CaptureRef], index: int) -> datetime:
    """When the bytes of the capture at ``index`` were captured: its memento time once fetched (an archived
    redirect's target is served from a later memento than its CDX row), else its listed time."""
    listed_at = timestamp_of(refs, index)
    row = rows.get((url_of(refs, index), listed_at))
    return row.bytes_at if row else listed_at


def _unchanged_since(rows: Rows, refs: Sequence[CaptureRef], index: int | None, dated: bool) -> datetime | None:
    """The change window's start: when the capture at ``index`` (the last before the change) showed the text
    before it (:func:`last_seen`; ``dated``: that text is a version); None before the first change."""
    if index is None:
        return None
    return last_seen(timestamp_of(refs, index), _bytes_time(rows, refs, index), dated=dated)
