"""Backfill: list a document's captures in the archive, fetch the ones a strategy needs, record the versions.

Flow: archive listing (crawler.sources) → catalog rows → strategy picks captures → WaybackSpider fetches them → each
capture is kept (WARC), examined (extracted or refused) and remembered in the catalog → when a document's
strategy needs nothing more, its versions go to Git in one batch. Everything learnt is in the catalog before
the next request is chosen, so a run killed at any moment continues where it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime

from policy_archive.archive.catalog.rows import UnverifiedSpan
from policy_archive.crawler.ratelimit import archive_key, limiter_for
from policy_archive.crawler.reach import Reachability, Unreached
from policy_archive.crawler.runner import crawl_archive
from policy_archive.crawler.sources import (
    ArchiveSource,
    ArchiveUnreachable,
    ListingClient,
    ListingError,
    archive_source,
)
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan
from policy_archive.pipeline.jobs.change_dating import decide
from policy_archive.pipeline.jobs.decided_versions import versions_decided
from policy_archive.pipeline.jobs.failure_words import retry_note, unfetched, why_failed
from policy_archive.pipeline.jobs.listed_captures import future_rows, take_listing
from policy_archive.pipeline.jobs.listing_rows import listing
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import DocumentFailure, RunReport, recorded_kinds
from policy_archive.pipeline.jobs.spider_plan import BackfillPlan
from policy_archive.pipeline.jobs.strategy import StrategyName
from policy_archive.pipeline.jobs.unverified import NotVerified, summary_line, unverified_spans
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import CaptureRef, DocumentDeclaration, RecordedVersion, Version
from policy_archive.stop_signals import Stopped, StopSignal, current_stop
from policy_archive.text import plural

INTERRUPTED = "interrupted before its history was complete: run again to continue"


def backfill(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    *,
    since: date | None = None,
    until: date | None = None,
    strategy: StrategyName = StrategyName.BISECT,
    verify_spans: bool = False,
    retry_refused: Collection[str] = (),
    progress: Progress | None = None,
) -> RunReport:
    """Backfill each document with ``strategy``; ``verify_spans``: then fetch what the strategy left unfetched;
    ``retry_refused``: the kinds of refusals of the archive's own answer to ask again (``backfill
    --retry-refused``; :func:`.listed_captures.asked_again`). The report's last line says how many listed captures
    were not verified (see :mod:`.unverified`)."""
    progress = progress or Progress("backfill")
    # How many captures to examine is known once the listings are read (``BackfillPlan.left``), and then only
    # as a bound while bisect searches: it decides what to fetch from what it learns.
    progress.expect(None, "captures examined", one="capture examined")
    settings = workspace.config.settings
    notes: list[str] = []
    source = archive_source(settings.wayback)
    # SIGTERM or Ctrl-C, from the command's start to its end: the listing, Scrapy's start, the crawl and the
    # recording each end as an interrupted run (policy_archive/stop_signals.py).
    stop = current_stop()
    asking = Asking(strategy, verify_spans, frozenset(retry_refused))
    listed = _list_documents(workspace, declarations, source, progress, since, until, asking, stop, notes)
    plans, listings, failures, interrupted, unreachable = listed
    notes.extend(future_rows(workspace, listings))
    # An archive found unreachable while listing is not asked for captures either when they are served by the same
    # host: the documents listed are left for the rerun as a stop leaves them (nothing lost, nothing assumed).
    replay_unreachable = unreachable is not None and unreachable.archive == archive_key(settings.wayback.replay_url)
    interrupted = interrupted or replay_unreachable
    unfetched_reason = f"not fetched: {_unreachable_reason(unreachable)}" if replay_unreachable else INTERRUPTED
    if not interrupted and any(not plan.complete for plan in plans.values()):
        fetching = BackfillPlan(workspace, plans, progress)
        progress.estimate(fetching.left)
        # A capture to examine is one replay request at least (more through redirects, retries, a rendering).
        replay = limiter_for(workspace.data_dir, settings.wayback, "replay")
        progress.at_most(settings.wayback.replay_per_minute / 60, lambda: replay.sent, "replay request")
        # Replays failing before any answer count too (crawler/reach.py): an archive gone once the listing is
        # read stops the crawl, as it stops the listing, instead of each capture of each document being asked.
        reach = Reachability()
        crawl_archive(fetching, source, settings, workspace.data_dir, stop, replay, reach)
        notes.extend(fetching.notes)
        interrupted = stop.received
        if reach.unreached is not None and not interrupted:
            notes.append(_unreachable_note(reach.unreached, failures, plans, replay_unreachable=True))
            unfetched_reason, interrupted = f"not fetched: {_unreachable_reason(reach.unreached)}", True
    if unreachable is not None:  # the one line saying why the run stopped, after the other notes
        notes.append(_unreachable_note(unreachable, failures, plans, replay_unreachable))
    results = _Results(workspace, failures, notes, stop, unfetched_reason)
    versions, assumed, unexamined = _plan_results(results, plans, listings, interrupted)
    documents = {version.document for version in versions}
    before = _main_versions(workspace, documents)
    recorded = workspace.record(versions)
    kinds = _recorded_kinds(before, _main_versions(workspace, documents), recorded)
    unlisted = [declaration.key for declaration in declarations if declaration.key not in plans]
    _note_outcomes(workspace, declarations, failures, unexamined, unlisted)
    progress.add("versions recorded", len(recorded), one="version recorded")
    if kinds:
        progress.detail("versions recorded", kinds)
    progress.finish()
    # The last line says what stopped the run early: a signal, or the archive found unreachable (its replays too).
    stopped_by = stop.signal_name or ("the archive being unreachable" if unfetched_reason != INTERRUPTED else None)
    left = dataclasses.replace(_not_verified(plans, unexamined, unlisted), stopped_by=stopped_by)
    return RunReport(recorded, failures, notes, last_line=summary_line(assumed, left), recorded_detail=kinds or None)


@dataclasses.dataclass(frozen=True)
class Asking:
    """What a backfill asks of the archive beyond its listings: the strategy, whether to fetch the spans it leaves
    unfetched, and which kinds of refusals of the archive's own answer to ask again."""

    strategy: StrategyName
    verify_spans: bool
    retry_refused: frozenset[str]


def _list_documents(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    source: ArchiveSource,
    progress: Progress,
    since: date | None,
    until: date | None,
    asking: Asking,
    stop: StopSignal,
    notes: list[str],
) -> tuple[dict[str, DocumentPlan], dict[str, list[CaptureRef]], list[DocumentFailure], bool, Unreached | None]:
    """Each document's captures listed, in turn, and its plan made as ``asking`` says: the plans and listings by
    document, the documents whose listing failed, and whether a stop signal stopped the listing (the documents after
    it fail); refusals asked again said in ``notes``; and why the archive is unreachable when the listing
    stopped because of it (the documents after it fail, not listed: the run asks an unreachable archive nothing
    more, rather than backing off once more for each document)."""
    settings = workspace.config.settings
    failures: list[DocumentFailure] = []
    plans: dict[str, DocumentPlan] = {}
    client = ListingClient(limiter_for(workspace.data_dir, settings.wayback, "cdx"), settings.crawl.user_agent)
    listings: dict[str, list[CaptureRef]] = {}
    interrupted = False
    unreachable: Unreached | None = None
    for declaration in declarations:
        # A signal while listing (or before it, or while the last document's plan was made): list and fetch
        # nothing more, but still record the documents whose history the catalog already holds completely.
        interrupted = interrupted or stop.received
        if interrupted:
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        if unreachable is not None:
            failures.append(DocumentFailure(declaration.key, f"not listed: {_unreachable_reason(unreachable)}"))
            continue
        try:
            with stop.interrupting():  # out of a listing request, or of a wait for the listing rate limit
                refs = listing(declaration, since, until, source, client)
        except ArchiveUnreachable as error:
            unreachable = error.unreached
            failures.append(DocumentFailure(declaration.key, f"archive listing failed: {error}"))
            continue
        except ListingError as error:
            failures.append(DocumentFailure(declaration.key, f"archive listing failed: {error}"))
            continue
        except Stopped:
            interrupted = True
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        progress.add("captures listed", len(refs), one="capture listed")
        listings[declaration.key] = refs
        plans[declaration.key] = take_listing(
            workspace,
            declaration,
            refs,
            asking.strategy,
            source,
            asking.verify_spans,
            asking.retry_refused,
            notes,
            progress,
        )
    return plans, listings, failures, interrupted or stop.received, unreachable


def _unreachable_reason(unreachable: Unreached) -> str:
    """``the archive web.archive.org is unreachable (connection refused): run again once it answers``."""
    return f"the archive {unreachable.archive} is unreachable ({unreachable.problem}): run again once it answers"


def _unreachable_note(
    unreachable: Unreached,
    failures: Sequence[DocumentFailure],
    plans: dict[str, DocumentPlan],
    replay_unreachable: bool,
) -> str:
    """The one line saying the run stopped asking an unreachable archive, and what it left for the rerun: the
    documents not listed after it, and those listed with captures left to fetch (it serves their replays too)."""
    skipped = f"not listed: {_unreachable_reason(unreachable)}"
    unlisted = sum(failure.reason == skipped for failure in failures)
    unfetched = sum(not plan.complete for plan in plans.values()) if replay_unreachable else 0
    left = [f"{unlisted} more {plural(unlisted, 'document')} not listed"] if unlisted or not unfetched else []
    if unfetched:
        left.append(f"{unfetched} listed {plural(unfetched, 'document')} not fetched")
    return (
        f"archive {unreachable.archive} unreachable: {unreachable.problem}, {unreachable.failures} requests in a"
        f" row; the run stopped asking it ({', '.join(left)}); run again once it answers: what was fetched is kept"
    )


def _plan_results(
    results: _Results,
    plans: dict[str, DocumentPlan],
    listings: dict[str, list[CaptureRef]],
    interrupted: bool,
) -> tuple[list[Version], list[UnverifiedSpan], dict[str, int]]:
    """What each listed document's plan gave once the fetching ended: its versions, the spans its strategy assumed
    and, for a plan the run did not work through, how many captures were left unexamined; the documents that
    failed added to ``failures``, what is worth saying to ``notes``.

    A stop signal coming now (none came before) is asked between the documents and before a document's versions
    are written: the documents left are left as a stop during the crawl leaves an unfinished one, for the rerun
    (until 2026-11-28 it was asked nowhere here: a SIGTERM while a long listing's versions were decided waited
    for every document, and the run said nothing of it). One that came before, during the listing or the crawl,
    leaves the documents worked through recorded, as it did before. A document's decisions ask it too, between
    their steps (:func:`.change_dating.decide`'s ``check``): until 2026-11-29 a stop came to a long listing's
    only once they were all made. ``results`` gathers them (its failures and notes the run's)."""
    for key, plan in plans.items():
        # A capture that failed while the run was stopping may have failed because of the stop: a search
        # around it is not trusted then either.
        if results.stopping() or not plan.complete or (interrupted and plan.unfetched):
            # Stopped before its plan was worked through: nothing is assumed and nothing recorded from a search
            # cut short (it could date a version at a capture that is not its first); the rerun resumes it from
            # what the catalog holds.
            results.interrupted(key, plan)
        elif not listings[key]:
            results.notes.append(f"{key}: the archive lists no capture of this document in the requested period")
        else:
            results.decided(key, plan, listings[key])
    return results.versions, results.assumed, results.unexamined


@dataclasses.dataclass
class _Results:
    """What the documents' plans gave, gathered one document at a time (:func:`_plan_results`): their versions,
    the spans assumed, the captures left unexamined; failures and notes added to the run's."""

    workspace: Workspace
    failures: list[DocumentFailure]
    notes: list[str]
    stop: StopSignal
    unfetched_reason: str = INTERRUPTED  # why a document not worked through failed: a stop, or the archive gone
    versions: list[Version] = dataclasses.field(default_factory=list)
    assumed: list[UnverifiedSpan] = dataclasses.field(default_factory=list)
    unexamined: dict[str, int] = dataclasses.field(default_factory=dict)
    stopped_before: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.stopped_before = self.stop.received

    def stopping(self) -> bool:
        """A stop signal came now, not before the fetching ended."""
        return self.stop.received and not self.stopped_before

    def check(self) -> None:  # asked inside a document's decisions (a long listing's take seconds, or minutes)
        """Raise ``Stopped`` when :meth:`stopping`."""
        if self.stopping():
            raise Stopped(self.stop.signal_name or "a stop signal")

    def interrupted(self, key: str, plan: DocumentPlan) -> None:
        """The document failed as interrupted (or not fetched from an unreachable archive), left for the rerun; its
        unexamined captures counted."""
        reason = INTERRUPTED if self.stopping() else self.unfetched_reason
        self.failures.append(DocumentFailure(key, reason))
        self.unexamined[key] = _record_interrupted(self.workspace, plan)

    def decided(self, key: str, plan: DocumentPlan, listed: list[CaptureRef]) -> None:
        """The document's versions decided and written, what its strategy assumed kept, why it failed said; left
        interrupted when a stop comes while its decisions are made (nothing of them written)."""
        try:
            decisions = decide(self.workspace.catalog, plan, self.check)
        except Stopped:
            decisions = None
        if decisions is None or self.stopping():  # while the decisions were made: nothing of them written
            self.interrupted(key, plan)
            return
        found = versions_decided(self.workspace, plan, decisions, self.notes)
        self.versions.extend(found)
        self.assumed.extend(_record_unverified(self.workspace, plan))
        if not found or plan.unfetched:
            self.failures.append(DocumentFailure(key, why_failed(self.workspace, plan, listed, found)))
        if not found and (note := retry_note(self.workspace, plan, listed)):
            self.notes.append(note)


def _not_verified(plans: dict[str, DocumentPlan], unexamined: dict[str, int], unlisted: Sequence[str]) -> NotVerified:
    """What the run left unverified besides the assumed spans, for the last line: captures not fetched (for now,
    or as the archive serves them), waiting for a browser, unexamined, and the documents not listed."""
    finished = [plan for key, plan in plans.items() if key not in unexamined]
    unrendered = sum(len(plan.needs_browser) for plan in finished)
    unfetchable = sum(len(unfetched(plan, as_served=True)) for plan in finished)
    failed = sum(len(plan.unfetched) for plan in finished) - unrendered - unfetchable
    return NotVerified(
        failed, unrendered, sum(unexamined.values()), len(unlisted), listed=bool(plans), unfetchable=unfetchable
    )


def _main_versions(workspace: Workspace, documents: Iterable[str]) -> set[tuple[str, datetime]]:
    """(document, captured_at) of each version of ``documents`` on ``main`` (the catalog's mirror of it)."""
    return {(key, row.captured_at) for key in documents for row in workspace.catalog.versions(key)}


def _recorded_kinds(
    before: set[tuple[str, datetime]], after: set[tuple[str, datetime]], recorded: Sequence[RecordedVersion]
) -> str:
    """What the commits a save wrote are (:func:`recorded_kinds`), from ``main``'s versions ``before`` and
    ``after`` it. A version is only hidden by an earlier one with its text inserted just before it: so the history
    grew by ``added``, each other commit at a time not on ``main`` before re-dated a version, and the rest were
    re-chained (same version, a new commit under an earlier insertion)."""
    moved = sum((item.version.document, item.version.commit_time) not in before for item in recorded)
    added = len(after) - len(before)
    return recorded_kinds(added, moved - added, len(recorded) - moved)


def _note_outcomes(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    failures: Sequence[DocumentFailure],
    unexamined: dict[str, int],
    unlisted: Sequence[str],
) -> None:
    """Each document's backfill outcome in the catalog, so that `status` names a failure until one succeeds, and
    what the run left unexamined (``unexamined`` captures, or its whole listing: ``unlisted``)."""
    now = datetime.now(UTC)
    reasons = {failure.document: failure.reason for failure in failures}
    for declaration in declarations:
        key = declaration.key
        workspace.catalog.note_backfill(
            key, now, reasons.get(key), unexamined=unexamined.get(key), unlisted=key in unlisted
        )


def _record_unverified(workspace: Workspace, plan: DocumentPlan) -> list[UnverifiedSpan]:
    """Keep what the strategy assumed instead of fetching, replacing what earlier runs assumed over this listing."""
    if not plan.refs:
        return []  # every listed capture was refused before fetching: nothing assumed
    key = plan.declaration.key
    assumed = unverified_spans(key, plan.refs, plan.known, plan.strategy)
    workspace.catalog.replace_unverified(key, plan.refs[0].timestamp, plan.refs[-1].timestamp, assumed)
    return assumed


def _record_interrupted(workspace: Workspace, plan: DocumentPlan) -> int:
    """A document whose plan the run did not work through: what earlier runs assumed over this listing is
    counted again as unexamined (so that nothing is counted twice), and no span is assumed. Returns how many
    captures it left unexamined: those nothing is known of, and those that failed (the rerun tries them again)."""
    if plan.refs:
        first, last = plan.refs[0].timestamp, plan.refs[-1].timestamp
        workspace.catalog.replace_unverified(plan.declaration.key, first, last, [])
    return plan.unexamined() + len(plan.unfetched)
