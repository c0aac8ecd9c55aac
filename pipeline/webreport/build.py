"""Build or update the report in a directory: only documents with a new version are read and rewritten.

``.policy-archive-report.json`` in the output directory remembers, for each document, the commit of its latest
version when its page was written, its numbered pages (each page's number and the dates of the versions it holds,
decided once: a version never moves to another page), what each page was written from, what the index shows of it
and its feed entries (without their diffs). A run rewrites a document's page and feed only when that commit changed
(or the page is missing), and a numbered page only when it gains versions, the commit of its last version changed (a
backfill that inserts an earlier version of any document re-chains every later commit of the versions branch) or
its neighbours did; the index and the feed of all changes are rebuilt from that memory and written only when their
bytes change.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.versions import VersionStore
from policy_archive.errors import ConfigurationError, PolicyArchiveError
from policy_archive.files import write_whole
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.webreport.document_files import Paging, build_document, older_name, write_if_changed
from policy_archive.pipeline.webreport.feeds import FeedEntry, feed_xml, stable_id
from policy_archive.pipeline.webreport.pages import DocumentSummary, index_page
from policy_archive.pipeline.webreport.state import STATE_FILE, load_state, state_bytes
from policy_archive.pipeline.webreport.style import STYLE
from policy_archive.records import DocumentDeclaration, iso_z
from policy_archive.stop_signals import Stopped, stop_signals_handled


@dataclass(frozen=True)
class ReportResult:
    """What `report` did: ``documents`` in the index (those of the configuration with at least one version, from this
    run or an earlier one), the keys of those whose page and feed this run wrote, and the index page's path."""

    documents: int
    rewritten: tuple[str, ...]  # documents whose page and feed were (re)written by this run
    index: Path


# The files of the site itself, written by every report (each document's page and feed are beside them).
SITE_FILES = ("index.html", "style.css", "feed.atom")


def foreign_directory(output: Path, declarations: Sequence[DocumentDeclaration]) -> str | None:
    """Why a report is not written into ``output`` without ``--force``, or None: a missing or empty directory, or
    one holding a report of policy-archive (its state file), takes one. Any other directory is someone's own: a
    mistaken ``--output .`` must not replace its ``index.html`` (audit 31, finding 9). The reason names the first
    file the report would replace (the site's files, then each document's page and feed, in the order of
    ``declarations``), else the first entry the directory holds."""
    try:
        if not output.is_dir() or (output / STATE_FILE).is_file():
            return None
        held = sorted(entry.name for entry in output.iterdir())
    except OSError:  # not listed: the writing says what is wrong, as before
        return None
    if not held:
        return None
    not_a_report = f"not a report of policy-archive (no {STATE_FILE} in it)"
    written = [Path(name) for name in SITE_FILES]
    for declaration in declarations:
        folder = Path(declaration.service_id)
        written += [folder / f"{declaration.document_id}.html", folder / f"{declaration.document_id}.atom"]
    for relative in written:
        if os.path.lexists(output / relative):
            return f"{not_a_report}: the report would replace {output / relative}; add --force to write it there"
    return (
        f"{not_a_report} and not empty ({output / held[0]}); give a new or empty directory, or add --force to write "
        "the report among its files"
    )


def build_report(
    declarations: Sequence[DocumentDeclaration],
    every_declaration: Sequence[DocumentDeclaration],
    catalog: Catalog,
    store: VersionStore,
    output: Path,
    progress: Progress,
    paging: Paging = Paging(),
    base_url: str | None = None,
) -> ReportResult:
    """Update the report in ``output`` for ``declarations``; the index keeps the other configured documents
    an earlier run reported. ``base_url`` (ending in ``/``): the address the report is published at, which each
    feed names itself by; None: unknown, no feed names itself."""
    if output.exists() and not output.is_dir():
        raise ConfigurationError(f"--output {output}: not a directory")
    # DIR is made, no folder on the way to it: `report` refuses a missing parent before any work (check_output,
    # on_the_way=False), and a parent removed since is the writing's error, not a folder tree made again.
    made = not output.exists()
    fresh = made or not any(output.iterdir())
    begun = not (output / STATE_FILE).is_file()  # no report here yet: new, empty, or someone's own (--force)
    output.mkdir(exist_ok=True)
    try:
        # SIGTERM or Ctrl-C (one received before too) stops the report where it is: it is said, not `Aborted!`.
        with stop_signals_handled() as stop, stop.interrupting():
            stop.raise_if_received()
            if begun:
                # A state file of no document, before any page: from the first file written on, the directory is
                # a report's, which the next run completes without --force (every page written again), however
                # this one ends. Without it, a report forced into someone's directory and stopped, or a first one
                # killed outright, left a directory the next run took for someone's own (until 2026-11-29).
                write_whole(output / STATE_FILE, state_bytes(base_url, {}))
            return _update(declarations, every_declaration, catalog, store, output, progress, paging, base_url)
    except BaseException as error:
        # A first report stopped half-way (a full disk, a stop signal) is removed, not left looking like a report
        # without its documents; an earlier report stays (every file in it whole), and its state file, written
        # last, makes the next run write again what this one may have left undone. In someone's own directory
        # (--force) nothing is removed: the files this run replaced are gone already, the others are theirs.
        if fresh:
            _remove_contents(output)
            if made:
                with contextlib.suppress(OSError):
                    output.rmdir()
        if isinstance(error, Stopped):
            raise ReportStopped(output, error.signal_name, fresh=fresh, begun=begun) from None
        raise


class ReportStopped(PolicyArchiveError):
    """A stop signal (SIGTERM, Ctrl-C) ended ``report`` before it was complete; the message says what is left (exit
    1, as any command a first stop signal ends: policy_archive/stop_signals.py)."""

    def __init__(self, output: Path, signal_name: str, *, fresh: bool, begun: bool) -> None:
        if fresh:
            left = f"nothing written (no report left in {output})"
        elif begun:  # someone's own directory, written into with --force
            left = (
                f"every file it wrote in {output} is whole, and its state file ({STATE_FILE}) there makes the "
                "next report, without --force, write the rest"
            )
        else:
            left = (
                f"every file in {output} is whole, the earlier report's or this run's; the next report writes the rest"
            )
        super().__init__(f"report to {output} stopped by {signal_name} before it was complete: {left}")


def _remove_contents(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


def _update(
    declarations: Sequence[DocumentDeclaration],
    every_declaration: Sequence[DocumentDeclaration],
    catalog: Catalog,
    store: VersionStore,
    output: Path,
    progress: Progress,
    paging: Paging,
    base_url: str | None,
) -> ReportResult:
    state = load_state(output, base_url, declarations, every_declaration)
    rewritten = []
    for declaration in declarations:
        versions = catalog.versions(declaration.key)
        known = state.get(declaration.key)
        folder = output / declaration.service_id
        pages = [folder / f"{declaration.document_id}.html"]
        pages += [folder / older_name(declaration, page["number"]) for page in (known or {}).get("pages", [])]
        if not versions or (known and known["head"] == versions[-1].commit and all(p.exists() for p in pages)):
            progress.add("unchanged" if versions else "without versions", done=True)
            continue
        state[declaration.key] = build_document(output, catalog, store, declaration, known, paging, base_url)
        rewritten.append(declaration.key)
        progress.add("written", done=True)
    reported = [d.key for d in every_declaration if d.key in state]
    summaries = [
        DocumentSummary(**{**state[key]["summary"], "dates": tuple(state[key]["summary"]["dates"])}) for key in reported
    ]
    entries = [FeedEntry(**entry) for key in reported for entry in state[key]["entries"]]
    write_if_changed(output / "style.css", STYLE.encode("utf-8"))
    write_if_changed(output / "index.html", index_page(summaries).encode("utf-8"))
    # Before any document has a version, the feed of all changes is as of this run: nothing was recorded yet.
    since = min((summary.dates[0] for summary in summaries), default=iso_z(datetime.now(UTC)))
    all_changes = feed_xml(
        stable_id("feed:all"),
        "Policy histories: the newest changes",
        "index.html",
        entries,
        since,
        limit=paging.feed,
        self_url=f"{base_url}feed.atom" if base_url else None,
    )
    write_if_changed(output / "feed.atom", all_changes)
    write_if_changed(output / STATE_FILE, state_bytes(base_url, {key: state[key] for key in reported}))
    return ReportResult(len(reported), tuple(rewritten), output / "index.html")
