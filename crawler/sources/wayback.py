"""The Internet Archive's Wayback Machine (and any archive speaking its CDX server and ``id_`` replay).

Every Wayback URL format of the project is written here, once:

- a capture's raw bytes: ``{replay_url}/{timestamp}id_/{original}`` (:func:`capture_url`) — ``id_`` is the
  only mode that serves the bytes as originally archived, without toolbar or rewritten links (2026-11);
- its inverse (:func:`locate`), and the form linked in the provenance header, where the seeds percent-encode
  the original URL (``…id_/https%3A//www.acrcloud.com/privacy``, :func:`snapshot_link`);
- the CDX query: ``url``, ``from``/``to`` (14 digits, both inclusive), ``limit`` and ``showResumeKey=true``;
  a page ends with a blank line and the key to send back as ``resumeKey`` (exactly as written: it is already
  percent-encoded, and ``urlencode`` encodes it once more, as the archive expects — checked against answers
  recorded in 2022). One query returns at most 150,000 rows (as of 2026-11), so a long listing is paged.

No ``fl`` is sent (decided 2026-11-28, acceptance report 7, F4; docs/decisions/0007). The Internet Archive honours
``fl=urlkey,timestamp,original,mimetype,statuscode,digest,length`` and answers exactly its default without it (its
wayback-cdx-server README, read 2026-11: those 7 are the public fields, in that order). pywb does not know those
names: pywb 2.10 calls them ``url``/``mime``/``status`` and drops unknown names from CDXJ and JSON rows (``-`` in
``output=text``), checked 2026-11-28 against a real pywb 2.10 (tests/test_pywb.py). So a pywb read this way (``api =
"wayback"``, or a ``cdx_api_endpoint`` that ``auto`` does not recognise), which lists today as long as no page is
full, would lose every row's original URL; and our stand-in archive refuses parameters it does not implement.
A server whose default rows are not these 7 is read by its rows (the dialects of :mod:`.cdx`), not by asking for
others; ``cdx_url`` may still carry an ``fl`` of its own (kept, see ``query_url``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.sources.base import ArchiveSource, ListingClient, ListingParseError
from policy_archive.crawler.sources.cdx import CdxRequester, ListingBound
from policy_archive.records import CaptureRef, format_wayback_timestamp, parse_wayback_timestamp
from policy_archive.text import plural

RAW_MODE = "id_"
_CAPTURE_PATH = re.compile(r"(?P<timestamp>\d{4,14})(?P<mode>[a-z]{2}_)?/(?P<original>.+)", re.DOTALL)


def capture_url(replay_url: str, timestamp: datetime, original: str) -> str:
    """``{replay_url}/{timestamp}id_/{original}``: the raw bytes of one capture."""
    return f"{replay_url.rstrip('/')}/{format_wayback_timestamp(timestamp)}{RAW_MODE}/{original}"


def locate(replay_url: str, url: str) -> tuple[datetime, str] | None:
    """``(timestamp, original)`` of a replay URL under ``replay_url`` (any mode), or None."""
    prefix = replay_url.rstrip("/") + "/"
    if not url.startswith(prefix):
        return None
    match = _CAPTURE_PATH.fullmatch(url[len(prefix) :])
    if not match:
        return None
    try:
        return parse_wayback_timestamp(match["timestamp"]), match["original"]
    except ValueError:
        return None


def original_of(url: str) -> str:
    """The original URL inside an ``id_`` capture URL of any Wayback-compatible archive, else ``url`` itself."""
    _, marker, original = url.partition(f"{RAW_MODE}/")
    return original if marker else url


def snapshot_link(url: str) -> str:
    """The capture URL as the provenance header links it: the original percent-encoded (the seeds' form)."""
    prefix, marker, original = url.partition(f"{RAW_MODE}/")
    return f"{prefix}{marker}{quote(original, safe='/')}" if marker else url


class WaybackMachine(ArchiveSource):
    """The Internet Archive's CDX server (7-field rows, resume keys) and ``id_`` replay."""

    name = "wayback"
    # One query answers at most 150,000 rows (as of 2026-11); smaller pages keep each answer quick and a
    # failure cheap, larger ones save rate-limited requests. 25,000 is waybackpy's own default.
    default_page_size = 25_000

    @classmethod
    def serves(cls, settings: WaybackSettings) -> bool:
        """Always True: the reference dialect, for every archive not recognised as another kind."""
        return True

    def rows(
        self, url: str, client: ListingClient, since: datetime | None, until: datetime | None
    ) -> Iterator[CaptureRef]:
        """Every row the archive lists for ``url`` in the period, page after page by resume key. Raises
        :class:`~policy_archive.crawler.sources.base.ListingParseError` when a full page comes without a resume key
        (the listing was cut at ``limit``) or a key repeats,
        :class:`~policy_archive.crawler.sources.base.ListingTooLarge` past ``[wayback] max_listing_rows``
        (:class:`ListingBound`: new keys without end), and the listing's other errors as :class:`CdxRequester`
        does."""
        requester = CdxRequester(url, self.settings, client)
        bound = ListingBound(requester, self.page_size)
        query = [("url", url), *period_params(since, until), ("limit", str(self.page_size)), ("showResumeKey", "true")]
        seen_keys: set[str] = set()
        resume: list[tuple[str, str]] = []
        page_number = 0
        while True:
            page = requester.page([*query, *resume], page_number, resume_keys=True)
            bound.count(page, more=page.resume_key is not None)
            yield from page.refs
            where = f" (page {page_number + 1})" if page_number else ""
            if page.resume_key is None:
                if len(page.refs) >= self.page_size:
                    # A full page without a key: the archive ignored showResumeKey and cut the listing at limit.
                    rows = f"{len(page.refs)} {plural(len(page.refs), 'row')}"
                    reason = f"a full page of {rows} came without a resume key: listing truncated"
                    raise requester.error(ListingParseError, reason + where)
                return
            if page.resume_key in seen_keys:
                raise requester.error(ListingParseError, f"page {page_number + 1} repeated an earlier resume key")
            seen_keys.add(page.resume_key)
            resume = [("resumeKey", page.resume_key)]
            page_number += 1

    def capture_url(self, timestamp: datetime, original: str) -> str:
        """``{replay_url}/{timestamp}id_/{original}``: the raw bytes of the capture of ``original`` at ``timestamp``."""
        return capture_url(self.settings.replay_url, timestamp, original)

    def locate(self, url: str) -> tuple[datetime, str] | None:
        """``(timestamp, original)`` of a replay URL of this archive (any mode), or None for any other URL."""
        return locate(self.settings.replay_url, url)

    def contains(self, url: str) -> bool:
        """Whether ``url`` is under this archive's ``replay_url`` (any path there counts)."""
        return url.startswith(self.settings.replay_url.rstrip("/") + "/")


def period_params(since: datetime | None, until: datetime | None) -> list[tuple[str, str]]:
    """``from``/``to`` parameters: 14-digit timestamps, both bounds inclusive."""
    bounds = [("from", since), ("to", until)]
    return [(name, format_wayback_timestamp(moment)) for name, moment in bounds if moment is not None]
