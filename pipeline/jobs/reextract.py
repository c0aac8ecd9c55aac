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

from policy_archive.archive.catalog import CaptureRow, Outcome
from policy_archive.pipeline.jobs.examine import examine, make_version
from policy_archive.pipeline.jobs.guards import refusal_against_previous
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import DocumentFailure, RunReport
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import Capture, DocumentDeclaration, Version


def _capture(row: CaptureRow, body: bytes) -> Capture:
    return Capture(
        document=row.document,
        source=row.source,
        url=row.url,
        fetched_url=row.fetched_url or row.url,
        captured_at=row.captured_at,
        status=row.status or 0,
        content_type=row.mimetype,
        body=body,
        payload_sha1=row.payload_sha1 or "",
    )


def _reexamine(workspace: Workspace, declaration: DocumentDeclaration, progress: Progress) -> None:
    catalog = workspace.catalog
    for row in catalog.stored_captures([declaration.key]):
        examination = examine(declaration, _capture(row, workspace.captures.read_body(row.stored)))
        document = examination.document
        catalog.update_extraction(
            row.id,
            examination.outcome,
            examination.reason,
            document.title if document else None,
            document.body if document else None,
            examination.body_sha1,
        )
        progress.add("re-extracted", done=True)


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
    """Every extracted capture whose text differs from the last kept one, in time order, after the guards."""
    versions: list[Version] = []
    for row in workspace.catalog.captures(declaration.key):
        if row.outcome is not Outcome.EXTRACTED or (versions and row.body == versions[-1].body):
            continue
        reason = refusal_against_previous(row.body or "", versions[-1].body if versions else None)
        if reason:
            workspace.catalog.refuse(row.id, reason)
            continue
        versions.append(make_version(declaration, row))
    return versions


def reextract(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    progress = progress or Progress("reextract")
    progress.expect(None, "captures")
    catalog = workspace.catalog
    failures: list[DocumentFailure] = []
    upgrades: list[Version] = []
    notes: list[str] = []
    now = datetime.now(UTC).replace(microsecond=0)
    for declaration in declarations:
        versions = catalog.versions(declaration.key)
        latest = catalog.capture_at(declaration.key, versions[-1].captured_at) if versions else None
        _reexamine(workspace, declaration, progress)
        if rebuild:
            history = _history(workspace, declaration)
            if history:
                rewritten = workspace.versions.replace_documents(history)
                workspace.resync()
                notes.append(
                    f"{declaration.key}: history rebuilt: {len(history)} versions, {len(rewritten)} commits rewritten"
                )
        elif latest is not None:
            outcome = _technical_upgrade(workspace, declaration, latest, now)
            if isinstance(outcome, DocumentFailure):
                failures.append(outcome)
            elif outcome is not None:
                upgrades.append(outcome)
    recorded = workspace.record(upgrades)
    progress.add("technical upgrades", len(recorded))
    progress.finish()
    return RunReport(recorded, failures, notes)
