"""The versions a killed `track` run never recorded, recorded by the next writing command as it opens.

`track` keeps each page (WARC file, catalog row) as it is fetched, but saves the versions to Git once its crawl
is over: a run killed in between (kill -9; a second Ctrl-C under `schedule`, which kills the running `track`) or
stopped by an error kept captures that no commit holds. Each is recorded here, dated when it was captured, before
the next command does anything else, so that the history stays what the captures give (what `reextract --rebuild`
makes from them) and what the killed run would have recorded: the next `track` then compares the page with that
text, not with the one before it. The catalog's ``runs`` table says which runs these are
(``RunTable.unrecorded_tracks``): the check costs one small query when no run was killed.

The captures were examined and judged by the guards when they were kept (refused ones stay refused): each extracted
one is a version to save, as ``TrackPlan`` would have saved it; the ledger ignores one already saved (a kill after
the save) and keeps one whose text repeats its predecessor's off ``main``. See docs/decisions/0004 (amendment of
2026-11-28, "A killed track").

A catalog lost and re-indexed from the WARC files has no ``runs``: which captures a killed run kept is no longer
known, and the re-index examined every capture again without the guards (which judge a text against the history),
so they are not recorded here. :func:`texts_left_after_reindex` names instead the live texts no version holds, and
the one command that records them, `reextract --rebuild` (which decides the whole history again, the guards with
it).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from policy_archive.archive.catalog.rows import Outcome
from policy_archive.pipeline.jobs.examine import make_version
from policy_archive.pipeline.jobs.guards import judge
from policy_archive.records import Source, iso_z
from policy_archive.text import plural

if TYPE_CHECKING:
    from policy_archive.pipeline.jobs.workspace import Workspace
    from policy_archive.records import Version


def record_killed_tracks(workspace: Workspace, command: str) -> list[str]:
    """Record the versions of every `track` run that kept captures without recording them, oldest run first, each
    run's in capture order; one line each for ``Workspace.notes`` (the runs that left a version to record)."""
    catalog = workspace.catalog
    declared = {declaration.key: declaration for declaration in workspace.config.documents}
    wayback = workspace.config.settings.wayback
    notes = []
    for run in catalog.unrecorded_tracks():
        rows = catalog.live_extracted(run)
        undeclared = sorted({row.document for row in rows if row.document not in declared})
        kept = [row for row in rows if row.document in declared]
        versions = [make_version(declared[row.document], row, wayback=wayback) for row in kept]
        recorded = workspace.record(versions)
        workspace.recovered += [(item, _text_before(workspace, item.version)) for item in recorded]
        count = f"{len(recorded)} {plural(len(recorded), 'version')}"
        catalog.note_recorded_later(
            run.run_id,
            f"stopped before recording its versions: `{command}` recorded {count} from its captures at "
            f"{iso_z(datetime.now(UTC))}",
        )
        if not recorded and not undeclared:
            continue  # nothing kept, only repeated texts, or a kill after the save: nothing changed
        line = (
            f"the `track` run of {iso_z(run.started_at)} was stopped before recording its versions: {count} recorded "
            "now from its kept captures, each dated when it was captured"
        )
        if undeclared:
            line += f"; those of {', '.join(undeclared)} not (no longer declared)"
        notes.append(line)
    return notes


def _text_before(workspace: Workspace, version: Version) -> str | None:
    """The text of the version of its document just before ``version`` on ``main`` (None: the first), which the
    webhook's summary compares it with."""
    earlier = [row for row in workspace.catalog.versions(version.document) if row.captured_at < version.commit_time]
    if not earlier:
        return None
    row = workspace.catalog.version_capture(version.document, earlier[-1].bytes_at, earlier[-1].url)
    return row.body if row else None


def texts_left_after_reindex(workspace: Workspace) -> str | None:
    """After the catalog was re-indexed from the WARC files (its ``runs`` lost): the line naming the live captures
    whose text no version holds and the command that records them, or None when there are none.

    Such a capture is an extracted live one that dates no version and whose text differs from that of the version
    before it (a page fetched unchanged repeats it), and that the guards would let through after that version:
    what a `track` run killed before recording its versions leaves. Texts are compared by their identity in the
    catalog (both re-extracted by the re-index with the same configuration); only a differing one is read."""
    catalog = workspace.catalog
    left: dict[str, list[datetime]] = {}
    for declaration in workspace.config.documents:
        document = declaration.key
        live = [row for row in catalog.captures(document, Source.LIVE, texts=False) if row.outcome is Outcome.EXTRACTED]
        if not live:
            continue
        rows = catalog.versions(document)
        versions = [version.captured_at for version in rows]
        recorded = set(versions)
        seen: dict[str | None, list[datetime]] = {}  # a text's identity -> when it was captured live
        for row in live:
            seen.setdefault(row.body_sha1, []).append(row.captured_at)
        # The version before the capture (its time, its text's identity, its text): the captures come in time
        # order, so only the latest one read is held, whatever the number of versions.
        before: tuple[datetime | None, str | None, str | None] = (None, None, None)
        for row in live:
            if row.captured_at in recorded:
                continue
            previous_sha1 = previous_body = None
            if earlier := bisect_left(versions, row.captured_at):
                at = versions[earlier - 1]
                if before[0] != at:
                    held = catalog.version_capture(document, rows[earlier - 1].bytes_at, rows[earlier - 1].url)
                    before = (at, held.body_sha1, held.body) if held else (at, None, None)
                _, previous_sha1, previous_body = before
                if previous_sha1 is None:
                    continue  # the version's capture is not kept: nothing to compare with
            if row.body_sha1 == previous_sha1:
                continue
            body = catalog.capture(row.id).body or ""
            if judge(body, previous_body, seen[row.body_sha1]).refusal is None:
                left.setdefault(document, []).append(row.captured_at)
    if not left:
        return None
    count = sum(len(times) for times in left.values())
    named = "; ".join(f"{document} ({_when(times)})" for document, times in left.items())
    it = plural(count, "it", "them")
    return (
        f"{count:,} kept live {plural(count, 'capture')} {plural(count, 'holds', 'hold')} a text no version "
        f"records, captured by a `track` run killed before recording {it} (the lost catalog's runs said which): "
        f"{named}; `policy-archive reextract --rebuild {' '.join(left)}` records {it}, each dated when it was "
        "captured (no other command does)"
    )


def _when(times: list[datetime]) -> str:
    """``2026-11-28T10:00:00Z``, or for several ``3 from 2026-11-28T10:00:00Z to 2026-11-29T10:00:00Z``."""
    if len(times) == 1:
        return iso_z(times[0])
    return f"{len(times):,} from {iso_z(times[0])} to {iso_z(times[-1])}"
