"""The CDX listing goes through the HTTP proxy the environment names, as Scrapy's fetches of the captures do
(``http_proxy``, ``https_proxy``, ``no_proxy``, credentials in the proxy URL): the archive below answers only
through a proxy, under a name no resolver knows."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from standin.archive import StandinArchive
from standin.cli import cli_environment, git, run_cli, write_archive_settings
from standin.proxy import ForwardingProxy

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import RateLimiter
from policy_archive.crawler.sources import ListingClient, ListingUnavailable, archive_source

POLICY = "https://acme.example/privacy"
ARCHIVE = "archive.invalid"  # .invalid never resolves (RFC 2606): only the proxy can reach it


def policy(revision: str) -> str:
    paragraphs = "".join(
        f"<p>Section {n} of the Acme privacy policy, {revision}: we process your personal data to provide the "
        "service and never sell it to third parties.</p>"
        for n in range(1, 6)
    )
    return f"<html><head><title>Privacy Policy</title></head><body><main>{paragraphs}</main></body></html>"


@pytest.fixture
def client(tmp_path: Path) -> ListingClient:
    limiter = RateLimiter(tmp_path / "ratelimit.sqlite3", "test", "cdx", float("inf"), backoff_seconds=0)
    return ListingClient(limiter, "policy-archive/test")


def settings(scheme: str = "http") -> WaybackSettings:
    return WaybackSettings(
        cdx_url=f"{scheme}://{ARCHIVE}/cdx/search/cdx", replay_url=f"{scheme}://{ARCHIVE}/web", timeout_seconds=5
    )


def test_the_listing_goes_through_http_proxy_with_its_credentials(
    standin_archive: StandinArchive, client: ListingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin_archive.add_capture(POLICY, "20200101000000", policy("2020"))
    standin_archive.add_capture(POLICY, "20210101000000", policy("2021"))
    with ForwardingProxy(standin_archive.base_url) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://ops:p%40ss@"))
        refs = archive_source(settings()).list_captures(POLICY, client)
    assert [ref.wayback_timestamp for ref in refs] == ["20200101000000", "20210101000000"]
    assert [(r.method, r.target.split("?")[0]) for r in proxy.requests] == [("GET", f"http://{ARCHIVE}/cdx/search/cdx")]
    assert proxy.requests[0].authorization == "Basic " + base64.b64encode(b"ops:p@ss").decode()


def test_no_proxy_sends_the_listing_directly(client: ListingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardingProxy("http://127.0.0.1:9") as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("no_proxy", ARCHIVE)
        # Direct, the name is looked up: it has no address, as a table answers it (tests/standin/fixed_dns.py).
        monkeypatch.setattr("policy_archive.crawler.names.system_lookup", lambda host: [])
        with pytest.raises(ListingUnavailable, match="archive host not found"):
            archive_source(settings()).list_captures(POLICY, client)
    assert proxy.requests == []


def test_an_https_listing_asks_the_proxy_for_a_tunnel(client: ListingClient, monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardingProxy("http://127.0.0.1:9") as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        with pytest.raises(ListingUnavailable, match="403"):
            archive_source(settings("https")).list_captures(POLICY, client)
    assert [(r.method, r.target) for r in proxy.requests] == [("CONNECT", f"{ARCHIVE}:443")]


def test_backfill_lists_and_fetches_through_the_proxy(standin_archive: StandinArchive, tmp_path: Path) -> None:
    standin_archive.add_capture(POLICY, "20200101000000", policy("2020"))
    standin_archive.add_capture(POLICY, "20210101000000", policy("2021"))
    config = tmp_path / "config"
    write_archive_settings(config, f"http://{ARCHIVE}/cdx/search/cdx", f"http://{ARCHIVE}/web")
    (config / "services" / "acme.toml").write_text(f'name = "Acme"\n[documents.privacy-policy]\nurl = "{POLICY}"\n')
    with ForwardingProxy(standin_archive.base_url) as proxy:
        result = run_cli(config, tmp_path / "data", "backfill", env=cli_environment(http_proxy=proxy.url))
    assert result.returncode == 0, result.stderr
    assert len(git(tmp_path / "data" / "versions", "log", "--format=%H", "main").split()) == 2
    targets = [r.target.split("?")[0] for r in proxy.requests]
    assert targets[0] == f"http://{ARCHIVE}/cdx/search/cdx", "the listing went through the proxy"
    assert all(target.startswith(f"http://{ARCHIVE}/web/") for target in targets[1:]) and len(targets) >= 3
