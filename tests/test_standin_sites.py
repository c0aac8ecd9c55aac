"""The stand-in live sites behave like real ones: validators and 304s, robots.txt, failures, the request log."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, replace
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from standin.legal_text import policy_page
from standin.pages import bot_wall, empty_page, html_page, javascript_shell, rate_limited, redirect, server_error, slow
from standin.sites import StandinSites
from standin.sites_cli import write_services


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def get(sites: StandinSites, url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Answer:
    """One request through the stand-in used as a proxy (absolute-form target), as Scrapy sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", sites.port, timeout=5)
    try:
        connection.request(method, url, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def test_serves_a_page_with_validators(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["We collect nothing."]))
    answer = get(sites, url)
    assert answer.status == 200
    assert b"We collect nothing." in answer.body
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["ETag"].startswith('"')
    assert parsedate_to_datetime(answer.headers["Last-Modified"]).tzinfo is not None


def test_sites_are_told_apart_by_host_header_too(sites: StandinSites) -> None:
    sites.set_page("http://acme.test/privacy", html_page("Acme", ["Acme text."]))
    sites.set_page("http://globex.test/privacy", html_page("Globex", ["Globex text."]))
    connection = http.client.HTTPConnection("127.0.0.1", sites.port, timeout=5)
    connection.request("GET", "/privacy", headers={"Host": f"globex.test:{sites.port}"})
    assert b"Globex text." in connection.getresponse().read()
    connection.close()


def test_if_none_match_gets_304_until_the_page_changes(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["Version one."]))
    etag = get(sites, url).headers["ETag"]
    unchanged = get(sites, url, {"If-None-Match": etag})
    assert (unchanged.status, unchanged.body, unchanged.headers["ETag"]) == (304, b"", etag)
    sites.change_page(url, html_page("Privacy", ["Version two."]).body)
    changed = get(sites, url, {"If-None-Match": etag})
    assert changed.status == 200 and b"Version two." in changed.body
    assert changed.headers["ETag"] != etag


def test_if_modified_since_gets_304_until_the_page_changes(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["Version one."]))
    last_modified = get(sites, url).headers["Last-Modified"]
    assert get(sites, url, {"If-Modified-Since": last_modified}).status == 304
    sites.change_page(url, b"<p>Version two, changed within the same second.</p>")
    later = get(sites, url, {"If-Modified-Since": last_modified})
    assert later.status == 200
    assert parsedate_to_datetime(later.headers["Last-Modified"]) > parsedate_to_datetime(last_modified)


def test_if_none_match_decides_over_if_modified_since(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["Text."]))
    last_modified = get(sites, url).headers["Last-Modified"]
    answer = get(sites, url, {"If-None-Match": '"stale"', "If-Modified-Since": last_modified})
    assert answer.status == 200


def test_pages_without_validators_are_always_sent_whole(sites: StandinSites) -> None:
    page = html_page("Privacy", ["Text."])
    url = sites.set_page("http://acme.test/privacy", replace(page, etag=False, last_modified=False))
    answer = get(sites, url)
    assert "ETag" not in answer.headers and "Last-Modified" not in answer.headers
    future = format_datetime(parsedate_to_datetime(answer.headers["Date"]), usegmt=True)
    assert get(sites, url, {"If-None-Match": "*", "If-Modified-Since": future}).status == 200


def test_robots_txt_per_site(sites: StandinSites) -> None:
    sites.add_site("acme.test", disallow=["/legal/"])
    sites.add_site("globex.test")
    assert get(sites, "http://acme.test/robots.txt").body == b"User-agent: *\nDisallow: /legal/\n"
    assert get(sites, "http://globex.test/robots.txt").body == b"User-agent: *\nDisallow:\n"


def test_failure_pages(sites: StandinSites) -> None:
    wall = get(sites, sites.set_page("http://acme.test/blocked", bot_wall()))
    assert wall.status == 403 and b"Just a moment" in wall.body and wall.headers["cf-mitigated"] == "challenge"
    assert get(sites, sites.set_page("http://acme.test/broken", server_error())).status == 500
    assert get(sites, "http://acme.test/never-declared").status == 404
    empty = get(sites, sites.set_page("http://acme.test/empty", empty_page()))
    assert (empty.status, empty.body) == (200, b"")
    shell = get(sites, sites.set_page("http://acme.test/app", javascript_shell()))
    assert shell.status == 200 and b'<div id="root"></div>' in shell.body
    assert get(sites, "http://unknown.test/privacy").status == 502


def test_redirect(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", redirect("http://acme.test/legal/privacy", status=308))
    answer = get(sites, url)
    assert (answer.status, answer.headers["Location"]) == (308, "http://acme.test/legal/privacy")


def test_rate_limited_page_answers_429_with_retry_after_first(sites: StandinSites) -> None:
    page = rate_limited(html_page("Privacy", ["Text."]), retry_after_seconds=7, times=2)
    url = sites.set_page("http://acme.test/privacy", page)
    first, second, third = get(sites, url), get(sites, url), get(sites, url)
    assert (first.status, first.headers["Retry-After"]) == (429, "7")
    assert second.status == 429
    assert third.status == 200 and b"Text." in third.body


def test_any_charset(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/datenschutz", html_page("Datenschutz", ["Straße, Größe"], "windows-1252"))
    answer = get(sites, url)
    assert answer.headers["Content-Type"] == "text/html; charset=windows-1252"
    assert "Straße, Größe".encode("windows-1252") in answer.body


def test_head_requests_get_headers_only(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["Text."]))
    answer = get(sites, url, method="HEAD")
    assert answer.status == 200 and answer.body == b"" and int(answer.headers["Content-Length"]) > 0


def test_the_request_log_records_conditional_headers(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["Text."]))
    etag = get(sites, url, {"User-Agent": "policy-archive/test"}).headers["ETag"]
    get(sites, url, {"If-None-Match": etag})
    first, second = sites.requests("acme.test", "/privacy")
    assert (first.method, first.status, first.conditional, first.user_agent) == (
        "GET",
        200,
        False,
        "policy-archive/test",
    )
    assert first.body_bytes == len(sites.page(url).body)
    assert (second.status, second.if_none_match, second.conditional, second.body_bytes) == (304, etag, True, 0)
    assert first.started <= first.finished <= second.started
    sites.clear_log()
    assert sites.requests() == []


def test_slow_pages_and_in_flight_maximum_per_site(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", slow(html_page("Privacy", ["Text."]), 0.3))
    other = sites.set_page("http://globex.test/privacy", html_page("Privacy", ["Text."]))
    get(sites, other)
    started = time.monotonic()
    threads = [threading.Thread(target=get, args=(sites, url)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0.3 <= time.monotonic() - started  # each after its delay
    assert sites.max_in_flight("acme.test") == 3  # served in parallel (counted, not timed: load-independent)
    assert sites.max_in_flight("globex.test") == 1


def test_urllib_reaches_sites_through_the_proxy(sites: StandinSites) -> None:
    url = sites.set_page("http://acme.test/privacy", html_page("Privacy", ["Through the proxy."]))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": sites.proxy_url}))
    with opener.open(url, timeout=5) as response:
        assert b"Through the proxy." in response.read()


def test_policy_pages_are_deterministic_and_revisions_change_a_few_lines() -> None:
    first = policy_page("acme.test", "privacy-policy", 0, size=50_000)
    assert first == policy_page("acme.test", "privacy-policy", 0, size=50_000)
    assert 45_000 < len(first.body) < 60_000
    revised = policy_page("acme.test", "privacy-policy", 1, size=50_000).body.decode().splitlines()
    original = first.body.decode().splitlines()
    assert len(revised) == len(original)
    assert 1 <= sum(a != b for a, b in zip(original, revised, strict=True)) <= 2  # date line and a paragraph


def test_benchmark_corpus_and_its_control_endpoint(sites: StandinSites, tmp_path: Path) -> None:
    urls = sites.add_benchmark_sites(sites=3, documents=2, size=5_000)
    assert urls[:2] == ["http://site-000.test/legal/privacy-policy", "http://site-000.test/legal/terms-of-service"]
    etags = {url: get(sites, url).headers["ETag"] for url in urls}
    request = urllib.request.Request(f"{sites.proxy_url}/_standin/change?fraction=0.5", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        changed = json.loads(response.read())
    assert len(changed) == 3
    statuses = {url: get(sites, url, {"If-None-Match": etag}).status for url, etag in etags.items()}
    assert statuses == {url: 200 if url in changed else 304 for url in urls}
    with urllib.request.urlopen(f"{sites.proxy_url}/_standin/stats", timeout=5) as response:
        stats = json.loads(response.read())
    assert stats["by_status"] == {"200": 6 + 3, "304": 3} and stats["conditional"] == 6
    files = write_services(tmp_path, urls)
    assert [path.name for path in files] == ["site-000.toml", "site-001.toml", "site-002.toml"]


def test_written_services_load_as_configuration(sites: StandinSites, tmp_path: Path) -> None:
    from policy_archive.config.settings import load_config

    urls = sites.add_benchmark_sites(sites=2, documents=3, size=2_000)
    write_services(tmp_path, urls)
    config = load_config(tmp_path)
    assert sorted(document.url for document in config.documents) == sorted(urls)
    assert config.documents[0].key == "site-000/privacy-policy"
