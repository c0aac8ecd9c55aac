"""A site waiting for its turn keeps its requests in the scheduler, so it never holds back the other sites.

Scrapy 2.19 (checked 2026-11) counts toward ``CONCURRENT_REQUESTS`` every request handed to the downloader, those
still waiting there for their site's turn included: behind the one page a site is answering (one request at a time
per site), behind its AutoThrottle delay, behind its robots.txt. Its scheduler hands out requests of a site whose
turn has not come as readily as any other's, so a site with many documents filled the downloader with requests that
only waited, and every other site's requests stayed in the scheduler until that site answered — or timed out, when
it hung (scrapy/scrapy#2638, "Scrapy will fill all slots with the same, waiting domain": to be solved in the
scheduler, its maintainers say). :class:`SitesWithRoomQueue` (the live crawl's ``SCHEDULER_PRIORITY_QUEUE``) hands
out a request only when its site has room in the downloader, so ``CONCURRENT_REQUESTS`` bounds the sites being
fetched at once, and a slow or hanging site holds one of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.pqueues import DownloaderAwarePriorityQueue, DownloaderInterface


class _SitesWithRoom(DownloaderInterface):
    """The downloader as the queue sees it: only the sites (download slots) with room for one more request, each
    with the number of its requests in the downloader."""

    def stats(self, possible_slots: Iterable[str]) -> list[tuple[int, str]]:
        # Every request the downloader holds, from its middlewares (a robots.txt or a Retry-After waited for) to
        # the end of its transfer; Scrapy's own count (the slot's ``active``) misses those still in the middlewares.
        held = Counter(self.get_slot_key(request) for request in self.downloader.active)
        return [(held[slot], slot) for slot in possible_slots if held[slot] < self._concurrency(slot)]

    def _concurrency(self, slot: str) -> int:
        existing = self.downloader.slots.get(slot)
        return existing.concurrency if existing is not None else self.downloader.domain_concurrency


class SitesWithRoomQueue(DownloaderAwarePriorityQueue):
    """Scrapy's downloader-aware priority queue (the least busy site first), except that a request whose site has no
    room in the downloader stays here: :meth:`pop` then answers None, which tells the engine that nothing is ready
    for now. The engine asks again whenever a request leaves the downloader (and every 5 s)."""

    def __init__(self, crawler: Crawler, *args: Any, **kwargs: Any):
        super().__init__(crawler, *args, **kwargs)
        # Not public API: the one attribute through which the queue sees the downloader (pop and peek use it).
        self._downloader_interface = _SitesWithRoom(crawler)
