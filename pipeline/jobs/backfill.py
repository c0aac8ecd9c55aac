"""Backfill: list a document's captures in the archive, fetch the ones a strategy needs, record the versions.

Flow: archive listing (crawler.sources) → catalog rows → strategy picks captures → WaybackSpider fetches them → each
capture is kept (WARC), examined (extracted or refused) and remembered in the catalog → when a document's
strategy needs nothing more, its versions go to Git in one batch. Everything learnt is in the catalog before
the next request is chosen, so a run killed at any moment continues where it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome, UnverifiedSpan
from policy_archive.archive.stored_responses import DamagedCapture
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.runner import crawl_archive
from policy_archive.crawler.sources import ArchiveSource, ListingClient, ListingError, archive_source
from policy_archive.pipeline.jobs.backfill_plan import NAMED_REFUSALS, BackfillPlan, DocumentPlan
from policy_archive.pipeline.jobs.change_dating import Decision, Shown, decide, undated
from policy_archive.pipeline.jobs.examine import (
    ELSEWHEN,
    guard_refusal,
    holds_for_twins,
    make_version,
    refuse_change,
)
from policy_archive.pipeline.jobs.future_dates import IN_THE_FUTURE, future_lines, in_the_future
from policy_archive.pipeline.jobs.listing_rows import candidates, refusal_before_fetch, segments
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import (
    DocumentFailure,
    RunReport,
    borrowed,
    format_counts,
    recorded_kinds,
    refusal_counts,
)
from policy_archive.pipeline.jobs.served_bytes import joined_notes, own_note
from policy_archive.pipeline.jobs.strategy import StrategyName
from policy_archive.pipeline.jobs.unverified import (
    NOT_FETCHED_FOR_NOW,
    NotVerified,
    not_fetched_as_served,
    summary_line,
    unverified_spans,
)
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import CaptureRef, DocumentDeclaration, RecordedVersion, Source, Version, iso_z
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
    progress: Progress | None = None,
) -> RunReport:
    """Backfill each document with ``strategy``; ``verify_spans``: then fetch what the strategy left unfetched.
    The report's last line says how many listed captures were not verified (see :mod:`.unverified`)."""
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
    listed = _list_documents(workspace, declarations, source, progress, since, until, strategy, verify_spans, stop)
    plans, listings, failures, interrupted = listed
    notes.extend(_future_rows(workspace, listings))
    if not interrupted and any(not plan.complete for plan in plans.values()):
        fetching = BackfillPlan(workspace, plans, progress)
        progress.estimate(fetching.left)
        # A capture to examine is one replay request at least (more through redirects, retries, a rendering).
        replay = limiter_for(workspace.data_dir, settings.wayback, "replay")
        progress.at_most(settings.wayback.replay_per_minute / 60, lambda: replay.sent, "replay request")
        crawl_archive(fetching, source, settings, workspace.data_dir, stop, replay)
        notes.extend(fetching.notes)
        interrupted = stop.received
    versions, assumed, unexamined = _plan_results(workspace, plans, listings, interrupted, failures, notes, stop)
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
    left = dataclasses.replace(_not_verified(plans, unexamined, unlisted), stopped_by=stop.signal_name)
    return RunReport(recorded, failures, notes, last_line=summary_line(assumed, left), recorded_detail=kinds or None)


def _list_documents(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    source: ArchiveSource,
    progress: Progress,
    since: date | None,
    until: date | None,
    strategy: StrategyName,
    verify_spans: bool,
    stop: StopSignal,
) -> tuple[dict[str, DocumentPlan], dict[str, list[CaptureRef]], list[DocumentFailure], bool]:
    """Each document's captures listed, in turn, and its plan made: the plans and listings by document, the
    documents whose listing failed, and whether a stop signal stopped the listing (the documents after it fail)."""
    settings = workspace.config.settings
    failures: list[DocumentFailure] = []
    plans: dict[str, DocumentPlan] = {}
    client = ListingClient(limiter_for(workspace.data_dir, settings.wayback, "cdx"), settings.crawl.user_agent)
    listings: dict[str, list[CaptureRef]] = {}
    interrupted = False
    for declaration in declarations:
        # A signal while listing (or before it, or while the last document's plan was made): list and fetch
        # nothing more, but still record the documents whose history the catalog already holds completely.
        interrupted = interrupted or stop.received
        if interrupted:
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        try:
            with stop.interrupting():  # out of a listing request, or of a wait for the listing rate limit
                refs = [
                    ref
                    for url, start, end in segments(declaration, since, until)
                    for ref in source.list_captures_patiently(url, client, start, end)
                ]
        except ListingError as error:
            failures.append(DocumentFailure(declaration.key, f"archive listing failed: {error}"))
            continue
        except Stopped:
            interrupted = True
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        progress.add("captures listed", len(refs), one="capture listed")
        listings[declaration.key] = refs
        plans[declaration.key] = _plan(workspace, declaration, refs, strategy, source, verify_spans)
    return plans, listings, failures, interrupted or stop.received


def _plan_results(
    workspace: Workspace,
    plans: dict[str, DocumentPlan],
    listings: dict[str, list[CaptureRef]],
    interrupted: bool,
    failures: list[DocumentFailure],
    notes: list[str],
    stop: StopSignal,
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
    only once they were all made."""
    versions: list[Version] = []
    assumed: list[UnverifiedSpan] = []
    unexamined: dict[str, int] = {}
    stopped_before = stop.received

    def stopping() -> bool:
        return stop.received and not stopped_before

    def check() -> None:  # asked inside a document's decisions (a long listing's take seconds, or minutes)
        if stopping():
            raise Stopped(stop.signal_name or "a stop signal")

    for key, plan in plans.items():
        # A capture that failed while the run was stopping may have failed because of the stop: a search
        # around it is not trusted then either.
        if stopping() or not plan.complete or (interrupted and plan.unfetched):
            # Stopped before its plan was worked through: nothing is assumed and nothing recorded from a search
            # cut short (it could date a version at a capture that is not its first); the rerun resumes it from
            # what the catalog holds.
            failures.append(DocumentFailure(key, INTERRUPTED))
            unexamined[key] = _record_interrupted(workspace, plan)
        elif not listings[key]:
            notes.append(f"{key}: the archive lists no capture of this document in the requested period")
        else:
            try:
                decisions = decide(workspace.catalog, plan, check)
            except Stopped:
                decisions = None
            if decisions is None or stopping():  # while the decisions were made: nothing of them written
                failures.append(DocumentFailure(key, INTERRUPTED))
                unexamined[key] = _record_interrupted(workspace, plan)
                continue
            found = _versions(workspace, plan, decisions, notes)
            versions.extend(found)
            assumed.extend(_record_unverified(workspace, plan))
            if not found or plan.unfetched:
                failures.append(DocumentFailure(key, _words(workspace, plan, listings[key], found)))
    return versions, assumed, unexamined


def _not_verified(plans: dict[str, DocumentPlan], unexamined: dict[str, int], unlisted: Sequence[str]) -> NotVerified:
    """What the run left unverified besides the assumed spans, for the last line: captures not fetched (for now,
    or as the archive serves them), waiting for a browser, unexamined, and the documents not listed."""
    finished = [plan for key, plan in plans.items() if key not in unexamined]
    unrendered = sum(len(plan.needs_browser) for plan in finished)
    unfetchable = sum(len(_unfetched(plan, as_served=True)) for plan in finished)
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


def _words(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef], found: Sequence[Version]) -> str:
    """Why a document failed although its listing was complete: captures that need a browser (said first, with
    what to install), no version at all, or captures not fetched: for now, or as the archive serves them."""
    for_now, unfetchable = _unfetched(plan, as_served=False), _unfetched(plan, as_served=True)
    groups = [
        (failed, f"{how} ({rerun})")
        for failed, (how, rerun) in (
            (for_now, NOT_FETCHED_FOR_NOW),
            (unfetchable, not_fetched_as_served(len(unfetchable))),
        )
        if failed
    ]
    named = []
    for failed, how in groups:
        # "N captures" after versions found; after "no version: N captures listed", N alone (the contract's line).
        count = f"{len(failed)} {plural(len(failed), 'capture')}" if found else str(len(failed))
        named.append(f"{count} {how}: {_captures(plan, failed)}")
    if found:
        words = "; ".join([*named, f"{len(found)} {plural(len(found), 'version')} found among the others"])
    else:
        words = ", ".join([_no_version(workspace, plan, listed), *named])
    if not plan.needs_browser:
        return words
    count = len(plan.needs_browser)
    waiting = f"{count} {plural(count, 'capture')} to render once it is installed"
    needs = next(iter(plan.needs_browser.values()))
    return f"{needs}; {waiting}: {_captures(plan, plan.needs_browser, reasons=False)}; {words}"


def _unfetched(plan: DocumentPlan, *, as_served: bool) -> dict[int, str]:
    """Captures of ``plan`` that could not be fetched (not those waiting for a browser), by index, with why: with
    ``as_served``, those a rerun gets the same answer for (:attr:`~policy_archive.records.FetchFailure.lasting`,
    judged on the failure's own reason: a rendering's follows the shell's refusal in the words kept);
    without, the others (a timeout, a reset, the archive's 5xx: the next run may fetch them).

    Both stay catalogued failed, so the next run asks for each again: a lasting one costs one request (cut short at
    its announced size, or at the first 16 KiB of its head), keeps its document failing and named until it is
    fetched (by raising ``max_page_bytes``, say), and so never hides a version quietly."""
    return {
        i: why
        for i, why in plan.unfetched.items()
        if i not in plan.needs_browser and (i in plan.as_served) == as_served
    }


def _captures(plan: DocumentPlan, captures: dict[int, str], *, reasons: bool = True) -> str:
    """``20180629162426 (why); ...``, or without ``reasons`` ``20180629162426, ...``: captures of ``plan`` by
    index, in date order."""
    if not reasons:
        return ", ".join(plan.refs[i].wayback_timestamp for i in sorted(captures))
    return "; ".join(f"{plan.refs[i].wayback_timestamp} ({why})" for i, why in sorted(captures.items()))


def _no_version(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef]) -> str:
    """``no version: N captures listed, all refused (k reason, ...)``, the contract's words (DESIGN.md)."""
    keys = {(ref.url, ref.timestamp) for ref in listed}
    rows = workspace.catalog.each_capture(plan.declaration.key, Source.WAYBACK, texts=False)
    refusals = refusal_counts(
        row.reason for row in rows if (row.url, row.captured_at) in keys and row.outcome is Outcome.REFUSED
    )
    refused = sum(refusals.values())
    # "captures listed" whatever N: the contract's line, which checks from outside parse.
    words = f"no version: {len(keys)} captures listed"
    if refused:
        share = "all" if refused == len(keys) else str(refused)
        words += f", {share} refused ({format_counts(refusals)})"
    return words


def _plan(
    workspace: Workspace,
    declaration: DocumentDeclaration,
    refs: list[CaptureRef],
    strategy: StrategyName,
    source: ArchiveSource,
    verify: bool,
) -> DocumentPlan:
    catalog = workspace.catalog
    catalog.add_listed(declaration.key, refs)
    clock = workspace.clock
    # A row refused as dated in the future by an earlier run whose day has come is a capture like any other now.
    catalog.relist(
        declaration.key,
        [
            (url, at)
            for url, at in catalog.refused_unfetched(declaration.key, IN_THE_FUTURE)
            if in_the_future(at, clock, "listed at") is None
        ],
    )
    refused = [(ref, reason) for ref in refs if (reason := refusal_before_fetch(ref, clock))]
    catalog.refuse_listed(declaration.key, refused)
    fetchable = candidates(refs, clock)
    # Until 2026-11-27 a refusal of one replay (a digest mismatch, not archived) was passed on to the capture's
    # twins unfetched, losing the version they held: such twins are candidates again. A twin the guards refused
    # is listed again too: known through its fetched twin's text, it is judged again with it (the change may be
    # found at it), and refused again if still refused.
    catalog.relist(
        declaration.key,
        [
            (row.url, row.captured_at)
            for row in catalog.each_capture(declaration.key, Source.WAYBACK, texts=False)
            if row.outcome is Outcome.REFUSED and borrowed(row.reason) and _decided_again(row.reason)
        ],
    )
    rows = catalog.each_capture(declaration.key, Source.WAYBACK, texts=False)  # the listed rows: no text needed
    return DocumentPlan(
        declaration, fetchable, strategy, source, rows, verify, undated=lambda plan: undated(workspace.catalog, plan)
    )


def _future_rows(workspace: Workspace, listings: dict[str, list[CaptureRef]]) -> list[str]:
    """One line per document whose listing has rows dated in the future (refused by ``_plan``, never fetched),
    naming up to :data:`~.backfill_plan.NAMED_REFUSALS` of them: such a listing is the archive's error, which
    a user should know of, not only find counted by `status`."""
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


def _versions(workspace: Workspace, plan: DocumentPlan, decisions: list[Decision], notes: list[str]) -> list[Version]:
    """Versions of a completely planned document, in date order, after the guards (its ``decisions``,
    :func:`.change_dating.decide`); change windows noted; the captures refused told so in the catalog."""
    catalog = workspace.catalog
    key = plan.declaration.key
    versions: list[Version] = []
    # The first capture of each (URL, listed digest) whose bytes are kept, extracted and not rendered (what a twin
    # is known through): the record a twin dating a version refers to.
    fetched: dict[tuple[str, str], CaptureRow] = {}
    for row in catalog.each_capture(key, Source.WAYBACK, texts=False, stored=True):
        if row.stored is not None and row.digest is not None and row.body_sha1 is not None and not row.rendered:
            fetched.setdefault((row.url, str(row.digest)), row)
    for decision in decisions:
        shown, verdict = decision.shown, decision.verdict
        _lift_earlier_guard_refusals(catalog, decision)
        if shown is None:
            _refuse(catalog, key, decision.first, verdict.refusal or str(decision.dating), notes)
            continue
        # The capture's own note (its digest not checkable) stays beside the guards' (docs/decisions/0004).
        note = joined_notes(own_note(shown.row.note), verdict.note)
        if note:
            catalog.set_note(key, Source.WAYBACK, shown.ref.timestamp, note)
            notes.append(f"{key}: version of {iso_z(shown.row.bytes_at)} {note}")
        if shown.twin is None and shown.row.outcome is Outcome.REFUSED:  # refused by an earlier run (its date)
            catalog.restore_extracted(shown.row.id)
        if shown.twin is not None:
            _keep_revisit(workspace, key, shown, fetched, notes)
        catalog.set_window(key, shown.ref.timestamp, decision.unchanged_since)
        row = dataclasses.replace(shown.row, note=note)
        versions.append(make_version(plan.declaration, row, wayback=workspace.config.settings.wayback))
    return versions


def _keep_revisit(
    workspace: Workspace, key: str, shown: Shown, fetched: dict[tuple[str, str], CaptureRow], notes: list[str]
) -> None:
    """Keep a ``revisit`` record for a version's capture never fetched, known through its twin (same listed
    digest), once: the WARC files then hold the capture that dates the version, so that a lost catalog is rebuilt
    with the same dates and commit ids (docs/decisions/0004, amendment of 2026-11-28)."""
    ref, catalog = shown.ref, workspace.catalog
    if ref.digest is None or catalog.revisit_kept(key, ref.url, ref.timestamp):
        return
    twin = fetched.get((ref.url, str(ref.digest)))
    if twin is None or twin.stored is None:
        return
    snapshot = shown.row.snapshot_url or ref.url  # as_twin names the twin's own capture URL
    try:
        stored = workspace.captures.write_revisit(key, ref, snapshot, twin.stored)
    except (DamagedCapture, FileNotFoundError) as error:
        notes.append(
            f"{key}: no revisit record kept for capture {ref.wayback_timestamp} (it dates a version through its twin"
            f" {twin.captured_at:%Y%m%d%H%M%S}, whose record cannot be read: {error}); a rebuild from the WARC files"
            " would date that version at its twin"
        )
        return
    catalog.note_revisit(key, ref.url, ref.timestamp, stored)


def _lift_earlier_guard_refusals(catalog: Catalog, decision: Decision) -> None:
    """The captures of the decision's run that an earlier run's guards refused made extracted again, but the one
    this decision refuses (refused again, with today's reason): the guards' verdict is this run's."""
    refused_now = None if decision.shown else (decision.first.twin or decision.first.row).id
    for row_id in decision.judged_again:
        if row_id != refused_now:
            catalog.restore_extracted(row_id)


def _refuse(catalog: Catalog, key: str, first: Shown, refusal: str, notes: list[str]) -> None:
    """Refuse the change found at ``first`` (through the twin it is known through, if any), and say so in
    ``notes`` when refused for its date."""
    refuse_change(catalog, key, first.twin or first.row, refusal, first.ref if first.twin else None)
    if refusal.startswith(ELSEWHEN):  # the others are the guards', told by status and review
        notes.append(f"{key}: capture {first.ref.wayback_timestamp} refused: {refusal}")
