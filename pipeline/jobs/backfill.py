"""Backfill: list a document's captures in the archive, fetch the ones a strategy needs, record the versions.

Flow: archive listing (crawler.sources) → catalog rows → strategy picks captures → WaybackSpider fetches them → each
capture is kept (WARC), examined (extracted or refused) and remembered in the catalog → when a document's
strategy needs nothing more, its versions go to Git in one batch. Everything learnt is in the catalog before
the next request is chosen, so a run killed at any moment continues where it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from policy_archive.archive.catalog_rows import CaptureRow, Outcome, UnverifiedSpan
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.runner import StopSignal, crawl_archive
from policy_archive.crawler.sources import (
    ArchiveSource,
    ListingClient,
    ListingError,
    archive_source,
)
from policy_archive.pipeline.jobs.examine import (
    ARCHIVED_STATUS,
    DIGEST_MISMATCH,
    Examination,
    as_twin,
    examine,
    holds_for_twins,
    make_version,
    record_examined,
    rendering_request,
)
from policy_archive.pipeline.jobs.guards import judge
from policy_archive.pipeline.jobs.progress import Left, Progress
from policy_archive.pipeline.jobs.report import (
    DocumentFailure,
    RunReport,
    borrowed,
    format_counts,
    recorded_kinds,
    refusal_counts,
    twin_reason,
)
from policy_archive.pipeline.jobs.strategy import StrategyName, ToFetch, changes, to_fetch, wanted
from policy_archive.pipeline.jobs.unverified import NotVerified, summary_line, unverified_spans
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    FetchFailure,
    FetchRequest,
    RecordedVersion,
    Source,
    Version,
    iso_z,
)
from policy_archive.text import plural

INTERRUPTED = "interrupted before its history was complete: run again to continue"
FETCHABLE_STATUSES = {200, 301, 302, 303, 307, 308, None}
DOCUMENT_MIMETYPES = (
    "text/html",
    "application/xhtml",
    "application/pdf",
    "text/plain",
    "unk",
    "warc/revisit",
)


def segments(
    declaration: DocumentDeclaration, since: date | None, until: date | None
) -> list[tuple[str, datetime | None, datetime | None]]:
    """(URL, from, to) listings that cover the document's life: its history entries, then its current URL."""
    result = []
    start = since
    for entry in declaration.history:
        end = min(entry.valid_until, until) if until else entry.valid_until
        if start is None or start <= end:
            result.append((entry.url, _day_start(start), _day_end(end)))
        start = max(start, entry.valid_until + timedelta(days=1)) if start else entry.valid_until + timedelta(days=1)
    if start is None or until is None or start <= until:
        result.append((declaration.url, _day_start(start), _day_end(until)))
    return result


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _day_end(day: date | None) -> datetime | None:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC) if day else None


def refusal_before_fetch(ref: CaptureRef) -> str | None:
    """CDX rows that cannot be a text of the document are not fetched at all."""
    if ref.status not in FETCHABLE_STATUSES:
        return f"{ARCHIVED_STATUS} {ref.status}"
    if ref.mimetype and not ref.mimetype.lower().startswith(DOCUMENT_MIMETYPES):
        return f"not a document ({ref.mimetype})"
    return None


class DocumentPlan:
    """One document's candidate captures and what is known of them; asks the strategy what to fetch next."""

    def __init__(
        self,
        declaration: DocumentDeclaration,
        refs: Sequence[CaptureRef],
        strategy: StrategyName,
        source: ArchiveSource,
        rows: Iterable[CaptureRow],
        verify: bool = False,
    ):
        self.declaration = declaration
        self.refs = list(refs)
        self.strategy = strategy
        self.source = source
        self.verify = verify
        self.index = {(ref.url, ref.timestamp): i for i, ref in enumerate(self.refs)}
        # Identical bytes give identical text. Only for 200s: two redirect captures with the same bytes may point
        # at different pages. What one replay did (a refusal in REPLAY_REFUSALS, a failure) is not shared.
        self.same_bytes: dict[tuple[str, str], list[int]] = {}
        for i, ref in enumerate(self.refs):
            if ref.status == 200 and ref.digest:
                self.same_bytes.setdefault((ref.url, ref.digest), []).append(i)
        self.known: dict[int, str | None] = {}
        self.in_flight: set[int] = set()
        # Captures that could not be fetched this run (catalogued failed, so a rerun retries them), with why.
        # The search goes on around them as if they showed nothing.
        self.unfetched: dict[int, str] = {}
        # Those among them that needed rendering with no browser to do it, with what to install.
        self.needs_browser: dict[int, str] = {}
        for row in rows:
            i = self.index.get((row.url, row.captured_at))
            if i is None:
                continue
            if row.outcome is Outcome.EXTRACTED:
                self.learn(i, row.body_sha1, rendered=row.rendered)
            elif row.outcome is Outcome.REFUSED:
                self.learn(i, None, for_twins=holds_for_twins(row.reason))

    def learn(
        self, index: int, text: str | None, *, rendered: bool = False, for_twins: bool = True
    ) -> list[CaptureRef]:
        """Remember what a capture showed; return the other captures this also tells about (same bytes).

        ``for_twins`` False: what this replay showed says nothing about the twins (``REPLAY_REFUSALS``). A
        rendered capture tells nothing about its twins either: a script shell's bytes stay the same while the
        text its scripts fetch changes."""
        self.in_flight.discard(index)
        self.known[index] = text
        ref = self.refs[index]
        shared = ref.status == 200 and for_twins and not rendered
        group = self.same_bytes.get((ref.url, ref.digest or ""), []) if shared else []
        twins = [i for i in group if i not in self.known]
        for other in twins:
            self.known[other] = text  # known at no cost
        return [self.refs[other] for other in twins]

    def skip(self, index: int, reason: str, needs_browser: str | None = None) -> None:
        """A capture that could not be fetched: searched around this run, retried by the next one.
        ``needs_browser``: it needed rendering and no browser could be started (what to install)."""
        self.in_flight.discard(index)
        self.known[index] = None
        self.unfetched[index] = reason
        if needs_browser:
            self.needs_browser[index] = needs_browser

    def next_requests(self) -> list[FetchRequest]:
        chosen = [i for i in self._wanted() if i not in self.in_flight]
        self.in_flight.update(chosen)
        return [self._request(self.refs[i]) for i in chosen]

    @property
    def complete(self) -> bool:
        """Whether the strategy needs nothing more and every capture it asked for was answered. A request still
        in flight when the crawl ended (stopped by a signal) leaves the plan incomplete: ``bisect`` asks for
        nothing more in a span while its probe is pending, so its wishes alone would call it complete."""
        return not self.in_flight and not self._wanted()

    def unexamined(self) -> int:
        """How many candidate captures nothing is known of: not fetched, no twin fetched, not refused."""
        return len(self.refs) - len(self.known)

    def _wanted(self) -> list[int]:
        return wanted(self.strategy, self.refs, self.known, verify=self.verify, pending=self.in_flight)

    def to_fetch(self) -> ToFetch:
        return to_fetch(self.strategy, self.refs, self.known, verify=self.verify)

    def _request(self, ref: CaptureRef) -> FetchRequest:
        """Always a plain fetch first, even for ``render = "always"``: the raw bytes kept (and checked against
        the CDX digest) are then the archive's own; the rendering follows (``rendering_request``)."""
        capture = self.source.capture_url(ref.timestamp, ref.url)
        return FetchRequest(self.declaration.key, capture, ref.url, ref)


class BackfillPlan:
    """The fetch plan handed to the spider: routes each result to its document and asks for the next ones."""

    def __init__(self, workspace: Workspace, plans: dict[str, DocumentPlan], progress: Progress):
        self.workspace = workspace
        self.plans = plans
        self.progress = progress
        self.check_digests = workspace.config.settings.wayback.check_digests
        self.notes: list[str] = []
        # Captures being rendered (script shells; any capture with render = "always"), by the CDX row they
        # answer: the capture as fetched plain and why its own text was refused (None: it was not).
        self.shells: dict[tuple[str, tuple[str, datetime]], tuple[Capture, str | None]] = {}

    def left(self) -> Left:
        """The captures still to fetch, for the progress line: exact unless a document's ``bisect`` is searching."""
        outlooks = [plan.to_fetch() for plan in self.plans.values()]
        return Left(sum(o.captures for o in outlooks), exact=all(o.exact for o in outlooks))

    def start(self) -> Iterable[FetchRequest]:
        for plan in self.plans.values():
            yield from plan.next_requests()

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        if isinstance(result, Capture):
            plan = self.plans[result.document]
            shell = self.shells.pop((result.document, result.listing_key), None)
            if shell is not None:
                # The raw bytes (and archived redirects) are the plain fetch's, as the archive served them: the
                # browser's copy of the page came through its own network stack (decoded, so its digest is not
                # the CDX row's), and the DOM is what the rendering adds.
                result = dataclasses.replace(shell[0], rendered=result.rendered)
            examination = examine(plan.declaration, result, check_digest=self.check_digests)
            rendering = rendering_request(plan.declaration, result, examination)
            if rendering is not None:
                self.shells[(result.document, result.listing_key)] = (result, examination.reason)
                return [rendering, *plan.next_requests()]
            self._keep(plan.declaration, result, examination)
            twins = plan.learn(
                plan.index[result.listing_key],
                examination.body_sha1,
                rendered=result.rendered is not None,
                for_twins=examination.outcome is Outcome.EXTRACTED or holds_for_twins(examination.reason),
            )
            if examination.outcome is Outcome.REFUSED and twins:
                assert result.listed is not None
                reason = twin_reason(result.listed.timestamp, examination.reason)
                self.workspace.catalog.refuse_listed(plan.declaration.key, [(twin, reason) for twin in twins])
        else:
            plan = self.plans[result.request.document]
            ref = result.request.ref
            needs_browser = result.reason if result.needs_browser else None
            shell = self.shells.pop((result.request.document, (ref.url, ref.timestamp)), None) if ref else None
            if shell is not None:  # the rendering failed: both reasons, the plain capture's redirects
                reason = "; ".join(why for why in (shell[1], result.reason) if why)
                result = dataclasses.replace(result, reason=reason, hops=shell[0].hops)
            self._note_failure(plan, result, needs_browser)
        # One capture examined per listed row answered: a capture rendered after its plain fetch counts here once,
        # when the rendering's answer comes; "refused" is a kind of what was fetched, not a capture of its own.
        self.progress.add("fetched", done=True)
        return plan.next_requests()

    def _keep(self, declaration: DocumentDeclaration, capture: Capture, examination: Examination) -> None:
        record_examined(self.workspace.catalog, capture, self.workspace.captures.write(capture), examination)
        if examination.outcome is Outcome.REFUSED:
            self.progress.add("refused")
            if (examination.reason or "").startswith(DIGEST_MISMATCH) and capture.listed is not None:
                self._note_refusal(declaration, capture.listed, examination.reason or "")

    def _note_refusal(self, declaration: DocumentDeclaration, ref: CaptureRef, reason: str) -> None:
        """A replay the archive answered with something other than the capture listed (other bytes, no memento,
        a redirect out of it): told on stderr, as a person would not expect it of a listed capture."""
        self.notes.append(f"{declaration.key}: capture {ref.wayback_timestamp} refused: {reason}")

    def _note_failure(self, plan: DocumentPlan, failure: FetchFailure, needs_browser: str | None) -> None:
        ref = failure.request.ref
        assert ref is not None
        for hop in failure.hops:  # archived redirects fetched on the way: kept, whatever came after them
            self.workspace.captures.write(hop)
        outcome = Outcome.REFUSED if failure.refused else Outcome.FAILED
        self.workspace.catalog.record_unfetched(
            plan.declaration.key,
            Source.WAYBACK,
            ref.url,
            ref.timestamp,
            outcome,
            failure.reason,
            fetched_status=failure.status,
        )
        index = plan.index[(ref.url, ref.timestamp)]
        if outcome is Outcome.REFUSED:  # the archive's answer to this replay (not archived, a redirect out)
            self.progress.add("refused")
            self._note_refusal(plan.declaration, ref, failure.reason)
            plan.learn(index, None, for_twins=False)
        else:
            plan.skip(index, failure.reason, needs_browser)


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
    failures: list[DocumentFailure] = []
    notes: list[str] = []
    plans: dict[str, DocumentPlan] = {}
    source = archive_source(settings.wayback)
    client = ListingClient(limiter_for(workspace.data_dir, settings.wayback, "cdx"), settings.crawl.user_agent)
    listings: dict[str, list[CaptureRef]] = {}
    interrupted = False
    for declaration in declarations:
        if interrupted:
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        try:
            refs = [
                ref
                for url, start, end in segments(declaration, since, until)
                for ref in source.list_captures_patiently(url, client, start, end)
            ]
        except ListingError as error:
            failures.append(DocumentFailure(declaration.key, f"archive listing failed: {error}"))
            continue
        except KeyboardInterrupt:
            # Ctrl-C while listing (Scrapy handles it once the crawl runs): list and fetch nothing more, but
            # still record the documents whose history the catalog already holds completely.
            interrupted = True
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        progress.add("captures listed", len(refs), one="capture listed")
        listings[declaration.key] = refs
        plans[declaration.key] = _plan(workspace, declaration, refs, strategy, source, verify_spans)
    if not interrupted and any(not plan.complete for plan in plans.values()):
        fetching = BackfillPlan(workspace, plans, progress)
        stop = StopSignal()
        progress.estimate(fetching.left)
        crawl_archive(fetching, source, settings, workspace.data_dir, stop)
        notes.extend(fetching.notes)
        interrupted = stop.received
    versions: list[Version] = []
    assumed: list[UnverifiedSpan] = []
    unexamined: dict[str, int] = {}
    for key, plan in plans.items():
        # A capture that failed while the run was stopping may have failed because of the stop: a search
        # around it is not trusted then either.
        if not plan.complete or (interrupted and plan.unfetched):
            # Stopped before its plan was worked through: nothing is assumed and nothing recorded from a search
            # cut short (it could date a version at a capture that is not its first); the rerun resumes it from
            # what the catalog holds.
            failures.append(DocumentFailure(key, INTERRUPTED))
            unexamined[key] = _record_interrupted(workspace, plan)
        elif not listings[key]:
            notes.append(f"{key}: the archive lists no capture of this document in the requested period")
        else:
            found = _versions(workspace, plan, notes)
            versions.extend(found)
            assumed.extend(_record_unverified(workspace, plan))
            if not found or plan.unfetched:
                failures.append(DocumentFailure(key, _words(workspace, plan, listings[key], found)))
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
    finished = [plan for key, plan in plans.items() if key not in unexamined]
    unrendered = sum(len(plan.needs_browser) for plan in finished)
    failed = sum(len(plan.unfetched) for plan in finished) - unrendered
    left = NotVerified(failed, unrendered, sum(unexamined.values()), len(unlisted), listed=bool(plans))
    return RunReport(recorded, failures, notes, last_line=summary_line(assumed, left), recorded_detail=kinds or None)


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
    what to install), no version at all, or captures not fetched."""
    unfetched = {i: why for i, why in plan.unfetched.items() if i not in plan.needs_browser}
    not_fetched = f"could not be fetched (run again to retry): {_captures(plan, unfetched)}"
    if found:
        words = f"{len(found)} {plural(len(found), 'version')} found among the others"
        if unfetched:
            words = f"{len(unfetched)} {plural(len(unfetched), 'capture')} {not_fetched}; {words}"
    else:
        words = _no_version(workspace, plan, listed)
        if unfetched:
            words += f", {len(unfetched)} {not_fetched}"
    if not plan.needs_browser:
        return words
    count = len(plan.needs_browser)
    waiting = f"{count} {plural(count, 'capture')} to render once it is installed"
    needs = next(iter(plan.needs_browser.values()))
    return f"{needs}; {waiting}: {_captures(plan, plan.needs_browser, reasons=False)}; {words}"


def _captures(plan: DocumentPlan, captures: dict[int, str], *, reasons: bool = True) -> str:
    """``20180629162426 (why); ...``, or without ``reasons`` ``20180629162426, ...``: captures of ``plan`` by
    index, in date order."""
    if not reasons:
        return ", ".join(plan.refs[i].wayback_timestamp for i in sorted(captures))
    return "; ".join(f"{plan.refs[i].wayback_timestamp} ({why})" for i, why in sorted(captures.items()))


def _no_version(workspace: Workspace, plan: DocumentPlan, listed: Sequence[CaptureRef]) -> str:
    """``no version: N captures listed, all refused (k reason, ...)``, the contract's words (DESIGN.md)."""
    keys = {(ref.url, ref.timestamp) for ref in listed}
    rows = workspace.catalog.captures(plan.declaration.key, Source.WAYBACK)
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
    refused = [(ref, reason) for ref in refs if (reason := refusal_before_fetch(ref))]
    catalog.refuse_listed(declaration.key, refused)
    refused_refs = {ref for ref, _ in refused}
    candidates = sorted((ref for ref in set(refs) if ref not in refused_refs), key=lambda r: (r.timestamp, r.url))
    # Until 2026-11-27 a refusal of one replay (a digest mismatch, not archived) was passed on to the capture's
    # twins unfetched, losing the version they held: such twins are candidates again.
    catalog.relist(
        declaration.key,
        [
            (row.url, row.captured_at)
            for row in catalog.captures(declaration.key, Source.WAYBACK)
            if row.outcome is Outcome.REFUSED and borrowed(row.reason) and not holds_for_twins(row.reason)
        ],
    )
    rows = catalog.captures(declaration.key, Source.WAYBACK)
    return DocumentPlan(declaration, candidates, strategy, source, rows, verify)


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


def _versions(workspace: Workspace, plan: DocumentPlan, notes: list[str]) -> list[Version]:
    """Versions of a completely planned document, in date order, after the guards; change windows noted."""
    catalog = workspace.catalog
    key = plan.declaration.key
    rows = {(row.url, row.captured_at): row for row in catalog.captures(key, Source.WAYBACK)}
    by_text = {row.body_sha1: row for row in rows.values() if row.outcome is Outcome.EXTRACTED}
    result: list[Version] = []
    for change in changes(plan.refs, plan.known):
        ref = plan.refs[change.index]
        row = rows.get((ref.url, ref.timestamp))
        twin = None
        if row is None or row.outcome is not Outcome.EXTRACTED:
            # Known through an identical twin (same digest, a 200): its text, this capture's time and address.
            twin = by_text[plan.known[change.index]]
            row = as_twin(twin, ref, plan.source.capture_url(ref.timestamp, ref.url))
        text = plan.known[change.index]
        seen_at = [plan.refs[i].timestamp for i, known in plan.known.items() if known == text]
        verdict = judge(row.body or "", result[-1].body if result else None, seen_at)
        if verdict.refusal:
            catalog.refuse(row.id, verdict.refusal)  # the capture fetched (a twin's row keeps its id)
            if twin is not None:  # and the unfetched twin dated by it, so that it too says why
                catalog.refuse_listed(key, [(ref, twin_reason(twin.captured_at, verdict.refusal))])
            continue
        if verdict.note:
            catalog.set_note(key, Source.WAYBACK, ref.timestamp, verdict.note)
            notes.append(f"{key}: version of {iso_z(row.bytes_at)} {verdict.note}")
        catalog.set_window(key, ref.timestamp, _bytes_time(rows, plan.refs, change.window_start))
        result.append(make_version(plan.declaration, dataclasses.replace(row, note=verdict.note)))
    return result


def _bytes_time(
    rows: dict[tuple[str, datetime], CaptureRow], refs: Sequence[CaptureRef], index: int | None
) -> datetime | None:
    """When the bytes of the capture at ``index`` were captured: its memento time once fetched (an archived
    redirect's target is served from a later memento than its CDX row), else its listed time."""
    if index is None:
        return None
    ref = refs[index]
    row = rows.get((ref.url, ref.timestamp))
    return row.bytes_at if row else ref.timestamp
