"""Web archives behind one interface (:class:`ArchiveSource`): list a URL's captures, name a capture's bytes.

:func:`archive_source` picks the module that serves the configured ``[wayback]`` endpoints; adding an archive
means adding one module and naming its class in :data:`SOURCES` (most specific first).
"""

from __future__ import annotations

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.sources.base import (
    ArchiveSource,
    ListingBlocked,
    ListingClient,
    ListingError,
    ListingParseError,
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
    "ListingBlocked",
    "ListingClient",
    "ListingError",
    "ListingParseError",
    "ListingRateLimited",
    "ListingTooLarge",
    "ListingUnavailable",
    "Pywb",
    "WaybackMachine",
    "archive_source",
]


def archive_source(settings: WaybackSettings, *, page_size: int | None = None) -> ArchiveSource:
    """The source for the configured archive endpoints."""
    kind = next(source for source in SOURCES if source.serves(settings))
    return kind(settings, page_size=page_size)
