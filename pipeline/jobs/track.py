"""Track: fetch the live documents now and record each whose text changed, dated at the fetch time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from policy_archive.archive.catalog.rows import Outcome
from policy_archive.crawler.failures import asked_times, status_for_now
from policy_archive.crawler.runner import crawl_live
from policy_archive.hostnames import ascii_url
from policy_archive.pipeline.jobs.examine import Examination, examine, make_version, rendering_request
from policy_archive.pipeline.jobs.guards import judge
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import DocumentFailure, RunReport
from policy_archive.pipeline.jobs.served_bytes import joined_notes
from policy_archive.pipeline.jobs.sites_left import SitesLeft
from policy_archive.pipeline.jobs.unverified import NOT_FETCHED_FOR_NOW, not_fetched_as_served, not_fetched_counts
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.pipeline.scheduling.notify import change_summaries, notify
from policy_archive.records import (
    Capture,
    DocumentDeclaration,
    FetchFailure,
    FetchRequest,
    Render,
    Source,
    Version,
)
from policy_archive.stop_signals import current_stop
from policy_archive.text import plural


class TrackPlan:
    """One request per document; conditional when a version of it is already recorded.

    A document declared ``render = "always"`` is fetched in the headless browser; in ``auto`` mode, a page that
    turns out to be a script shell is fetched once more in the browser, and only that rendering is recorded
    (its raw bytes with it); if the rendering fails, the shell is recorded, refused with both reasons, and the
    document counted by the rendering's failure (one for now, such as a page still changing, is asked again).
    """

    def __init__(self, workspace: Workspace, declarations: Sequence[DocumentDeclaration], progress: Progress):
        self.workspace = workspace
        self.declarations = {d.key: d for d in declarations}
        self.progress = progress
        self.left = SitesLeft(declarations)
        progress.estimate(self.left)
        self.versions: list[Version] = []
        self.failures: dict[str, str] = {}
        # document → whether its page, which could not be downloaded (not a refusal), would fail the same way again
        self.unfetched: dict[str, bool] = {}
        self.unrendered: set[str] = set()  # documents failed for want of the browser extra
        self.succeeded: dict[str, tuple[str | None, str | None]] = {}  # document → (ETag, Last-Modified)
        self.shells: dict[str, tuple[Capture, str]] = {}  # document → its shell and why, while it is rendered
        # The latest recorded text of each document, read once: the guards and the webhook summary compare with it.
        self.previous_bodies = {key: self._previous_body(key) for key in self.declarations}

    def start(self) -> Iterable[FetchRequest]:
        """One request per declared document: in the browser for ``render = "always"``, else a plain fetch made
        conditional (If-None-Match, If-Modified-Since) by the validators the last success kept, only when a version
        is recorded already. The URL fetched has its host in punycode, as a browser sends it (IDNA 2008: never
        Scrapy's IDNA 2003, which fetches strasse.example for straße.example); the capture keeps the URL declared."""
        for declaration in self.declarations.values():
            if declaration.render is Render.ALWAYS:
                yield FetchRequest(declaration.key, ascii_url(declaration.url), declaration.url, render=True)
            else:
                headers = self._conditions(declaration)
                yield FetchRequest(declaration.key, ascii_url(declaration.url), declaration.url, headers=headers)

    def _conditions(self, declaration: DocumentDeclaration) -> tuple[tuple[str, str], ...]:
        if not self.workspace.catalog.versions(declaration.key):
            return ()  # nothing recorded yet: the page must be fetched whatever the site says
        state = self.workspace.catalog.document_state(declaration.key)
        headers = []
        if state.etag:
            headers.append(("If-None-Match", state.etag))
        if state.last_modified:
            headers.append(("If-Modified-Since", state.last_modified))
        return tuple(headers)

    def handle(self, result: Capture | FetchFailure) -> Iterable[FetchRequest]:
        """Record one answer: a fetch failure fails its document (304 Not Modified is a success, its validators
        kept); a capture is examined and recorded, or, when it is a script shell to render, a browser request is
        returned and the shell recorded only if that rendering fails."""
        if isinstance(result, FetchFailure):
            if result.not_modified:
                state = self.workspace.catalog.document_state(result.request.document)
                self.succeeded[result.request.document] = (state.etag, state.last_modified)
                self._finished(result.request.document, "not modified")
            elif result.request.document in self.shells:
                shell, why = self.shells.pop(result.request.document)
                reason = f"{why}; {result.reason}"
                self._record(shell, Examination(Outcome.REFUSED, reason))
                if result.needs_browser:  # what to do about it says it all: the user reads only that
                    self.failures[result.request.document] = result.reason
                    self.unrendered.add(result.request.document)
                elif not result.refused:  # the rendering failed: for now (a page still changing, a timeout), or
                    # for good as served (an answer too large: ``lasting``), said as a download's failure is
                    self.unfetched[result.request.document] = result.lasting
                    self.failures[result.request.document] = _not_fetched(reason, result.lasting)
            else:
                self.failures[result.request.document] = self._failed(result)
                self._finished(result.request.document, "failed")
            return ()
        return self._examine(result)

    def _failed(self, failure: FetchFailure) -> str:
        """Why the document failed: a refusal (robots.txt, an internal address...) or a browser to install as it
        is said; a page that could not be downloaded with whether running again can help (kept for the last line)."""
        if failure.needs_browser:
            self.unrendered.add(failure.request.document)
        if failure.refused or failure.needs_browser:
            return failure.reason
        self.unfetched[failure.request.document] = failure.lasting
        return _not_fetched(failure.reason, failure.lasting)

    def _examine(self, capture: Capture) -> Iterable[FetchRequest]:
        examination = examine(self.declarations[capture.document], capture, clock=self.workspace.clock)
        rendering = rendering_request(self.declarations[capture.document], capture, examination)
        if rendering is not None and examination.reason:
            self.shells[capture.document] = (capture, examination.reason)
            return (rendering,)
        self.shells.pop(capture.document, None)
        self._record(capture, examination)
        return ()

    def _record(self, capture: Capture, examination: Examination) -> None:
        declaration = self.declarations[capture.document]
        catalog = self.workspace.catalog
        stored = self.workspace.captures.write(capture)
        reason = examination.reason
        note = examination.note  # the examination's own (chunks no header declared), then a guard's
        if examination.document is not None:
            # A text refused by a guard keeps its identity, so that seeing it again on another day can confirm it.
            seen_at = [capture.captured_at] + [
                row.captured_at
                for row in catalog.captures(capture.document, Source.LIVE)
                if row.body_sha1 == examination.body_sha1
            ]
            verdict = judge(examination.document.body, self.previous_bodies[declaration.key], seen_at)
            reason, note = verdict.refusal, joined_notes(examination.note, verdict.note)
        if reason and examination.document is None and status_for_now(capture.status):
            # The site failed or was busy (a 500, a 503): not a refusal of the page but a page not fetched for now,
            # said with how many times it was asked, as a timeout is.
            reason = asked_times(reason, capture.asked)
        outcome = Outcome.REFUSED if reason else Outcome.EXTRACTED
        document = examination.document if not reason else None
        catalog.record_fetch(
            capture,
            stored,
            outcome,
            reason=reason,
            title=document.title if document else None,
            body=document.body if document else None,
            body_sha1=examination.body_sha1,
            note=note,
            stated_date=document.stated_date if document else None,
            dropped=document.dropped if document else (),
            extractor=examination.extractor,
        )
        if reason:
            if status_for_now(capture.status) and examination.document is None:
                self.unfetched[capture.document] = False  # the site's 5xx: the next run may get the page
                reason = _not_fetched(reason, False)
            self.failures[capture.document] = reason
            self._finished(capture.document, "failed")
            return
        row = catalog.capture_at(capture.document, capture.captured_at, url=capture.url)
        assert row is not None
        self.versions.append(make_version(declaration, row, wayback=self.workspace.config.settings.wayback))
        headers = {name.lower(): value for name, value in capture.headers}
        # A rendered page's text may change while its HTML does not (it comes from scripts and their data):
        # its validators must not make the next request conditional.
        validators = (headers.get("etag"), headers.get("last-modified"))
        self.succeeded[capture.document] = (None, None) if capture.rendered is not None else validators
        self._finished(capture.document, "fetched")

    def retried(self, fetch: FetchRequest) -> None:
        """``fetch`` failed and is asked again (Scrapy's retries): the progress line says so at once."""
        self.left.retried(fetch.document)
        self.progress.step()

    def _finished(self, document: str, outcome: str) -> None:
        self.left.finished(document)
        self.progress.add(outcome, done=True)

    def _previous_body(self, document: str) -> str | None:
        versions = self.workspace.catalog.versions(document)
        if not versions:
            return None
        row = self.workspace.catalog.version_capture(document, versions[-1].bytes_at, versions[-1].url)
        return row.body if row else None


def track(
    workspace: Workspace, declarations: Sequence[DocumentDeclaration], progress: Progress | None = None
) -> RunReport:
    """Fetch every declared document live once and record each text that changed, dated at its fetch (UTC). A
    document's failures count up in the catalog (a success resets them and keeps its validators); one not reached
    because the run was stopped is reported failed without counting. After the versions are recorded, the webhook (if
    set) is told; its failure is a note, never a failure of the run."""
    progress = progress or Progress("track")
    progress.expect(len(declarations), "documents", one="document")
    plan = TrackPlan(workspace, declarations, progress)
    crawl_live(plan, workspace.config.settings, workspace.config.declared_origins(), retried=plan.retried)
    recorded = workspace.record(plan.versions)
    now = datetime.now(UTC)
    for key, (etag, last_modified) in plan.succeeded.items():
        workspace.catalog.note_success(key, now, etag, last_modified)
    for key, reason in plan.failures.items():
        workspace.catalog.note_failure(key, now, reason)
    # Documents the crawl never reached because the run was stopped (SIGTERM): reported, but they did not fail,
    # so they do not count as consecutive failures.
    stopped = {
        d.key: "not fetched: the run was stopped"
        for d in declarations
        if d.key not in plan.succeeded and d.key not in plan.failures
    }
    signal_name = current_stop().signal_name
    progress.add("versions recorded", len(recorded), one="version recorded")
    progress.finish()
    # The versions of a killed run recorded on opening are changes this run tells too (the pages are compared with
    # them, so no later run would).
    own = [(item, plan.previous_bodies.get(item.version.document)) for item in recorded]
    changes = [*change_summaries(workspace.recovered, recovered=True), *change_summaries(own)]
    notes = notify(workspace.config.settings, changes)
    failures = [DocumentFailure(key, reason) for key, reason in sorted({**plan.failures, **stopped}.items())]
    last_line = _failed_line(plan, len(stopped), signal_name)
    return RunReport(recorded, failures, notes, last_line=last_line)


def _not_fetched(reason: str, lasting: bool) -> str:
    """A page that could not be downloaded, said as backfill says a capture: whether running again can help
    (``lasting``, FetchFailure's: an answer too large, a header line or block over what the client reads), and
    why: ``could not be fetched for now (run again to retry): timeout: …``."""
    how, rerun = not_fetched_as_served(1, "site") if lasting else NOT_FETCHED_FOR_NOW
    return f"{how} ({rerun}): {reason}"


def _failed_line(plan: TrackPlan, stopped: int, signal_name: str | None) -> str | None:
    """Every failed document counted by kind, and a stop said: ``3 documents failed: 1 could not be fetched for
    now (named above; run again to retry), 1 refused (named above), 1 not fetched, the run was stopped by SIGTERM
    (named above; run again to fetch it)``; None when no document failed."""
    failed = len(plan.failures) + stopped
    if not failed:
        return None
    as_served = sum(plan.unfetched.values())
    parts = not_fetched_counts(len(plan.unfetched) - as_served, as_served, "site")
    if unrendered := len(plan.unrendered):
        parts.append(f"{unrendered:,} {'waits' if unrendered == 1 else 'wait'} for a browser to render (named above)")
    if refused := len(plan.failures) - len(plan.unfetched) - unrendered:
        parts.append(f"{refused:,} refused (named above)")
    if stopped:
        by = f" by {signal_name}" if signal_name else ""
        them = "it" if stopped == 1 else "them"
        parts.append(f"{stopped:,} not fetched, the run was stopped{by} (named above; run again to fetch {them})")
    return f"{failed:,} {plural(failed, 'document')} failed: {', '.join(parts)}"
