"""`discover` on a generated site history (tests/standin/moving_site.py) served by the stand-in archive."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

from standin import https_move
from standin.archive import StandinArchive
from standin.cli import WAIT_SECONDS, cli_environment, run_cli, run_cli_with_names, write_archive_settings
from standin.moving_site import SITE, build
from standin.pages import Page, redirect
from standin.sites import StandinSites

from policy_archive.config.declarations import load_service
from policy_archive.config.settings import load_config
from policy_archive.pipeline.commands.discovery import service_id_of
from policy_archive.pipeline.extraction.links import choose_link
from policy_archive.records import iso_z

# The moving site serves DOMAIN's pages on www.DOMAIN, the https move on www.shop.test: names under the home page a
# person names, which discover looks up before it proposes them. Answered public from a table
# (tests/standin/fixed_dns.py), so these runs ask no name server.
SITE_DOMAINS = ("example.org", "moving.example", "other.example", "one.example", "two.example", "three.example")
SITE_NAMES = tuple(f"www.{domain}=93.184.216.34" for domain in (*SITE_DOMAINS, https_move.DOMAIN))


def run_discover(config: Path, data: Path, *args: str, timeout: float = WAIT_SECONDS):
    """``policy-archive ARGS`` with :data:`SITE_NAMES` answered (unsaid: stderr stays the command's own)."""
    return run_cli_with_names(SITE_NAMES, config, data, *args, said=False, timeout=timeout)


def write_settings(config: Path, archive: StandinArchive) -> Path:
    write_archive_settings(config, archive.cdx_url, archive.replay_url)
    return config


def test_three_url_eras_are_found_with_the_last_day_each_old_url_was_linked(tmp_path, standin_archive):
    truth = build(standin_archive)
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_discover(config, tmp_path / "data", "discover", "example.org", timeout=300)
    assert result.returncode == 0, result.stderr
    declaration = tomllib.loads(result.stdout)
    document = declaration["documents"]["privacy-policy"]
    assert declaration["name"] == "example.org"
    assert document["url"] == truth[-1].url == f"{SITE}/privacy"
    assert [(entry["url"], entry["valid_until"]) for entry in document["history"]] == [
        (era.url, era.last_day.isoformat()) for era in truth[:-1]
    ]
    assert "UNREADABLE" in result.stderr and "JavaScript shell" in result.stderr
    # One meaning of "read" (check of 2026-11-29: the domain's line counted the unreadable captures read too, the
    # progress line not): the captures whose page was read, the unreadable ones counted apart, on both lines.
    unreadable = len([line for line in result.stderr.splitlines() if line.startswith("UNREADABLE ")])
    (domain_line,) = [line for line in result.stderr.splitlines() if line.startswith("example.org: ")]
    counts = re.search(r"listed, (\d+) read, (\d+) unreadable \(", domain_line)
    assert counts is not None and int(counts[2]) == unreadable, domain_line
    summary = [line for line in result.stderr.splitlines() if line.startswith("discover: 1/1 domain")][-1]
    assert f", {counts[1]} read, {counts[2]} unreadable, " in summary, (summary, domain_line)
    replay = standin_archive.counts()["replay"]
    listed = len([r for r in standin_archive.requests if r.endpoint == "cdx"])
    # The change-point search reads a fraction of the ~190 home-page captures.
    assert replay < 80, replay
    assert listed >= 1

    # Resumable: a second run reads nothing again and prints the same declaration.
    standin_archive.clear_log()
    again = run_discover(config, tmp_path / "data", "discover", "example.org", timeout=300)
    assert again.returncode == 0 and again.stdout == result.stdout
    assert standin_archive.counts()["replay"] == 0
    # --quiet: the declaration and the reason for each capture not used; no progress, no counts.
    quiet = run_discover(config, tmp_path / "data", "-q", "discover", "example.org", timeout=300)
    assert quiet.returncode == 0 and quiet.stdout == result.stdout
    assert quiet.stderr.splitlines() == [line for line in result.stderr.splitlines() if line.startswith("UNREADABLE ")]
    assert quiet.stderr, "the unreadable captures are still named"
    state = json.loads((tmp_path / "data" / "discovery" / "example.org.privacy-policy.json").read_text())
    assert len(state["sightings"]) >= 10


def test_write_makes_a_service_file_that_backfill_uses_for_every_url(tmp_path, standin_archive):
    truth = build(standin_archive, years=11)
    config = write_settings(tmp_path / "config", standin_archive)
    data = tmp_path / "data"
    written = run_discover(config, data, "discover", "example.org", "--service", "example", "--write", timeout=300)
    assert written.returncode == 0, written.stderr
    (declaration,) = load_config(config).documents
    assert declaration.key == "example/privacy-policy"
    assert [entry.url for entry in declaration.history] + [declaration.url] == [era.url for era in truth]
    refused = run_discover(config, data, "discover", "example.org", "--service", "example", "--write", timeout=300)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (
        run_discover(config, data, "discover", "example.org", "--service", "example", "--write", "--force").returncode
        == 0
    )

    backfill = run_cli(config, data, "backfill", timeout=300)
    assert backfill.returncode == 0, backfill.stderr
    log = run_cli(config, data, "log", "example/privacy-policy")
    snapshots = log.stdout
    # One version per URL era; the stale old URLs, still captured after each move, give none.
    for era in truth:
        assert era.url.split("example.org", 1)[1] in snapshots
    assert len(log.stdout.strip().splitlines()) == len(truth), log.stdout


def test_a_domain_without_captures_or_links_fails_plainly(tmp_path, standin_archive):
    standin_archive.add_capture(
        "https://nolinks.example/", "20150101000000", "<html><body><a href='/x'>x</a></body></html>"
    )
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "nolinks.example")
    assert result.returncode == 1
    assert "FAILED nolinks.example: no privacy-policy link found" in result.stderr
    assert "Traceback" not in result.stderr
    empty = run_cli(config, tmp_path / "data", "discover", "nothing.example")
    assert empty.returncode == 1 and "FAILED nothing.example" in empty.stderr
    shell = "<html><body><div id='app'></div></body></html>"
    for stamp in ("20150101000000", "20160101000000"):
        standin_archive.add_capture("https://shell.example/", stamp, shell)
    shells = run_cli(config, tmp_path / "data", "discover", "shell.example")
    assert shells.returncode == 1
    assert (
        "FAILED shell.example: no home-page capture could be read (2 tried: 2 × no links at all (a JavaScript "
        "shell or an empty page))" in shells.stderr
    ), shells.stderr
    standin_archive.block("http://blocked.example/")
    blocked = run_cli(config, tmp_path / "data", "discover", "blocked.example")
    assert blocked.returncode == 1
    assert "FAILED blocked.example: archive listing failed:" in blocked.stderr and "Traceback" not in blocked.stderr


def test_a_listing_of_another_domains_home_page_fails_the_domain(tmp_path, standin_archive):
    """The audit's case: asked for one domain's home page, the archive answered another's rows."""
    build(standin_archive, years=1)
    standin_archive.list_rows_of("http://other.example/", f"{SITE}/")
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "other.example")
    assert result.returncode == 1 and result.stdout == ""
    assert (
        "FAILED other.example: archive listing failed: cannot list the captures of http://other.example/: the "
        f"archive listed a capture of another URL, '{SITE}/' (20100101093000)" in result.stderr
    ), result.stderr
    assert standin_archive.counts()["replay"] == 0


def test_links_are_found_by_text_and_url_in_four_languages_and_the_footer_weighs_more():
    base = "https://www.example.com/"
    for text in ("Privacy", "Privacy & Cookies", "Politique de confidentialité", "Datenschutz", "Privacidad"):
        page = f"<html><body><footer><a href='/p'>{text}</a></footer></body></html>".encode()
        assert choose_link(page, "text/html; charset=utf-8", base, "privacy-policy").best.url == base + "p"
    body_and_footer = (
        b"<html><body><main><p><a href='/blog/privacy-2015'>Our new privacy tools</a></p></main>"
        b"<div id='footer'><a href='/legal/privacy'>Privacy Policy</a></div></body></html>"
    )
    choice = choose_link(body_and_footer, None, base, "privacy-policy")
    assert choice.best.url == base + "legal/privacy" and not choice.rivals
    two = (
        b"<html><body><footer><a href='/a/privacy'>Privacy</a> <a href='/b/privacy'>Privacy</a></footer></body></html>"
    )
    assert choose_link(two, None, base, "privacy-policy").rivals
    terms = b"<html><body><footer><a href='/agb'>AGB</a><a href='/privacy'>Privacy</a></footer></body></html>"
    assert choose_link(terms, None, base, "terms-of-service").best.url == base + "agb"
    # By URL when the text says nothing of it ("Rechtliches": legal), inside the footer.
    by_url = b"<html><body><footer><a href='/about'>About</a> <a href='/de/datenschutz.html'>Rechtliches</a></footer>"
    assert choose_link(by_url, None, base, "privacy-policy").best.url == base + "de/datenschutz.html"
    for text in ("Cookie Policy", "Politique de cookies", "Cookie-Richtlinie", "Uso de cookies"):
        cookies = f"<html><body><footer><a href='/privacy'>Privacy</a><a href='/c'>{text}</a></footer></body></html>"
        assert choose_link(cookies.encode(), None, base, "cookie-policy").best.url == base + "c", text
    # Hrefs urllib cannot split (an unclosed IPv6 bracket, a port out of range) are no link, not an error; nor is
    # one with credentials, which no service file may declare.
    broken = (
        b"<footer><a href='http://[x/privacy'>Privacy</a><a href='http://a:99999/p'>Privacy</a>"
        b"<a href='https://user:secret@www.example.com/privacy'>Privacy</a></footer>"
    )
    assert choose_link(broken, None, base, "privacy-policy").best is None


def test_live_reads_todays_home_page_and_proposes_the_current_url(tmp_path):
    with StandinSites() as sites:
        sites.set_page("http://shop.test/", redirect("http://shop.test/de/"))
        sites.set_page(
            "http://shop.test/de/",
            Page(
                body=b"<html><body><p><a href='/news'>Neue Datenschutz-Tools</a></p><footer>"
                b"<a href='/de/datenschutzerklaerung'>Datenschutzerkl\xc3\xa4rung</a></footer></body></html>",
                content_type="text/html; charset=utf-8",
            ),
        )
        config = tmp_path / "config"
        (config / "services").mkdir(parents=True)
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        result = run_cli(config, tmp_path / "data", "discover", "http://shop.test", "--live", env=env)
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "http://shop.test/de/datenschutzerklaerung"
    assert "history" not in document


def test_a_domain_that_is_not_a_host_name_is_a_usage_error(tmp_path, standin_archive):
    config = write_settings(tmp_path / "config", standin_archive)
    for domain in ("../../etc", "example.org/privacy", "exa mple.org", ".example.org", "bü..example", "b ü.example"):
        result = run_cli(config, tmp_path / "data", "discover", domain)
        assert result.returncode == 2, (domain, result.stderr)
        assert "DOMAIN must be a host name" in result.stderr
    assert not (tmp_path / "data").exists()


def test_an_internationalised_domain_is_searched_in_its_ascii_form(tmp_path, standin_archive):
    # The archive lists a host as browsers send it: in punycode (IDNA 2008 + UTS #46).
    page = "<html><body><footer><a href='/datenschutz'>Datenschutz</a></footer></body></html>"
    standin_archive.add_capture("https://xn--bcher-kva.example/", "20150101000000", page)
    standin_archive.add_capture("https://xn--strae-oqa.example/", "20150101000000", page)
    config = write_settings(tmp_path / "config", standin_archive)
    one = run_cli(config, tmp_path / "data", "discover", "Bücher.example")
    assert one.returncode == 0, one.stderr
    assert (
        tomllib.loads(one.stdout)["documents"]["privacy-policy"]["url"] == "https://xn--bcher-kva.example/datenschutz"
    )
    listing = tmp_path / "domains.txt"
    listing.write_text("https://BÜCHER.example/\nstraße.example  # not strasse.example (IDNA 2003)\n", encoding="utf-8")
    output = tmp_path / "services"
    several = run_cli(config, tmp_path / "data", "discover", "--from", str(listing), "--output", str(output))
    assert several.returncode == 0, several.stderr
    assert sorted(path.name for path in output.iterdir()) == [
        "xn--bcher-kva.example.toml",
        "xn--strae-oqa.example.toml",
    ]


def test_two_equally_likely_links_make_an_unsure_era_exit_1(tmp_path, standin_archive):
    two = "<html><body><footer><a href='/a/privacy'>Privacy</a> <a href='/b/privacy'>Privacy</a></footer></body></html>"
    one = "<html><body><footer><a href='/b/privacy'>Privacy Policy</a></footer></body></html>"
    standin_archive.add_capture("https://twice.example/", "20150101000000", two)
    standin_archive.add_capture("https://twice.example/", "20160101000000", one)
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "twice.example")
    assert result.returncode == 1
    assert "UNSURE twice.example 2015-01-01" in result.stderr and "other links as likely" in result.stderr
    assert tomllib.loads(result.stdout)["documents"]["privacy-policy"]["url"] == "https://twice.example/b/privacy"


def test_what_an_archived_page_says_reaches_stderr_and_the_declaration_as_one_line(tmp_path, standin_archive):
    # Link URLs and texts come from archived pages: an ESC, a bidi override or a space in them is written
    # percent-encoded in the URL (as a browser sends it) and escaped on stderr, so no page can print a line.
    page = (
        "<html><body><footer><a href='/a/privacy\x1b[2J\u202e.html'>Privacy\x1b[31m</a> "
        "<a href='/b/priv acy'>Privacy</a></footer></body></html>"
    )
    standin_archive.add_capture("https://odd.example/", "20150101000000", page)
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "odd.example")
    assert result.returncode == 1, result.stderr  # two links as likely: unsure
    (unsure,) = [line for line in result.stderr.splitlines() if line.startswith("UNSURE")]
    assert "\x1b" not in result.stderr + result.stdout and "\u202e" not in result.stderr + result.stdout
    assert unsure == (
        "UNSURE odd.example 2015-01-01 … 2015-01-01: https://odd.example/a/privacy%1B[2J%E2%80%AE.html (linked as "
        "'Privacy\\x1b[31m'), 1 home-page capture read: other links as likely: https://odd.example/b/priv%20acy"
    )
    written = tmp_path / "config" / "services"
    again = run_cli(config, tmp_path / "data", "discover", "odd.example", "--write")
    assert again.returncode == 1, again.stderr
    (declaration,) = load_config(config).documents  # the loader refuses a url with a space or a control character
    assert declaration.url == "https://odd.example/a/privacy%1B[2J%E2%80%AE.html"
    assert (written / "odd.example.toml").is_file()


def test_since_and_until_bound_the_home_page_captures_read(tmp_path, standin_archive):
    truth = build(standin_archive)
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_discover(
        config, tmp_path / "data", "discover", "example.org", "--since", "2015-01-01", "--until", "2020-12-31"
    )
    assert result.returncode == 0, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == truth[2].url
    assert [(e["url"], e["valid_until"]) for e in document["history"]] == [
        (truth[1].url, truth[1].last_day.isoformat())
    ]
    backwards = run_cli(
        config, tmp_path / "data", "discover", "example.org", "--since", "2020-01-01", "--until", "2019-01-01"
    )
    assert backwards.returncode == 2


def test_an_era_without_a_link_between_two_is_unsure_and_the_url_kept(tmp_path, standin_archive):
    linked = "<html><body><footer><a href='/about'>About</a> <a href='/privacy'>Privacy</a></footer></body></html>"
    unlinked = "<html><body><footer><a href='/about'>About</a></footer></body></html>"
    for stamp, page in (("20150101000000", linked), ("20160101000000", unlinked), ("20170101000000", linked)):
        standin_archive.add_capture("https://gap.example/", stamp, page)
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "gap.example")
    assert result.returncode == 1, result.stderr
    assert "UNSURE gap.example 2016-01-01 … 2016-01-01: no link found" in result.stderr
    assert "no link to the document found" in result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == "https://gap.example/privacy" and "history" not in document


# One address spelled as pages spell it: relative or absolute, scheme and host in capitals, the default port,
# percent-escapes of unreserved characters, a space, fragments. Each era's spellings are one URL.
ODD_ERAS = (
    ("https://odd.example/Privacy%20Policy.html", date(2010, 1, 1),
     ("/Privacy Policy.html", "HTTPS://ODD.EXAMPLE:443/Privacy%20Policy.html#top", "Privacy%20Policy.html#")),
    ("https://odd.example/legal/~privacy", date(2012, 5, 1),
     ("/legal/%7Eprivacy", "https://Odd.Example/legal/~privacy#s2", "//odd.example:443/legal/%7eprivacy")),
    ("https://odd.example/privacy", date(2014, 9, 1),
     ("/privacy#cookies", "HTTPS://odd.example:443/privacy", "https://odd.example/%70rivacy#")),
)  # fmt: skip


def build_odd_links(archive: StandinArchive) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Home-page captures of odd.example every 40 days for six years, each era's link spelled three ways in
    turn. Returns each capture's link as the page wrote it, made absolute (by capture time, ``iso_z``), and the
    true declaration: (url, valid_until) of each earlier URL, then (url, "")."""
    raw: dict[str, str] = {}
    last_day: dict[str, date] = {}
    moment = datetime(2010, 1, 1, 12, tzinfo=UTC)
    for number in range(55):
        url, _, spellings = [era for era in ODD_ERAS if era[1] <= moment.date()][-1]
        href = spellings[number % len(spellings)]
        page = f"<html><body><p>News</p><footer><a href='{href}'>Privacy Policy</a></footer></body></html>"
        archive.add_capture("https://odd.example/", moment.strftime("%Y%m%d%H%M%S"), page)
        raw[iso_z(moment)] = urljoin("https://odd.example/", href)
        last_day[url] = moment.date()
        moment += timedelta(days=40)
    truth = [(url, last_day[url].isoformat()) for url, _, _ in ODD_ERAS[:-1]] + [(ODD_ERAS[-1][0], "")]
    return raw, truth


def declared(stdout: str) -> list[tuple[str, str]]:
    document = tomllib.loads(stdout)["documents"]["privacy-policy"]
    history = [(entry["url"], entry["valid_until"]) for entry in document.get("history", [])]
    return history + [(document["url"], "")]


def test_a_rerun_from_a_saved_state_of_raw_link_urls_gives_the_eras_of_a_fresh_run(tmp_path, standin_archive):
    """A state file written before links were spelled one way kept them as pages wrote them: read again, they
    are spelled as a fresh run spells them, so a resumed run and a fresh run give the same declaration."""
    raw, truth = build_odd_links(standin_archive)
    config = write_settings(tmp_path / "config", standin_archive)
    fresh = run_cli(config, tmp_path / "fresh", "discover", "odd.example", timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    assert declared(fresh.stdout) == truth
    fresh_reads = standin_archive.counts()["replay"]
    state_name = Path("discovery") / "odd.example.privacy-policy.json"
    saved = json.loads((tmp_path / "fresh" / state_name).read_text(encoding="utf-8"))
    for sighting in saved["sightings"]:  # as an earlier version kept them: the page's spelling, made absolute
        sighting["url"] = raw[sighting["timestamp"]]
    assert len({sighting["url"] for sighting in saved["sightings"]}) > 2 * len(truth)  # several spellings each

    # Interrupted halfway (the first half of what was read is kept), then resumed; and read again whole.
    half = {**saved, "sightings": saved["sightings"][: len(saved["sightings"]) // 2]}
    for name, state in (("resumed", half), ("rerun", saved)):
        (tmp_path / name / state_name).parent.mkdir(parents=True)
        (tmp_path / name / state_name).write_text(json.dumps(state), encoding="utf-8")
        standin_archive.clear_log()
        again = run_cli(config, tmp_path / name, "discover", "odd.example", timeout=300)
        assert again.returncode == 0, again.stderr
        assert declared(again.stdout) == truth, name
        reads = standin_archive.counts()["replay"]
        assert reads == 0 if state is saved else 0 < reads < fresh_reads, (name, reads)
    # Read again whole, nothing is asked and the declaration is the fresh run's to the letter (its eras' comments
    # count the captures read, which a resumed search may choose a little differently).
    assert again.stdout == fresh.stdout


def test_a_home_page_moved_to_https_and_www_gives_its_eras_with_nothing_unreadable(tmp_path, standin_archive):
    """From 2016 every home-page capture is the commonest real pair: an archived 301 from http://shop.test/ to
    https://www.shop.test/ (a self-redirect, one key) and the page 5 s later. The archive skips the 301 for the
    page (as the Wayback Machine and pywb do): no capture is unreadable, and the two eras come out right, the
    old link's last day that of its last capture (acceptance report 4, finding 8)."""
    truth = https_move.build(standin_archive, lambda changed, n: f"<html><body><main>policy {n}</main></body></html>")
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_discover(config, tmp_path / "data", "discover", https_move.DOMAIN, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "UNREADABLE" not in result.stderr and "UNSURE" not in result.stderr, result.stderr
    document = tomllib.loads(result.stdout)["documents"]["privacy-policy"]
    assert document["url"] == f"{https_move.HTTPS_SITE}/legal/privacy"
    assert [(entry["url"].split(https_move.DOMAIN, 1)[1], entry["valid_until"]) for entry in document["history"]] == [
        ("/privacy.html", truth.old_link_last_day.isoformat())
    ]


def test_home_page_captures_dated_in_the_future_are_refused_and_said(tmp_path, standin_archive):
    """As backfill refuses them (tests/test_future_dates.py): a home-page row listed in 2099 is never read (read, it
    was the latest capture and its link was proposed as today's URL), and a row whose replay the archive dates in
    2099 (an archived redirect to a page only captured then) is unreadable, each with its reason on stderr."""
    home = "http://future.example/"
    page = "<html><body><footer><a href='/{}'>Privacy Policy</a></footer></body></html>"
    standin_archive.add_capture(home, "20150101000000", page.format("privacy"))
    standin_archive.add_capture(home, "20150301000000", page.format("privacy"))
    standin_archive.add_capture(home, "20150401000000", b"", status=301, location="http://future.example/en/")
    standin_archive.add_capture("http://future.example/en/", "20990101000000", page.format("en/privacy-2099"))
    standin_archive.add_capture(home, "20990101000000", page.format("privacy-2099"))
    config = write_settings(tmp_path / "config", standin_archive)
    result = run_cli(config, tmp_path / "data", "discover", "future.example")
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["documents"]["privacy-policy"]["url"] == "http://future.example/privacy"
    listed = (
        "future.example: capture 20990101000000 refused: dated in the future: listed at 2099-01-01T00:00:00Z, more"
        " than 1 day after this run began ("
    )
    assert listed in result.stderr, result.stderr
    served = (
        "UNREADABLE future.example 2015-04-01T00:00:00Z: dated in the future: the archive dates the bytes it served"
        " 2099-01-01T00:00:00Z, more than 1 day after this run began ("
    )
    assert served in result.stderr, result.stderr
    replayed = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
    assert replayed and f"/web/20990101000000id_/{home}" not in replayed, replayed  # the row listed in 2099
    # Such a reading is not kept: the next run asks again (the archive's date may be put right by then).
    state = json.loads((tmp_path / "data" / "discovery" / "future.example.privacy-policy.json").read_text())
    assert [sighting["timestamp"] for sighting in state["sightings"]] == [
        "2015-01-01T00:00:00Z",
        "2015-03-01T00:00:00Z",
    ]
    # Only rows dated in the future: the failure says they were refused, not that nothing was listed.
    standin_archive.add_capture("http://later.example/", "20990101000000", page.format("privacy"))
    later = run_cli(config, tmp_path / "data", "discover", "later.example")
    assert later.returncode == 1
    assert (
        "FAILED later.example: the archive lists no capture of its home page other than 1 capture dated in the"
        " future (refused)" in later.stderr
    ), later.stderr


def test_the_default_service_id_leaves_out_a_leading_www(tmp_path, standin_archive):
    """``discover www.acme.test`` declares the service ``acme.test`` (the site, as ``discover acme.test`` names it),
    searching and naming the home page as given; ``--service`` still names it as asked."""
    page = "<html><body><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    standin_archive.add_capture("https://www.acme.test/", "20150101000000", page)
    config = write_settings(tmp_path / "config", standin_archive)
    output = tmp_path / "services"
    written = run_cli(config, tmp_path / "data", "discover", "www.acme.test", "--output", str(output))
    assert written.returncode == 0, written.stderr
    assert sorted(path.name for path in output.iterdir()) == ["acme.test.toml"]
    declaration = tomllib.loads((output / "acme.test.toml").read_text())
    assert declaration["name"] == "www.acme.test"
    assert declaration["documents"]["privacy-policy"]["url"] == "https://www.acme.test/privacy"
    # Into another directory: acme.test.toml declares the page already (one page is never two services).
    named = run_cli(config, tmp_path / "data", "discover", "www.acme.test", "--service", "www-acme", "--output",
                    str(tmp_path / "named"))  # fmt: skip
    assert named.returncode == 0 and (tmp_path / "named" / "www-acme.toml").is_file(), named.stderr
    assert [service_id_of(d) for d in ("www.acme.test:8080", "www.com", "wwwx.acme.test", "shop.test:8080")] == [
        "acme.test-8080",
        "www.com",
        "wwwx.acme.test",
        "shop.test-8080",
    ]


def test_a_page_another_service_file_declares_is_not_written_under_a_second_service(tmp_path, standin_archive):
    """``discover --write`` refuses a declaration whose URL is a page another service file declares (here under
    the id discover gave before it left out ``www.``): both would be fetched, tracked and recorded twice. One
    domain: a usage error as for a file that declares the document already (exit 2); a list: that domain fails."""
    page = "<html><body><footer><a href='/privacy'>Privacy Policy</a></footer></body></html>"
    standin_archive.add_capture("https://www.acme.test/", "20150101000000", page)
    standin_archive.add_capture("https://other.test/", "20150101000000", page)
    config = write_settings(tmp_path / "config", standin_archive)
    services = config / "services"
    services.mkdir(parents=True, exist_ok=True)
    other = services / "www.acme.test.toml"
    # The same page written otherwise (http, no www.): validate's notion of one page.
    other.write_text('name = "Acme"\n[documents.terms]\nurl = "http://acme.test/privacy"\n')
    refusal = f"{other} already declares its terms at this page (https://www.acme.test/privacy): acme.test.toml"
    alone = run_cli(config, tmp_path / "data", "discover", "www.acme.test", "--write")
    assert alone.returncode == 2, alone.stderr
    ending = f"{refusal} not written (edit or delete that file)"
    assert alone.stderr.splitlines()[-1] == f"policy-archive: configuration error: {ending}"
    assert sorted(path.name for path in services.iterdir()) == ["www.acme.test.toml"]

    listed = run_cli(config, tmp_path / "data", "discover", "www.acme.test", "other.test", "--write", "-q")
    assert listed.returncode == 1, listed.stderr
    assert [line for line in listed.stderr.splitlines() if line.startswith("FAILED")] == [
        f"FAILED www.acme.test: {ending}"
    ]
    assert sorted(path.name for path in services.iterdir()) == ["other.test.toml", "www.acme.test.toml"]
    # The service's own file may declare the page again (its terms and privacy policy on one page).
    same = run_cli(config, tmp_path / "data", "discover", "www.acme.test", "--service", "www.acme.test", "--write")
    assert same.returncode == 0, same.stderr
    assert {d.document_id for d in load_service(other)} == {"terms", "privacy-policy"}
