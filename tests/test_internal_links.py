"""No tool writes an internal address into the configuration from content someone else controls (acceptance
report 5, finding 2): a declared origin may be reached on an internal address by `track`, so `discover` (archive
and `--live`) never proposes a link whose host is an internal address literal, in any spelling, or a name of the
local host (the home page a person named excepted), and `import-ota` skips a declaration fetching one. The
classification is crawler/hosts.py's, shared with the live crawl's check (crawler/addresses.py). End to end
through the CLI on the stand-in archive, stand-in sites and servers on 127.0.0.1."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime

import pytest
from standin.cli import cli_environment, run_cli, run_import_ota, write_archive_settings
from standin.hostile import RouteServer
from standin.pages import Page
from standin.sites import StandinSites
from test_discover_links import footer_page
from test_hostile import SECRET

from policy_archive.crawler.hosts import internal_host, internal_url
from policy_archive.pipeline.extraction.links import choose_link
from policy_archive.pipeline.jobs.discovery_state import save_sightings, state_file
from policy_archive.pipeline.jobs.home_pages import Sighting


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/privacy", "127.0.0.1, loopback"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, link-local"),
        ("http://10.1.2.3/", "10.1.2.3, private"),
        ("http://[fd00::1]/", "fd00::1, private"),
        ("http://[fe80::1]/", "fe80::1, link-local"),
        ("http://[::1]/", "::1, loopback"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1, loopback"),
        ("http://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe, link-local"),
        ("http://0.0.0.0/", "0.0.0.0, unspecified"),
        ("http://0/", "0 is 0.0.0.0, unspecified"),
        ("http://2130706433/", "2130706433 is 127.0.0.1, loopback"),
        ("http://0x7f000001/", "0x7f000001 is 127.0.0.1, loopback"),
        ("http://0177.0.0.1/", "0177.0.0.1 is 127.0.0.1, loopback"),
        ("http://127.1/", "127.1 is 127.0.0.1, loopback"),
        ("http://0xa9.0xfe.0xa9.0xfe/", "0xa9.0xfe.0xa9.0xfe is 169.254.169.254, link-local"),
        ("http://127.0.0.1./", "127.0.0.1. is 127.0.0.1, loopback"),
        ("http://localhost:631/", "localhost, a name of the local host"),
        ("https://Admin.LOCALHOST./", "admin.localhost., a name of the local host"),
        ("http://100.100.100.200/", "100.100.100.200, not globally routable"),
        ("http://example.org/privacy", None),
        ("http://93.184.215.14/privacy", None),
        ("http://0xdeadbeef/", None),  # 222.173.190.239: public
        ("http://localhost.example.org/", None),
        ("mailto:privacy@example.org", None),
    ],
)
def test_a_urls_host_names_an_internal_address_in_any_spelling(url, why):
    assert internal_url(url) == why


def test_only_the_host_and_port_a_person_named_is_exempt():
    named = ["http://127.0.0.1:8080"]
    assert internal_url("http://127.0.0.1:8080/legal/privacy", named) is None
    assert internal_url("https://127.0.0.1:8080/legal/privacy", named) is None
    assert internal_url("http://127.0.0.1:8081/", named) == "127.0.0.1, loopback"
    assert internal_url("http://localhost:8080/", named) == "localhost, a name of the local host"
    assert internal_host("example.org") is None


def test_an_internal_link_is_no_candidate_not_even_a_rival():
    page = footer_page(("http://127.0.0.1:9/privacy", "Privacy Policy"), ("/legal/privacy", "Privacy"))
    choice = choose_link(page.encode(), "text/html", "http://shop.test/", "privacy-policy")
    assert choice.best is not None and choice.best.url == "http://shop.test/legal/privacy"
    assert choice.rivals == () and choice.refused is None


def internal_homes(archive) -> None:
    for year in range(2016, 2020):
        at = f"{year}0301120000"
        archive.add_capture("http://il.test/", at, footer_page(("/about", "About"), ("http://127.0.0.1:9/", "Privacy")))
        base = "<base href='http://169.254.169.254/latest/'>"
        archive.add_capture("http://ib.test/", at, footer_page(("meta-data/", "Privacy Policy"), head=base))
        archive.add_capture("http://dec.test/", at, footer_page(("http://2130706433/privacy", "Privacy Policy")))
        # An internal link beside the policy's own: the policy's is taken, the other is no rival.
        links = (("http://localhost/privacy", "Privacy Policy"), ("/privacy.html", "Privacy Policy"))
        archive.add_capture("http://mixed.test/", at, footer_page(*links))


def test_discover_never_writes_a_link_to_an_internal_address_from_an_archived_page(tmp_path, standin_archive):
    internal_homes(standin_archive)
    config = write_archive_settings(tmp_path / "config", standin_archive.cdx_url, standin_archive.replay_url)
    domains = ("il.test", "ib.test", "dec.test", "mixed.test")
    result = run_cli(config, tmp_path / "data", "discover", *domains, "--write")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in (config / "services").iterdir()) == ["mixed.test.toml"]
    mixed = tomllib.loads((config / "services" / "mixed.test.toml").read_text())
    assert mixed["documents"]["privacy-policy"]["url"] == "http://mixed.test/privacy.html"
    assert not [line for line in result.stderr.splitlines() if line.startswith("UNSURE mixed.test")]
    failed = {line.split(":")[0]: line for line in result.stderr.splitlines() if line.startswith("FAILED")}
    refused = "its link naming the document is to an internal address, never proposed: "
    assert f"{refused}http://127.0.0.1:9/ (127.0.0.1, loopback)" in failed["FAILED il.test"]
    assert (
        f"{refused}http://169.254.169.254/latest/meta-data/ (169.254.169.254, link-local)" in failed["FAILED ib.test"]
    )
    assert f"{refused}http://2130706433/privacy (2130706433 is 127.0.0.1, loopback)" in failed["FAILED dec.test"]
    assert result.stderr.splitlines()[-1] == "4 domains: 1 declaration written, 0 unsure, 3 failed"


def test_discover_live_proposes_no_internal_link_but_the_named_home_pages_own(tmp_path):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    with RouteServer({"/": Page(body=SECRET)}) as secret:
        inside = footer_page(("/about", "About"), (secret.url("/"), "Privacy Policy"))
        with RouteServer({"/": Page(body=footer_page(("/legal/privacy", "Privacy Policy")).encode())}) as named:
            with StandinSites() as sites:
                sites.set_page("http://inside.test/", Page(body=inside.encode()))
                env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
                homes = ("http://inside.test", named.url("").rstrip("/"))
                result = run_cli(config, tmp_path / "data", "discover", "--live", *homes, "--write", env=env)
        assert secret.paths == []
    assert result.returncode == 1, result.stderr
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed.startswith("FAILED inside.test: today's home page could not be read: its link naming the document")
    assert f"never proposed: {secret.url('/')} (127.0.0.1, loopback)" in failed
    # The home page a person named on the command line is theirs to name: its own links are proposed.
    (written,) = (config / "services").iterdir()
    assert tomllib.loads(written.read_text())["documents"]["privacy-policy"]["url"] == named.url("/legal/privacy")


def test_import_ota_skips_a_declaration_fetching_an_internal_address(tmp_path):
    source = tmp_path / "declarations"
    source.mkdir()
    fetches = {
        "Metadata": "http://169.254.169.254/latest/meta-data/",
        "Decimal": "http://2130706433:8080/admin",
        "Local": "http://localhost:631/",
        "Fine": "https://fine.example/privacy",
    }
    for name, fetch in fetches.items():
        terms = {"Privacy Policy": {"fetch": fetch, "select": ["main"]}}
        (source / f"{name}.json").write_text(json.dumps({"name": name, "terms": terms}))
    history = {"Privacy Policy": [{"fetch": "http://10.0.0.5/privacy", "select": ["main"], "validUntil": "2020-01-01"}]}
    (source / "Fine.history.json").write_text(json.dumps(history))
    (source / "Good.json").write_text(
        json.dumps(
            {"name": "Good", "terms": {"Privacy Policy": {"fetch": "https://good.example/p", "select": ["main"]}}}
        )
    )
    config = tmp_path / "config"
    config.mkdir()
    result = run_import_ota(config, tmp_path / "data", str(source))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    failed = sorted(line for line in result.stderr.splitlines() if line.startswith("FAILED"))
    reason = "not imported: Privacy Policy: its fetch URL is to an internal address"
    assert failed == [
        f"FAILED decimal/privacy-policy: {reason} (2130706433 is 127.0.0.1, loopback), which only a declaration "
        "written by hand may name",
        f"FAILED fine/privacy-policy: {reason} (10.0.0.5, private), which only a declaration written by hand may name",
        f"FAILED local/privacy-policy: {reason} (localhost, a name of the local host), which only a declaration "
        "written by hand may name",
        f"FAILED metadata/privacy-policy: {reason} (169.254.169.254, link-local), which only a declaration written by "
        "hand may name",
    ]
    written = "".join(path.read_text() for path in (config / "services").glob("*.toml"))
    assert "good.example" in written
    for fetch in (*fetches.values(), "http://10.0.0.5/privacy"):
        if "example" not in fetch:
            assert f'url = "{fetch}"' not in written


def test_a_saved_state_holding_an_internal_link_has_those_captures_read_again(tmp_path, standin_archive):
    """A state file from a run before the rule (it kept the internal link as the page's) is not taken on trust."""
    internal_homes(standin_archive)
    config = write_archive_settings(tmp_path / "config", standin_archive.cdx_url, standin_archive.replay_url)
    data = tmp_path / "data"
    years = range(2016, 2020)
    saved = [Sighting(datetime(year, 3, 1, 12, tzinfo=UTC), "http://127.0.0.1:9/", "Privacy") for year in years]
    path = state_file(data, "il.test", "privacy-policy")
    path.parent.mkdir(parents=True)
    save_sightings(path, "privacy-policy", [("http://il.test/", sighting) for sighting in saved])
    result = run_cli(config, data, "discover", "il.test", "--write")
    assert result.returncode == 1, result.stderr
    assert not list((config / "services").iterdir())
    assert "FAILED il.test: no home-page capture could be read (4 tried: 4 × its link naming the document" in (
        result.stderr
    )
    replays = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
    assert sorted(path.split("/")[2] for path in replays) == [f"{year}0301120000id_" for year in years]
