"""`reextract`: run extraction again on the kept raw captures (after an extractor upgrade or a selector fix).

Every stored capture is examined again and the catalog updated. Then, by default, when the capture behind a
document's latest version now gives a different text, that text is committed as a technical upgrade — dated
when the re-extraction was made, with the capture's own time in its Captured-At trailer — so that it is never
read as a change of the policy. With ``rebuild``, the document's whole history is recomputed from its captures
instead (e.g. after fixing a selector that was wrong for years). See docs/decisions/0003-technical-upgrades.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from policy_archive.archive.captures import StoredResponse
from policy_archive.archive.catalog_rows import CaptureRow, Outcome
from policy_archive.crawler.sources import archive_source
from policy_archive.pipeline.jobs.damage import Unreadable, read_kept, unreadable_failure
from policy_archive.pipeline.jobs.examine import as_twin, examine, make_version, text_identity
from policy_archive.pipeline.jobs.guards import judge
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import DocumentFailure, RunReport
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import Capture, CaptureRef, DocumentDeclaration, Source, Version
from policy_archive.text import plural


def capture_from(row: CaptureRow, response: StoredResponse) -> Capture:
    """A catalogued capture with its kept bytes, as the crawler handed it over (rows of any schema age)."""
    # Rows from before 2026-11-27 overwrote the CDX status with the served one: their listing is not known.
    listed = None
    if row.source is Source.WAYBACK and row.fetched_status is not None:
        listed = CaptureRef(row.url, row.captured_at, row.status, row.mimetype, row.digest)
    return Capture(
        document=row.document,
        source=row.source,
        url=row.bytes_url,
        fetched_url=row.fetched_url or row.url,
        captured_at=row.bytes_at,
        status=row.served_status or response.status or 0,
        content_type=row.served_mimetype,
        body=response.body,
        payload_sha1=row.payload_sha1 or "",
        headers=response.headers,
        listed=listed,
        snapshot_url=row.snapshot_url,
        rendered=response.rendered,
        not_requested=response.not_requested,
    )


def _reexamine(workspace: Workspace, declaration: DocumentDeclaration, progress: Progress) -> list[Unreadable]:
    """Examine every kept capture again and update the catalog; those whose bytes cannot be read keep the
    extraction they had (returned, to be named)."""
    catalog = workspace.catalog
    check_digests = workspace.config.settings.wayback.check_digests
    unreadable = []
    for row in catalog.stored_captures([declaration.key]):
        response = read_kept(workspace.captures, row)
        if isinstance(response, Unreadable):
            unreadable.append(response)
            progress.add("unreadable", done=True)
            continue
        capture = capture_from(row, response)
        examination = examine(declaration, capture, check_digest=check_digests)
        document = examination.document
        catalog.update_extraction(
            row.id,
            examination.outcome,
            examination.reason,
            document.title if document else None,
            document.body if document else None,
            examination.body_sha1,
            document.stated_date if document else None,
            document.dropped if document else (),
        )
        progress.add("re-extracted", done=True)
    return unreadable


def _technical_upgrade(
    workspace: Workspace, declaration: DocumentDeclaration, latest: CaptureRow, now: datetime
) -> Version | DocumentFailure | None:
    """The latest version's capture read again: a technical upgrade when its text changed."""
    row = workspace.catalog.capture(latest.id)
    if row.outcome is not Outcome.EXTRACTED:
        return DocumentFailure(declaration.key, f"the capture of the latest version is now refused: {row.reason}")
    if row.body_sha1 == latest.body_sha1:
        return None
    return make_version(declaration, row, technical_upgrade=True, committed_at=now)


def _history(workspace: Workspace, declaration: DocumentDeclaration) -> list[Version]:
    """Every extracted capture (or unfetched twin of one) whose text differs from the last kept one, in time
    order, after the guards."""
    # Rows without their texts: a text is read only where its identity differs from the last kept version's,
    # not held for every capture of a long history.
    every = workspace.catalog.captures(declaration.key, texts=False)
    rows = [row for row in every if row.outcome is Outcome.EXTRACTED]
    rows += _unfetched_twins(workspace, every, rows)
    rows.sort(key=lambda row: row.bytes_at)
    versions: list[Version] = []
    kept: str | None = None  # the identity of the last kept version's text
    for listed in rows:
        if kept is not None and listed.body_sha1 == kept:
            continue
        row = workspace.catalog.with_text(listed)
        if versions and row.body == versions[-1].body:
            continue
        seen_at = [other.bytes_at for other in rows if other.body_sha1 == row.body_sha1]
        verdict = judge(row.body or "", versions[-1].body if versions else None, seen_at)
        if verdict.refusal:
            workspace.catalog.refuse(row.id, verdict.refusal)
            continue
        workspace.catalog.set_note(row.document, row.source, row.captured_at, verdict.note)
        versions.append(make_version(declaration, row))
        kept = text_identity(row.body or "")
    return versions


def _unfetched_twins(
    workspace: Workspace, every: Sequence[CaptureRow], extracted: Sequence[CaptureRow]
) -> list[CaptureRow]:
    """Listed captures never fetched whose CDX row gives the digest of an extracted 200 at the same URL: known
    through it, as the backfill knew them, so that a rebuilt version is dated at its first capture as well."""
    source = archive_source(workspace.config.settings.wayback)
    fetched: dict[tuple[str, str], CaptureRow] = {}
    for row in extracted:
        if row.source is Source.WAYBACK and row.status == 200 and row.digest and not row.rendered:
            fetched.setdefault((row.url, row.digest), row)
    twins = []
    for row in every:
        twin = fetched.get((row.url, row.digest or "")) if row.outcome is Outcome.LISTED and row.status == 200 else None
        if twin is not None:
            listed = CaptureRef(row.url, row.captured_at, row.status, row.mimetype, row.digest)
            twins.append(as_twin(twin, listed, source.capture_url(row.captured_at, row.url)))
    return twins


def reextract(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    progress = progress or Progress("reextract")
    progress.expect(None, "captures", one="capture")
    catalog = workspace.catalog
    failures: list[DocumentFailure] = []
    upgrades: list[Version] = []
    notes: list[str] = []
    now = datetime.now(UTC).replace(microsecond=0)
    for declaration in declarations:
        versions = catalog.versions(declaration.key)
        latest = catalog.version_capture(declaration.key, versions[-1].captured_at) if versions else None
        if unreadable := _reexamine(workspace, declaration, progress):
            failures.append(unreadable_failure(catalog, declaration.key, unreadable, "kept as extracted before"))
        if rebuild:
            history = _history(workspace, declaration)
            if history:
                rewritten = workspace.versions.replace_documents(history)
                workspace.resync()
                notes.append(
                    f"{declaration.key}: history rebuilt: {len(history)} {plural(len(history), 'version')}, "
                    f"{len(rewritten)} {plural(len(rewritten), 'commit')} rewritten"
                )
        elif latest is not None:
            outcome = _technical_upgrade(workspace, declaration, latest, now)
            if isinstance(outcome, DocumentFailure):
                failures.append(outcome)
            elif outcome is not None:
                upgrades.append(outcome)
    recorded = workspace.record(upgrades)
    progress.add("technical upgrades", len(recorded), one="technical upgrade")
    progress.finish()
    return RunReport(recorded, failures, notes)


def rebuild_lost_history(
    workspace: Workspace, declarations: Sequence[DocumentDeclaration], progress: Progress
) -> RunReport:
    """`repair` after the Git objects of the history (or its repository) were lost (``Workspace.history_lost``):
    every document's history made again from its stored captures, as `reextract --rebuild` makes it."""
    report = reextract(workspace, declarations, rebuild=True, progress=progress)
    counts = workspace.catalog.version_counts()
    versions, documents = sum(counts.values()), len(counts)
    if versions:
        done = (
            f"history rebuilt from the stored captures: {versions} {plural(versions, 'version')} of {documents} "
            f"{plural(documents, 'document')}"
        )
    else:
        done = "no stored capture to rebuild the history from: `policy-archive backfill` fetches it again"
    return RunReport(report.recorded, report.failures, [f"repaired: {done}"])
