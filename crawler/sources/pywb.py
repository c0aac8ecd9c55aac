"""pywb's CDX server API (pywb 2.x, Webrecorder): a collection served as ``http://HOST:PORT/COLL``.

With pywb's default settings (read in pywb 2.10's ``docs/manual/cdxserver_api.rst`` and
``warcserver/index/query.py``, 2026-11) a collection's index answers at ``/COLL/cdx`` and its captures replay at
``/COLL/{timestamp}id_/{original}`` — the Wayback form, so capture URLs are :mod:`.wayback`'s. The listing
differs:

- rows are CDXJ (``urlkey timestamp {json}``) by default; we ask ``output=json`` (one JSON object a line, the
  format pywb recommends) and ``fl`` for the fields we read; field names are ``url``/``mime``/``status``;
- there are no resume keys, and ``page``/``showNumPages`` only work on ZipNum indexes; without ``limit`` pywb
  stops silently at 100,000 rows. So a listing is paged by time: ``limit`` rows from ``from``, then again from
  the last timestamp seen (rows of that second come twice: the repeats are dropped as they come, neither listed
  twice nor counted against ``[wayback] max_listing_rows``), until a page is not full.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from policy_archive.config.settings import WaybackSettings, pywb_endpoint
from policy_archive.crawler.sources.base import ListingClient, ListingParseError
from policy_archive.crawler.sources.cdx import CdxRequester, ListingBound
from policy_archive.crawler.sources.cdx_rows import CdxPage
from policy_archive.crawler.sources.wayback import WaybackMachine, period_params
from policy_archive.records import CaptureRef

# ``access``: whether pywb's access rules let it serve the capture (:func:`.cdx_rows._blocked`); pywb adds it to
# every row of a collection with access rules or an embargo.
FIELDS = "urlkey,timestamp,url,mime,status,digest,length,access"


class Pywb(WaybackMachine):
    """A pywb collection: its CDX server API at ``…/COLL/cdx``, ``id_`` replay at ``…/COLL``."""

    name = "pywb"
    default_page_size = 10_000

    def __init__(self, settings: WaybackSettings, *, page_size: int | None = None):
        if page_size is not None and page_size < 2:
            # Each page starts again at the last second seen, so one row a page could never move on.
            raise ValueError(f"a pywb listing pages by at least 2 rows, not {page_size}")
        super().__init__(settings, page_size=page_size)

    @classmethod
    def serves(cls, settings: WaybackSettings) -> bool:
        """pywb's default endpoint is ``/COLL/cdx``; the Internet Archive's is ``/cdx/search/cdx``."""
        return pywb_endpoint(settings.cdx_url)

    def rows(
        self, url: str, client: ListingClient, since: datetime | None, until: datetime | None
    ) -> Iterator[CaptureRef]:
        """Every row pywb lists for ``url`` in the period, page after page: pywb has no resume key, so each page asks
        again from the last second seen (the rows it repeats are dropped here). Raises
        :class:`~policy_archive.crawler.sources.base.ListingParseError` when more than a page of captures share one
        second, :class:`~policy_archive.crawler.sources.base.ListingTooLarge` past ``[wayback] max_listing_rows``
        (:class:`ListingBound`: full pages without end), and the listing's other errors as :class:`CdxRequester`
        does."""
        requester = CdxRequester(url, self.settings, client)
        bound = ListingBound(requester, self.page_size)
        lower = since
        page_number = 0
        repeated: set[CaptureRef] = set()  # the rows of the last second read: the next page lists them again
        while True:
            query = [("url", url), *period_params(lower, until), ("output", "json"), ("fl", FIELDS)]
            page = requester.page([*query, ("limit", str(self.page_size))], page_number, resume_keys=False)
            # The rows pywb repeats at the page boundary are not rows of the listing: counted, 15,000 captures with
            # max_listing_rows = 15000 failed as 15,001 rows (outside audit 5, item 2), and yielded twice.
            new = tuple(ref for ref in page.refs if not (ref.timestamp == lower and ref in repeated))
            bound.count(CdxPage(new, None), more=len(page.refs) >= self.page_size)
            yield from new
            if len(page.refs) < self.page_size:
                return
            last = max(ref.timestamp for ref in page.refs)
            repeated = {ref for ref in page.refs if ref.timestamp == last}
            if lower is not None and last <= lower:
                reason = f"more than {self.page_size} captures within one second: cannot page further"
                raise requester.error(ListingParseError, reason)
            lower = last
            page_number += 1
