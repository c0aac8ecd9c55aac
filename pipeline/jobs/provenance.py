"""The version file: provenance header line, blank line, ``# title``, Markdown body (the contract's seed form)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from policy_archive.crawler.sources.wayback import snapshot_link
from policy_archive.pipeline.extraction.markdown import heading_markdown
from policy_archive.records import DocumentDeclaration, ExtractedDocument, Source
from policy_archive.text import one_line

# Public suffixes with a second level under which sites register (www.example.co.uk → example.co.uk). A short
# list is enough here: the name only appears in the human-readable header.
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}


# The provenance header's first words, shared by both of its forms (archive and live): readers of the history
# recognise the header by them (it names a new snapshot in every version, so it is not counted as a change).
HEADER_START = "> *The following text is extracted and transformed from "
HEADER_PATTERN = r"^> \*The following text is extracted and transformed from "


def strip_header(content: str) -> str:
    """A version file without its provenance header line and the blank line after it: ``# title`` and body."""
    if content.startswith(HEADER_START):
        return content.partition("\n")[2].lstrip("\n")
    return content


def site_name(url: str) -> str:
    """``acrcloud.com`` for ``https://www.acrcloud.com/privacy``; ``cimediacloud.com`` for ``auth.cimediacloud.com``;
    an address (``127.0.0.1``) whole, since its last labels name no site."""
    host = urlsplit(url).hostname or ""
    if _is_address(host):
        return host
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def header(declaration: DocumentDeclaration, source: Source, url: str, captured_at: datetime, snapshot: str) -> str:
    kind = declaration.document_title.lower()
    site = site_name(url)
    day = captured_at.date().isoformat()
    if source is Source.LIVE:
        return f"{HEADER_START}the {site} {kind} that was retrieved on {day} from [{url}]({url}).*"
    linked = snapshot_link(snapshot)
    return (
        f"{HEADER_START}the {site} {kind} that was archived on {day}. "
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
    return f"{top}\n\n{document_text(document)}"


def document_text(document: ExtractedDocument) -> str:
    """The version file after its header: ``# title``, a blank line, the body (what ``strip_header`` gives back)."""
    # The title comes from the page: one line, whatever the page (or an older catalog row) holds, its markup as text.
    return f"# {heading_markdown(one_line(document.title))}\n\n{document.body.rstrip()}\n"
