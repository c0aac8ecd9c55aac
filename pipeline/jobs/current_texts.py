"""The texts a backfill compares and records, read with the rules of now (:class:`ReadAsNow`).

The catalog keeps each capture's text with the reading that gave it (``captures.extractor``: the extractor's revision
and the fingerprint of the declaration's ``select``/``remove`` for the capture's date). After those rules were edited,
or the extractor's revision changed, the texts of the captures fetched before are another reading's: compared with the
texts of captures fetched since, a rule edit looked like a change of the policy (or hid one), and a version made from
one named the rules of now without their text, which `verify` found a mismatch (until 2026-11-29). A backfill now
reads such a capture's kept bytes again, once, before its plan learns anything from it (docs/decisions/0015,
amendment of 2026-11-29 (rules)).
"""

from __future__ import annotations

import dataclasses

from policy_archive.archive.catalog.capture_reads import in_batches
from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.pipeline.jobs.damage import Unreadable, first_named, read_kept
from policy_archive.pipeline.jobs.dated_in_order import shows_its_text
from policy_archive.pipeline.jobs.examine import Examination, Neighbours, examine, holds_for_twins
from policy_archive.pipeline.jobs.future_dates import IN_THE_FUTURE
from policy_archive.pipeline.jobs.kept_reading import capture_from, keep_examined_again, refusal_kept
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.readings import reading_at
from policy_archive.pipeline.jobs.report import borrowed, twin_reason
from policy_archive.pipeline.jobs.served_bytes import UNDECODABLE
from policy_archive.pipeline.jobs.verify import extractor_revision, rules_fingerprint
from policy_archive.pipeline.jobs.workspace import Workspace
from policy_archive.records import CaptureRef, DocumentDeclaration
from policy_archive.text import plural

# The progress line's counter of the kept captures whose text was read again with the rules of now.
READ_AGAIN = "kept captures read again"


def same_reading(extractor: str | None, wanted: str) -> bool:
    """Whether a text read by ``extractor`` (an ``Extractor:`` trailer, None: not known) is the one the reading
    ``wanted`` gives the same bytes: the same extractor revision and rules' fingerprint (library versions only change
    a text when a revision says so, as `verify` holds)."""
    if extractor is None:
        return False
    reading = (extractor_revision(extractor), rules_fingerprint(extractor))
    return None not in reading and reading == (extractor_revision(wanted), rules_fingerprint(wanted))


def reading_of_now(declaration: DocumentDeclaration, row: CaptureRow) -> str:
    """The ``Extractor:`` trailer a text of ``row``'s bytes is read with now: this extractor, the rules for the date
    its bytes were captured (as ``examine`` reads them), or for a row known through its twin (``examine.as_twin``)
    the date of its version, whose rules read the twin's bytes."""
    return reading_at(declaration, row.bytes_at)


def refused_for_its_text(row: CaptureRow) -> bool:
    """Whether a kept capture was refused by extraction (``selector-matched-nothing``, ``not-a-legal-document``, a
    script shell...): a verdict of a reading, which another reading of the same bytes may not give. Such a refusal
    names its reading since 2026-11-29; one from before names none and is read again once. The other refusals of a
    kept capture rest on its bytes, its status or its date whatever reads it (a replay's answer, ``undecodable``,
    ``dated in the future``), or are decided with the versions from a text (``shows_its_text``)."""
    reason = row.reason or ""
    return (
        row.outcome is Outcome.REFUSED
        and row.body_sha1 is None
        and not borrowed(reason)
        and holds_for_twins(reason)
        and not reason.startswith((UNDECODABLE, IN_THE_FUTURE))
    )


class ReadAsNow:
    """Called with each catalog row a backfill plan learns from (and the captures listed around it): the row as the
    reading of now gives it. A row whose text another reading gave (or one not named: extracted before 2026-11-29)
    has its kept bytes examined again, as `reextract` examines them (no archive request), and the catalog keeps the
    result with its reading, so that it is read once. Its bytes unreadable: None (the plan then takes the capture as
    showing nothing this run), and the catalog row left as it was; :meth:`notes` names them."""

    def __init__(self, workspace: Workspace, declaration: DocumentDeclaration, progress: Progress | None = None):
        self.workspace = workspace
        self.declaration = declaration
        # Each capture read again counted on the progress line: the first backfill after a rule edit (or after
        # 2026-11-29) reads every kept capture of the listing before it asks the archive anything.
        self.progress = progress
        self.unreadable: list[Unreadable] = []

    def __call__(self, row: CaptureRow, neighbours: Neighbours | None) -> CaptureRow | None:
        if row.stored is None:
            return row  # nothing kept to read
        readable = row.body_sha1 is not None and shows_its_text(row)
        if not readable and not refused_for_its_text(row):
            return row  # no text, or none the decisions read, and no verdict a reading made: nothing compared
        if same_reading(row.extractor, reading_of_now(self.declaration, row)):
            return row
        response = read_kept(self.workspace.captures, row)
        if isinstance(response, Unreadable):
            self.unreadable.append(response)
            return None
        examination = examine(
            self.declaration,
            capture_from(row, response),
            clock=self.workspace.clock,
            check_digest=self.workspace.config.settings.wayback.check_digests,
            neighbours=neighbours,
        )
        # A refusal made with the versions (for its date, by the guards) stays with the new text: the decisions
        # about to be made judge it again, as after `reextract`.
        examination = refusal_kept(row, examination)
        keep_examined_again(self.workspace.catalog, row, examination)
        if refused_for_its_text(row) and (examination.outcome, examination.reason) != (row.outcome, row.reason):
            self._twins_judged_again(row, examination)
        if self.progress is not None:
            self.progress.add(READ_AGAIN, one="kept capture read again")
        document = examination.document
        return dataclasses.replace(
            row,
            outcome=examination.outcome,
            reason=examination.reason,
            title=document.title if document else None,
            body_sha1=examination.body_sha1,
            stated_date=document.stated_date if document else None,
            extractor=examination.extractor,  # a text refusal's reading too (``refused_for_its_text``)
        )

    def _twins_judged_again(self, row: CaptureRow, examination: Examination) -> None:
        """The twins never fetched that ``row``'s text refusal was passed on to (``same bytes as the capture of
        …``), once its bytes read again gave another verdict: listed again, to be known through it as the plan
        learns it (a text, or nothing), or refused again with its new reason. They kept the old reason, which
        `status` and the run's `FAILED` line counted (2026-11-29). Written a batch at a time as the scan finds
        them: a refusal passed on to a million twins is a million rows."""
        catalog, key = self.workspace.catalog, self.declaration.key
        passed = twin_reason(row.captured_at, row.reason)
        twins = (
            (url, at)
            for url, at, reason, _ in catalog.refused_replays(key, [passed])
            if reason == passed and url == row.url
        )
        still = examination.outcome is Outcome.REFUSED and holds_for_twins(examination.reason)
        again = twin_reason(row.captured_at, examination.reason)
        for batch in in_batches(twins):
            catalog.relist(key, batch)
            if still:
                catalog.refuse_listed(key, ((CaptureRef(url, at, 200, None, None), again) for url, at in batch))

    def notes(self) -> list[str]:
        """One line naming the captures whose text is another reading's and whose bytes cannot be read: none of
        them was compared or recorded."""
        if not self.unreadable:
            return []
        count, key = len(self.unreadable), self.declaration.key
        named = first_named(f"capture {item.row.captured_at:%Y%m%d%H%M%S}: {item.problem}" for item in self.unreadable)
        their, texts = ("its", "text was") if count == 1 else ("their", "texts were")
        return [
            f"{key}: {count} kept {plural(count, 'capture')} not compared ({their} {texts} extracted with other"
            f" rules or another extractor than now, and {their} bytes cannot be read again): {named}; restored from"
            f" a backup, `policy-archive reextract {key}` reads them again"
        ]
