"""`discover` never proposes a link whose *name* resolves to an internal address (``127.0.0.1.nip.io``).

An address literal is refused by its spelling (tests/test_internal_links.py); a name is looked up, once per distinct
host in a run, with the project's bounded lookup. Offline: the system's resolver is replaced by a table in the
process under test (tests/standin/fixed_dns.py), which answers any other name with no address.
"""

from __future__ import annotations

import json
import socket
import threading
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from standin.cli import cli_environment, run_cli_with_names, write_archive_settings
from standin.pages import Page
from standin.sites import StandinSites
from test_discover_links import footer_page

from policy_archive.crawler.hosts import LOOKUPS_AT_ONCE, NameAddresses, Proposals
from policy_archive.crawler.names import LookupTimedOut
from policy_archive.crawler.runner import StopSignal
from policy_archive.crawler.spiders.base import Continuation
from policy_archive.pipeline.jobs.discover import ListPlan, Unfinished
from policy_archive.pipeline.jobs.discovery_state import save_sightings, state_file
from policy_archive.pipeline.jobs.home_pages import Sighting
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import CaptureRef

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
        # Its own host, as named: never looked up (a name under it is: below).
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
    # Each distinct name once in the run, however many captures link it; the named home pages' hosts never (the
    # terms link under own.test is no candidate for a privacy policy: never asked).
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
    own = "http://shop.test/privacy"  # the named host itself: not looked up
    assert proposals.refusal(own) is None and proposals.unresolved(own) is None
    under = "http://www.shop.test/privacy"  # a name under it is, like any other
    assert proposals.refusal(under) is None and "www.shop.test gave no answer" in proposals.unresolved(under)


def test_a_name_under_the_named_host_is_looked_up_and_refused_when_it_leads_inside(monkeypatch):
    """The named site may link a subdomain that points inside (split-horizon DNS) or at a third party (a CNAME):
    only the named host itself is the person's choice."""
    answers = {
        "internal.example.org": "10.0.0.5",
        "www.example.org": "93.184.216.34",
        "example.org": "10.0.0.9",  # never asked: the person typed it
    }
    asked: list[str] = []

    def lookup(host: str, seconds: float):
        asked.append(host)
        return [(2, (answers[host], 0))]

    monkeypatch.setattr("policy_archive.crawler.hosts.lookup_within", lookup)
    proposals = Proposals(("http://example.org/",), NameAddresses(5))
    assert proposals.refusal("http://internal.example.org/privacy") == "internal.example.org is 10.0.0.5, private"
    assert proposals.refusal("https://www.example.org/privacy") is None
    assert proposals.refusal("https://example.org:8443/privacy") is None  # the named name, on any port
    assert asked == ["internal.example.org", "www.example.org"]


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
    # A literal and the named host are never looked up (a name under it is); a name linked twice is looked up once.
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
    assert sorted(asked) == ["a.example", "b.example", "www.shop.test"]
    refusals = [proposals.refusal(url) for url in urls]  # the reading then finds the names known
    assert refusals == [None, None, "127.0.0.1, loopback", None, None]
    assert sorted(asked) == ["a.example", "b.example", "www.shop.test"]
    assert proposals.unresolved("http://b.example/") == "b.example has no address (its DNS lookup found none)"
    assert Proposals().looking_up(lambda reading: None) is None  # literals only: nothing to look up


def test_discover_refuses_a_name_under_the_named_host_resolving_inside_and_proposes_a_public_one(
    tmp_path, standin_archive
):
    """``internal.sub.test`` → 10.0.0.5 (split-horizon DNS) and ``www.loop.test`` → 127.0.0.1, each linked by
    the named site's own home page, are refused in words; ``www.ok.test``, public, is written."""
    table = ("internal.sub.test=10.0.0.5", "www.loop.test=127.0.0.1", "www.ok.test=93.184.216.34")
    for year in range(2016, 2020):
        at = f"{year}0301120000"
        standin_archive.add_capture(
            "http://sub.test/", at, footer_page(("http://internal.sub.test/privacy", "Privacy"))
        )
        standin_archive.add_capture("http://loop.test/", at, footer_page(("http://www.loop.test/privacy", "Privacy")))
        standin_archive.add_capture("http://ok.test/", at, footer_page(("https://www.ok.test/privacy", "Privacy")))
    config = write_archive_settings(tmp_path / "config", standin_archive.cdx_url, standin_archive.replay_url)
    result = run_cli_with_names(
        table, config, tmp_path / "data", "discover", "sub.test", "loop.test", "ok.test", "--write"
    )

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    failed = {line.split(":")[0]: line for line in result.stderr.splitlines() if line.startswith("FAILED")}
    assert set(failed) == {"FAILED sub.test", "FAILED loop.test"}, result.stderr
    assert (
        f"{REFUSED}http://internal.sub.test/privacy (internal.sub.test is 10.0.0.5, private)"
        in failed["FAILED sub.test"]
    )
    assert f"{REFUSED}http://www.loop.test/privacy (www.loop.test is 127.0.0.1, loopback)" in failed["FAILED loop.test"]
    assert [path.name for path in (config / "services").iterdir()] == ["ok.test.toml"]
    ok = tomllib.loads((config / "services" / "ok.test.toml").read_text())
    assert ok["documents"]["privacy-policy"]["url"] == "https://www.ok.test/privacy"
    assert "UNCHECKED" not in result.stderr
    assert sorted(lookups(result.stderr)) == ["internal.sub.test", "www.loop.test", "www.ok.test"]


def saved_links(data: Path, domain: str, links: dict[int, str]) -> None:
    """A state file for ``domain`` as an interrupted run leaves it: each year's capture (1 March, noon) read, linking
    ``links[year]``."""
    path = state_file(data, domain, "privacy-policy")
    path.parent.mkdir(parents=True, exist_ok=True)
    sightings = [Sighting(datetime(year, 3, 1, 12, tzinfo=UTC), url, "Privacy Policy") for year, url in links.items()]
    save_sightings(path, "privacy-policy", [(f"http://{domain}/", sighting) for sighting in sightings])


def test_a_resumed_search_looks_its_saved_links_names_up_at_once_off_the_crawl_s_thread(tmp_path, standin_archive):
    """A resumed search holds its saved readings to the rule (a link found to lead inside is read again), so it
    looks up the names they link before it starts. Each of the two names here answers only once the other has
    been asked (tests/standin/fixed_dns.py, ``~``): looked up one after the other, as they were on the crawl's
    thread, the first gave no answer within its bound and was UNCHECKED; both are known, each asked once, and the
    saved readings are used as they are (no capture read again)."""
    years = range(2016, 2020)
    for year in years:
        standin_archive.add_capture("http://rs.test/", f"{year}0301120000", footer_page(("/x", "Privacy Policy")))
    config = write_archive_settings(
        tmp_path / "config", standin_archive.cdx_url, standin_archive.replay_url, timeout_seconds=30
    )
    data = tmp_path / "data"
    links = {year: f"http://slow-{'a' if year < 2018 else 'b'}.example/privacy" for year in years}
    saved_links(data, "rs.test", links)
    table = ("slow-a.example=~93.184.216.34", "slow-b.example=~93.184.216.34")
    result = run_cli_with_names(table, config, data, "discover", "rs.test", "--write")

    assert result.returncode == 0, result.stderr
    assert "UNCHECKED" not in result.stderr and "gave no answer" not in result.stderr, result.stderr
    assert sorted(lookups(result.stderr)) == ["slow-a.example", "slow-b.example"]
    assert not [request for request in standin_archive.requests if request.endpoint == "replay"]
    written = tomllib.loads((config / "services" / "rs.test.toml").read_text())["documents"]["privacy-policy"]
    assert written["url"] == "http://slow-b.example/privacy"
    assert [entry["url"] for entry in written["history"]] == ["http://slow-a.example/privacy"]


def test_a_resumed_search_reads_again_a_saved_capture_linking_a_subdomain_that_leads_inside(tmp_path, standin_archive):
    """A state file from before names under the named host were looked up may hold one that leads inside: those
    captures are read again (here they now link the policy on the named host itself). The resumed domain comes
    second in the list, so its lookups are the continuation the plan gives after the first domain's last page."""
    years = range(2016, 2020)
    for year in years:
        for domain in ("fresh.test", "rr.test"):
            page = footer_page(("/privacy", "Privacy Policy"))
            standin_archive.add_capture(f"http://{domain}/", f"{year}0301120000", page)
    config = write_archive_settings(tmp_path / "config", standin_archive.cdx_url, standin_archive.replay_url)
    data = tmp_path / "data"
    saved_links(data, "rr.test", dict.fromkeys(years, "http://intranet.rr.test/privacy"))
    table = ("intranet.rr.test=10.0.0.5",)
    result = run_cli_with_names(table, config, data, "discover", "fresh.test", "rr.test", "--write")

    assert result.returncode == 0, result.stderr
    replays = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
    read_again = [path.split("/")[2] for path in replays if "rr.test" in path]
    assert sorted(read_again) == [f"{year}0301120000id_" for year in years]
    for domain in ("fresh.test", "rr.test"):
        written = tomllib.loads((config / "services" / f"{domain}.toml").read_text())["documents"]["privacy-policy"]
        assert written["url"] == f"http://{domain}/privacy"
    assert lookups(result.stderr) == ["intranet.rr.test"]


class _Listing:
    """An archive source for :class:`ListPlan` alone: one home page's captures listed, their replay URLs named."""

    def __init__(self, refs: list[CaptureRef]) -> None:
        self.refs = refs

    def list_captures_patiently(self, url: str, client: object, since: object, until: object) -> list[CaptureRef]:
        return self.refs

    def capture_url(self, timestamp: datetime, url: str) -> str:
        return f"http://archive.test/{timestamp:%Y%m%d%H%M%S}id_/{url}"


def test_a_resumed_domain_s_lookups_are_a_continuation_run_off_the_crawl_s_thread(tmp_path, monkeypatch):
    """The plan itself: on the crawl's thread (here the test's), starting a resumed domain looks no name up; it
    gives a continuation whose work (which the spider runs with ``deferToThread``) does, on other threads, and
    whose requests then find every name known."""
    on_crawl_thread: list[str] = []
    asked: list[str] = []

    def lookup(host: str, seconds: float):
        asked.append(host)
        if threading.current_thread() is threading.main_thread():
            on_crawl_thread.append(host)
        return [(2, ("10.0.0.5" if host.startswith("intranet.") else "93.184.216.34", 0))]

    monkeypatch.setattr("policy_archive.crawler.hosts.lookup_within", lookup)
    years = range(2016, 2020)
    refs = [
        CaptureRef("http://rp.test/", datetime(year, 3, 1, 12, tzinfo=UTC), 200, "text/html", None) for year in years
    ]
    links = {2016: "http://old.example/privacy", 2017: "http://old.example/privacy"}
    saved_links(tmp_path, "rp.test", {**links, 2018: "http://intranet.rp.test/p", 2019: "http://new.example/p"})
    done: list[object] = []
    plan = ListPlan(
        ["rp.test"], "privacy-policy", _Listing(refs), None, (None, None), tmp_path,  # type: ignore[arg-type]
        Progress("discover", quiet=True), done.append, StopSignal(), NameAddresses(5),
    )  # fmt: skip

    started = list(plan.start())
    assert asked == [] and plan.unfinished() == Unfinished("rp.test", ())
    [continuation] = started
    assert isinstance(continuation, Continuation)
    worker = threading.Thread(target=continuation.work)
    worker.start()
    worker.join()
    assert sorted(asked) == ["intranet.rp.test", "new.example", "old.example"] and on_crawl_thread == []
    requests = list(continuation.then())
    # The capture linking inside is read again; nothing more was looked up on the crawl's thread.
    assert [request.ref.timestamp.year for request in requests] == [2018]
    assert sorted(asked) == ["intranet.rp.test", "new.example", "old.example"] and on_crawl_thread == []


def test_import_ota_looks_every_declaration_s_name_up_at_once(tmp_path):
    """Each of the two names answers only once the other has been asked (tests/standin/fixed_dns.py, ``~``):
    looked up one declaration after the other, the first gave no answer within its bound and was UNCHECKED. Both
    are known and each asked once; a declaration whose name leads inside is still refused in the same words."""
    source = tmp_path / "declarations"
    source.mkdir()
    fetches = {"Aa": "http://slow-a.example/p", "Bb": "http://slow-b.example/p", "Nip": "http://127.0.0.1.nip.io/p"}
    for name, fetch in fetches.items():
        terms = {"Privacy Policy": {"fetch": fetch, "select": ["main"]}}
        (source / f"{name}.json").write_text(json.dumps({"name": name, "terms": terms}))
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text("[wayback]\ntimeout_seconds = 30\n")
    table = ("slow-a.example=~93.184.216.34", "slow-b.example=~93.184.216.34", "127.0.0.1.nip.io=127.0.0.1")
    result = run_cli_with_names(table, config, tmp_path / "data", "import-ota", str(source))

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "UNCHECKED" not in result.stderr and "gave no answer" not in result.stderr, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("FAILED")] == [
        "FAILED nip/privacy-policy: not imported: Privacy Policy: its fetch URL is to an internal address "
        "(127.0.0.1.nip.io is 127.0.0.1, loopback), which only a declaration written by hand may name"
    ]
    assert sorted(path.name for path in (config / "services").iterdir()) == ["aa.toml", "bb.toml"]
    assert sorted(lookups(result.stderr)) == ["127.0.0.1.nip.io", "slow-a.example", "slow-b.example"]


def test_look_up_all_looks_up_at_most_its_bound_at_once(monkeypatch):
    """Twice as many names as may be looked up at once: each lookup answers only once the bound's worth of lookups
    are under way together (a barrier), so the names are looked up in two full rounds, never more at once."""
    under_way = 0
    most = 0
    counting = threading.Lock()
    meeting = threading.Barrier(LOOKUPS_AT_ONCE)

    def lookup(host: str, seconds: float):
        nonlocal under_way, most
        with counting:
            under_way += 1
            most = max(most, under_way)
        meeting.wait(300)  # past any load: a barrier never met fails the test (BrokenBarrierError) rather than hangs
        with counting:
            under_way -= 1
        return [(socket.AF_INET, ("93.184.216.34", 0))]

    monkeypatch.setattr("policy_archive.crawler.hosts.lookup_within", lookup)
    names = NameAddresses(5)
    hosts = [f"name{index}.example" for index in range(2 * LOOKUPS_AT_ONCE)]
    names.look_up_all([*hosts, hosts[0]])
    assert most == LOOKUPS_AT_ONCE
    assert not meeting.broken
    assert [names.internal(host) for host in hosts] == [None] * len(hosts)
    assert names.unresolved == {}
