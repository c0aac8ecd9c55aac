"""One document's files in the report: its own page, its numbered pages, its feed, and what the state file keeps.

Its versions are placed on numbered pages for good (``state.placed``), and only the pages due are written: not
written yet, gaining versions, made of another commit (a re-chain), their neighbours changed, or missing; each
version is read whole and compared with the one before only when a page or feed being written shows it.

What a link or a feed entry names a version by is what a re-chain keeps: its date (unique in its document) for the
anchor, and its document, date and file's blob for the Atom id, never its commit; the page a link names is the one
the version was given when it was first reported, whatever versions a later backfill inserts before it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow
from policy_archive.archive.history import VersionCommit, version_commits
from policy_archive.archive.versions import VersionStore
from policy_archive.files import write_whole
from policy_archive.pipeline.exports._rows import ExportRow, export_row
from policy_archive.pipeline.jobs.provenance import HEADER_PATTERN
from policy_archive.pipeline.webreport.diffs import Block, change_blocks
from policy_archive.pipeline.webreport.feeds import FeedEntry, feed_xml, stable_id
from policy_archive.pipeline.webreport.pages import DocumentSummary, Pager, VersionView, document_page
from policy_archive.pipeline.webreport.state import placed
from policy_archive.records import DocumentDeclaration, iso_z
from policy_archive.text import counted

# Changes on one page: the document's own page holds the newest, older ones are on pages of this many versions
# counted from the oldest. At a typical 10-15 KB of word diff per change, a page stays well under 1 MB (one
# page of all 3,000 changes of a document was 38 MB, 2026-11-29).
PAGE_CHANGES = 50
# Entries in a feed (each document's and the site's): the newest. Feed readers poll a feed and keep what they saw,
# so a feed needs only what is new since a reader's last visit; common practice is 10 to 100 entries (WordPress
# 10, many readers stop reading a feed past 1-10 MB). 50 is within that, and not more than a page holds: every
# entry's link leads to the document's own page.
FEED_ENTRIES = 50


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` (whole, through a rename) unless it already holds exactly that."""
    if path.exists() and path.read_bytes() == content:
        return False
    write_whole(path, content)
    return True


def version_anchor(version: VersionCommit) -> str:
    """The anchor of a version on the pages, from its date (``v-20180101T120000Z``), unique in its document (the
    catalog's key) and kept when a backfill inserts an earlier version and re-chains the commits after it: a link
    kept by a reader still leads to it. Its commit id was the anchor until 2026-11-29, and a re-chain broke links."""
    return "v-" + iso_z(version.committed_at).replace("-", "").replace(":", "")


def version_entry_id(declaration: DocumentDeclaration, version: VersionCommit) -> str:
    """The Atom id of a version's feed entry: the same for the same version whenever the report is rebuilt, a
    re-chain included (its document, date and file's blob do not change; its commit does), and another for another
    version (two versions of a document never share a date; a text rebuilt at the same date is another blob)."""
    return stable_id(f"version:{declaration.key}:{iso_z(version.committed_at)}:{version.blob}")


def _view(
    version: VersionCommit, row: ExportRow, previous: str | None, capture: CaptureRow | None, page: str, number: int
) -> VersionView:
    """A version as its page shows it, with what changed from the text before it (None: it is the first); ``page``:
    the numbered page that holds it for good; ``number``: its place in the document's versions, from 1 (the
    oldest)."""
    changes = tuple(change_blocks(previous, row.text)) if previous is not None else ()
    return VersionView(
        anchor=version_anchor(version),
        commit=row.commit,
        captured_at=version.captured_at,
        stated_date=row.stated_date,
        subject=version.subject,
        source=row.source,
        snapshot_url=row.snapshot_url,
        unchanged_at=capture.window_start if capture else None,
        note=capture.note if capture else None,
        words=row.words,
        lines_added=row.lines_added,
        lines_removed=row.lines_removed,
        # Only a version shown whole (the first, or one whose text did not change) keeps its text: a page of
        # changes held every version's whole text in memory before (370 MB at 3,000 versions, 2026-11-29).
        text=row.text if not changes else "",
        changes=changes,
        page=page,
        number=number,
    )


def _diff_html(blocks: Sequence[Block]) -> str:
    return "".join(f'<p class="{block.kind}">{block.html}</p>' for block in blocks)


def _what(view: VersionView) -> str:
    if view.subject.startswith("Apply technical upgrade"):
        return "text re-extracted (a technical upgrade, not a change of the document)"
    return "changed"


def _entry(summary: DocumentSummary, view: VersionView, link: str, entry_id: str) -> FeedEntry:
    """The feed entry of one change (a version after the first), ``link`` to its place relative to the root."""
    stated = f"; the text states {view.stated_date}" if view.stated_date else ""
    return FeedEntry(
        id=entry_id,
        title=f"{summary.name}: {_what(view)} (captured {iso_z(view.captured_at)[:10]})",
        updated=iso_z(view.captured_at),
        link=link,
        summary=f"+{view.lines_added} / −{view.lines_removed} lines, {counted(view.words, 'word')}{stated}. "
        f"Snapshot: {view.snapshot_url}",
        content_html=_diff_html(view.changes),
    )


def _summary(declaration: DocumentDeclaration, versions: Sequence[VersionCommit]) -> DocumentSummary:
    base = f"{declaration.service_id}/{declaration.document_id}"
    return DocumentSummary(
        key=declaration.key,
        name=declaration.display_name,
        url=declaration.url,
        page=f"{base}.html",
        feed=f"{base}.atom",
        dates=tuple(iso_z(version.captured_at) for version in versions),
    )


@dataclass(frozen=True)
class Paging:
    """How many versions a page of changes holds and how many entries a feed holds (tests make both small)."""

    page: int = PAGE_CHANGES
    feed: int = FEED_ENTRIES


def older_name(declaration: DocumentDeclaration, number: int) -> str:
    """The file name of a document's numbered page ``number`` (1: its oldest versions)."""
    return f"{declaration.document_id}-{number}.html"


@dataclass(frozen=True)
class _Placing:
    """Where a document's versions are shown: each numbered page's versions (``members``: indexes into
    ``versions``, oldest first, given for good by ``state.placed``), the pages in order of their oldest version
    (``order``), the page holding each version (``page_of``), and the first version of the document's own page
    (``newest_from``: it shows the newest ``size``)."""

    declaration: DocumentDeclaration
    versions: list[VersionCommit]
    anchors: list[str]
    members: dict[int, list[int]]
    order: list[int]
    page_of: dict[int, int]
    newest_from: int
    own: str  # the file name of the document's own page

    def name(self, number: int) -> str:
        return older_name(self.declaration, number)

    def link(self, index: int) -> str:
        """Where the version at ``index`` is for good: its numbered page and anchor (``name-2.html#v-…``)."""
        return f"{self.name(self.page_of[index])}#{self.anchors[index]}"

    def neighbours(self, position: int) -> tuple[str | None, str | None, str | None]:
        """The pages before and after the page at ``position`` of ``order``, and the oldest (None: itself)."""
        order = self.order
        older = self.name(order[position - 1]) if position else None
        newer = self.name(order[position + 1]) if position + 1 < len(order) else None
        return older, newer, self.name(order[0]) if position else None

    def pager(self, number: int | None, first: int) -> Pager:
        """How the numbered page ``number`` (None: the document's own page) links to the others."""
        if number is not None:
            older, newer, oldest = self.neighbours(self.order.index(number))
            return Pager(first, number, newer, older, self.own, oldest)
        members, versions = self.members, self.versions
        older_pages = tuple(
            (
                self.name(n),
                members[n][0] + 1,
                members[n][-1] + 1,
                len(members[n]),
                iso_z(versions[members[n][0]].captured_at),
                iso_z(versions[members[n][-1]].captured_at),
            )
            for n in self.order
            if members[n][0] < self.newest_from  # a page of versions the own page does not all show
        )
        oldest = self.name(self.order[0]) if len(self.order) > 1 else None
        older = self.name(self.page_of[self.newest_from - 1]) if self.newest_from else None
        return Pager(first, None, None, older, self.own, oldest, older_pages)

    def made_of(self) -> dict[int, str]:
        """What each numbered page is made of: its last version's commit names every commit before it (its
        versions', the ones before them, so its versions' numbers and differences), with the count of its versions
        and its links to the pages beside it. A page made of the same is written already and is left alone."""
        return {
            number: json.dumps(
                [self.versions[self.members[number][-1]].commit, len(self.members[number]), *self.neighbours(position)]
            )
            for position, number in enumerate(self.order)
        }


def _placing(
    folder: Path, declaration: DocumentDeclaration, versions: list[VersionCommit], known_pages: list[dict], size: int
) -> _Placing:
    """Each version's numbered page, the numbered pages that hold none any more removed from ``folder``."""
    anchors = [version_anchor(version) for version in versions]
    members, emptied = placed(anchors, known_pages, size)
    for number in emptied:  # every version it held is gone from the history (a rebuild): no link can lead to them
        (folder / older_name(declaration, number)).unlink(missing_ok=True)
    return _Placing(
        declaration=declaration,
        versions=versions,
        anchors=anchors,
        members=members,
        order=sorted(members, key=lambda number: members[number][0]),
        page_of={index: number for number, held in members.items() for index in held},
        newest_from=max(0, len(versions) - size),
        own=f"{declaration.document_id}.html",
    )


def _due_pages(placing: _Placing, folder: Path, made_of: dict[int, str], known_pages: list[dict]) -> set[int]:
    """The numbered pages to write: made of something else than when they were written, or missing."""
    written = {page["number"]: page.get("written") for page in known_pages}
    return {
        number
        for number in placing.order
        if written.get(number) != made_of[number] or not (folder / placing.name(number)).exists()
    }


def _write_numbered_pages(
    placing: _Placing,
    folder: Path,
    catalog: Catalog,
    store: VersionStore,
    summary: DocumentSummary,
    due: set[int],
    keep: set[int],
) -> dict[int, VersionView]:
    """Read the versions shown by a page being written (those of ``due`` pages and ``keep``) in one pass, each
    compared with the one before; write each due page as soon as its last version is read and let go of its
    versions, but those of ``keep`` (the own page's and the feed's), which are returned."""
    declaration, versions, members = placing.declaration, placing.versions, placing.members
    shown = set(keep)
    for number in due:
        shown.update(members[number])
    wanted = sorted(shown | {index - 1 for index in shown if index})
    catalogued = {row.commit: row for row in catalog.versions(declaration.key)}
    ends = {members[number][-1]: number for number in due}  # a due page is written once its last version is read
    views: dict[int, VersionView] = {}
    previous: tuple[int, str] | None = None
    indexed = [(index, versions[index]) for index in wanted]
    for (index, version), content in store.with_blobs(indexed, lambda item: item[1].blob):
        row = export_row(version, content.decode("utf-8"))  # the text without its header, as compared
        if index in shown:
            before = previous[1] if previous and previous[0] == index - 1 else None
            known_as = catalogued.get(version.commit)  # its capture as `log` finds it, by time and URL (indexed)
            capture = catalog.version_row(declaration.key, known_as.bytes_at, known_as.url) if known_as else None
            views[index] = _view(version, row, before, capture, placing.name(placing.page_of[index]), index + 1)
            if index in ends:
                number = ends[index]
                chunk = [views[i] for i in members[number]]
                html = document_page(summary, chunk, placing.pager(number, members[number][0] + 1))
                write_if_changed(folder / placing.name(number), html.encode("utf-8"))
                for i in members[number]:
                    if i not in keep:
                        del views[i]
        previous = (index, row.text)
    return views


def _write_feed(
    output: Path,
    placing: _Placing,
    summary: DocumentSummary,
    views: dict[int, VersionView],
    feed_size: int,
    base_url: str | None,
) -> list[FeedEntry]:
    """Write the document's feed of its newest changes (at most ``feed_size``); its entries, newest last."""
    declaration, versions, count = placing.declaration, placing.versions, len(placing.versions)
    entries = [
        _entry(
            summary, views[i], f"{declaration.service_id}/{views[i].link}", version_entry_id(declaration, versions[i])
        )
        for i in range(max(1, count - feed_size), count)
    ]
    feed = feed_xml(
        stable_id(f"feed:{declaration.key}"),
        f"{summary.name}: changes",
        placing.own,
        entries,
        since=summary.dates[0],
        prefix="../",
        self_url=f"{base_url}{summary.feed}" if base_url else None,
    )
    write_if_changed(output / summary.feed, feed)
    return entries


def build_document(
    output: Path,
    catalog: Catalog,
    store: VersionStore,
    declaration: DocumentDeclaration,
    known: dict | None,
    paging: Paging,
    base_url: str | None = None,
) -> dict[str, object]:
    """Write the pages and the feed of a document that has a new version (or none written yet); ``base_url``: the
    report's published address, which the feed names itself by (``feeds.feed_xml``).

    Versions are read in one pass over the history (commits and trailers), and only the versions shown by a page
    or feed being written are read whole and compared with the one before: the document's own page (the newest
    ``paging.page``), its feed (the newest ``paging.feed``), and the numbered pages not written yet, gaining
    versions, whose last version's commit is not the one they were written with (a re-chain), whose neighbours
    changed (an inserted page between them) or whose file is missing. A numbered page is written as soon as its
    versions are compared and then let go: memory holds a page of versions (a few where inserted pages overlap), not
    the history. Every link to a version (the feeds', the timeline's, the lists') leads to its numbered page, which
    holds it for good (``state.placed``): the own page's anchors are gone once newer versions push a version off it.
    """
    versions = list(version_commits(store, [declaration.path], ignore=HEADER_PATTERN))
    count = len(versions)
    summary = _summary(declaration, versions)
    folder = output / declaration.service_id
    known_pages = list(known.get("pages", [])) if known else []
    placing = _placing(folder, declaration, versions, known_pages, paging.page)
    made_of = placing.made_of()
    due = _due_pages(placing, folder, made_of, known_pages)
    keep = set(range(placing.newest_from, count)) | set(range(max(1, count - paging.feed), count))
    views = _write_numbered_pages(placing, folder, catalog, store, summary, due, keep)
    _write_own_page(output, placing, summary, views)
    entries = _write_feed(output, placing, summary, views, paging.feed, base_url)
    return _document_state(placing, summary, made_of, entries)


def _write_own_page(output: Path, placing: _Placing, summary: DocumentSummary, views: dict[int, VersionView]) -> None:
    """Write the document's own page: its newest versions, and the timeline of all, each linked to its numbered
    page."""
    versions, count = placing.versions, len(placing.versions)
    newest = [views[i] for i in range(placing.newest_from, count)]
    marks = [(version.captured_at, placing.link(index)) for index, version in enumerate(versions)]
    html = document_page(summary, newest, placing.pager(None, placing.newest_from + 1), marks)
    write_if_changed(output / summary.page, html.encode("utf-8"))


def _document_state(
    placing: _Placing, summary: DocumentSummary, made_of: dict[int, str], entries: list[FeedEntry]
) -> dict[str, object]:
    """What the state file remembers of a document written: its head, its numbered pages (their versions and what
    each was written from), what the index shows of it and its feed entries (without their diffs)."""
    anchors, members = placing.anchors, placing.members
    pages = [
        {"number": number, "versions": [anchors[i] for i in members[number]], "written": made_of[number]}
        for number in placing.order
    ]
    return {
        "head": placing.versions[-1].commit,
        "pages": pages,
        "summary": asdict(summary),
        "entries": [asdict(entry.without_content()) for entry in entries],
    }
