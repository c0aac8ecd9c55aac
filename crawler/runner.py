"""Run one crawl in this process. Scrapy's Twisted reactor cannot be restarted, so a process crawls once:
the CLI runs one crawl per invocation and the scheduler starts a new process for every run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from policy_archive.config.settings import Settings
from policy_archive.crawler.ratelimit import limiter_for
from policy_archive.crawler.settings import scrapy_settings
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.crawler.spiders.base import FetchPlan
from policy_archive.crawler.spiders.live import LiveSpider
from policy_archive.crawler.spiders.wayback import WaybackSpider


def crawl_archive(plan: FetchPlan, source: ArchiveSource, settings: Settings, data_dir: Path) -> None:
    process = CrawlerProcess(settings=scrapy_settings(settings, live=False))
    limiter = limiter_for(data_dir, settings.wayback, "replay")
    process.crawl(
        WaybackSpider,
        plan=plan,
        source=source,
        replay_limiter=limiter,
        user_agent=settings.crawl.user_agent,
        render_timeout=settings.crawl.render_timeout_seconds,
    )
    process.start()


def crawl_live(plan: FetchPlan, settings: Settings, declared_origins: Sequence[str] = ()) -> None:
    """Fetch live pages; only ``declared_origins`` (the configuration's URLs) may be on internal addresses."""
    process = CrawlerProcess(settings=scrapy_settings(settings, live=True, declared_origins=declared_origins))
    process.crawl(LiveSpider, plan=plan, render_timeout=settings.crawl.render_timeout_seconds)
    process.start()
