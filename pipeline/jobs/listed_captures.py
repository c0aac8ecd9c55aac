"""A document's listed captures taken in by backfill (:mod:`.backfill`): kept in the catalog, those refused before
any fetch refused (dated in the future, not a page), earlier refusals that no longer hold listed again, and the
document's plan made (:class:`~.backfill_plan.DocumentPlan`); the rows dated in the future told, one line a
document."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from policy_archive.archive.catalog.capture_reads import in_batches
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.config.checks import shown_secret_url
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.sources.base import ASKED_AGAIN
from policy_archive.pipeline.jobs.backfill_plan import NAMED_REFUSALS, DocumentPlan
from policy_archive.pipeline.jobs.change_dating import undated
from policy_archive.pipeline.jobs.current_texts import ReadAsNow
from policy_archive.pipeline.jobs.dated_in_order import guard_refusal
from policy_archive.pipeline.jobs.examine import holds_for_twins
from policy_archive.pipeline.jobs.future_dates import IN_THE_FUTURE, future_lines, in_the_future
from policy_archive.pipeline.jobs.listing_rows import BLOCKED_ROW, candidates, refusal_before_fetch
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import borrowed, refusal_kind
from policy_archive.pipeline.jobs.strategy import StrategyName
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import CaptureRef, DocumentDeclaration, Source
from policy_archive.text import plural


def take_listing(
    workspace: Workspace,
    declaration: DocumentDeclaration,
    refs: list[CaptureRef],
    strategy: StrategyName,
    source: ArchiveSource,
    verify: bool,
    retry: Collection[str] = (),
    notes: list[str] | None = None,
    progress: Progress | None = None,
) -> DocumentPlan:
    """``declaration``'s listed captures (``refs``) kept in the catalog, and its plan made over the listed rows:
    rows an earlier run refused as dated in the future whose day has come, or as listed blocked by the archive's
    access rules, listed again, refusals of the archive's
    own answer made under another replay_url, or of a kind in ``retry`` (:func:`asked_again`), listed again (said
    in ``notes``), those refused before any fetch (:func:`.listing_rows.refusal_before_fetch`) refused, twins
    refused through a refusal this run makes again listed again; ``verify``: the plan fetches what ``strategy``
    leaves unfetched too; ``progress`` counts the kept captures read again."""
    catalog = workspace.catalog
    catalog.add_listed(declaration.key, refs)
    clock = workspace.clock
    if line := asked_again(workspace, declaration, refs, source.settings.replay_url, retry):
        if notes is not None:
            notes.append(line)
    # A row refused as dated in the future by an earlier run whose day has come is a capture like any other now.
    catalog.relist(
        declaration.key,
        [
            (url, at)
            for url, at in catalog.refused_unfetched(declaration.key, IN_THE_FUTURE)
            if in_the_future(at, clock, "listed at") is None
        ],
    )
    # A row refused as listed blocked by the archive's access rules is judged again by this listing: an access
    # rule lifted, it is a capture like any other (one still blocked is refused again just below).
    if refs:
        first, last = refs[0].timestamp, refs[-1].timestamp
        blocked = catalog.refused_unfetched(declaration.key, BLOCKED_ROW)
        catalog.relist(declaration.key, [(url, at) for url, at in blocked if first <= at <= last])
    catalog.refuse_listed(declaration.key, ((ref, why) for ref in refs if (why := refusal_before_fetch(ref, clock))))
    fetchable = candidates(refs, clock)
    # Until 2026-11-27 a refusal of one replay (a digest mismatch, not archived) was passed on to the capture's
    # twins unfetched, losing the version they held: such twins are candidates again. A twin the guards refused
    # is listed again too: known through its fetched twin's text, it is judged again with it (the change may be
    # found at it), and refused again if still refused. Written a batch at a time as the scan finds them: a
    # refusal passed on to a million twins is a million rows (until 2026-11-29 one list of them all).
    again = (
        (row.url, row.captured_at)
        for row in catalog.each_capture(declaration.key, Source.WAYBACK, texts=False)
        if row.outcome is Outcome.REFUSED and borrowed(row.reason) and _decided_again(row.reason)
    )
    for batch in in_batches(again):
        catalog.relist(declaration.key, batch)
    rows = catalog.each_capture(declaration.key, Source.WAYBACK, texts=False)  # the listed rows: no text needed
    # Each text the plan learns read with the rules of now (those of another reading read again, once).
    read_as_now = ReadAsNow(workspace, declaration, progress)
    plan = DocumentPlan(
        declaration,
        fetchable,
        strategy,
        source,
        rows,
        verify,
        undated=lambda plan: undated(workspace.catalog, plan),
        read_as_now=read_as_now,
    )
    if notes is not None:
        notes.extend(read_as_now.notes())
    return plan


def asked_again(
    workspace: Workspace,
    declaration: DocumentDeclaration,
    refs: Sequence[CaptureRef],
    replay_url: str,
    retry: Collection[str],
) -> str | None:
    """List again ``declaration``'s captures refused on the archive's own answer (:data:`ASKED_AGAIN`: not
    archived, ...) that this run asks again, and say so in one line (None: none): those asked of another
    ``replay_url`` than today's, once (their next refusal records today's), and with ``retry`` (``backfill
    --retry-refused``) those of its kinds whatever they were asked of; only within the time ``refs`` (this run's
    listing, in time order) spans, so that a run limited by --since or --until leaves the others refused, with
    their reasons, for a run that lists them. A refusal recorded before 2026-11-29 names no replay_url, so only
    ``retry`` asks it again: asking every old refusal again on the first run of this release could be thousands of
    requests of an archive that answered them already."""
    if not refs:
        return None
    first, last = refs[0].timestamp, refs[-1].timestamp
    # Counted and listed again a batch at a time as the catalog is read, never held whole (until 2026-11-29 two
    # lists of every such refusal: a million `not-archived` rows asked again were a million tuples twice).
    count, only_before = 0, True
    before: set[str] = set()
    again = (
        (url, at, asked)
        for url, at, reason, asked in workspace.catalog.refused_replays(declaration.key, ASKED_AGAIN)
        if first <= at <= last and (refusal_kind(reason) in retry or (asked is not None and asked != replay_url))
    )
    for batch in in_batches(again):
        workspace.catalog.relist(declaration.key, [(url, at) for url, at, _ in batch])
        count += len(batch)
        before |= {asked for *_, asked in batch if asked is not None and asked != replay_url}
        only_before = only_before and all(asked is not None and asked != replay_url for *_, asked in batch)
    if not count:
        return None
    captures = f"{count} {plural(count, 'capture')}"
    if before and only_before:
        # Each named by scheme and host only: a replay_url may hold the archive's token in its path (issue 11).
        earlier = ", ".join(dict.fromkeys(map(shown_secret_url, sorted(before))))
        why = f"refused on the archive's answer to an earlier replay_url ({earlier})"
        return f"{declaration.key}: {captures} {why}, now {shown_secret_url(replay_url)}: candidates again"
    return f"{declaration.key}: {captures} refused on the archive's answer: candidates again (--retry-refused)"


def future_rows(workspace: Workspace, listings: dict[str, list[CaptureRef]]) -> list[str]:
    """One line per document whose listing has rows dated in the future (refused by :func:`take_listing`, never
    fetched), naming up to :data:`~.backfill_plan.NAMED_REFUSALS` of them: such a listing is the archive's error,
    which a user should know of, not only find counted by `status`."""
    lines = []
    for key, refs in listings.items():
        future = {
            ref.wayback_timestamp: reason
            for ref in refs
            if (reason := refusal_before_fetch(ref, workspace.clock)) and reason.startswith(IN_THE_FUTURE)
        }
        lines += future_lines(key, future, NAMED_REFUSALS, kept="in the catalog")
    return lines


def _decided_again(reason: str | None) -> bool:
    """Whether a refusal passed on to a twin is made again by this run: one replay's (it held for that capture
    only) or the guards' (made when the versions are made)."""
    return not holds_for_twins(reason) or guard_refusal(reason)
