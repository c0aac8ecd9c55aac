"""The bytes one rendering of a page takes (:class:`AnswersTaken`): every answer a route (``crawler.routes``) hands
the page, archive or live, over all its tabs, counted and bounded by ``max_page_bytes`` in all, as each answer is
by the crawl; past it the rendering ends, not taken."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from policy_archive.crawler.failures import rendering_too_large


@dataclass
class AnswersTaken:
    """The answers one rendering hands its page, archive or live, over all its tabs: each one's bytes counted, and
    past ``limit`` (``max_page_bytes``; 0: none) in all the rendering ends, not taken (:attr:`too_large`, a reason
    naming the setting) and its settling stops at once (:attr:`ended`). Each answer was held to the same limit by
    the crawl; a page's many answers were not, until 2026-11-29 (a live page's scripts could stream 20 MiB each)."""

    limit: int
    received: int = 0  # the bytes of the answers handed to the page
    too_large: str | None = None  # why the rendering is not taken: an answer, or all of them, over max_page_bytes
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # set once it cannot be taken

    def take(self, size: int) -> bool:
        """Whether an answer of ``size`` bytes may be handed to the page: not once the rendering has ended, nor when
        it brings the answers past the limit (the rendering ends then, :func:`rendering_too_large`'s words)."""
        if self.ended.is_set():
            return False
        self.received += size
        if not self.limit or self.received <= self.limit:
            return True
        self.end(rendering_too_large(self.received, self.limit))
        return False

    def end(self, too_large: str | None = None) -> None:
        """The rendering cannot be taken (``too_large``: why, when it is too large): nothing more is handed."""
        if too_large is not None and self.too_large is None:
            self.too_large = too_large
        self.ended.set()
