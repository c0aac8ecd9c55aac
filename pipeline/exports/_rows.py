"""The rows every export writes: one per version, read from the versions repository in bounded memory."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

from policy_archive.archive.history import VersionCommit, version_commits
from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.extraction.escaping import heading_text
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.provenance import HEADER_PATTERN, strip_header
from policy_archive.records import DocumentDeclaration, document_of, iso_z

# Words as a reader counts them: letters and digits, with inner apostrophes and hyphens (don't, opt-out).
WORD = re.compile(r"\w+(?:['’-]\w+)*")


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One version, as exported (the contract's columns, in this order)."""

    service: str  # service id: acrcloud
    document: str  # document id: privacy-policy
    captured_at: str  # capture time of the bytes the text came from, ISO 8601 UTC (Captured-At)
    stated_date: str | None  # the date the text gives itself, YYYY-MM-DD (Stated-Date), or None
    commit: str  # the version's commit in the versions repository
    source: str  # wayback or live
    snapshot_url: str  # the raw capture: the archive's id_ URL, or the live URL
    title: str
    words: int  # words of title and body
    lines_added: int  # lines of the version file changed against the previous version (header excluded)
    lines_removed: int
    text: str  # the recorded Markdown: "# title", blank line, body (the provenance header left out)

    def as_dict(self) -> dict[str, Any]:
        """The row as ``{column: value}`` in the contract's column order (:data:`COLUMNS`), ``stated_date`` None when
        the text gives no date: each format writes None its own way (empty CSV field, JSON null, SQL NULL)."""
        return {name: getattr(self, name) for name in COLUMNS}


COLUMNS = tuple(field.name for field in fields(ExportRow))


def title_of(text: str) -> str:
    """The page title a reader sees in the version file's first line (its Markdown escapes read back)."""
    first = text.partition("\n")[0]
    return heading_text(first[2:].strip()) if first.startswith("# ") else ""


def export_row(version: VersionCommit, content: str) -> ExportRow:
    """The row of one version, from its commit and its file's content."""
    text = strip_header(content)
    service, _, document = document_of(version.path).partition("/")
    trailers = version.trailers
    return ExportRow(
        service=service,
        document=document,
        captured_at=iso_z(version.captured_at),
        stated_date=version.stated_date,
        commit=version.commit,
        source=trailers.get("Source", ""),
        snapshot_url=trailers.get("Snapshot-Url", ""),
        title=title_of(text),
        words=len(WORD.findall(text)),
        # A first version adds its whole text; later ones count the lines Git's diff changed.
        lines_added=len(text.splitlines()) if version.first else version.lines_added,
        lines_removed=0 if version.first else version.lines_removed,
        text=text,
    )


@dataclass(frozen=True)
class ExportSource:
    """What an export reads: the selected documents and the versions repository; ``configured``, every document of
    the configuration (none given: the selected ones), for a format that compares with an earlier export (ota)."""

    declarations: Sequence[DocumentDeclaration]
    store: VersionStore
    progress: Progress
    configured: Sequence[DocumentDeclaration] = ()

    def rows(self) -> Iterator[ExportRow]:
        """Every version of the selected documents, oldest first, one at a time."""
        paths = [declaration.path for declaration in self.declarations]
        versions = version_commits(self.store, paths, ignore=HEADER_PATTERN)
        for version, content in self.store.with_blobs(versions, lambda version: version.blob):
            self.progress.add("versions", one="version")
            yield export_row(version, content.decode("utf-8"))
