"""The version file: provenance header line, blank line, ``# title``, Markdown body (the contract's seed form)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from policy_archive.config.settings import DEFAULT_ARCHIVE_NAME, WaybackSettings
from policy_archive.crawler.sources.wayback import locate, snapshot_link
from policy_archive.pipeline.extraction.escaping import heading_markdown
from policy_archive.records import DocumentDeclaration, ExtractedDocument, Source
from policy_archive.text import one_line

# Public suffixes with a second level under which sites register (www.example.co.uk → example.co.uk). A short
# list is enough here: the name only appears in the human-readable header.
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}


# The provenance header's first words, shared by both of its forms (archive and live): readers of the history
# recognise the header by them (it names a new snapshot in every version, so it is not counted as a change).
HEADER_START = "> *The following text is extracted and transformed from "
HEADER_PATTERN = r"^> \*The following text is extracted and transformed from "
# ASCII punctuation that may mean something in a Markdown link's text (CommonMark 0.31.2: emphasis, code spans,
# brackets, raw HTML and autolinks, entities; GitHub's strikethrough): a backslash before each shows it as written.
_LINK_TEXT_MARKUP = frozenset("\\`*_[]<>&~")


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


def archive_name(wayback: WaybackSettings, snapshot: str) -> str:
    """How the header names the archive of ``snapshot``: ``[wayback] archive_name`` for a capture of the configured
    archive (under its ``replay_url``); the contract's "the Wayback Machine" for one of another, which only a
    catalog kept from an earlier ``replay_url`` holds (``reextract --rebuild`` makes its versions again): the
    name configured is not that archive's."""
    return wayback.archive_name if locate(wayback.replay_url, snapshot) else DEFAULT_ARCHIVE_NAME


def link_text(text: str) -> str:
    """``text`` as a Markdown link's text showing exactly ``text``."""
    return "".join(f"\\{character}" if character in _LINK_TEXT_MARKUP else character for character in text)


def header(
    declaration: DocumentDeclaration,
    source: Source,
    url: str,
    captured_at: datetime,
    snapshot: str,
    *,
    archive: str = DEFAULT_ARCHIVE_NAME,
) -> str:
    """The provenance header line; ``archive`` names the archive of an archive capture (:func:`archive_name`)."""
    kind = declaration.document_title.lower()
    site = site_name(url)
    day = captured_at.date().isoformat()
    if source is Source.LIVE:
        return f"{HEADER_START}the {site} {kind} that was retrieved on {day} from [{url}]({url}).*"
    linked = snapshot_link(snapshot)
    return (
        f"{HEADER_START}the {site} {kind} that was archived on {day}. "
        f"Please check the [original snapshot on {link_text(archive)}]({linked}) for the most accurate "
        "reproduction.*"
    )


def render(
    declaration: DocumentDeclaration,
    source: Source,
    url: str,
    captured_at: datetime,
    snapshot: str,
    document: ExtractedDocument,
    *,
    archive: str = DEFAULT_ARCHIVE_NAME,
) -> str:
    """The whole version file."""
    top = header(declaration, source, url, captured_at, snapshot, archive=archive)
    return f"{top}\n\n{document_text(document)}"


def document_text(document: ExtractedDocument) -> str:
    """The version file after its header: ``# title``, a blank line, the body (what ``strip_header`` gives back)."""
    # The title comes from the page: one line, whatever the page (or an older catalog row) holds, its markup as text.
    return f"# {heading_markdown(one_line(document.title))}\n\n{document.body.rstrip()}\n"
