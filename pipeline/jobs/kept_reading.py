"""A kept capture read again: its catalogued row and kept bytes as the crawler handed them over, and the text of a
version's twin read with the rules of the version's date. And what examining it again gave, kept in the catalog in
its place (``keep_examined_again``, ``refusal_kept``). Shared by `reextract`, the backfill's decisions, the texts
read with the rules of now and `verify` (moved from reextract.py, 2026-11-29)."""

from __future__ import annotations

import dataclasses

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.archive.stored_responses import StoredResponse
from policy_archive.pipeline.jobs.damage import read_kept
from policy_archive.pipeline.jobs.examine import ELSEWHEN, Examination, examine
from policy_archive.pipeline.jobs.guards import GUARD_REFUSALS
from policy_archive.pipeline.jobs.served_bytes import joined_notes
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import Capture, CaptureRef, DocumentDeclaration, Source


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


def read_as_its_version(
    workspace: Workspace, declaration: DocumentDeclaration, row: CaptureRow, twin: CaptureRow
) -> CaptureRow | str:
    """``row``, a version's capture known through its twin ``twin`` (:func:`.examine.as_twin`), with the text of the
    twin's kept bytes read with the declaration's rules for the version's date (:func:`.readings.reading_at`,
    which its commit names), or why the bytes give none. Across a ``history`` boundary the twin's date has other
    rules, and its catalog text (read with those) made a version whose text its commit's rules do not give
    (2026-11-29): the backfill (``decided_versions``) and ``reextract`` (a rebuild, a technical upgrade) read a
    version's twin so, and `verify` holds the version to it. The caller decides when the twin's own text will do."""
    if twin.stored is None:
        return "its bytes are not kept"
    response = read_kept(workspace.captures, twin)
    if not isinstance(response, StoredResponse):
        return response.problem
    # The twin's record read as it was read when it was fetched (its date and headers; the digest checked when they
    # were fetched, the date decided since), but with the rules of the version's date. `verify` reads it so.
    examination = examine(
        declaration, capture_from(twin, response), clock=workspace.clock, check_digest=False, read_as_of=row.bytes_at
    )
    document = examination.document
    if examination.outcome is not Outcome.EXTRACTED or document is None:
        return f"now refused: {examination.reason}"
    return dataclasses.replace(
        row,
        title=document.title,
        body=document.body,
        body_sha1=examination.body_sha1,
        stated_date=document.stated_date,
        dropped=document.dropped,
        extractor=examination.extractor,
    )


def keep_examined_again(catalog: Catalog, row: CaptureRow, examination: Examination) -> None:
    """What examining the kept capture ``row`` again gave, in the catalog in its place: its outcome, text and the
    reading that gave it (the fetch columns as they are), its note joined to the one it had."""
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
        extractor=examination.extractor,
    )
    if (note := joined_notes(examination.note, row.note)) != row.note:
        catalog.set_note(row.document, row.source, row.captured_at, note)


def refusal_kept(row: CaptureRow, examination: Examination) -> Examination:
    """A capture the catalog holds as refused for its date (archived at another time) or by the guards, examined
    again: still refused, with its reason, when its bytes still give a text. Such a refusal comes from the listing
    and the order of the changes found (backfill's, ``dated_in_order.dating_capture``) or from the history around the
    text (``guards.judge``), not from extraction, which is all a plain ``reextract`` decides again: making the
    capture extracted made it read as usable until the next backfill judged it again (before 2026-11-28). Its new
    text is kept with it (``dated_in_order.refused_for_its_date``, ``dated_in_order.refused_by_the_guards``): the next
    backfill, or ``reextract --rebuild``, decides again from it, so a refusal lifts only there, and only if the dates or
    the guards then allow the text. A capture whose bytes no longer give a text is refused for that, as a backfill
    fetching it now would refuse it; one refused anew for its date takes the new reason."""
    if row.outcome is not Outcome.REFUSED or not _decided_with_the_versions(row.reason):
        return examination
    if examination.outcome is not Outcome.EXTRACTED:
        return examination
    # Refused before extraction (the 30 days, or the neighbours in a listing this catalog no longer keeps):
    # without its text, as backfill refused it; else refused when the versions were made, with its text.
    return Examination(
        Outcome.REFUSED,
        row.reason,
        examination.document if row.body_sha1 else None,
        note=examination.note,
        extractor=examination.extractor,
    )


def _decided_with_the_versions(reason: str | None) -> bool:
    """Whether a kept capture's refusal was made when the versions were made: for its date, or by the guards."""
    return (reason or "").startswith((ELSEWHEN, *GUARD_REFUSALS))
