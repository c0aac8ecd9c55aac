"""Build or update the report in a directory: only documents with a new version are read and rewritten.

``.policy-archive-report.json`` in the output directory remembers, for each document, the commit of its latest
version when its page was written, what the index shows of it and its feed entries (without their diffs). A run
rewrites a document's page and feed only when that commit changed (or the page is missing); the index and the
feed of all changes are rebuilt from that memory and written only when their bytes change.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.history import version_commits
from policy_archive.archive.versions import VersionStore
from policy_archive.errors import ConfigurationError
from policy_archive.files import write_whole
from policy_archive.pipeline.commands.review import log
from policy_archive.pipeline.exports._rows import ExportRow, export_row
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.provenance import HEADER_PATTERN
from policy_archive.pipeline.webreport.diffs import Block, change_blocks
from policy_archive.pipeline.webreport.feeds import FeedEntry, feed_xml, stable_id
from policy_archive.pipeline.webreport.pages import DocumentSummary, VersionView, document_page, index_page
from policy_archive.pipeline.webreport.style import STYLE
from policy_archive.records import DocumentDeclaration, iso_z
from policy_archive.text import counted

STATE_FILE = ".policy-archive-report.json"
# Bump when pages or feeds change shape: every page is then written again by the next run.
STATE_FORMAT = 2  # 2: word diffs in bounded time, with notes; a feed without entries dated truly


@dataclass(frozen=True)
class ReportResult:
    """What `report` did: ``documents`` in the index (those of the configuration with at least one version, from this
    run or an earlier one), the keys of those whose page and feed this run wrote, and the index page's path."""

    documents: int
    rewritten: tuple[str, ...]  # documents whose page and feed were (re)written by this run
    index: Path


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` (whole, through a rename) unless it already holds exactly that."""
    if path.exists() and path.read_bytes() == content:
        return False
    write_whole(path, content)
    return True


def _views(catalog: Catalog, store: VersionStore, declaration: DocumentDeclaration) -> list[VersionView]:
    """Every version of a document, oldest first, with what changed from the one before."""
    entries = {entry.commit: entry for entry in log(catalog, store, declaration)}
    views: list[VersionView] = []
    previous: ExportRow | None = None
    versions = version_commits(store, [declaration.path], ignore=HEADER_PATTERN)
    for version, content in store.with_blobs(versions, lambda version: version.blob):
        row = export_row(version, content.decode("utf-8"))
        entry = entries.get(row.commit)
        changes = tuple(change_blocks(previous.text, row.text)) if previous else ()
        views.append(
            VersionView(
                anchor=f"v-{row.commit[:12]}",
                commit=row.commit,
                captured_at=version.captured_at,
                stated_date=row.stated_date,
                subject=version.subject,
                source=row.source,
                snapshot_url=row.snapshot_url,
                unchanged_at=entry.unchanged_at if entry else None,
                note=entry.note if entry else None,
                words=row.words,
                lines_added=row.lines_added,
                lines_removed=row.lines_removed,
                text=row.text,
                changes=changes,
            )
        )
        previous = row
    return views


def _diff_html(blocks: Sequence[Block]) -> str:
    return "".join(f'<p class="{block.kind}">{block.html}</p>' for block in blocks)


def _what(view: VersionView) -> str:
    if view.subject.startswith("Apply technical upgrade"):
        return "text re-extracted (a technical upgrade, not a change of the document)"
    return "changed"


def _entries(summary: DocumentSummary, views: Sequence[VersionView]) -> list[FeedEntry]:
    """One feed entry per change: every version after the first."""
    entries = []
    for view in views[1:]:
        stated = f"; the text states {view.stated_date}" if view.stated_date else ""
        entries.append(
            FeedEntry(
                id=stable_id(f"commit:{view.commit}"),
                title=f"{summary.name}: {_what(view)} (captured {iso_z(view.captured_at)[:10]})",
                updated=iso_z(view.captured_at),
                link=f"{summary.page}#{view.anchor}",
                summary=f"+{view.lines_added} / −{view.lines_removed} lines, {counted(view.words, 'word')}{stated}. "
                f"Snapshot: {view.snapshot_url}",
                content_html=_diff_html(view.changes),
            )
        )
    return entries


def _summary(declaration: DocumentDeclaration, views: Sequence[VersionView]) -> DocumentSummary:
    base = f"{declaration.service_id}/{declaration.document_id}"
    return DocumentSummary(
        key=declaration.key,
        name=declaration.display_name,
        url=declaration.url,
        page=f"{base}.html",
        feed=f"{base}.atom",
        dates=tuple(iso_z(view.captured_at) for view in views),
    )


def _load_state(output: Path) -> dict[str, dict]:
    try:
        state = json.loads((output / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state.get("documents", {}) if state.get("format") == STATE_FORMAT else {}


def _build_document(
    output: Path, catalog: Catalog, store: VersionStore, declaration: DocumentDeclaration
) -> dict[str, object]:
    views = _views(catalog, store, declaration)
    summary = _summary(declaration, views)
    entries = _entries(summary, views)
    write_if_changed(output / summary.page, document_page(summary, views).encode("utf-8"))
    feed = feed_xml(
        stable_id(f"feed:{declaration.key}"),
        f"{summary.name}: changes",
        summary.page.rsplit("/", 1)[-1],
        entries,
        since=summary.dates[0],
        prefix="../",
    )
    write_if_changed(output / summary.feed, feed)
    return {
        "head": views[-1].commit,
        "summary": asdict(summary),
        "entries": [asdict(entry.without_content()) for entry in entries],
    }


def build_report(
    declarations: Sequence[DocumentDeclaration],
    every_declaration: Sequence[DocumentDeclaration],
    catalog: Catalog,
    store: VersionStore,
    output: Path,
    progress: Progress,
) -> ReportResult:
    """Update the report in ``output`` for ``declarations``; the index keeps the other configured documents
    an earlier run reported."""
    if output.exists() and not output.is_dir():
        raise ConfigurationError(f"--output {output}: not a directory")
    made = [folder for folder in (output, *output.parents) if not folder.exists()]
    fresh = not output.exists() or not any(output.iterdir())
    output.mkdir(parents=True, exist_ok=True)
    try:
        return _update(declarations, every_declaration, catalog, store, output, progress)
    except BaseException:
        # A first report stopped half-way (a full disk) is removed, not left looking like a report without its
        # documents; an earlier report stays (every file in it whole), and its state file, written last, makes
        # the next run write again what this one may have left undone.
        if fresh:
            _remove_contents(output)
            for folder in made:  # deepest first
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise


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
) -> ReportResult:
    state = _load_state(output)
    rewritten = []
    for declaration in declarations:
        versions = catalog.versions(declaration.key)
        known = state.get(declaration.key)
        page = output / f"{declaration.service_id}/{declaration.document_id}.html"
        if not versions or (known and known["head"] == versions[-1].commit and page.exists()):
            progress.add("unchanged" if versions else "without versions", done=True)
            continue
        state[declaration.key] = _build_document(output, catalog, store, declaration)
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
    all_changes = feed_xml(stable_id("feed:all"), "Policy histories: every change", "index.html", entries, since)
    write_if_changed(output / "feed.atom", all_changes)
    kept = {key: state[key] for key in reported}
    write_if_changed(output / STATE_FILE, json.dumps({"format": STATE_FORMAT, "documents": kept}, indent=1).encode())
    return ReportResult(len(reported), tuple(rewritten), output / "index.html")
