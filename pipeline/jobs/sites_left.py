"""What is left of a live crawl, as its progress line says it: ``6 left on 1 site (policies.test), 1 retried
(provider/privacy-policy)``.

A live crawl asks one page at a time per site, so a rate measured while many sites answered together says little
of documents queued behind one site, slow or not; and a document waiting on a retry may wait for the timeout
again, twice. The line therefore names what is sure: the documents left and the sites they wait on (the busiest
first), and those whose request failed and is asked again. Its ETA is never shorter than the busiest site's
documents left take at that site's own pace so far, and there is none while a document left waits on a retry.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from policy_archive.pipeline.jobs.progress import Left
from policy_archive.records import DocumentDeclaration
from policy_archive.text import counted, first_few

# Sites and retried documents named in the line; the others are an ellipsis.
NAMED = 3


def site_of(url: str) -> str:
    """The site whose turn a request waits for: Scrapy 2.19's download slot (checked 2026-11) is the URL's host
    name, without the port (two ports of one host are one site)."""
    return (urlsplit(url).hostname or "").lower()


class SitesLeft:
    """The documents of a live crawl not finished yet, by site; called for the progress line's :class:`Left`."""

    def __init__(self, declarations: Sequence[DocumentDeclaration], clock: Callable[[], float] = time.monotonic):
        self._sites = {declaration.key: site_of(declaration.url) for declaration in declarations}
        self._left = Counter(self._sites.values())
        self._done: Counter[str] = Counter()
        self._retried: dict[str, None] = {}  # in the order they failed
        self._clock = clock
        self._started = clock()

    def retried(self, document: str) -> None:
        """``document``'s request failed and is asked again."""
        self._retried[document] = None

    def finished(self, document: str) -> None:
        """``document`` is done (fetched, failed or not modified): one fewer left on its site, and no longer counted
        as retried. To be called once per document: a second call would count it twice."""
        site = self._sites[document]
        self._left[site] -= 1
        self._done[site] += 1
        self._retried.pop(document, None)

    def __call__(self) -> Left:
        busy = [(site, left) for site, left in self._left.most_common() if left]
        units = sum(left for _, left in busy)
        if not units:
            return Left(0)
        named = busy[0][0] if len(busy) == 1 else _named(busy)
        still = [f"{units:,} left on {counted(len(busy), 'site')} ({named})"]
        if self._retried:
            still.append(f"{len(self._retried):,} retried ({_named([(key, None) for key in self._retried])})")
        return Left(units, still=", ".join(still), seconds=math.inf if self._retried else self._busiest(busy))

    def _busiest(self, busy: list[tuple[str, int]]) -> float:
        """The longest time a site's documents left take at the pace of its documents done (a site with none
        done yet has no pace: the rate measured over the crawl stands for it)."""
        elapsed = self._clock() - self._started
        return max((left * elapsed / self._done[site] for site, left in busy if self._done[site]), default=0.0)


def _named(items: list[tuple[str, int | None]]) -> str:
    """``policies.test 6, other.test 1, …``: the first ``NAMED`` items, with their count when they have one."""
    return first_few([name if count is None else f"{name} {count:,}" for name, count in items], NAMED)
