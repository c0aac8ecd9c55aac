"""A catalog started again (set aside as unreadable, deleted, emptied) learns every capture kept in the WARC
files again, so that nothing already downloaded is fetched again and `verify`, `reextract` and `repair` find
the bytes of every version (docs/decisions/0004-raw-captures-and-catalog.md, amendment of 2026-11-27).

Each capture is read back one record at a time (``CaptureStore.kept``) and examined again with the current
configuration, as a backfill examined it when it was fetched. What only the lost catalog knew stays lost: the
listed captures never fetched (listed again by the next backfill), the reasons of fetches that failed, the
change windows and the runs; but a listed capture never fetched that dates a version through its twin is listed
again from the revisit record backfill kept for it (``KeptRevisit``), so that a rebuild dates the version there.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from policy_archive.archive.captures import CaptureStore, DamagedRecord
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.archive.kept_captures import LeftOut
from policy_archive.archive.revisits import KeptRevisit
from policy_archive.config.settings import Config
from policy_archive.pipeline.jobs.damage import skipped
from policy_archive.pipeline.jobs.examine import Examination, examine, record_examined
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.text import plural

NOT_CONFIGURED = "not-configured: the document is no longer configured (kept in the WARC files)"


def reindex_captures(
    catalog: Catalog, captures: CaptureStore, config: Config, progress: Progress, clock: datetime
) -> str | None:
    """Catalogue every capture of ``captures`` (into a catalog holding none), judged at the run's ``clock``; the
    line saying what was done, or None when there are no WARC files."""
    files = captures.warc_files()
    if not files:
        return None
    declarations = {declaration.key: declaration for declaration in config.documents}
    check_digests = config.settings.wayback.check_digests
    progress.expect(None, "captures", one="capture")
    outcomes: Counter[str] = Counter()
    damaged: list[DamagedRecord] = []
    left_out: Counter[str] = Counter()
    twins = 0
    for kept in captures.kept():
        if isinstance(kept, DamagedRecord):
            damaged.append(kept)
            continue
        if isinstance(kept, LeftOut):
            left_out[kept.kind] += 1
            continue
        if isinstance(kept, KeptRevisit):
            # A listed capture never fetched that dated a version through its twin: listed again, so that a
            # rebuild knows it as the backfill did (its row's digest is its twin's) and dates the version at it.
            catalog.add_listed(kept.document, [kept.listed])
            catalog.note_revisit(kept.document, kept.listed.url, kept.listed.timestamp, kept.stored)
            twins += 1
            continue
        capture = kept.capture
        if capture.listed is not None:  # the CDX row's own status, type and digest, as a listing records them
            catalog.add_listed(capture.document, [capture.listed])
        declaration = declarations.get(capture.document)
        if declaration is None:
            examination = Examination(Outcome.REFUSED, NOT_CONFIGURED)
        else:
            examination = examine(declaration, capture, clock=clock, check_digest=check_digests)
        record_examined(catalog, capture, kept.stored, examination)
        outcomes[str(examination.outcome)] += 1
        progress.add("re-indexed", done=True)
    total = progress.done
    details = [f"{count} {outcome}" for outcome, count in sorted(outcomes.items())]
    inside = [record for record in damaged if not record.at_end]
    if cut_short := len(damaged) - len(inside):  # the record a run was writing when it was killed: nothing names it
        details.append(f"{cut_short} {plural(cut_short, 'record')} cut short, skipped")
    if twins:
        whose = plural(twins, "its", "their")
        details.append(f"{twins} {plural(twins, 'capture')} never fetched listed again from {whose} revisit records")
    detail = ", ".join(details)
    return (
        f"{total} {plural(total, 'capture')} re-indexed from {len(files)} WARC {plural(len(files), 'file')} in "
        f"{captures.directory}{f' ({detail})' if detail else ''}: none of them will be fetched again"
        + (f"; {skipped(inside)}" if inside else "")
        + (f"; {foreign(left_out)}" if left_out else "")
    )


def foreign(left_out: Counter[str]) -> str:
    """``2 records not written by policy-archive (1 response, 1 revisit) left out``: another tool's WARC file
    copied into the captures directory; its records are not captures of ours, and not damaged ones either."""
    count = sum(left_out.values())
    kinds = ", ".join(f"{number} {kind}" for kind, number in sorted(left_out.items()))
    return f"{count} {plural(count, 'record')} not written by policy-archive ({kinds}) left out"
