"""The capture a technical upgrade reads again: that of the latest version, and why there is none when an earlier
`reextract` refused it (moved from reextract.py, 2026-11-29)."""

from __future__ import annotations

from collections.abc import Sequence

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome, VersionRow

# A document's failure in `reextract` when the latest version's capture gives no text now.
LATEST_REFUSED = "the capture of the latest version is now refused"


def latest_capture_version(versions: Sequence[VersionRow]) -> VersionRow | None:
    """The version whose capture a technical upgrade reads again: the one made from the latest capture (the later
    one of two made from it), which is the last version, except in a history an upgrade of an earlier capture
    was left at the head of by a backfill that then found a later one (before 2026-11-29: `verify` names it, and
    ``archive.saves`` no longer leaves it). Reading the last version's capture there made the stale upgrade's
    text again at each rule change (outside audit 31, finding 2)."""
    if not versions:
        return None
    return max(versions, key=lambda version: (version.bytes_at, version.captured_at))


def latest_refusal(catalog: Catalog, document: str, read: VersionRow) -> str | None:
    """The reason the catalog holds the capture of the latest version (``read``) refused for, when an earlier
    `reextract` (or a rebuild that made no version) refused it: the catalog then knows no extracted capture of
    that version, and until 2026-11-29 the next `reextract` said nothing and exited 0, though the first had failed
    the document and `verify` still named the version. None when the capture is not a refused one."""
    row = catalog.version_row(document, read.bytes_at, read.url)
    if row is None or row.outcome is not Outcome.REFUSED:
        return None
    return row.reason or "no reason kept"
