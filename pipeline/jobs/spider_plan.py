"""The plan handed to the archive spider (``BackfillPlan``): it routes each result to its document's plan
(:class:`.backfill_plan.DocumentPlan`), examines and keeps what was fetched, notes refusals and failures, and asks
for the next captures. Split from backfill_plan.py on 2026-11-29."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from policy_archive.archive.catalog.rows import Outcome
from policy_archive.crawler.sources.base import ACCESS_BLOCKED
from policy_archive.pipeline.jobs.backfill_plan import NAMED_REFUSALS, DocumentPlan
from policy_archive.pipeline.jobs.examine import (
    ARCHIVED_STATUS,
    ELSEWHEN,
    Examination,
    examine,
    holds_for_twins,
    record_examined,
    rendering_request,
)
from policy_archive.pipeline.jobs.future_dates import IN_THE_FUTURE
from policy_archive.pipeline.jobs.progress import Left, Progress
from policy_archive.pipeline.jobs.report import refusal_kind, twin_reason
from policy_archive.pipeline.jobs.served_bytes import DIGEST_MISMATCH, DIGEST_NOT_COMPARABLE
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    FetchFailure,
    FetchRequest,
    Source,
)
from policy_archive.text import counted


class BackfillPlan:
    """The fetch plan handed to the spider: routes each result to its document and asks for the next ones."""

    def __init__(self, workspace: Workspace, plans: dict[str, DocumentPlan], progress: Progress):
        self.workspace = workspace
        self.plans = plans
        self.progress = progress
        self.check_digests = workspace.config.settings.wayback.check_digests
        # Refusals told on stderr, by document and kind: a few named one by one, more summed up in one line.
        self.refusals: dict[tuple[str, str], list[tuple[CaptureRef, str]]] = {}
        # Captures being rendered (script shells; any capture with render = "always"), by the CDX row they
        # answer: the capture as fetched plain and why its own text was refused (None: it was not).
        self.shells: dict[tuple[str, tuple[str, datetime]], tuple[Capture, str | None]] = {}

    def left(self) -> Left:
        """The captures still to fetch, for the progress line: exact unless a document's ``bisect`` is searching;
        then at least those chosen, and the spans still searched."""
        outlooks = [plan.to_fetch() for plan in self.plans.values()]
        started = sum(len(plan.in_flight) for plan in self.plans.values())
        if all(o.exact for o in outlooks):
            return Left(sum(o.captures for o in outlooks), started=started)
        fewest = sum(o.captures if o.exact else o.fewest for o in outlooks)
        spans = sum(o.spans for o in outlooks)
        still = f"{counted(spans, 'span')} to search"
        return Left(sum(o.captures for o in outlooks), False, fewest, still, started=started)

    def start(self) -> Iterable[FetchRequest]:
        """Every document's first requests, one document after another."""
        for plan in self.plans.values():
            yield from plan.next_requests()

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        """Examine a capture (or note a failed fetch) for its document, keep what it showed (the rows listed at its
        URL and second, and its twins of the same bytes where they may, are settled with it) and return that
        document's next requests. A capture whose text needs scripts is not kept yet: a rendering request comes first
        and its answer is examined with the plain fetch's bytes. A failed rendering keeps both reasons."""
        if isinstance(result, Capture):
            plan = self.plans[result.document]
            shell = self.shells.pop((result.document, result.listing_key), None)
            if shell is not None:
                # The raw bytes (and archived redirects) are the plain fetch's, as the archive served them: the
                # browser's copy of the page came through its own network stack (decoded, so its digest is not
                # the CDX row's), and the DOM is what the rendering adds.
                result = dataclasses.replace(shell[0], rendered=result.rendered)
            result = plan.answering(result)
            index = plan.position(result.listed)
            examination = examine(
                plan.declaration,
                result,
                clock=self.workspace.clock,
                check_digest=self.check_digests,
                neighbours=plan.neighbours(index),
            )
            rendering = rendering_request(plan.declaration, result, examination)
            if rendering is not None:
                self.shells[(result.document, result.listing_key)] = (result, examination.reason)
                return [rendering, *plan.next_requests()]
            self._keep(plan.declaration, result, examination)
            twins = plan.learn(
                index,
                examination.body_sha1,
                rendered=result.rendered is not None,
                for_twins=examination.outcome is Outcome.EXTRACTED or holds_for_twins(examination.reason),
            )
            listed = result.listed
            served = listed.digest is not None and bool(listed.digest.names(result.body)) and not result.hops
            verdict = examination.reason if examination.outcome is Outcome.REFUSED else None
            for ref, why in plan.settle(index, served, verdict):
                self._note_refusal(plan.declaration, ref, why)
            if examination.outcome is Outcome.REFUSED and twins:
                assert result.listed is not None
                reason = twin_reason(result.listed.timestamp, examination.reason)
                # Each twin's row made as it is written: a refusal passed on to a million twins built a list of
                # them all before (with its catalog keys, a second one) until 2026-11-29.
                refused = ((plan.refs[twin], reason) for twin in twins)
                self.workspace.catalog.refuse_listed(plan.declaration.key, refused)
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
            told = (DIGEST_MISMATCH, DIGEST_NOT_COMPARABLE, ELSEWHEN, IN_THE_FUTURE)
            reason, listed = examination.reason or "", capture.listed
            if listed is not None and reason.startswith(told):
                self._note_refusal(declaration, listed, reason)
            elif listed is not None and listed.status == 200 and reason.startswith(ARCHIVED_STATUS):
                # A 200 row served as another status (a stored 429): not the capture listed, as a digest
                # mismatch is not, and told as one was before the status came first (decision 0004).
                self._note_refusal(declaration, listed, f"{reason} (listed as 200)")

    def _note_refusal(self, declaration: DocumentDeclaration, ref: CaptureRef, reason: str) -> None:
        """A replay the archive answered with something other than the capture listed (other bytes, no memento,
        a redirect out of it, bytes archived at another time): told on stderr, as a person would not expect it of
        a listed capture."""
        self.refusals.setdefault((declaration.key, refusal_kind(reason)), []).append((ref, reason))

    @property
    def notes(self) -> list[str]:
        """One line per refusal, or, past :data:`NAMED_REFUSALS` archived at another time for a document, one
        line for them all, naming the first."""
        lines = []
        for (document, kind), refused in self.refusals.items():
            if kind not in (ELSEWHEN, ACCESS_BLOCKED) or len(refused) <= NAMED_REFUSALS:
                lines += [f"{document}: capture {ref.wayback_timestamp} refused: {why}" for ref, why in refused]
                continue
            first, why = refused[0]
            lines.append(
                f"{document}: {len(refused)} captures refused, {kind} (each with its reason in the catalog;"
                f" the first, capture {first.wayback_timestamp}: {why})"
            )
        return lines

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
            lasting=failure.lasting,
            # Which archive configuration the refusal was made under: one made under another is asked again
            # (listed_captures.asked_again).
            replay_url=plan.source.settings.replay_url,
        )
        index = plan.position(ref)
        if outcome is Outcome.REFUSED:  # the archive's answer to this replay (not archived, a redirect out)
            self.progress.add("refused")
            self._note_refusal(plan.declaration, ref, failure.reason)
            plan.learn(index, None, for_twins=False)
        else:
            plan.skip(index, failure.reason, needs_browser, lasting=failure.lasting)
        # The other rows listed at this URL and second would be asked for with the same replay URL: its answer is
        # theirs (a failure is retried by the next run through the one catalog row of the second).
        for other in plan.second_of(index):
            plan.in_flight.discard(other)
            plan.known.setdefault(other, None)
