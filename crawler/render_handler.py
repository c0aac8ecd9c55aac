"""scrapy-playwright's download handler naming a header line too long in a plain fetch (:mod:`crawler.transport`):
a module of its own, imported by Scrapy only when the ``browser`` extra is installed (:mod:`crawler.render`)."""

from __future__ import annotations

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from policy_archive.crawler.transport import HeaderLineLimit


class RenderingDownloadHandler(HeaderLineLimit, ScrapyPlaywrightDownloadHandler):
    """Render requests in the browser, plain ones over Scrapy's HTTP/1.1 (whose pool names a header line too long)."""
