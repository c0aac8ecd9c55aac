"""`reextract`: run extraction again on the kept raw captures (after an extractor upgrade or a selector fix).

Every stored capture is examined again and the catalog updated. Then, by default, when the capture behind a
document's latest version now gives a different text, that text is committed as a technical upgrade — dated
when the re-extraction was made, with the capture's own time in its Captured-At trailer — so that it is never
read as a change of the policy. With ``rebuild``, the document's whole history is recomputed from its captures
instead (e.g. after fixing a selector that was wrong for years). See docs/decisions/0003-technical-upgrades.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome, VersionRow
from policy_archive.crawler.sources import ArchiveSource, archive_source
from policy_archive.digests import PayloadDigest
from policy_archive.pipeline.jobs.damage import Unreadable, read_kept, unreadable_failure
from policy_archive.pipeline.jobs.dated_in_order import dating_capture, last_seen, refuse_change
from policy_archive.pipeline.jobs.examine import (
    Neighbours,
    as_twin,
    examine,
    make_version,
    reading_at,
    text_identity,
)
from policy_archive.pipeline.jobs.future_dates import in_the_future
from policy_archive.pipeline.jobs.guards import judge
from policy_archive.pipeline.jobs.kept_reading import (
    capture_from,
    keep_examined_again,
    read_as_its_version,
    refusal_kept,
)
from policy_archive.pipeline.jobs.latest_capture import LATEST_REFUSED, latest_capture_version, latest_refusal
from policy_archive.pipeline.jobs.listing_rows import candidates, second_neighbours
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.provenance import strip_header
from policy_archive.pipeline.jobs.readings import Readings
from policy_archive.pipeline.jobs.report import DocumentFailure, RunReport, format_counts, refusal_counts
from policy_archive.pipeline.jobs.served_bytes import joined_notes, own_note
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import CaptureRef, DocumentDeclaration, Source, Version
from policy_archive.stop_signals import current_stop
from policy_archive.text import plural

INTERRUPTED = "interrupted before it was examined again: run again to continue"
# Why a rebuild makes no version of a capture known through its twin whose kept bytes give no text now.
TWIN_UNREAD = "known through its twin, whose kept bytes give no text read with the rules of its date"


def _twin_read_again(
    workspace: Workspace, declaration: DocumentDeclaration, row: CaptureRow, twin: CaptureRow
) -> CaptureRow | str:
    """``row`` (known through ``twin``, just examined again with the rules of its own date) as its version reads it:
    the twin's text where the version's date has the twin's reading, else :func:`read_as_its_version`."""
    if twin.extractor == reading_at(declaration, row.bytes_at):
        return row
    return read_as_its_version(workspace, declaration, row, twin)


def _reexamine(
    workspace: Workspace, declaration: DocumentDeclaration, progress: Progress, *, rebuild: bool
) -> list[Unreadable]:
    """Examine every kept capture again and update the catalog; those whose bytes cannot be read keep the
    extraction they had (returned, to be named). Without ``rebuild``, a capture refused when the versions were
    made (for its date, by the guards) keeps its refusal (:func:`refusal_kept`); a rebuild decides them again."""
    catalog = workspace.catalog
    check_digests = workspace.config.settings.wayback.check_digests
    unreadable = []
    around = _listing_neighbours(catalog, declaration.key, workspace.clock)
    for row in catalog.stored_captures([declaration.key]):
        response = read_kept(workspace.captures, row)
        if isinstance(response, Unreadable):
            unreadable.append(response)
            progress.add("unreadable", done=True)
            continue
        capture = capture_from(row, response)
        examination = examine(
            declaration,
            capture,
            clock=workspace.clock,
            check_digest=check_digests,
            neighbours=around.get((row.url, row.captured_at)),
        )
        if not rebuild:
            examination = refusal_kept(row, examination)
        keep_examined_again(catalog, row, examination)
        progress.add("re-extracted", done=True)
    return unreadable


def _listing_neighbours(catalog: Catalog, document: str, clock: datetime) -> dict[tuple[str, datetime], Neighbours]:
    """Each listed capture's neighbours in the listing the catalog keeps, as backfill judged them at the run's
    ``clock`` (so that a capture it refused for the order of the captures is not made a version again)."""
    # One row per URL and second (the catalog's key): the row each second's neighbours are judged by in backfill
    # too (``listing_rows.second_neighbours``), so a shared second is judged alike.
    refs = candidates(
        (
            CaptureRef(row.url, row.captured_at, row.status, row.mimetype, row.digest)
            for row in catalog.each_capture(document, Source.WAYBACK, texts=False)
        ),
        clock,
    )
    return second_neighbours(refs)


def listed_neighbours(
    catalog: Catalog, document: str, clock: datetime
) -> dict[tuple[str, datetime], Neighbours] | None:
    """:func:`_listing_neighbours` where a backfill recorded the document's listing in this catalog; None where
    none did: a catalog re-indexed from the WARC files keeps the CDX rows of the captures fetched only (the
    listed ones never fetched, the document's own captures among them, are lost), so the captures around one
    are not known (docs/decisions/0008)."""
    state = catalog.document_state(document)
    if state.backfill_at is None or state.backfill_unlisted:
        return None
    return _listing_neighbours(catalog, document, clock)


def upgrade_time(clock: datetime, latest: datetime) -> datetime:
    """When a technical upgrade of a document whose latest version is dated ``latest`` is dated: when the run
    began (``clock``), or a second after that version when it is not earlier (an upgrade made in the same second by
    an earlier run, a version recorded while this run waited for the lock). Commit dates are whole seconds and a
    version's place is its document and date: an upgrade dated as the latest version is one the ledger already
    holds, and was dropped without a word (two `reextract` runs in one second). A version dated more than
    ``CLOCK_SKEW`` ahead is an archive's date in the future (recorded before 2026-11-29, named by `status` and
    `verify`), never followed: the upgrade stays at ``clock``."""
    if latest < clock or in_the_future(latest, clock, "the latest version is dated"):
        return clock
    return latest + timedelta(seconds=1)


def _technical_upgrade(
    workspace: Workspace,
    declaration: DocumentDeclaration,
    latest: CaptureRow,
    read: VersionRow,
    shown: VersionRow,
    now: datetime,
) -> Version | DocumentFailure | None:
    """The latest version's capture read again: a technical upgrade when its text is not the one ``main`` shows
    (``shown``, the document's last version). Compared with ``main``, not with the catalog's text before this run:
    a backfill since the rules were edited brought the catalog's texts up to them (``current_texts``), not
    ``main``'s, and the upgrade was then never made (2026-11-29). ``read``: the version whose capture ``latest`` is
    (:func:`latest_capture_version`); one known through its twin is made as its own capture (``as_twin``), read
    with the rules of its date (:func:`_twin_read_again`)."""
    row = workspace.catalog.capture(latest.id)
    if row.outcome is not Outcome.EXTRACTED:
        return DocumentFailure(declaration.key, f"{LATEST_REFUSED}: {row.reason}")
    wayback = workspace.config.settings.wayback
    if read.bytes_at != row.bytes_at:
        # The version is known through its twin ``row``: the upgrade names the version's own capture, as the
        # version does (before 2026-11-29 it took the twin's date and snapshot), and across a ``history`` boundary
        # reads the twin's bytes with the rules of its date (read with the twin's, it was an upgrade of no change).
        listed = workspace.catalog.version_row(declaration.key, read.bytes_at, read.url)
        if listed is not None and listed.id != row.id:
            ref = CaptureRef(listed.url, listed.captured_at, listed.status, listed.mimetype, listed.digest)
            twin = as_twin(row, ref, archive_source(wayback).capture_url(ref.timestamp, ref.url))
            reread = _twin_read_again(workspace, declaration, twin, row)
            if isinstance(reread, str):
                return DocumentFailure(declaration.key, f"the capture of the latest version is {TWIN_UNREAD}: {reread}")
            row = reread
    upgrade = make_version(declaration, row, wayback=wayback, technical_upgrade=True, committed_at=now)
    if strip_header(upgrade.content) == strip_header(workspace.versions.read(shown.commit, declaration.path)):
        return None
    return upgrade


@dataclass(frozen=True, order=True, slots=True)
class _Candidate:
    """An extracted capture (or an unfetched twin of one) that may become a version, without its text: what a
    rebuild holds for each capture of a long history, to order them and skip repeated texts. In the order of the
    document's captures (their listed time), as backfill walks them: an archived redirect's bytes may be archived
    at another time, and :func:`dating_capture` says which dates a text."""

    captured_at: datetime
    twin: bool  # at the same time, a fetched capture comes before a twin (as the backfill chose)
    id: int  # the catalog row (a twin's listed one)
    bytes_at: datetime = field(compare=False)
    url: str = field(compare=False)
    extracted_id: int = field(compare=False)  # the extracted capture (a twin's fetched one)
    body_sha1: str | None = field(compare=False)
    listed: CaptureRef | None = field(default=None, compare=False)  # a twin's own listing

    def row(self, workspace: Workspace, declaration: DocumentDeclaration, source: ArchiveSource) -> CaptureRow | str:
        """The capture with its text (a twin's as ``as_twin`` makes it, read with the rules of its own date:
        :func:`_twin_read_again`), or why a twin's bytes give none."""
        fetched = workspace.catalog.capture(self.extracted_id)
        if self.listed is None:
            return fetched
        row = as_twin(fetched, self.listed, source.capture_url(self.listed.timestamp, self.listed.url))
        return _twin_read_again(workspace, declaration, row, fetched)

    @property
    def ref(self) -> CaptureRef:
        return CaptureRef(self.url, self.captured_at, None, None, None)

    def refuse(self, catalog: Catalog, document: str, reason: str) -> None:
        """Refused as backfill refuses a change (:func:`refuse_change`)."""
        refuse_change(catalog, document, catalog.capture(self.extracted_id), reason, self.listed)


def _runs(candidates: Sequence[_Candidate]) -> list[Sequence[_Candidate]]:
    """The candidates split where the text changes: each run shows one text, from the capture a change is found at
    to the last before the next change."""
    runs: list[Sequence[_Candidate]] = []
    start = 0
    for index in range(1, len(candidates) + 1):
        if index == len(candidates) or candidates[index].body_sha1 != candidates[start].body_sha1:
            runs.append(candidates[start:index])
            start = index
    return runs


def _history(workspace: Workspace, declaration: DocumentDeclaration) -> Iterator[Version]:
    """Every change of text in the order of the captures, after the guards, dated as backfill dates it
    (:func:`dating_capture`). Streamed: only the last kept version's text is held, and the captures' rows are read
    without their texts; a text is read only where its identity differs from the last kept version's."""
    catalog = workspace.catalog
    candidates = _candidates(catalog, declaration)
    seen_at: dict[str | None, list[datetime]] = {}
    for candidate in candidates:
        seen_at.setdefault(candidate.body_sha1, []).append(candidate.bytes_at)
    source = archive_source(workspace.config.settings.wayback)
    previous: Version | None = None  # the last kept version
    dated = True  # whether the text before the run is a version
    runs = _runs(candidates)
    for number, run in enumerate(runs):
        first = run[0]
        if previous is not None and first.body_sha1 == text_identity(previous.body):
            dated = True  # the last version's text again: not a change
            continue
        row = first.row(workspace, declaration, source)
        if isinstance(row, str):  # a twin whose kept bytes give no text read as its version: no version of it
            first.refuse(catalog, declaration.key, f"{TWIN_UNREAD}: {row}")
            dated = False
            continue
        verdict = judge(row.body or "", previous.body if previous else None, seen_at[first.body_sha1])
        last = runs[number - 1][-1] if number else None
        unchanged_since = last_seen(last.captured_at, last.bytes_at, dated=dated) if last else None
        following = runs[number + 1][0].ref if number + 1 < len(runs) else None
        dating = verdict.refusal or dating_capture(
            [candidate.bytes_at for candidate in run],
            previous.captured_at if previous else None,
            unchanged_since,
            following,
        )
        dated = not isinstance(dating, str)
        if isinstance(dating, str):
            first.refuse(catalog, declaration.key, dating)
            continue
        if dating:
            dated_row = run[dating].row(workspace, declaration, source)
            if isinstance(dated_row, str):
                run[dating].refuse(catalog, declaration.key, f"{TWIN_UNREAD}: {dated_row}")
                dated = False
                continue
            row = dated_row
        catalog.set_note(row.document, row.source, row.captured_at, joined_notes(own_note(row.note), verdict.note))
        previous = make_version(declaration, row, wayback=workspace.config.settings.wayback)
        yield previous


def _candidates(catalog: Catalog, declaration: DocumentDeclaration) -> list[_Candidate]:
    """The extracted captures of the declaration's document, and the listed captures never fetched whose CDX row
    gives the digest of an extracted 200 at the same URL read with the same rules (known through it, as the backfill
    knew them, so that a rebuilt version is dated at its first capture as well), in the order of the captures
    (listed time). A twin known only through a capture of another ``history`` entry's rules is no candidate: the
    backfill does not know it either (``DocumentPlan.learn``); through it, a rebuild found no change at the boundary
    and dated the twins' version at the next capture fetched (2026-11-29)."""
    candidates: list[_Candidate] = []
    # The first extracted 200 of each (URL, CDX digest, reading of its date).
    fetched: dict[tuple[str, PayloadDigest, str], _Candidate] = {}
    listed: list[tuple[int, CaptureRef]] = []
    reading = Readings(declaration)
    for row in catalog.each_capture(declaration.key, texts=False):
        if row.outcome is Outcome.EXTRACTED:
            candidate = _Candidate(row.captured_at, False, row.id, row.bytes_at, row.url, row.id, row.body_sha1)
            candidates.append(candidate)
            if row.source is Source.WAYBACK and row.status == 200 and row.digest is not None and not row.rendered:
                fetched.setdefault((row.url, row.digest, reading(row.bytes_at)), candidate)
        elif row.outcome is Outcome.LISTED and row.status == 200:
            listed.append((row.id, CaptureRef(row.url, row.captured_at, row.status, row.mimetype, row.digest)))
    for row_id, ref in listed:
        if ref.digest is None:
            continue
        if (twin := fetched.get((ref.url, ref.digest, reading(ref.timestamp)))) is not None:
            at = ref.timestamp
            candidates.append(_Candidate(at, True, row_id, at, ref.url, twin.extracted_id, twin.body_sha1, ref))
    candidates.sort()
    return candidates


def _rebuild(workspace: Workspace, declaration: DocumentDeclaration, had: bool) -> str | DocumentFailure | None:
    """The document's history made again from its captures, streamed into Git as it is worked out (so that
    memory does not grow with the history); the line saying so, or when no capture gives a version the history left
    as it was: the document's failure if it ``had`` versions (their captures now refused: until 2026-11-29 exit 0,
    nothing said, though `verify` and plain `reextract` named it), else None."""
    made = 0

    def counted() -> Iterator[Version]:
        nonlocal made
        for version in _history(workspace, declaration):
            made += 1
            yield version

    rewritten = workspace.versions.replace_documents(counted())
    if not made:
        if not had:
            return None
        rows = workspace.catalog.stored_captures([declaration.key])
        refused = format_counts(refusal_counts(row.reason for row in rows if row.outcome is Outcome.REFUSED))
        why = f"no kept capture gives a version now (refused: {refused})"
        return DocumentFailure(declaration.key, f"no version rebuilt: {why}; the history is left as it was")
    workspace.resync()
    return (
        f"{declaration.key}: history rebuilt: {made} {plural(made, 'version')}, "
        f"{len(rewritten)} {plural(len(rewritten), 'commit')} rewritten"
    )


def reextract(
    workspace: Workspace,
    declarations: Sequence[DocumentDeclaration],
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Examine every kept capture of ``declarations`` again and update the catalog; then per document, by default,
    record the latest version's text again as a technical upgrade when its capture now gives another one (dated when
    the run began, or a second after the latest version: :func:`upgrade_time`; a latest capture now refused is that
    document's failure), or with ``rebuild`` make its whole history again
    from its captures. A capture whose bytes cannot be read keeps its extraction and fails its document; the others
    go on. The run's report: versions recorded, failures, and one note per history rebuilt."""
    progress = progress or Progress("reextract")
    progress.expect(None, "captures", one="capture")
    catalog = workspace.catalog
    failures: list[DocumentFailure] = []
    upgrades: list[Version] = []
    notes: list[str] = []
    now = workspace.clock  # a technical upgrade is dated when the run began (``upgrade_time``)
    stop = current_stop()
    for declaration in declarations:
        if stop.received:  # SIGTERM or Ctrl-C: the documents done are recorded, the others left as they were
            failures.append(DocumentFailure(declaration.key, INTERRUPTED))
            continue
        versions = catalog.versions(declaration.key)
        last = versions[-1] if versions else None
        read = latest_capture_version(versions)
        latest = catalog.version_capture(declaration.key, read.bytes_at, read.url) if read else None
        if unreadable := _reexamine(workspace, declaration, progress, rebuild=rebuild):
            failures.append(unreadable_failure(catalog, declaration.key, unreadable, "kept as extracted before"))
        refused = None
        if latest is None and read is not None and not rebuild:  # refused by an earlier run: read again now
            latest = catalog.version_capture(declaration.key, read.bytes_at, read.url)
            refused = latest_refusal(catalog, declaration.key, read) if latest is None else None
        if rebuild:
            rebuilt = _rebuild(workspace, declaration, had=last is not None)
            if isinstance(rebuilt, DocumentFailure):
                failures.append(rebuilt)
            elif rebuilt:
                notes.append(rebuilt)
        elif refused:
            failures.append(DocumentFailure(declaration.key, f"{LATEST_REFUSED}: {refused}"))
        elif latest is not None and read is not None and last is not None:
            when = upgrade_time(now, last.captured_at)
            outcome = _technical_upgrade(workspace, declaration, latest, read, last, when)
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
