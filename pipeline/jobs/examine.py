"""Decide what one capture is: a text of the document (extracted), or no evidence of it (refused, with why).

Shared by backfill, track and reextract, so that the three can never disagree about a capture.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from policy_archive.archive.catalog import CaptureRow, Outcome
from policy_archive.crawler.sources.wayback import original_of
from policy_archive.pipeline.extraction.extract import EXTRACTOR, ExtractionRefused, extract
from policy_archive.pipeline.jobs.provenance import render
from policy_archive.records import Capture, DocumentDeclaration, ExtractedDocument, Source, Version


@dataclass(frozen=True)
class Examination:
    outcome: Outcome
    reason: str | None = None
    document: ExtractedDocument | None = None

    @property
    def body_sha1(self) -> str | None:
        return text_identity(self.document.body) if self.document else None


def text_identity(body: str) -> str:
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


def redirected_home(declared_url: str, fetched_url: str) -> bool:
    """A policy URL that now lands on a site's home page is a removed page, not a new policy text."""
    declared = urlsplit(declared_url).path.strip("/")
    final = urlsplit(original_of(fetched_url)).path.strip("/")
    return bool(declared) and not final


def examine(declaration: DocumentDeclaration, capture: Capture) -> Examination:
    """Extract a capture with the declaration's rules for its date, or say why it is not the document."""
    url, rules = declaration.entry_at(capture.captured_at)
    if capture.status != 200:
        word = "archived status" if capture.source is Source.WAYBACK else "HTTP status"
        return Examination(Outcome.REFUSED, f"{word} {capture.status}")
    if redirected_home(url, capture.fetched_url):
        return Examination(Outcome.REFUSED, f"redirected to a home page ({original_of(capture.fetched_url)})")
    try:
        document = extract(capture.body, url, rules, capture.content_type)
    except ExtractionRefused as refusal:
        detail = f": {refusal.detail}" if refusal.detail else ""
        return Examination(Outcome.REFUSED, f"{refusal.reason}{detail}")
    return Examination(Outcome.EXTRACTED, document=document)


def make_version(
    declaration: DocumentDeclaration,
    row: CaptureRow,
    *,
    technical_upgrade: bool = False,
    committed_at: datetime | None = None,
) -> Version:
    """The version file and commit fields for an extracted capture row."""
    assert row.title is not None and row.body is not None, "only extracted captures become versions"
    snapshot = row.fetched_url or row.url
    content = render(
        declaration, row.source, row.url, row.captured_at, snapshot, ExtractedDocument(row.title, row.body)
    )
    return Version(
        document=declaration.key,
        path=declaration.path,
        display_name=declaration.display_name,
        captured_at=row.captured_at,
        source=row.source,
        snapshot_url=snapshot,
        payload_sha1=row.payload_sha1 or "",
        extractor=EXTRACTOR,
        content=content,
        body=row.body,
        technical_upgrade=technical_upgrade,
        committed_at=committed_at,
    )
