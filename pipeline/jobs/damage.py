"""Kept captures whose bytes cannot be read back: a WARC file gone, cut short, damaged (bit rot, bytes
overwritten) or rewritten by another tool (recompressed: every offset moved). `verify` names each version they
hold, `reextract` keeps their extraction as it was and names them, `repair` finds and names them; nothing here
can make the bytes again (the archive may still serve them: a backup of the WARC file is the sure way back)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from policy_archive.archive.captures import CaptureStore, DamagedRecord
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow
from policy_archive.archive.stored_responses import DamagedCapture, StoredResponse
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import DocumentFailure
from policy_archive.records import DocumentDeclaration, iso_z
from policy_archive.text import counted, plural

# A FAILED line names this many unreadable captures, then counts the others.
NAMED = 3


@dataclass(frozen=True)
class Unreadable:
    """A catalogued capture whose kept bytes cannot be read, and why (``missing capture: …``, ``damaged
    capture: …``, ``capture over the page limit: …``: the words `verify` prints). With ``over_page_limit`` the
    record is whole, its payload over the ``[crawl] max_page_bytes`` now set: raising it reads the record."""

    row: CaptureRow
    problem: str
    over_page_limit: bool = False


def read_kept(captures: CaptureStore, row: CaptureRow) -> StoredResponse | Unreadable:
    """The kept bytes of a catalogued capture (with its rendered DOM when it was rendered), or why not."""
    assert row.stored is not None
    try:
        return captures.read(row.stored, rendered=row.rendered)
    except DamagedCapture as error:
        if error.over_page_limit:
            return Unreadable(row, f"capture over the page limit: {error}", over_page_limit=True)
        return Unreadable(row, f"damaged capture: {error}")
    except (OSError, ValueError) as error:
        return Unreadable(row, f"missing capture: cannot read {row.stored.warc_file}:{row.stored.offset}: {error}")


def unreadable_failure(
    catalog: Catalog, document: str, unreadable: Sequence[Unreadable], consequence: str
) -> DocumentFailure:
    """One failure naming a document's unreadable captures, each as the version it holds when it holds one."""
    held: dict[int, datetime] = {}
    for version in catalog.versions(document):
        if (row := catalog.version_capture(document, version.bytes_at, version.url)) is not None:
            held[row.id] = version.captured_at
    # The versions first: they are what a reader of the history loses the proof of.
    ordered = sorted(unreadable, key=lambda item: (item.row.id not in held, item.row.bytes_at))
    named = first_named(
        f"version {iso_z(held[item.row.id])}: {item.problem}"
        if item.row.id in held
        else f"capture {iso_z(item.row.bytes_at)}: {item.problem}"
        for item in ordered
    )
    count = len(unreadable)
    return DocumentFailure(document, f"{count} kept {plural(count, 'capture')} cannot be read ({consequence}): {named}")


def first_named(texts: Iterable[str]) -> str:
    """The first :data:`NAMED` of ``texts`` joined by semicolons, then how many more."""
    texts = list(texts)
    more = [f"and {len(texts) - NAMED} more"] if len(texts) > NAMED else []
    return "; ".join(texts[:NAMED] + more)


def skipped(damaged: Sequence[DamagedRecord]) -> str:
    """What reading the WARC files past ``damaged`` records (in the middle of their files, or over the bounds of
    reading one) did, naming them; a backup is named only for damage: a record over the bounds is whole."""
    count = len(damaged)
    it = "it" if count == 1 else "each"
    files = sorted({record.stored.warc_file for record in damaged if not record.over_limit})
    they = "it" if sum(not record.over_limit for record in damaged) == 1 else "they"
    backup = f" (restore {', '.join(files)} from a backup to get back what {they} held)" if files else ""
    noun = "record" if any(record.over_limit for record in damaged) else "damaged record"
    return f"{counted(count, noun)} skipped, reading resumed after {it}{backup}: " + first_named(
        f"{record.stored.warc_file}:{record.stored.offset}: {record.problem}" for record in damaged
    )


def damaged_in_the_middle(captures: CaptureStore, known: Collection[tuple[str, int]]) -> list[DocumentFailure]:
    """`repair`: every WARC file read through (``CaptureStore.kept``); a failure per file with damaged records
    that something readable follows, other than those at ``known`` places (the catalogued captures, which
    :func:`unreadable_captures` names with their documents). A record cut short at a file's end is the one a
    killed run was writing: nothing refers to it, and it is not named."""
    damaged: dict[str, list[DamagedRecord]] = {}
    for kept in captures.kept():
        if isinstance(kept, DamagedRecord) and not kept.at_end:
            if (kept.stored.warc_file, kept.stored.offset) not in known:
                damaged.setdefault(kept.stored.warc_file, []).append(kept)
    return [DocumentFailure(name, skipped(records)) for name, records in damaged.items()]


def unreadable_captures(
    catalog: Catalog, captures: CaptureStore, declarations: Sequence[DocumentDeclaration], progress: Progress
) -> list[DocumentFailure]:
    """`repair`: every catalogued capture of ``declarations`` read back; a failure per document with any that
    cannot be, naming the WARC files to restore from a backup."""
    progress.expect(None, "captures", one="capture")
    failures = []
    for declaration in declarations:
        unreadable = []
        for row in catalog.stored_captures([declaration.key]):
            read = read_kept(captures, row)
            if isinstance(read, Unreadable):
                unreadable.append(read)
            progress.add("unreadable" if isinstance(read, Unreadable) else "readable", done=True)
        if unreadable:
            consequence = repair_advice(unreadable, captures.max_page_bytes)
            failures.append(unreadable_failure(catalog, declaration.key, unreadable, consequence))
    # No final count: `repair` says what it did (or "nothing to repair"); a long scan shows its progress meanwhile.
    return failures


def repair_advice(unreadable: Sequence[Unreadable], max_page_bytes: int) -> str:
    """What to do about ``unreadable`` captures: restore the files of the damaged and missing ones from a backup;
    read those over the page limit (whole, kept before the setting was lowered) by raising the setting."""
    advice = []
    damaged = [item for item in unreadable if not item.over_page_limit]
    if damaged:
        files = sorted({item.row.stored.warc_file for item in damaged if item.row.stored is not None})
        advice.append(f"`repair` cannot make kept bytes again: restore {', '.join(files)} from a backup")
    over = len(unreadable) - len(damaged)
    if over:
        are, them = ("is", "it") if over == 1 else ("are", "them")
        advice.append(
            f"{counted(over, 'record')} over the configured [crawl] max_page_bytes of {max_page_bytes:,} bytes "
            f"{are} not damaged: raise the setting to read {them}"
        )
    return "; ".join(advice)
