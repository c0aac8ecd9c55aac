"""scrapy-playwright's download handler with a plain fetch's headers bounded (:mod:`crawler.transport`):
a module of its own, imported by Scrapy only when the ``browser`` extra is installed (:mod:`crawler.render`)."""

from __future__ import annotations

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from policy_archive.crawler.transport import BoundedHeaders


class RenderingDownloadHandler(BoundedHeaders, ScrapyPlaywrightDownloadHandler):
    """Render requests in the browser, plain ones over Scrapy's HTTP/1.1 (whose pool bounds an answer's headers)."""
