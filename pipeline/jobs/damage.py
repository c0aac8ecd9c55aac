"""Kept captures whose bytes cannot be read back: a WARC file gone, cut short, damaged (bit rot, bytes
overwritten) or rewritten by another tool (recompressed: every offset moved). `verify` names each version they
hold, `reextract` keeps their extraction as it was and names them, `repair` finds and names them; nothing here
can make the bytes again (the archive may still serve them: a backup of the WARC file is the sure way back)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from policy_archive.archive.captures import CaptureStore, DamagedCapture, StoredResponse
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog_rows import CaptureRow
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.report import DocumentFailure
from policy_archive.records import DocumentDeclaration, iso_z
from policy_archive.text import plural

# A FAILED line names this many unreadable captures, then counts the others.
NAMED = 3


@dataclass(frozen=True)
class Unreadable:
    """A catalogued capture whose kept bytes cannot be read, and why (``missing capture: …``, ``damaged
    capture: …``: the words `verify` prints)."""

    row: CaptureRow
    problem: str


def read_kept(captures: CaptureStore, row: CaptureRow) -> StoredResponse | Unreadable:
    """The kept bytes of a catalogued capture (with its rendered DOM when it was rendered), or why not."""
    assert row.stored is not None
    try:
        return captures.read(row.stored, rendered=row.rendered)
    except DamagedCapture as error:
        return Unreadable(row, f"damaged capture: {error}")
    except (OSError, ValueError) as error:
        return Unreadable(row, f"missing capture: cannot read {row.stored.warc_file}:{row.stored.offset}: {error}")


def unreadable_failure(
    catalog: Catalog, document: str, unreadable: Sequence[Unreadable], consequence: str
) -> DocumentFailure:
    """One failure naming a document's unreadable captures, each as the version it holds when it holds one."""
    held: dict[int, datetime] = {}
    for version in catalog.versions(document):
        if (row := catalog.version_capture(document, version.captured_at)) is not None:
            held[row.id] = version.captured_at
    # The versions first: they are what a reader of the history loses the proof of.
    ordered = sorted(unreadable, key=lambda item: (item.row.id not in held, item.row.bytes_at))
    named = [
        f"version {iso_z(held[item.row.id])}: {item.problem}"
        if item.row.id in held
        else f"capture {iso_z(item.row.bytes_at)}: {item.problem}"
        for item in ordered[:NAMED]
    ]
    if len(ordered) > NAMED:
        named.append(f"and {len(ordered) - NAMED} more")
    count = len(unreadable)
    return DocumentFailure(
        document,
        f"{count} kept {plural(count, 'capture')} cannot be read ({consequence}): " + "; ".join(named),
    )


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
            files = sorted({item.row.stored.warc_file for item in unreadable if item.row.stored is not None})
            consequence = f"`repair` cannot make kept bytes again: restore {', '.join(files)} from a backup"
            failures.append(unreadable_failure(catalog, declaration.key, unreadable, consequence))
    # No final count: `repair` says what it did (or "nothing to repair"); a long scan shows its progress meanwhile.
    return failures
