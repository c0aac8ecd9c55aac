"""`reextract`: run extraction again on the kept raw captures (after an extractor upgrade or a selector fix).

Every stored capture is examined again and the catalog updated. When the capture behind a document's latest
version now gives a different text, that text is committed as a technical upgrade — dated when the
re-extraction was made, with the capture's own time in its Captured-At trailer — so that it is never read as a
change of the policy. See docs/decisions/0003-technical-upgrades.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from archive.catalog import CaptureRow, Outcome
from pipeline.examine import examine, make_version
from pipeline.progress import Progress
from pipeline.records import Capture, DocumentDeclaration, Version
from pipeline.report import DocumentFailure, RunReport
from pipeline.workspace import Workspace


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


def reextract(
    workspace: Workspace, declarations: Sequence[DocumentDeclaration], progress: Progress | None = None
) -> RunReport:
    progress = progress or Progress("reextract")
    catalog = workspace.catalog
    upgrades: list[Version] = []
    failures: list[DocumentFailure] = []
    now = datetime.now(UTC).replace(microsecond=0)
    for declaration in declarations:
        versions = catalog.versions(declaration.key)
        latest = catalog.capture_at(declaration.key, versions[-1].captured_at) if versions else None
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
            progress.add("captures re-extracted")
            if latest is None or row.id != latest.id:
                continue
            if examination.outcome is Outcome.REFUSED:
                failures.append(DocumentFailure(declaration.key, f"latest version now refused: {examination.reason}"))
            elif examination.body_sha1 != latest.body_sha1:
                updated = catalog.capture_at(declaration.key, row.captured_at)
                assert updated is not None
                upgrades.append(make_version(declaration, updated, technical_upgrade=True, committed_at=now))
    recorded = workspace.record(upgrades)
    progress.add("technical upgrades", len(recorded))
    progress.finish()
    return RunReport(recorded, failures)
