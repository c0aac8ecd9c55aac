"""Nothing a page holds takes an archive crawl out of the archive (acceptance report 5, finding 1): an archived
``<meta http-equiv="refresh">`` is never fetched where it points (Scrapy's MetaRefreshMiddleware is off for the
archive, and every request of an archive crawl must be one of its capture URLs); a capture that is only a meta
refresh is no version (``meta-refresh``); ``discover`` reads a splash home page through the page it leads to,
asked of the archive at the home page's time. The live crawls follow a meta refresh through the same
internal-address check as a redirect. End to end through the CLI on the stand-in archive and servers on
127.0.0.1; the extraction rule and the archive-only middleware called directly too."""

from __future__ import annotations

import json
import tomllib
from types import SimpleNamespace

import pytest
import scrapy
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.utils.test import get_crawler
from standin.cli import cli_environment, run_cli, write_archive_settings
from standin.hostile import RouteServer
from standin.pages import Page, html_page, meta_refresh_html, meta_refresh_page
from standin.sites import StandinSites
from test_discover_links import footer_page
from test_hostile import SECRET, nothing_recorded_from, tracked_config

from policy_archive.config.settings import Settings
from policy_archive.crawler.middlewares import OUTSIDE_THE_ARCHIVE, ArchiveOnlyMiddleware, OutsideTheArchive
from policy_archive.crawler.settings import scrapy_settings
from policy_archive.crawler.sources import archive_source
from policy_archive.crawler.spiders.wayback import WaybackSpider
from policy_archive.pipeline.extraction.extract import extract
from policy_archive.pipeline.extraction.refusals import ExtractionRefused
from policy_archive.records import ExtractionRules, parse_iso_z

POLICY = html_page("FG Privacy Policy", [f"We process personal data, clause {n}." for n in range(40)]).body
MOVED_POLICY = html_page("FG Privacy Policy", [f"We share personal data, clause {n}." for n in range(40)]).body
# What a server outside the archive would make a version of, were it ever asked.
FORGED = html_page("FG Privacy Policy", [f"FORGED clause {n}: we sell all your data." for n in range(40)])


def archive_config(tmp_path, archive, settings: str = ""):
    config = write_archive_settings(tmp_path / "config", archive.cdx_url, archive.replay_url)
    with (config / "settings.toml").open("a") as file:
        file.write(settings)
    return config


def test_backfill_never_fetches_an_archived_meta_refresh_and_records_no_version_of_it(tmp_path, standin_archive):
    """The audit's forgery: with check_digests off, a refresh to a server answering like an archive made its text
    the history's first version. Now nothing outside the archive is asked; a splash capture is refused with the
    target it names, a relative one resolved against the site's URL (not the archive's host)."""
    with RouteServer({"/x": FORGED}) as outside:
        standin_archive.add_capture("http://fg.test/privacy", "20150101120000", POLICY)
        standin_archive.add_capture("http://fg.test/privacy", "20200101120000", meta_refresh_html(outside.url("/x")))
        standin_archive.add_capture("http://fg.test/privacy", "20210101120000", meta_refresh_html("/legal/privacy"))
        standin_archive.add_capture("http://fg.test/legal/privacy", "20210101120005", MOVED_POLICY)
        config = archive_config(tmp_path, standin_archive, "check_digests = false\n")
        (config / "services" / "fg.toml").write_text(
            'name = "FG"\n[documents.privacy-policy]\nurl = "http://fg.test/privacy"\n'
        )
        data = tmp_path / "data"
        result = run_cli(config, data, "backfill", "--strategy", "all")
        assert outside.paths == []
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert {request.endpoint for request in standin_archive.requests} == {"cdx", "replay"}
    assert not any("/legal/privacy" in request.path for request in standin_archive.requests)
    versions = json.loads(run_cli(config, data, "log", "fg/privacy-policy", "--json").stdout)
    assert [parse_iso_z(version["date"]).year for version in versions] == [2015]
    nothing_recorded_from(data, b"FORGED")
    status = run_cli(config, data, "status").stdout
    assert "refused captures: 2 meta-refresh" in status, status


def test_a_splash_page_is_refused_naming_its_target_and_a_document_with_a_refresh_is_kept():
    rules = ExtractionRules()
    with pytest.raises(ExtractionRefused) as refused:
        extract(meta_refresh_html("/legal/privacy").encode(), "http://fg.test/privacy", rules)
    assert str(refused.value) == "meta-refresh: a meta refresh to 'http://fg.test/legal/privacy', not the document"
    uppercase = b"<head><META HTTP-EQUIV='Refresh' CONTENT=\"5;URL='privacy2.html'\"></head><p>Privacy has moved</p>"
    with pytest.raises(ExtractionRefused, match="meta refresh to 'http://fg.test/privacy2.html'"):
        extract(uppercase, "http://fg.test/privacy", rules)
    # A refresh that reloads the page, one inside <noscript> (a browser running scripts never sees it), and one on
    # a whole document (the text served at this URL) leave the document as it is.
    document = "".join(f"<p>We process personal data, clause {n}.</p>" for n in range(60))
    for head in (
        "<meta http-equiv='refresh' content='1800'>",
        "<noscript><meta http-equiv='refresh' content='0; url=/nojs.html'></noscript>",
        "<meta http-equiv='refresh' content='600; url=/logout'>",
    ):
        page = f"<html><head>{head}<title>Privacy Policy</title></head><body>{document}</body></html>"
        assert "clause 59" in extract(page.encode(), "http://fg.test/privacy", rules).body


def test_an_archive_crawl_sends_nothing_outside_the_archive_and_follows_no_redirect_itself(tmp_path):
    settings = Settings(data_dir=tmp_path)
    source = archive_source(settings.wayback)
    middleware = ArchiveOnlyMiddleware(SimpleNamespace(spider=SimpleNamespace(source=source)))  # type: ignore[arg-type]
    capture = source.capture_url(parse_iso_z("2020-01-01T00:00:00Z"), "http://fg.test/privacy")
    assert middleware.process_request(scrapy.Request(capture)) is None
    for outside in ("http://127.0.0.1:9/secret", "http://169.254.169.254/latest/meta-data/", "http://fg.test/x"):
        with pytest.raises(OutsideTheArchive, match=OUTSIDE_THE_ARCHIVE):
            middleware.process_request(scrapy.Request(outside))
    # Scrapy's own followers of what an answer says (Location, meta refresh; AJAX crawl's fragment meta, no longer in
    # Scrapy's defaults as of 2.19) are not among the archive crawl's middlewares.
    crawler = get_crawler(WaybackSpider, scrapy_settings(settings, live=False))
    enabled = {type(m).__name__ for m in DownloaderMiddlewareManager.from_crawler(crawler).middlewares}
    assert "ArchiveOnlyMiddleware" in enabled
    assert not enabled & {"RedirectMiddleware", "MetaRefreshMiddleware", "AjaxCrawlMiddleware"}, enabled


def splash_history(archive, domain: str, years: range, *hops: str) -> None:
    """``domain``'s home page each year a splash refreshing to ``hops[0]``, each hop's page refreshing to the
    next, the last one's footer linking ``/en/privacy.html`` (each captured 10 s after the previous)."""
    for year in years:
        pages = [f"http://{domain}/", *(f"http://{domain}{hop}" for hop in hops)]
        for n, url in enumerate(pages):
            body = meta_refresh_html(hops[n]) if n < len(hops) else footer_page(("/en/privacy.html", "Privacy"))
            archive.add_capture(url, f"{year}03011200{n * 10:02d}", body)


def test_discover_reads_a_splash_home_page_through_the_page_it_leads_to_inside_the_archive(tmp_path, standin_archive):
    """The 2000s' splash home page: its target is asked of the archive at the home page's time, one hop or two
    (as frames are read), then the site's own page; a third refresh is not followed, and said."""
    splash_history(standin_archive, "splash.test", range(2005, 2009), "/en/index.html")
    for year in (2009, 2010):
        page = footer_page(("/legal/privacy", "Privacy Policy"))
        standin_archive.add_capture("http://splash.test/", f"{year}0301120000", page)
    splash_history(standin_archive, "twice.test", range(2005, 2008), "/intro.html", "/en/")
    splash_history(standin_archive, "thrice.test", range(2005, 2008), "/a.html", "/b.html", "/c.html")
    config = archive_config(tmp_path, standin_archive)
    data = tmp_path / "data"
    splash = run_cli(config, data, "discover", "splash.test")
    assert splash.returncode == 0, splash.stderr
    document = tomllib.loads(splash.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://splash.test/legal/privacy"
    assert document["history"] == [{"url": "http://splash.test/en/privacy.html", "valid_until": "2008-03-01"}]
    twice = run_cli(config, data, "discover", "twice.test")
    assert twice.returncode == 0, twice.stderr
    assert tomllib.loads(twice.stdout)["documents"]["privacy-policy"]["url"] == "http://twice.test/en/privacy.html"
    thrice = run_cli(config, data, "discover", "thrice.test")
    assert thrice.returncode == 1
    (failed,) = [line for line in thrice.stderr.splitlines() if line.startswith("FAILED thrice.test")]
    assert (
        "meta refresh: the page it leads to could not be read (http://thrice.test/a.html: a meta refresh to "
        "http://thrice.test/b.html (that page read)" in failed
    ), failed
    assert "http://thrice.test/b.html: a meta refresh 2 pages from the home page (2 levels are read)" in failed
    assert not any("/c.html" in request.path for request in standin_archive.requests)
    assert {request.endpoint for request in standin_archive.requests} == {"cdx", "replay"}


def test_discover_asks_the_archive_never_the_address_a_splash_home_page_names(tmp_path, standin_archive):
    with RouteServer({"/": Page(body=SECRET)}) as outside:
        for year in (2015, 2016, 2017):
            standin_archive.add_capture("http://inside.test/", f"{year}0301120000", meta_refresh_html(outside.url("/")))
        config = archive_config(tmp_path, standin_archive)
        result = run_cli(config, tmp_path / "data", "discover", "inside.test")
        assert outside.paths == []
    assert result.returncode == 1
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED inside.test")]
    assert (
        f"meta refresh: the page it leads to could not be read ({outside.url('/')}: not fetched: not-archived: "
        in failed
    ), failed
    asked = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
    assert any(path.endswith(f"id_/{outside.url('/')}") for path in asked), asked


@pytest.mark.parametrize("delay", [0, 200])  # followed by Scrapy; past its 100 s, left to the document's reading
def test_track_follows_a_live_meta_refresh_only_through_the_internal_address_check(tmp_path, delay):
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        target = secret.url("/latest/meta-data/iam")
        with RouteServer({"/privacy": meta_refresh_page(target, delay)}) as site:
            config = tracked_config(tmp_path / "config", site.url("/privacy"))
            result = run_cli(config, tmp_path / "data", "track")
        assert secret.paths == []
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    if delay == 0:
        assert failed.startswith(f"FAILED acme/privacy-policy: private-address: {target} (127.0.0.1, loopback;"), failed
    else:
        assert f"meta-refresh: a meta refresh to '{target}', not the document" in failed, failed
    nothing_recorded_from(tmp_path / "data", SECRET)


@pytest.mark.parametrize("delay", [0, 200])
def test_discover_live_follows_a_meta_refresh_only_through_the_internal_address_check(tmp_path, delay):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        target = secret.url("/latest/meta-data/iam")
        with StandinSites() as sites:
            sites.set_page("http://splash.test/", meta_refresh_page("/en/", delay))
            sites.set_page("http://splash.test/en/", Page(body=footer_page(("/en/privacy", "Privacy")).encode()))
            sites.set_page("http://inside.test/", meta_refresh_page(target, delay))
            env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
            command = ("discover", "--live", "http://splash.test", "http://inside.test", "--write")
            result = run_cli(config, tmp_path / "data", *command, env=env)
        assert secret.paths == []
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    written = tomllib.loads((config / "services" / "splash.test.toml").read_text())
    assert written["documents"]["privacy-policy"]["url"] == "http://splash.test/en/privacy"
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED inside.test")]
    assert f"private-address: {target} (127.0.0.1, loopback;" in failed, failed
    assert not (config / "services" / "inside.test.toml").exists()
