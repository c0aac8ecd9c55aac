"""A backfilled document's decisions (:func:`.change_dating.decide`) written: the versions made, in date order, the
changes refused (told in the catalog, and in the run's notes when refused for their date), an earlier run's
guard refusals lifted where this run's guards judge again, each version's notes and change window kept, and a
``revisit`` record kept for a version's capture known only through its twin (:mod:`.backfill`), whose text is the
twin's only when the twin was read as the version is (same extractor revision and rules), else the twin's kept bytes
read again (:func:`_read_as_its_version`)."""

from __future__ import annotations

import dataclasses

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.archive.stored_responses import DamagedCapture
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan
from policy_archive.pipeline.jobs.change_dating import Decision, Shown
from policy_archive.pipeline.jobs.current_texts import reading_of_now, same_reading
from policy_archive.pipeline.jobs.dated_in_order import refuse_change
from policy_archive.pipeline.jobs.examine import ELSEWHEN, make_version
from policy_archive.pipeline.jobs.kept_reading import read_as_its_version
from policy_archive.pipeline.jobs.served_bytes import joined_notes, own_note
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import DocumentDeclaration, Source, Version, iso_z

# Said of a version's capture known through its twin when the twin's bytes give no text read as the version is.
TWIN_NOT_READ = (
    "{key}: no version recorded at capture {at} (known through its twin of {twin}, whose text was not extracted"
    " with the rules and extractor of now: {why}); `policy-archive reextract {key}` reads the kept captures again"
)


def versions_decided(
    workspace: Workspace, plan: DocumentPlan, decisions: list[Decision], notes: list[str]
) -> list[Version]:
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
        if shown.twin is not None and (read := _read_as_its_version(workspace, plan.declaration, shown, notes)):
            shown = dataclasses.replace(shown, row=read)
        elif shown.twin is not None:
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


def _read_as_its_version(
    workspace: Workspace, declaration: DocumentDeclaration, shown: Shown, notes: list[str]
) -> CaptureRow | None:
    """The row of a version's capture known through its twin (``shown.row``, :func:`.examine.as_twin`) with the text
    its version's reading gives: the twin's as the catalog holds it when the twin was read so (the same extractor
    revision and rules, :func:`same_reading`; nothing read again), else the twin's kept bytes extracted again with
    the declaration's rules for the version's date (:func:`.readings.reading_at`). A version names the rules it was
    read with; the twin's text, extracted with the rules before an edit of ``select``/``remove`` (a backfill before
    any `reextract`), or with those of the twin's date across a ``history`` boundary (each backfill then reads
    those bytes again: the catalog keeps the twin's reading), made a version whose text those rules do not give
    (2026-11-29). None, said in ``notes``, when the kept bytes cannot be read or give no text now: no version is
    made of that capture."""
    row, twin = shown.row, shown.twin
    assert twin is not None
    if same_reading(row.extractor, reading_of_now(declaration, row)):
        return row
    read = read_as_its_version(workspace, declaration, row, twin)
    if isinstance(read, str):
        then = f"{twin.captured_at:%Y%m%d%H%M%S}"
        notes.append(TWIN_NOT_READ.format(key=declaration.key, at=shown.ref.wayback_timestamp, twin=then, why=read))
        return None
    text = (read.title, read.body_sha1, read.stated_date)
    twins_reading = read.extractor == reading_of_now(declaration, twin)
    if twin.extractor is None and twins_reading and text == (twin.title, twin.body_sha1, twin.stated_date):
        # A text extracted before the catalog named its reading, which this one gives: named, so that the next
        # backfill takes it without reading the bytes again. A text another reading gave is left to `reextract`,
        # and one read with the version's rules (not the twin's date's) is not the twin's reading.
        workspace.catalog.note_extractor(twin.id, read.extractor)
    return read


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
