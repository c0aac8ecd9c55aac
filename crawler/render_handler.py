"""scrapy-playwright's download handler with a plain fetch's headers bounded (:mod:`crawler.transport`) and a stop
ending the pages being rendered: a module of its own, imported by Scrapy only when the ``browser`` extra is
installed (:mod:`crawler.render`)."""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from policy_archive.crawler.stopping import RunStopped, unless_stopped
from policy_archive.crawler.transport import BoundedHeaders


class RenderingDownloadHandler(BoundedHeaders, ScrapyPlaywrightDownloadHandler):
    """Render requests in the browser, plain ones over Scrapy's HTTP/1.1 (whose pool bounds an answer's headers).

    A stop (SIGINT, SIGTERM) closes the tabs being rendered at once, each request failing with
    :class:`~policy_archive.crawler.stopping.RunStopped` (its document reported as not fetched because the run was
    stopped): a page still settling, or one polling the network, no longer holds the stop for its whole wait and
    what its polls queued (audit 2026-11-28: 115 s for `track`, 4 min for `schedule`, over systemd's 90 s).
    scrapy-playwright's own handling of the tab is cancelled, so it neither takes the page nor opens another
    (it retries a request whose tab was closed under it: PLAYWRIGHT_TARGET_CLOSED_MAX_RETRIES)."""

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        # Not public API (scrapy-playwright 0.0.48): the one coroutine both of its download_request variants await.
        rendering: Any = request.meta.get("rendering")
        try:
            return await unless_stopped(self._crawler, super()._download_request(request, spider))
        except RunStopped:
            if rendering is not None:
                await rendering.close()
            raise
