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
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from policy_archive.pipeline.jobs.examine import make_version
from policy_archive.records import iso_z
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
    for run_id, started, next_started in catalog.unrecorded_tracks():
        rows = catalog.live_extracted(started, next_started)
        undeclared = sorted({row.document for row in rows if row.document not in declared})
        kept = [row for row in rows if row.document in declared]
        versions = [make_version(declared[row.document], row, wayback=wayback) for row in kept]
        recorded = workspace.record(versions)
        workspace.recovered += [(item, _text_before(workspace, item.version)) for item in recorded]
        count = f"{len(recorded)} {plural(len(recorded), 'version')}"
        catalog.note_recorded_later(
            run_id,
            f"stopped before recording its versions: `{command}` recorded {count} from its captures at "
            f"{iso_z(datetime.now(UTC))}",
        )
        if not recorded and not undeclared:
            continue  # nothing kept, only repeated texts, or a kill after the save: nothing changed
        line = (
            f"the `track` run of {iso_z(started)} was stopped before recording its versions: {count} recorded now "
            "from its kept captures, each dated when it was captured"
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
    row = workspace.catalog.version_capture(version.document, earlier[-1].captured_at)
    return row.body if row else None
