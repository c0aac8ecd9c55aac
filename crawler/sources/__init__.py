"""Web archives behind one interface (:class:`ArchiveSource`): list a URL's captures, name a capture's bytes.

:func:`archive_source` picks the module ``[wayback] api`` names, or (``auto``) the one that recognises the
configured endpoints; adding an archive means adding one module, naming its class in :data:`SOURCES` (most
specific first) and its ``name`` in ``config.settings.ARCHIVE_APIS``.
"""

from __future__ import annotations

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.sources.base import (
    ArchiveSource,
    ArchiveUnreachable,
    ListingBlocked,
    ListingClient,
    ListingError,
    ListingInterrupted,
    ListingOverloaded,
    ListingParseError,
    ListingPaused,
    ListingRateLimited,
    ListingTooLarge,
    ListingUnavailable,
)
from policy_archive.crawler.sources.pywb import Pywb
from policy_archive.crawler.sources.wayback import WaybackMachine

SOURCES: tuple[type[ArchiveSource], ...] = (Pywb, WaybackMachine)

__all__ = [
    "SOURCES",
    "ArchiveSource",
    "ArchiveUnreachable",
    "ListingBlocked",
    "ListingClient",
    "ListingError",
    "ListingInterrupted",
    "ListingOverloaded",
    "ListingParseError",
    "ListingPaused",
    "ListingRateLimited",
    "ListingTooLarge",
    "ListingUnavailable",
    "Pywb",
    "WaybackMachine",
    "archive_source",
]


def archive_source(settings: WaybackSettings, *, page_size: int | None = None) -> ArchiveSource:
    """The source ``[wayback] api`` names, or with ``auto`` the first that recognises the endpoints."""
    if settings.api == "auto":
        kind = next(source for source in SOURCES if source.serves(settings))
    else:
        kind = next(source for source in SOURCES if source.name == settings.api)
    return kind(settings, page_size=page_size)
