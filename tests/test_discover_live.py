"""`discover --live` over a list of domains: today's home pages read in one live crawl, each domain one line, the
summary and exit status of an archive list, resumable; a home page redirecting to an internal address is
refused as `track` refuses it (crawler/addresses.py), and the internal service is never asked."""

from __future__ import annotations

from pathlib import Path

from standin.cli import cli_environment, run_cli
from standin.hostile import RouteServer
from standin.pages import Page, redirect
from standin.sites import StandinSites
from test_discover_list import eras_declared, failed_lines
from test_hostile import assert_one_line

SECRET = b'{"AccessKeyId": "ASIA-SECRET"}'


def home(*links: tuple[str, str]) -> Page:
    footer = " ".join(f"<a href='{href}'>{text}</a>" for href, text in links)
    body = f"<html><body><nav><a href='/shop'>Shop</a></nav><footer>{footer}</footer></body></html>"
    return Page(body=body.encode(), content_type="text/html; charset=utf-8")


def live_sites(sites: StandinSites, secret: RouteServer) -> None:
    sites.set_page("http://shop.test/", redirect("http://shop.test/de/"))
    sites.set_page("http://shop.test/de/", home(("/de/datenschutz", "Datenschutzerklärung"), ("/agb", "AGB")))
    sites.set_page("http://cafe.test/", home(("/legal/privacy", "Privacy Policy")))
    sites.set_page("http://nolink.test/", home(("/about", "About us")))
    sites.set_page("http://gone.test/", Page(body=b"<html>Gone</html>", status=410))
    # A site whose home page sends the crawler to an internal service (server-side request forgery).
    sites.set_page("http://hostile.test/", redirect(secret.url("/latest/meta-data/iam"), 302))


def write_config(config: Path) -> Path:
    (config / "services").mkdir(parents=True)
    return config


def test_live_over_a_list_writes_each_domain_refuses_internal_redirects_and_resumes(tmp_path):
    config = write_config(tmp_path / "config")
    data = tmp_path / "data"
    listing = tmp_path / "domains.txt"
    listing.write_text(
        "http://cafe.test\nhttp://nolink.test  # no policy link\nhttp://hostile.test\nhttp://gone.test\n"
    )
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        with StandinSites() as sites:
            live_sites(sites, secret)
            env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
            command = ("discover", "--live", "http://shop.test", "--from", str(listing), "--write")
            first = run_cli(config, data, *command, env=env)
            sites.clear_log()
            second = run_cli(config, data, *command, env=env)
            asked_again = {request.site for request in sites.requests() if request.path == "/"}
        assert secret.paths == []

    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr
    services = config / "services"
    assert sorted(path.name for path in services.iterdir()) == ["cafe.test.toml", "shop.test.toml"]
    assert eras_declared(services / "shop.test.toml") == [("http://shop.test/de/datenschutz", "")]
    assert eras_declared(services / "cafe.test.toml") == [("http://cafe.test/legal/privacy", "")]
    failed = sorted(failed_lines(first.stderr))
    assert len(failed) == 3, first.stderr
    assert failed.pop(0) == "FAILED gone.test: today's home page could not be read: answered with status 410"
    assert failed[0].startswith(
        "FAILED hostile.test: today's home page could not be read: not fetched: private-address: "
        f"{secret.url('/latest/meta-data/iam')} (127.0.0.1, loopback;"
    ), failed[0]
    assert failed[1] == "FAILED nolink.test: no privacy-policy link found on today's home page"
    assert first.stderr.splitlines()[-1] == "5 domains: 2 declarations written, 0 unsure, 3 failed"

    # The same command again: the written domains are skipped without a request, the failed ones read again.
    assert second.returncode == 1, second.stderr
    assert second.stderr.splitlines()[-1] == (
        "5 domains: 2 declarations written (2 by an earlier run), 0 unsure, 3 failed"
    )
    assert asked_again == {"nolink.test", "hostile.test", "gone.test"}


def test_a_host_with_a_port_is_declared_under_a_service_id_made_from_both(tmp_path):
    # DOMAIN may carry a port (an address, a staging site); ":" cannot be in an id (a file name, a path part).
    config = write_config(tmp_path / "config")
    with RouteServer({"/": home(("/legal/privacy", "Privacy Policy"))}) as site:
        port = site.port
        result = run_cli(config, tmp_path / "data", "discover", "--live", f"http://127.0.0.1:{port}", "--write")
    assert result.returncode == 0, result.stderr
    written = config / "services" / f"127.0.0.1-{port}.toml"
    assert [path.name for path in (config / "services").iterdir()] == [written.name]
    assert eras_declared(written) == [(f"http://127.0.0.1:{port}/legal/privacy", "")]
    validated = run_cli(config, tmp_path / "data", "validate")
    assert validated.returncode == 0, validated.stderr


def test_a_host_too_long_for_a_service_id_is_refused_naming_service(tmp_path):
    config = write_config(tmp_path / "config")
    domain = f"{'a' * 60}.{'b' * 60}.test:8080"
    result = run_cli(config, tmp_path / "data", "discover", "--live", domain)
    line = assert_one_line(result, 2, domain, "--service ID")
    assert line == (
        f"policy-archive: configuration error: command line: {domain}: its service id would be longer than 100 "
        f"characters: search it alone with --service ID, got '{domain.replace(':', '-')}'"
    )
    assert not (tmp_path / "data").exists()
