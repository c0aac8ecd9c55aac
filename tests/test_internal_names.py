"""`discover` never proposes a link whose *name* resolves to an internal address (``127.0.0.1.nip.io``).

An address literal is refused by its spelling (tests/test_internal_links.py); a name is looked up, once per distinct
host in a run, with the project's bounded lookup. Offline: the system's resolver is replaced by a table in the
process under test (tests/standin/fixed_dns.py), which answers any other name with no address.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from standin.cli import cli_environment, run_cli_with_names, write_archive_settings
from standin.pages import Page
from standin.sites import StandinSites
from test_discover_links import footer_page

from policy_archive.crawler.hosts import NameAddresses, Proposals
from policy_archive.crawler.names import LookupTimedOut

TABLE = (
    "127.0.0.1.nip.io=127.0.0.1",
    "metadata.nip.io=93.184.216.34,169.254.169.254",
    "policies.host.test=93.184.216.34",
)
REFUSED = "its link naming the document is to an internal address, never proposed: "


def run_with_table(config: Path, data: Path, *args: str, env: dict[str, str] | None = None):
    """``policy-archive ARGS`` with name lookups answered from :data:`TABLE`."""
    return run_cli_with_names(TABLE, config, data, *args, env=env)


def lookups(stderr: str) -> list[str]:
    return [line.removeprefix("LOOKUP ") for line in stderr.splitlines() if line.startswith("LOOKUP ")]


def test_discover_refuses_a_name_resolving_inside_and_says_one_that_does_not_resolve(tmp_path, standin_archive):
    for year in range(2016, 2020):
        at = f"{year}0301120000"
        page = footer_page(("/about", "About"), ("http://127.0.0.1.nip.io/privacy", "Privacy Policy"))
        standin_archive.add_capture("http://nip.test/", at, page)
        # One address public, one internal: refused (the crawl could be sent to either).
        standin_archive.add_capture("http://meta.test/", at, footer_page(("http://metadata.nip.io/", "Privacy")))
        standin_archive.add_capture("http://pub.test/", at, footer_page(("http://policies.host.test/pub", "Privacy")))
        standin_archive.add_capture("http://gone.test/", at, footer_page(("http://gone.example/p", "Privacy")))
        # Its own host, as named, and a name under it: never looked up.
        links = (("/legal/privacy", "Privacy Policy"), ("http://www.own.test/legal/terms", "Terms"))
        standin_archive.add_capture("http://own.test/", at, footer_page(*links))
    config = write_archive_settings(tmp_path / "config", standin_archive.cdx_url, standin_archive.replay_url)
    domains = ("nip.test", "meta.test", "pub.test", "gone.test", "own.test")
    result = run_with_table(config, tmp_path / "data", "discover", *domains, "--write")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    written = sorted(path.name for path in (config / "services").iterdir())
    assert written == ["gone.test.toml", "own.test.toml", "pub.test.toml"], result.stderr
    failed = {line.split(":")[0]: line for line in result.stderr.splitlines() if line.startswith("FAILED")}
    assert (
        f"{REFUSED}http://127.0.0.1.nip.io/privacy (127.0.0.1.nip.io is 127.0.0.1, loopback)"
        in failed["FAILED nip.test"]
    )
    assert (
        f"{REFUSED}http://metadata.nip.io/ (metadata.nip.io is 169.254.169.254, link-local)"
        in failed["FAILED meta.test"]
    )
    assert set(failed) == {"FAILED nip.test", "FAILED meta.test"}
    # Kept, but said: whether it leads inside is not known.
    unchecked = [line for line in result.stderr.splitlines() if line.startswith("UNCHECKED")]
    assert unchecked == [
        "UNCHECKED gone.test http://gone.example/p: gone.example has no address (its DNS lookup found none): "
        "not known whether it leads to an internal address: look before tracking it"
    ]
    gone = tomllib.loads((config / "services" / "gone.test.toml").read_text())
    assert gone["documents"]["privacy-policy"]["url"] == "http://gone.example/p"
    # Each distinct name once in the run, however many captures link it; the named home pages' hosts never.
    names = ["127.0.0.1.nip.io", "gone.example", "metadata.nip.io", "policies.host.test"]
    assert sorted(lookups(result.stderr)) == names
    assert result.stderr.splitlines()[-1] == "5 domains: 3 declarations written, 0 unsure, 2 failed"


def test_discover_live_refuses_a_name_resolving_inside_looked_up_once(tmp_path):
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    inside = footer_page(("/about", "About"), ("http://127.0.0.1.nip.io/privacy", "Privacy Policy"))
    with StandinSites() as sites:
        sites.set_page("http://one.test/", Page(body=inside.encode()))
        sites.set_page("http://two.test/", Page(body=inside.encode()))
        elsewhere = footer_page(("http://policies.host.test/pub", "Privacy"))
        sites.set_page("http://pub.test/", Page(body=elsewhere.encode()))
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        homes = ("http://one.test", "http://two.test", "http://pub.test")
        result = run_with_table(config, tmp_path / "data", "discover", "--live", *homes, "--write", env=env)
        asked = {request.site for request in sites.requests()}

    assert result.returncode == 1, result.stderr
    failed = sorted(line for line in result.stderr.splitlines() if line.startswith("FAILED"))
    assert failed == [
        f"FAILED {domain}: today's home page could not be read: {REFUSED}http://127.0.0.1.nip.io/privacy "
        "(127.0.0.1.nip.io is 127.0.0.1, loopback)"
        for domain in ("one.test", "two.test")
    ]
    assert "127.0.0.1.nip.io" not in asked
    assert [path.name for path in (config / "services").iterdir()] == ["pub.test.toml"]
    assert sorted(lookups(result.stderr)) == ["127.0.0.1.nip.io", "policies.host.test"]


def test_a_lookup_without_an_answer_in_time_keeps_the_link_and_says_why(monkeypatch):
    def timed_out(host: str, seconds: float):
        raise LookupTimedOut(host, seconds)

    monkeypatch.setattr("policy_archive.crawler.hosts.lookup_within", timed_out)
    proposals = Proposals(("http://shop.test/",), NameAddresses(5))
    assert proposals.refusal("http://slow.example/privacy") is None
    assert proposals.unresolved("http://slow.example/privacy") == (
        "DNS lookup of slow.example gave no answer within 5 seconds (setting [wayback] timeout_seconds)"
    )
    for own in ("http://shop.test/privacy", "http://www.shop.test/privacy"):  # the named host's: not looked up
        assert proposals.refusal(own) is None and proposals.unresolved(own) is None


def test_import_ota_refuses_a_fetch_url_whose_name_resolves_inside_and_says_one_that_does_not_resolve(tmp_path):
    source = tmp_path / "declarations"
    source.mkdir()
    fetches = {
        "Nip": "http://127.0.0.1.nip.io/privacy",
        "Meta": "http://metadata.nip.io/privacy",  # one public address and one link-local: refused
        "Pub": "http://policies.host.test/pub",
        "Gone": "http://gone.example/p",
    }
    for name, fetch in fetches.items():
        terms = {"Privacy Policy": {"fetch": fetch, "select": ["main"]}}
        (source / f"{name}.json").write_text(json.dumps({"name": name, "terms": terms}))
    # An earlier URL is written too (a history entry), so it is held to the same rule.
    earlier = {"fetch": "http://127.0.0.1.nip.io/old", "select": ["main"], "validUntil": "2020-01-01"}
    (source / "Pub.history.json").write_text(json.dumps({"Privacy Policy": [earlier]}))
    config = tmp_path / "config"
    config.mkdir()
    result = run_with_table(config, tmp_path / "data", "import-ota", str(source))

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    reason = "not imported: Privacy Policy: its fetch URL is to an internal address"
    by_hand = "which only a declaration written by hand may name"
    failed = sorted(line for line in result.stderr.splitlines() if line.startswith("FAILED"))
    assert failed == [
        f"FAILED meta/privacy-policy: {reason} (metadata.nip.io is 169.254.169.254, link-local), {by_hand}",
        f"FAILED nip/privacy-policy: {reason} (127.0.0.1.nip.io is 127.0.0.1, loopback), {by_hand}",
        f"FAILED pub/privacy-policy: {reason} (127.0.0.1.nip.io is 127.0.0.1, loopback), {by_hand}",
    ]
    assert [path.name for path in (config / "services").iterdir()] == ["gone.toml"]
    unchecked = [line for line in result.stderr.splitlines() if line.startswith("UNCHECKED")]
    assert unchecked == [
        "UNCHECKED gone/privacy-policy http://gone.example/p: gone.example has no address (its DNS lookup found "
        "none): not known whether it leads to an internal address: look before tracking it"
    ]
    # Each distinct name once, however many URLs name it.
    names = ["127.0.0.1.nip.io", "gone.example", "metadata.nip.io", "policies.host.test"]
    assert sorted(lookups(result.stderr)) == names


def test_discover_live_looks_two_slow_names_up_at_once_off_the_crawl_s_thread(tmp_path):
    """Each name's lookup answers only once the other has been asked (tests/standin/fixed_dns.py, ``~``): were one
    looked up on the crawl's thread and waited for there, the other page could not be read, so its name not asked,
    before the first lookup gave up at its bound, and that name would be UNCHECKED. Both are known: the two
    lookups ran at once, neither on the crawl's thread."""
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text("[wayback]\ntimeout_seconds = 30\n")
    with StandinSites() as sites:
        for home, name in (("one.test", "slow-a.example"), ("two.test", "slow-b.example")):
            page = footer_page(("/about", "About"), (f"http://{name}/privacy", "Privacy Policy"))
            sites.set_page(f"http://{home}/", Page(body=page.encode()))
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        table = ("slow-a.example=~93.184.216.34", "slow-b.example=~93.184.216.34")
        homes = ("http://one.test", "http://two.test")
        result = run_cli_with_names(table, config, tmp_path / "data", "discover", "--live", *homes, "--write", env=env)

    assert result.returncode == 0, result.stderr
    assert "UNCHECKED" not in result.stderr and "gave no answer" not in result.stderr, result.stderr
    assert sorted(path.name for path in (config / "services").iterdir()) == ["one.test.toml", "two.test.toml"]
    written = (config / "services" / "two.test.toml").read_text()
    assert 'url = "http://slow-b.example/privacy"' in written
    assert sorted(lookups(result.stderr)) == ["slow-a.example", "slow-b.example"]  # each once: read ready after


def test_looking_up_first_asks_exactly_the_names_the_reading_asks_each_once(monkeypatch):
    asked: list[str] = []

    def lookup(host: str, seconds: float):
        asked.append(host)
        return []

    monkeypatch.setattr("policy_archive.crawler.hosts.lookup_within", lookup)
    proposals = Proposals(("http://shop.test/",), NameAddresses(5))
    # A literal, the named host and a name under it are never looked up; a name linked twice is looked up once.
    urls = (
        "http://a.example/",
        "http://www.shop.test/x",
        "http://127.0.0.1/",
        "http://b.example/",
        "http://a.example/2",
    )
    work = proposals.looking_up(lambda reading: [reading.refusal(url) for url in urls])
    assert work is not None
    work()
    assert sorted(asked) == ["a.example", "b.example"]
    refusals = [proposals.refusal(url) for url in urls]  # the reading then finds the names known
    assert refusals == [None, None, "127.0.0.1, loopback", None, None]
    assert sorted(asked) == ["a.example", "b.example"]
    assert proposals.unresolved("http://b.example/") == "b.example has no address (its DNS lookup found none)"
    assert Proposals().looking_up(lambda reading: None) is None  # literals only: nothing to look up
