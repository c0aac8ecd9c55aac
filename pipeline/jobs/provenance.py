"""The version file: provenance header line, blank line, ``# title``, Markdown body (the contract's seed form)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlsplit

from policy_archive.records import Capture, DocumentDeclaration, ExtractedDocument, Source, format_wayback_timestamp

# Public suffixes with a second level under which sites register (www.example.co.uk → example.co.uk). A short
# list is enough here: the name only appears in the human-readable header.
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}


def site_name(url: str) -> str:
    """``acrcloud.com`` for ``https://www.acrcloud.com/privacy``; ``cimediacloud.com`` for ``auth.cimediacloud.com``."""
    labels = (urlsplit(url).hostname or "").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def snapshot_url(replay_url: str, capture: Capture) -> str:
    """The raw (``id_``) archive URL of a capture, as written in the ``Snapshot-Url`` trailer."""
    if capture.source is Source.LIVE:
        return capture.url
    if capture.fetched_url.startswith(replay_url):
        return capture.fetched_url
    return f"{replay_url.rstrip('/')}/{format_wayback_timestamp(capture.captured_at)}id_/{capture.url}"


def header(declaration: DocumentDeclaration, source: Source, url: str, captured_at: datetime, snapshot: str) -> str:
    kind = declaration.document_title.lower()
    site = site_name(url)
    day = captured_at.date().isoformat()
    if source is Source.LIVE:
        return (
            f"> *The following text is extracted and transformed from the {site} {kind} that was retrieved on "
            f"{day} from [{url}]({url}).*"
        )
    # The seeds write the original URL percent-encoded inside the replay URL (https%3A//...): keep that form.
    prefix, _, original = snapshot.partition("id_/")
    linked = f"{prefix}id_/{quote(original, safe='/')}" if original else snapshot
    return (
        f"> *The following text is extracted and transformed from the {site} {kind} that was archived on {day}. "
        f"Please check the [original snapshot on the Wayback Machine]({linked}) for the most accurate "
        "reproduction.*"
    )


def render(
    declaration: DocumentDeclaration,
    source: Source,
    url: str,
    captured_at: datetime,
    snapshot: str,
    document: ExtractedDocument,
) -> str:
    """The whole version file."""
    top = header(declaration, source, url, captured_at, snapshot)
    return f"{top}\n\n# {document.title}\n\n{document.body.rstrip()}\n"
