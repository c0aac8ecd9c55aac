"""Scrapy settings built from policy-archive's settings: one place decides how we behave on the network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS

from policy_archive.config.settings import Settings
from policy_archive.crawler import render
from policy_archive.crawler.addresses import ALLOW_PRIVATE_SETTING, ALLOWED_ORIGINS_SETTING
from policy_archive.crawler.rendered_downloads import rendered_concurrency, rendered_requests_slot

# Codes Scrapy's own RetryMiddleware may retry on live sites (off for the archive). 429 and 503 are left out on
# purpose: Scrapy retries them at once, which is exactly the retry storm that gets an IP firewalled by the Internet
# Archive; our middlewares pause (archive) or honour Retry-After (live) instead.
RETRYABLE_CODES = [500, 502, 504, 522, 524, 408]
# The codings an archive replay may come in (brotli is a dependency for it).
ARCHIVE_ACCEPT_ENCODING = "gzip, deflate, br"
# Replay requests to the archive at once (the shared limiter spaces them anyway).
ARCHIVE_CONCURRENCY = 8
# Scrapy's HTTP/1.1 download handler with an answer's headers bounded (render_handler.py's extends it).
TRANSPORT = "policy_archive.crawler.transport.DownloadHandler"
# A request's host looked up before it is sent, within DNS_TIMEOUT (crawler/lookups.py): after Scrapy's
# HttpProxyMiddleware (750, as the other built-in priorities named here: Scrapy 2.19's DOWNLOADER_MIDDLEWARES_BASE),
# which marks the requests a proxy resolves for us.
LOOKUP_MIDDLEWARE = {"policy_archive.crawler.lookups.LookupMiddleware": 760}
# An answer without a Content-Length cut at DOWNLOAD_MAXSIZE said to be too large (live and archived alike), its
# exception raised before any retry middleware sees it: under DownloaderStats (850), above everything else.
SIZE_CUT_MIDDLEWARE = {"policy_archive.crawler.middlewares.SizeCutMiddleware": 840}


def scrapy_settings(settings: Settings, *, live: bool, declared_origins: Sequence[str] = ()) -> dict[str, Any]:
    """Scrapy settings for an archive crawl or a live crawl; ``declared_origins`` are the URLs of the
    configuration, whose origins a live crawl may reach even on internal addresses (crawler/addresses.py)."""
    common: dict[str, Any] = {
        # Security: the remote-control endpoint executes posted Python and the telnet console opens a shell;
        # both are on by default in Scrapy 2.19.
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "USER_AGENT": settings.crawl.user_agent,
        "LOG_LEVEL": "WARNING",
        # Our CLI owns logging; Scrapy 2.19 deprecates the install_root_handler argument for this setting.
        "LOG_INSTALL_ROOT_HANDLER": False,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "RETRY_HTTP_CODES": RETRYABLE_CODES,
        "RETRY_TIMES": 2,
        "DOWNLOAD_TIMEOUT": settings.wayback.timeout_seconds,
        # Every name lookup on a thread of its own, bounded by this (crawler/lookups.py): Scrapy's own bound applies
        # to its CachingThreadedResolver only, and a lookup that never answered held one of the reactor's 10 threads.
        "DNS_TIMEOUT": settings.wayback.timeout_seconds,
        "TWISTED_DNS_RESOLVER": "policy_archive.crawler.lookups.BoundedResolver",
        "DOWNLOAD_MAXSIZE": settings.crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        # After a stop signal, a request not yet on the wire is not sent (crawler/stopping.py).
        "DOWNLOADER": "policy_archive.crawler.stopping.StoppingDownloader",
        "HTTPERROR_ALLOW_ALL": True,  # the spider decides what a 404 or a 3xx means
        # Two captures may redirect to the same archived page: each must get its own answer.
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        # An answer's header line over Twisted's limit is named as such, not as a connection closed, and its header
        # block is bounded (transport.py).
        "DOWNLOAD_HANDLERS": {"http": TRANSPORT, "https": TRANSPORT},
        # Render requests (meta "playwright") open in headless Chromium; the browser starts at the first one.
        **render.scrapy_settings(settings.crawl.render_timeout_seconds),
    }
    return {**common, **(_live_settings(settings, declared_origins) if live else _archive_settings(settings))}


def _live_settings(settings: Settings, declared_origins: Sequence[str]) -> dict[str, Any]:
    """What a live crawl sets over the common settings: many sites, one request at a time each, guarded."""
    return {
        "ROBOTSTXT_OBEY": settings.crawl.obey_robots,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        # A site's requests wait for its turn in the scheduler, not in the downloader, where they would
        # count toward CONCURRENT_REQUESTS and hold back the other sites (crawler/sitequeue.py). The archive
        # crawl does not need it: its requests go to one host, whose concurrency is the whole crawl's.
        "SCHEDULER_PRIORITY_QUEUE": "policy_archive.crawler.sitequeue.SitesWithRoomQueue",
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        # A retry keeps its document's place: it is its site's next request, after the site's delay, as on a
        # site with one document (and as a redirect's next hop is, REDIRECT_PRIORITY_ADJUST +2). As of
        # 2026-11 (Scrapy 2.19) a retry is a copy of its request, still marked a start request, so it joins
        # the end of its site's queue even at the same priority; by default (RETRY_PRIORITY_ADJUST -1) it
        # comes after every other document of its site anyway. On a host serving many documents (a policy
        # host such as iubenda or termly) a 500 was then asked again 20 minutes later in a run of 200
        # (acceptance report 4, finding 5), and the run's last requests were all retries. The run takes no
        # longer either way (the same requests, one at a time per site); a transient failure still waits
        # for the AutoThrottle delay, which an error answer never shortens.
        "RETRY_PRIORITY_ADJUST": 1,
        "REDIRECT_ENABLED": True,
        # Every request, each redirect hop and robots.txt included, is checked on the address it
        # connects to: internal addresses are refused (issue 11, server-side request forgery).
        ALLOWED_ORIGINS_SETTING: list(declared_origins),
        ALLOW_PRIVATE_SETTING: settings.crawl.allow_private_addresses,
        "TWISTED_DNS_RESOLVER": "policy_archive.crawler.addresses.GuardedResolver",
        "DOWNLOADER_MIDDLEWARES": {
            "policy_archive.crawler.addresses.PrivateAddressMiddleware": 50,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "policy_archive.crawler.middlewares.SharedRobotsTxtMiddleware": 100,
            "policy_archive.crawler.middlewares.RetryAfterMiddleware": 540,
            # After Scrapy's RetryMiddleware (550), so their process_exception comes first: a connection the
            # guarded resolver kept from an internal address is refused in the check's words, and an answer
            # failing as served is not asked again.
            "policy_archive.crawler.addresses.DroppedAddressMiddleware": 555,
            "policy_archive.crawler.middlewares.AsServedMiddleware": 560,
            **LOOKUP_MIDDLEWARE,
            **SIZE_CUT_MIDDLEWARE,
            # Between these two: a redirect's Location that is no URL is refused before Scrapy reads it.
            "policy_archive.crawler.middlewares.RedirectLocationMiddleware": 620,
            # Before Scrapy's RedirectMiddleware (600) in the responses' way: a rendered page's
            # redirect is followed by Scrapy, hop by hop, not by the browser.
            "policy_archive.crawler.render.NavigationRedirectMiddleware": 650,
        },
    }


def _archive_settings(settings: Settings) -> dict[str, Any]:
    """What an archive crawl sets over the common settings: one archive, its replays as it serves them."""
    rendered = rendered_concurrency(settings.wayback.replay_per_minute, ARCHIVE_CONCURRENCY)
    return {
        # A rendered page's requests to the archive, in a slot of their own, as many at once as one second of the
        # replay rate allows (crawler/rendered_downloads.py rendered_concurrency; the order is its Turns').
        "DOWNLOAD_SLOTS": {rendered_requests_slot(settings.wayback.replay_url): {"concurrency": rendered}},
        # The archive serves robots-excluded pages on its own terms; obeying the *site's* robots.txt
        # does not apply to id_ replay, and the archive's robots.txt would block nothing we fetch.
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": ARCHIVE_CONCURRENCY,
        "CONCURRENT_REQUESTS_PER_DOMAIN": ARCHIVE_CONCURRENCY,
        "AUTOTHROTTLE_ENABLED": False,
        # Redirects are followed by the spider itself, and only inside the archive. Nothing a page holds is
        # followed: Scrapy's MetaRefreshMiddleware (its own setting, on by default as of Scrapy 2.19, delays
        # under 100 s) fetched an archived page's <meta http-equiv="refresh"> target wherever it pointed, live
        # sites and internal addresses included (acceptance report 5, finding 1).
        "REDIRECT_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        # Keep each payload exactly as the archive serves it (an id_ replay keeps the site's
        # Content-Encoding, as of 2026-06): its SHA-1 is then comparable with the CDX digest and the WARC
        # record is the original response. Extraction undoes the encoding (pipeline.extraction.decode).
        "COMPRESSION_ENABLED": False,
        # ... and ask for it: Scrapy's decompression, off, no longer says which codings we take, and an archive
        # serves a payload recorded compressed as recorded only to a client taking its coding. pywb 2.10 decodes
        # it otherwise (content_rewriter.py: the recorded Content-Encoding not in the request's Accept-Encoding),
        # and the bytes served are then not the ones its CDX digest names (acceptance report 6, F-b1). Every
        # coding extraction can undo (pipeline.extraction.decode). The Wayback Machine, asked so, compresses even
        # an uncompressed payload for the transfer: the decoded bytes then carry the digest (served_bytes.py).
        "DEFAULT_REQUEST_HEADERS": {**DEFAULT_REQUEST_HEADERS, "Accept-Encoding": ARCHIVE_ACCEPT_ENCODING},
        # Not Scrapy's retries, which ask again at once: a replay failing for now (the archive's own 500,
        # 502 or 504, a timeout, a connection refused, reset or cut short) is asked again after
        # backoff_seconds, as often as a listing page (ArchiveRateLimitMiddleware, decision 0005).
        "RETRY_ENABLED": False,
        "DOWNLOADER_MIDDLEWARES": {
            # First of all: a request that is not one of the archive's capture URLs is never sent.
            "policy_archive.crawler.middlewares.ArchiveOnlyMiddleware": 50,
            "policy_archive.crawler.middlewares.ArchiveRateLimitMiddleware": 540,
            **LOOKUP_MIDDLEWARE,
            **SIZE_CUT_MIDDLEWARE,
        },
    }
