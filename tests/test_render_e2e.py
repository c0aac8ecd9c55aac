"""End to end: JavaScript pages rendered in headless Chromium (scrapy-playwright), live and from the archive.

The stand-in single-page application (:func:`standin.scripted_policy.scripted_policy`) is a script shell over HTTP: an
inline script writes its heading, an external script fetches its sections as JSON and shows them only after a
delay. Only a browser that ran both and waited for the text gets the policy. Assertions are on content (what was
recorded, what was requested), never on timing.

Needs Chromium (``apt-get install chromium``, as ``.ci/run`` does) and the ``browser`` extra; without them these
tests are skipped with the reason, and ``test_render_unavailable.py`` shows what a user then gets.
"""

from __future__ import annotations

import asyncio
import glob
import gzip
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.settings.default_settings import REDIRECT_MAX_TIMES
from standin.archive import StandinArchive
from standin.capture import payload_digest
from standin.cli import WAIT_SECONDS, cli_command, cli_environment, git, progress_counts, run_cli_with_names
from standin.hostile import RouteServer
from standin.legal_text import policy_page
from standin.pages import Page, held, javascript_shell, json_data, redirect, robots_txt, slow
from standin.scripted_policy import (
    SCRIPT_PATH,
    add_scripted_policy,
    archive_scripted_policy,
    archive_settings,
    policy_script,
    scripted_policy,
)
from standin.sites import StandinSites
from warcio.archiveiterator import ArchiveIterator

from policy_archive.crawler.render import extra_installed, system_chromium

pytestmark = pytest.mark.skipif(
    not extra_installed() or system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)

DELAY_MS = 700
JS = "text/javascript"
INTRO = "This privacy policy explains how Spa processes the personal data of the people using its services."
DELAYED = "Cookies and similar technologies are described in the section shown after a delay."


def sections(revision: int = 0) -> dict[str, object]:
    return {
        "intro": INTRO,
        "sections": [
            {
                "heading": "Personal data we collect",
                "paragraphs": [
                    f"Revision {revision}: we collect the personal information you give us when you register an "
                    "account, contact our support team or subscribe to our newsletter, and the data your device "
                    "sends when you use our services.",
                    DELAYED,
                ],
            }
        ],
    }


def add_spa(sites: StandinSites, host: str, revision: int = 0, data_delay: float = 0.0) -> str:
    """A single-page application at ``http://HOST/privacy``; return its URL."""
    return add_scripted_policy(sites, host, sections(revision), DELAY_MS, data_delay)


def write_config(directory: Path, documents: dict[str, tuple[str, str]], settings: str = "") -> Path:
    """``documents``: service id → (URL, render mode) of its privacy policy."""
    (directory / "services").mkdir(parents=True)
    (directory / "settings.toml").write_text(f"[wayback]\ntimeout_seconds = 10\n{settings}")
    for service, (url, render) in documents.items():
        (directory / "services" / f"{service}.toml").write_text(
            f'name = "{service.title()}"\n[documents.privacy-policy]\nurl = "{url}"\nrender = "{render}"\n'
        )
    return directory


# The stand-in sites' names that no configuration here declares (a redirect's hop, a page's scripts on another
# site): track looks each one up for its address check (crawler/addresses.py), so they are answered from a table
# (tests/standin/fixed_dns.py), a public address each, and no name server is asked; any other name has none.
SITE_NAMES = ("www.spa.test=93.184.216.34", "cdn.test=93.184.216.34", "tracker.test=93.184.216.34")


def run_cli(
    config: Path, data: Path, *args: str, env: dict[str, str] | None = None, timeout: float = WAIT_SECONDS
) -> subprocess.CompletedProcess[str]:
    """``policy-archive ARGS``, names answered from :data:`SITE_NAMES` (no ``LOOKUP`` lines: stderr as the CLI's)."""
    return run_cli_with_names(SITE_NAMES, config, data, *args, env=env, said=False, timeout=timeout)


def environment(sites: StandinSites, **extra: str) -> dict[str, str]:
    return cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost", **extra)


def warc_records(data: Path) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """(type, target URI, payload, WARC headers) of every record of every WARC file, in file order."""
    found = []
    for name in sorted(glob.glob(str(data / "captures" / "*.warc.gz"))):
        with open(name, "rb") as handle:
            for record in ArchiveIterator(handle):
                headers = dict(record.rec_headers.headers)
                found.append(
                    (record.rec_type, headers.get("WARC-Target-URI", ""), record.content_stream().read(), headers)
                )
    return found


def page_records(data: Path, url: str) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """The records of a page fetched at ``url``: its response, and the rendered DOM's resource, filed under
    ``urn:rendered:URL`` so that a replay tool serves the response for the page's URL (decision 0012)."""
    return [r for r in warc_records(data) if r[1] in (url, f"urn:rendered:{url}")]


def catalog_rows(data: Path) -> list[tuple[str, str, int, str | None]]:
    with sqlite3.connect(data / "catalog.sqlite3") as connection:
        return connection.execute("SELECT document, outcome, rendered, reason FROM captures ORDER BY id").fetchall()


def version_text(data: Path, service: str) -> str:
    return (data / "versions" / service[0] / service / "privacy-policy.md").read_text()


def test_auto_renders_a_script_shell_and_keeps_raw_bytes_and_rendered_dom(sites: StandinSites, tmp_path: Path):
    url = add_spa(sites, "spa.test")
    plain = sites.set_page("http://plain.test/privacy", policy_page("plain.test", "privacy-policy", size=5_000))
    config = write_config(tmp_path / "config", {"spa": (url, "auto"), "plain": (plain, "auto")})
    data = tmp_path / "data"

    first = run_cli(config, data, "track", env=environment(sites))
    assert first.returncode == 0, first.stderr
    text = version_text(data, "spa")
    assert "# spa.test Privacy Policy" in text
    assert INTRO in text and DELAYED in text, "inline, external and delayed text all rendered"
    assert "Loading the policy" not in text
    # Fetched over HTTP first, found to be a shell, then opened in the browser; its image never downloaded.
    assert [r.path for r in sites.requests("spa.test")] == [
        "/robots.txt",
        "/privacy",
        "/privacy",
        "/static/policy.js",
        "/api/policy.json",
    ]
    assert [r.path for r in sites.requests("plain.test")] == ["/robots.txt", "/privacy"], "plain: no browser"

    records = page_records(data, url)
    assert [r[:2] for r in records] == [("response", url), ("resource", f"urn:rendered:{url}")]
    (_, _, raw, response_headers), (_, _, rendered, resource_headers) = records
    assert raw.startswith(b"<!DOCTYPE html>") and DELAYED.encode() not in raw, "the raw bytes are the shell"
    assert DELAYED.encode() in rendered
    assert resource_headers["WARC-Concurrent-To"] == response_headers["WARC-Record-ID"]
    assert resource_headers["WARC-Date"] == response_headers["WARC-Date"]
    assert resource_headers["Content-Type"] == "text/html; charset=utf-8"
    assert ("spa/privacy-policy", "extracted", 1, None) in catalog_rows(data)

    # A rendered page's text can change behind an unchanged HTML: the next request is not conditional.
    sites.clear_log()
    sites.set_page("http://spa.test/api/policy.json", json_data(sections(revision=1)))
    second = run_cli(config, data, "track", env=environment(sites))
    assert second.returncode == 0, second.stderr
    assert not any(r.conditional for r in sites.requests("spa.test", "/privacy"))
    assert "Revision 1:" in version_text(data, "spa")
    assert len(git(data / "versions", "log", "--format=%H", "main").split()) == 3

    # The text is read back from the rendered record, so re-extraction finds nothing to upgrade and every
    # version is traced to its kept capture.
    again = run_cli(config, data, "reextract", env=environment(sites))
    assert again.returncode == 0, again.stderr
    assert len(git(data / "versions", "log", "--format=%H", "main").split()) == 3
    verified = run_cli(config, data, "verify", env=environment(sites))
    assert verified.returncode == 0, verified.stderr
    assert "3/3 versions verified" in verified.stdout + verified.stderr


def test_never_refuses_the_shell_and_always_renders_every_fetch(sites: StandinSites, tmp_path: Path):
    spa = add_spa(sites, "spa.test")
    plain = sites.set_page("http://plain.test/privacy", policy_page("plain.test", "privacy-policy", size=5_000))
    moved = sites.set_page("http://plain.test/privacy.html", redirect(plain))
    config = write_config(tmp_path / "config", {"spa": (spa, "never"), "plain": (moved, "always")})
    data = tmp_path / "data"

    result = run_cli(config, data, "track", "--verbose", env=environment(sites))
    assert result.returncode == 1
    assert "FAILED spa/privacy-policy: javascript-shell" in result.stderr
    assert "starting headless Chromium" in result.stderr
    assert [r.path for r in sites.requests("spa.test")] == ["/robots.txt", "/privacy"], "never: no browser"
    paths = [r.path for r in sites.requests("plain.test")]
    assert paths == ["/robots.txt", "/privacy.html", "/privacy"], "always: rendered at once, redirect followed"
    records = page_records(data, plain)
    assert [r[0] for r in records] == ["response", "resource"], "the rendered DOM is kept next to the raw bytes"
    assert records[0][2] == sites.page(plain).body, "the raw bytes of the redirect's target, as served"
    assert "plain.test Privacy Policy" in version_text(data, "plain")


def test_the_browser_starts_only_when_a_page_needs_it(sites: StandinSites, tmp_path: Path):
    plain = sites.set_page("http://plain.test/privacy", policy_page("plain.test", "privacy-policy", size=5_000))
    config = write_config(tmp_path / "config", {"plain": (plain, "auto")})
    result = run_cli(config, tmp_path / "data", "track", "--verbose", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert "playwright" in result.stderr.lower(), "the rendering download handler was installed"
    assert "starting headless Chromium" not in result.stderr and "Launching browser" not in result.stderr


def test_an_archived_shell_is_rendered_from_the_archive_only(
    sites: StandinSites, standin_archive: StandinArchive, tmp_path: Path
):
    # The live site serves another text at the same URLs: any leak out of the archive would show in its log.
    url = add_spa(sites, "spa.test", revision=99)
    page, script = sites.page(url), sites.page("http://spa.test/static/policy.js")
    standin_archive.add_capture(url, "20200101000000", page.body)
    standin_archive.add_capture(
        "http://spa.test/static/policy.js", "20200101000005", script.body, mimetype="text/javascript"
    )
    standin_archive.add_capture("http://spa.test/static/banner.png", "20200101000005", b"\x89PNG", mimetype="image/png")
    for timestamp, revision in (("20200101000007", 1), ("20210601000007", 2)):
        data_bytes = json_data(sections(revision)).body
        standin_archive.add_capture(
            "http://spa.test/api/policy.json", timestamp, data_bytes, mimetype="application/json"
        )
    standin_archive.add_capture(url, "20210601000000", page.body)  # the same shell, another text behind it
    config = write_config(tmp_path / "config", {"spa": (url, "auto")}, settings=archive_settings(standin_archive))
    data = tmp_path / "data"

    result = run_cli(config, data, "backfill", "--strategy", "all", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert sites.requests("spa.test") == [], "nothing of the live site was requested"
    log = git(data / "versions", "log", "--reverse", "--format=%ad %s", "--date=format:%Y-%m-%d", "main")
    assert log.splitlines() == [
        "2020-01-01 First record of Spa Privacy Policy",
        "2021-06-01 Record new changes of Spa Privacy Policy",
    ], "identical shells with different texts behind them are both rendered, not taken as twins"
    assert "Revision 2:" in version_text(data, "spa")
    counts = progress_counts(result.stderr)
    assert (counts["captures examined"], counts["captures listed"]) == (2, 2), "a rendered capture counts once"
    paths = [request.path for request in standin_archive.requests]
    assert any("id_/http://spa.test/api/policy.json" in path for path in paths)
    assert not any("banner.png" in path for path in paths), "images are not downloaded"


def test_always_on_a_gzip_encoded_archive_capture_keeps_the_archive_bytes(
    sites: StandinSites, standin_archive: StandinArchive, tmp_path: Path
):
    # The archive replays the page as the site served it, gzip-encoded: the CDX digest is over those bytes.
    url = add_spa(sites, "spa.test")
    encoded = gzip.compress(sites.page(url).body, mtime=0)
    settings = archive_scripted_policy(
        standin_archive, sites, "spa.test", encoded, sections(revision=1), content_encoding="gzip"
    )
    config = write_config(tmp_path / "config", {"spa": (url, "always")}, settings=settings)
    data = tmp_path / "data"

    result = run_cli(config, data, "backfill", "--strategy", "all", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    assert "Revision 1:" in version_text(data, "spa") and DELAYED in version_text(data, "spa")
    records = page_records(data, url)
    assert [r[:2] for r in records] == [("response", url), ("resource", f"urn:rendered:{url}")]
    (_, _, raw, response_headers), (_, _, rendered, _) = records
    assert response_headers["WARC-Payload-Digest"] == f"sha1:{payload_digest(encoded)}", "the archive's bytes"
    assert raw == sites.page(url).body, "as gzip-encoded bytes (warcio undoes the recorded Content-Encoding)"
    assert DELAYED.encode() in rendered, "the rendered DOM is its own record"
    verified = run_cli(config, data, "verify", env=environment(sites))
    assert verified.returncode == 0, verified.stderr
    assert "1/1 versions verified" in verified.stdout + verified.stderr


def test_a_capture_whose_script_the_archive_streams_without_end_is_too_large_and_bounded(
    sites: StandinSites, standin_archive: StandinArchive, tmp_path: Path
):
    """A page rendered from the archive had no byte limit before its DOM's (audit 2026-11-29): Playwright's
    ``route.fetch`` read a replay streaming without end into its driver's memory until its own timeout. Its
    requests are now the archive crawl's, held to ``max_page_bytes``: the script's replay is cut there, the
    rendering ends at once (its wait is 10 minutes) with a reason naming the setting, nothing is recorded, and
    no Chromium is left."""
    url = add_spa(sites, "spa.test")
    settings = archive_scripted_policy(standin_archive, sites, "spa.test", sites.page(url).body, sections(1))
    standin_archive.stream_endlessly(f"http://spa.test{SCRIPT_PATH}", "20200101000005")
    limit = 100_000
    settings += f"[crawl]\nmax_page_bytes = {limit}\nrender_timeout_seconds = 600\n"
    config = write_config(tmp_path / "config", {"spa": (url, "auto")}, settings=settings)
    data = tmp_path / "data"
    temporary = Path(tempfile.mkdtemp(prefix="pa-render-"))  # the browser's user-data-dir: see in_flight_page

    result = run_cli(config, data, "backfill", "--strategy", "all", env=environment(sites, TMPDIR=str(temporary)))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    script_capture = f"{standin_archive.replay_url}/20200101000005id_/http://spa.test{SCRIPT_PATH}"
    assert (
        "the answer is too large: " in result.stderr
        and f"over the limit of {limit:,} bytes (setting [crawl] max_page_bytes: raise it to fetch this answer), "
        f"for the page's request of '{script_capture}'"
        in result.stderr
    ), result.stderr
    assert any(SCRIPT_PATH in request.path for request in standin_archive.requests)
    # Cut at the limit: what the archive wrote past it is what the sockets' buffers took, not a stream read on.
    assert standin_archive.endless_bytes < 200 * limit, standin_archive.endless_bytes
    assert not (data / "versions" / "s" / "spa").exists(), "nothing recorded of the page"
    assert sites.requests("spa.test") == [], "nothing of the live site was requested"
    assert_no_chromium_left(temporary)
    # Final: raising the setting is what helps, not running again (it was said "for now (run again to retry)",
    # the shell's refusal coming first in the words kept).
    assert (
        "FAILED spa/privacy-policy: no version: 1 captures listed, 1 cannot be fetched as the archive serves it"
        " (running again alone will not help): 20200101000000 (javascript-shell: " in result.stderr
    ), result.stderr
    assert (
        "1 cannot be fetched as the archive serves it (named above; running again alone will not help)"
        in (result.stderr.splitlines()[-1])
    ), result.stderr
    assert "for now" not in result.stderr, result.stderr
    status = run_cli(config, data, "status", env=environment(sites))
    assert (
        "    failed captures: 1 cannot be fetched as the archive serves it (asked once more by the next run; running"
        " again alone will not help): 2020-01-01T00:00:00Z (javascript-shell: " in status.stdout
    ), status.stdout
    shown = run_cli(config, data, "status", "--json", env=environment(sites))
    (failed,) = json.loads(shown.stdout)[0]["failed_captures"]
    assert failed["final"] is True and failed["reason"].startswith("javascript-shell: "), failed


# A hash-routed legal page (as Open Terms Archive declares wire.com's #legal3 and Alibaba.com's #/rule/detail?…):
# one URL for every section, its inline script showing the one ``location.hash`` names, the privacy policy without.
HASH_SECTIONS = {
    "#terms": "These terms of service govern your use of the Spa services and the contract you enter into with us "
    "when you create an account. You may end the contract at any time by deleting your account.",
    "": "This privacy policy explains which personal data Spa collects when you use its services, why it does, "
    "and for how long it keeps them. You may ask us for a copy of your data at any time.",
}


def hash_routed_page() -> Page:
    sections_json = json.dumps(HASH_SECTIONS)
    body = (
        "<!doctype html><html><head><title>Spa legal</title></head><body><h1>Spa legal</h1><main></main><script>"
        f"var sections = {sections_json};"
        "var text = sections[location.hash] || sections[''];"
        "var paragraph = document.createElement('p'); paragraph.textContent = text;"
        "document.querySelector('main').appendChild(paragraph);</script></body></html>"
    )
    return Page(body=body.encode())


def test_an_archived_hash_routed_page_is_rendered_with_its_declared_fragment(
    sites: StandinSites, standin_archive: StandinArchive, tmp_path: Path
):
    """A URL keeps its fragment with render = "always": a hash-routed page's scripts read it. The archive lists
    and replays the capture without it (it never reaches a server), and the browser opened the capture without
    it too, so a backfill recorded the page's default section, another document's text. It is now opened with
    the declared fragment: the section it names is recorded, as ``track`` records it live, and the provenance
    (WARC target, ``Snapshot-Url``) names the URL fetched, without it, as ``track``'s does."""
    page = hash_routed_page()
    url = sites.set_page("http://spa.test/legal", page)
    declared = f"{url}#terms"
    standin_archive.add_capture(url, "20200101000000", page.body)
    config = write_config(
        tmp_path / "config", {"spa": (declared, "always")}, settings=archive_settings(standin_archive)
    )
    data = tmp_path / "data"

    result = run_cli(config, data, "backfill", "--strategy", "all", env=environment(sites))
    assert result.returncode == 0, result.stderr
    text = version_text(data, "spa")
    assert HASH_SECTIONS["#terms"] in text and HASH_SECTIONS[""] not in text, text
    assert sites.requests("spa.test") == [], "nothing of the live site was requested"
    paths = [request.path for request in standin_archive.requests]
    assert not any("terms" in path for path in paths), f"the archive never sees the fragment: {paths}"
    replay = f"{standin_archive.replay_url}/20200101000000id_/{url}"
    assert [r[:2] for r in page_records(data, url)] == [("response", url), ("resource", f"urn:rendered:{url}")]
    trailers = git(data / "versions", "log", "-1", "--format=%(trailers:key=Snapshot-Url,valueonly)", "main")
    assert trailers.strip() == replay, "the capture's URL, as the archive serves it"

    # The same page live: track opens the declared URL, records the same section, names the URL fetched.
    tracked = run_cli(config, tmp_path / "live", "track", env=environment(sites))
    assert tracked.returncode == 0, tracked.stderr
    live_text = version_text(tmp_path / "live", "spa")
    assert HASH_SECTIONS["#terms"] in live_text and HASH_SECTIONS[""] not in live_text, live_text
    assert [r[:2] for r in page_records(tmp_path / "live", url)] == [
        ("response", url),
        ("resource", f"urn:rendered:{url}"),
    ]
    live_trailers = git(tmp_path / "live" / "versions", "log", "-1", "--format=%(trailers:key=Snapshot-Url,valueonly)")
    assert live_trailers.strip() == url, "the URL fetched: a fragment is never sent"


@pytest.mark.parametrize(
    ("disallowed", "named"),
    [
        ("/static/", "http://spa.test/static/policy.js"),  # the script that builds the text
        ("/api/", "http://spa.test/api/policy.json"),  # the data it fetches
    ],
)
def test_a_rendered_page_requests_nothing_its_sites_robots_txt_disallows(
    sites: StandinSites, tmp_path: Path, disallowed: str, named: str
):
    # A robots-respecting visitor never gets the text: the page stays a shell, refused with what was missing.
    url = add_spa(sites, "spa.test")
    sites.set_page("http://spa.test/robots.txt", robots_txt([disallowed]))
    config = write_config(tmp_path / "config", {"spa": (url, "auto")})
    result = run_cli(config, tmp_path / "data", "track", env=environment(sites))
    assert result.returncode == 1
    (failed,) = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed.startswith("FAILED spa/privacy-policy: javascript-shell"), failed
    assert f"robots.txt disallows: {named}" in failed, "the reason names what was missing"
    assert not [r for r in sites.requests("spa.test") if r.path.startswith(disallowed)], "never requested"
    assert [r.path for r in sites.requests("spa.test", "/robots.txt")] == ["/robots.txt"], "fetched once, kept"
    assert ("spa/privacy-policy", "refused", 1) in [row[:3] for row in catalog_rows(tmp_path / "data")]


def test_a_page_rendered_without_a_disallowed_script_is_what_a_polite_visitor_sees(sites: StandinSites, tmp_path: Path):
    # An analytics script on another site, whose robots.txt disallows everything: the text does not need it.
    tracker = "http://tracker.test/collect.js"
    sites.set_page(tracker, Page(body=b"window.collected = true;", content_type="text/javascript"))
    sites.set_page("http://tracker.test/robots.txt", robots_txt(["/"]))
    url = add_spa(sites, "spa.test")
    sites.set_page(url, scripted_policy("spa.test Privacy Policy", "/static/policy.js", other_scripts=[tracker]))
    config = write_config(tmp_path / "config", {"spa": (url, "auto")})
    data = tmp_path / "data"

    result = run_cli(config, data, "track", "--verbose", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert DELAYED in version_text(data, "spa")
    assert f"{tracker} not requested: the site's robots.txt disallows it" in result.stderr
    assert [r.path for r in sites.requests("tracker.test")] == ["/robots.txt"], "its robots.txt, not the script"
    (resource,) = [r for r in warc_records(data) if r[0] == "resource"]
    assert resource[3]["WARC-Policy-Archive-Not-Requested"] == tracker, "the rendering says what it went without"

    # Without [crawl] obey_robots, the browser requests it like the rest of the page.
    sites.clear_log()
    obeying_not = write_config(tmp_path / "config2", {"spa": (url, "always")}, "[crawl]\nobey_robots = false\n")
    result = run_cli(obeying_not, tmp_path / "data2", "track", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert [r.path for r in sites.requests("tracker.test")] == ["/collect.js"]


def chromium_processes(marker: str) -> list[int]:
    """Chromium processes whose command line or environment mentions ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"chrom" in command and (marker.encode() in command or marker.encode() in environ):
            found.append(int(entry.name))
    return found


# The page's data is answered only once this is set (at the end of the test): the page is in flight when the
# signal comes, however long the signal takes to reach the run under load.
DATA_HELD = threading.Event()


def in_flight_page(sites: StandinSites, tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A page whose data request is held unanswered; its config, and the environment putting the browser's fresh
    user-data-dir in a temporary directory of its own (the returned Path)."""
    url = add_spa(sites, "spa.test")
    DATA_HELD.clear()
    sites.set_page("http://spa.test/api/policy.json", held(json_data(sections()), DATA_HELD))
    config = write_config(tmp_path / "config", {"spa": (url, "auto")})
    # A short path: Chromium's singleton socket path under it must fit in a Unix socket address (108 bytes).
    temporary = Path(tempfile.mkdtemp(prefix="pa-render-"))
    return config, temporary, environment(sites, TMPDIR=str(temporary))


def signal_while_rendering(
    sites: StandinSites, command: list[str], env: dict[str, str], log_file: Path, send: Callable[[int], None]
) -> int:
    """Run ``command``, call ``send(pid)`` once the rendered page has asked for its (held) data; its exit status."""
    with log_file.open("w") as sink:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As from a terminal: a job started in the background inherits SIGINT ignored, and it stays ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + WAIT_SECONDS
            while not sites.received("http://spa.test/api/policy.json"):
                assert time.monotonic() < deadline and process.poll() is None, log_file.read_text()
                time.sleep(0.05)
            send(process.pid)
            return process.wait(timeout=WAIT_SECONDS)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            DATA_HELD.set()


def assert_no_chromium_left(temporary: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while chromium_processes(str(temporary)) and time.monotonic() < deadline:
        time.sleep(0.1)  # processes already signalled may take a moment to be reaped
    assert chromium_processes(str(temporary)) == [], "no orphaned Chromium"
    assert not list(temporary.glob("playwright_chromiumdev_profile-*")), "the browser's user-data-dir was removed"
    shutil.rmtree(temporary)


def test_sigterm_of_schedule_closes_the_page_being_rendered_and_leaves_no_chromium(sites: StandinSites, tmp_path: Path):
    """A stop no longer waits for the page being rendered (audit 2026-11-28: a page polling the network held
    `schedule`'s stop 4 min 12 s): its tab is closed at once, the document reported not fetched."""
    config, temporary, env = in_flight_page(sites, tmp_path)
    command = cli_command(config, tmp_path / "data", "schedule", "--every", "3600")
    log_file = tmp_path / "schedule.log"
    status = signal_while_rendering(sites, command, env, log_file, lambda pid: os.kill(pid, signal.SIGTERM))
    output = log_file.read_text()
    assert status == 0, output
    assert "run 1 finished, exit 1" in output
    assert "FAILED spa/privacy-policy: not fetched: the run was stopped" in output
    assert "1 page being rendered is closed unfinished" in output
    assert not (tmp_path / "data" / "versions" / "s" / "spa").exists(), "nothing recorded of the page"
    assert_no_chromium_left(temporary)


@pytest.mark.parametrize(
    ("stop", "either"),
    [
        # Ctrl-C at a terminal signals the whole foreground group, Playwright's driver included: it ignores it,
        # and the run closes the tab itself.
        (signal.SIGINT, False),
        # SIGTERM to the whole group (`kill -- -PGID`, `timeout`) reaches the driver, which closes the browser at
        # once (decision 0012): the page is reported not fetched because the run stopped — or recorded, when
        # scrapy-playwright's retry of a closed page wins the race in a new browser; either way none is left.
        (signal.SIGTERM, True),
    ],
)
def test_a_signal_to_tracks_process_group_leaves_no_chromium(
    sites: StandinSites, tmp_path: Path, stop: signal.Signals, either: bool
):
    config, temporary, env = in_flight_page(sites, tmp_path)
    data = tmp_path / "data"
    log_file = tmp_path / "track.log"
    status = signal_while_rendering(
        sites, cli_command(config, data, "track"), env, log_file, lambda pid: os.killpg(pid, stop)
    )
    output = log_file.read_text()
    assert "Traceback" not in output
    stopped = "FAILED spa/privacy-policy: not fetched: the run was stopped" in output
    assert (status, stopped) in (((1, True), (0, False)) if either else ((1, True),)), output
    assert_no_chromium_left(temporary)


# A page that asks for data every 100 ms as long as it is open (a chat widget, analytics), never idle. Its polls are
# held unanswered by the site: each one on the wire stays there until it is cancelled, or the test ends.
POLLING = b"<script>setInterval(function () { fetch('/poll', {cache: 'no-store'}); }, 100);</script></body>"


def polling_page(sites: StandinSites, host: str, document: str, release: threading.Event) -> str:
    """``http://HOST/DOCUMENT``, a policy whose script polls ``/poll`` (answered once ``release`` is set)."""
    sites.set_page(f"http://{host}/poll", held(json_data({}), release))
    page = policy_page(host, document, size=5_000)
    return sites.set_page(f"http://{host}/{document}", replace(page, body=page.body.replace(b"</body>", POLLING)))


def test_a_page_polling_the_network_ends_with_its_wait_and_its_polls_with_its_tab(sites: StandinSites, tmp_path: Path):
    """Audit 2026-11-28: a page polling its site every 0.5 s held `track` 249 s for two documents, and the
    second failed (`Page.goto: Timeout`): the polls went on being sent after the tab closed, one at a time in the
    slot of the site's rendered pages' requests, and the next page's navigation waited behind them. Now a tab's
    requests end with it: the poll on the wire is cancelled, those waiting are never sent."""
    release = threading.Event()
    documents = {"one": (polling_page(sites, "poll.test", "privacy", release), "always")}
    documents["two"] = (polling_page(sites, "poll.test", "terms", release), "always")
    config = write_config(tmp_path / "config", documents, "[crawl]\nrender_timeout_seconds = 15\n")
    data = tmp_path / "data"
    try:
        result = run_cli(config, data, "track", env=environment(sites), timeout=300)
    finally:
        release.set()
    assert result.returncode == 0, result.stderr
    assert "poll.test Privacy" in version_text(data, "one") and "poll.test Terms" in version_text(data, "two")
    # One poll on the wire at a time (the site's rendered pages' requests go one at a time), and the ones queued
    # behind it are never sent once the tab closed: at most one more per tab, when the poll's own timeout (the
    # tab's wait) ends just before the tab closes at that same deadline. Before, they went on for minutes.
    assert 2 <= sites.received("http://poll.test/poll") <= 4, [
        (r.path, r.user_agent) for r in sites.requests("poll.test")
    ]
    # And none by Chromium itself as a tab closed (its own User-Agent, past the route: see the next test).
    sites.wait_for_clients_gone()
    senders = {r.user_agent for r in sites.requests("poll.test")}
    assert all("policy-archive" in (sender or "") for sender in senders), senders


# The same, polling every 5 ms: the browser always has polls under way when the tab closes.
FAST_POLLING = POLLING.replace(b"}, 100);", b"}, 5);")


def test_a_stop_closes_a_polling_page_at_once_and_nothing_is_sent_after_it(sites: StandinSites, tmp_path: Path):
    """Rendering bounded by a day's wait: only the stop ends it (before: not before the wait was over).

    Nothing reaches the network after the stop, from the crawl or from Chromium: before 2026-11-28 Chromium itself
    sent up to six of the page's polls while its tab closed (in 2 runs of 5, 2026-11-28), with its own User-Agent,
    past the route (so past the robots.txt and internal-address checks): Playwright continues a request it can no
    longer route. Counted here: every request the stand-in server reads after the stop was acknowledged, whoever
    sends it (the browser reaches the sites through the same stand-in, as its proxy), once the run and its browser
    are gone and every connection they opened has been read to its end. The browser has no network of its own now
    (crawler/render.py ``NO_NETWORK_ARGS``), so none of its own calls home (to Google) either, at any time."""
    release = threading.Event()
    sites.set_page("http://poll.test/poll", held(json_data({}), release))
    page = policy_page("poll.test", "privacy", size=5_000)
    url = sites.set_page("http://poll.test/privacy", replace(page, body=page.body.replace(b"</body>", FAST_POLLING)))
    config = write_config(tmp_path / "config", {"one": (url, "always")}, "[crawl]\nrender_timeout_seconds = 86400\n")
    temporary = Path(tempfile.mkdtemp(prefix="pa-render-"))
    env = environment(sites, TMPDIR=str(temporary))
    log_file = tmp_path / "track.log"
    try:
        with log_file.open("w") as sink:
            process = subprocess.Popen(
                cli_command(config, tmp_path / "data", "track"), env=env, stdout=sink, stderr=subprocess.STDOUT
            )
            try:
                wait_for_condition(lambda: sites.received("http://poll.test/poll") == 1, process, log_file)
                process.send_signal(signal.SIGTERM)  # to track alone, as schedule does
                wait_for_condition(lambda: "stopping: " in log_file.read_text(), process, log_file)
                read_at_the_stop = sites.requests_read()
                status = process.wait(timeout=WAIT_SECONDS)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    finally:
        release.set()
    output = log_file.read_text()
    assert status == 1, output
    assert "stopping: 0 requests already sent finish; 1 page being rendered is closed unfinished" in output
    assert "FAILED one/privacy-policy: not fetched: the run was stopped" in output
    assert "Traceback" not in output
    assert_no_chromium_left(temporary)
    sites.wait_for_clients_gone()
    assert sites.requests_read()[len(read_at_the_stop) :] == [], "nothing is sent after the stop"
    # Nor at any time by the browser itself (before 2026-11-28 also its own calls home, through the proxy:
    # `CONNECT accounts.google.com:443`): the crawl sent every request, with its User-Agent.
    assert [line for line in sites.requests_read() if "policy-archive/" not in line] == []
    assert sites.received("http://poll.test/poll") == 1, "one poll, the crawl's, before the stop"


# Gathers the page's ICE candidates with a STUN server at 127.0.0.1:PORT; resolves when gathering is complete.
GATHER_ICE = """port => new Promise(async resolve => {
    const connection = new RTCPeerConnection({iceServers: [{urls: `stun:127.0.0.1:${port}`}]});
    connection.onicegatheringstatechange = () => connection.iceGatheringState === "complete" && resolve();
    connection.createDataChannel("data");
    await connection.setLocalDescription(await connection.createOffer());
    if (connection.iceGatheringState === "complete") resolve();
})"""


def test_chromium_reaches_nothing_by_itself(sites: StandinSites, monkeypatch: pytest.MonkeyPatch):
    """The browser the crawl launches cannot send a request itself, through the crawl's proxy or directly (an IP
    address, localhost): what no route answered fails in the browser. This is what holds when Playwright continues
    a request it can no longer route (a closing tab, above); here no route is set at all. Playwright's own
    requests (``route.fetch``, the archive's pages) are not Chromium's: they still go through the proxy."""
    from scrapy.settings import Settings
    from scrapy_playwright.handler import Config

    from policy_archive.crawler.render import LazyBrowserProvider

    sites.set_page("http://named.test/page", policy_page("named.test", "privacy", size=1_000))
    direct = StandinSites().start()  # reached without the proxy
    stun = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stun.bind(("127.0.0.1", 0))
    stun.setblocking(False)
    monkeypatch.setenv("http_proxy", sites.proxy_url)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")

    async def visit() -> list[str]:
        provider = LazyBrowserProvider(Config.from_settings(Settings({"PLAYWRIGHT_BROWSER_TYPE": "chromium"})))
        browser = await provider.launch_browser()
        errors = []
        try:
            page = await browser.new_page()
            for url in (
                "http://named.test/page",
                f"http://127.0.0.1:{direct.port}/",
                f"http://localhost:{direct.port}/",
            ):
                try:
                    await page.goto(url)
                except Exception as error:  # noqa: BLE001 -- Playwright's Error: the browser's net:: code
                    errors.append(str(error).splitlines()[0])
            # WebRTC's UDP is not resolved by name: a STUN server named by its address, here 127.0.0.1. In a tab of
            # its own (the first one may still be showing its last error page).
            calling = await browser.new_page()
            await calling.set_content("<p>A page calling a STUN server</p>")
            await calling.evaluate(GATHER_ICE, stun.getsockname()[1])
            answer = await page.request.get("http://named.test/page")  # Playwright's own, through the proxy
            assert answer.status == 200 and b"named.test Privacy" in await answer.body()
        finally:
            await browser.close()
            await provider.close()
        return errors

    try:
        errors = asyncio.run(visit())
        sites.wait_for_clients_gone()
        direct.wait_for_clients_gone()
        assert direct.requests_read() == [], "nothing reached directly"
        with pytest.raises(BlockingIOError):  # a datagram sent on the loopback is there once sent
            stun.recvfrom(2048)
    finally:
        direct.stop()
        stun.close()
    assert len(errors) == 3 and all("net::ERR_" in error for error in errors), errors
    assert sites.received("http://named.test/page") == 1, "asked once, by Playwright's own request"


def wait_for_condition(condition: Callable[[], bool], process: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline and process.poll() is None, log_file.read_text()
        time.sleep(0.05)


class DataServer:
    """A local JSON endpoint (an internal service, as far as a tracked page is concerned); counts requests."""

    def __init__(self, data: object):
        body = json.dumps(data).encode()
        owner = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- http.server's interface
                owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/policy.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_rendered_page_cannot_reach_an_internal_address(sites: StandinSites, tmp_path: Path):
    internal = DataServer(sections())
    try:
        url = sites.set_page("http://spa.test/privacy", scripted_policy("spa.test Privacy Policy", "/static/app.js"))
        sites.set_page("http://spa.test/static/app.js", policy_script(internal.url, DELAY_MS))
        refused = write_config(tmp_path / "refused", {"spa": (url, "auto")})
        result = run_cli(refused, tmp_path / "data1", "track", env=environment(sites))
        assert result.returncode == 1
        assert "FAILED spa/privacy-policy: javascript-shell" in result.stderr, "the page's data was not fetched"
        assert internal.requests == 0, "the browser sent nothing to the internal address"

        allowed = write_config(
            tmp_path / "allowed", {"spa": (url, "auto")}, "[crawl]\nallow_private_addresses = true\n"
        )
        result = run_cli(allowed, tmp_path / "data2", "track", env=environment(sites))
        assert result.returncode == 0, result.stderr
        assert internal.requests >= 1 and DELAYED in version_text(tmp_path / "data2", "spa")
    finally:
        internal.close()


SOCKET_KEPT = "The page's socket was taken by the route and never connected."


def test_a_live_page_s_web_sockets_are_never_connected(tmp_path: Path):
    # A route cannot answer a WebSocket: Chromium would connect it itself, unchecked. (Debian's Chromium 156 also
    # blocks a connection from a page the route answered to 127.0.0.1 on its own — its local network access checks
    # — so the page says who took its socket: a socket the route keeps from the network opens, silent.)
    internal = DataServer(sections())
    socket = internal.url.replace("http://", "ws://")
    paragraph = f"Object.assign(document.createElement('p'), {{textContent: {json.dumps(SOCKET_KEPT)}}})"
    shown = f"document.querySelector('main').append({paragraph})"
    script = f"new WebSocket({json.dumps(socket)}).onopen = () => {shown};"
    routes = {
        "/privacy": scripted_policy("Acme Privacy Policy", "/static/policy.js", other_scripts=["/static/socket.js"]),
        "/static/socket.js": Page(script.encode(), content_type=JS),
        "/static/policy.js": policy_script("/api/policy.json", 0),
        "/api/policy.json": json_data(sections()),
    }
    try:
        with RouteServer(routes) as site:
            config = write_config(tmp_path / "config", {"acme": (site.url("/privacy"), "always")})
            result = run_cli(config, tmp_path / "data", "track", env=cli_environment())
        assert result.returncode == 0, result.stderr
        assert DELAYED in version_text(tmp_path / "data", "acme")
        assert SOCKET_KEPT in version_text(tmp_path / "data", "acme"), "the socket was the route's"
        assert internal.requests == 0, "the WebSocket was never connected"
    finally:
        internal.close()


# Registers a service worker that answers the page's data request from elsewhere, then loads the page's script.
SERVICE_WORKER_PAGE = """navigator.serviceWorker.register('/sw.js')
  .then(() => navigator.serviceWorker.ready)
  .then(() => navigator.serviceWorker.controller || new Promise(
    done => navigator.serviceWorker.addEventListener('controllerchange', done)))
  .then(() => document.head.appendChild(Object.assign(document.createElement('script'), {src: '/static/policy.js'})));
"""
SERVICE_WORKER = """self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', event => event.waitUntil(clients.claim()));
self.addEventListener('fetch', event => {
  if (event.request.url.endsWith('/api/policy.json')) event.respondWith(fetch(%s));
});
"""


def test_a_live_page_s_service_worker_cannot_send_requests_past_the_route(sites: StandinSites, tmp_path: Path):
    # A service worker's requests bypass the page's route. The page is at a declared 127.0.0.1 origin (a secure
    # context, where service workers run); its worker would fetch the data from another, undeclared, port.
    internal = DataServer(sections())
    routes = {
        "/privacy": scripted_policy("Acme Privacy Policy", "/static/app.js"),
        "/static/app.js": Page(SERVICE_WORKER_PAGE.encode(), content_type=JS),
        "/sw.js": Page((SERVICE_WORKER % json.dumps(internal.url)).encode(), content_type=JS),
        "/static/policy.js": policy_script("/api/policy.json", 0),
    }
    try:
        with RouteServer(routes) as site:
            config = write_config(tmp_path / "config", {"acme": (site.url("/privacy"), "always")})
            result = run_cli(config, tmp_path / "data", "track", env=environment(sites))
        assert "/static/app.js" in site.paths, "the page's script ran"
        assert internal.requests == 0, "nothing reached the undeclared port"
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        (failed,) = failed_lines(result.stderr)
        assert failed.startswith("FAILED acme/privacy-policy: javascript-shell"), failed
    finally:
        internal.close()


def test_a_rendered_page_s_redirects_are_held_to_the_same_rules(sites: StandinSites, tmp_path: Path):
    """Chromium follows a redirect without asking the route again: each hop of the page's own requests is
    followed and checked by the route itself."""
    internal = DataServer(sections())
    try:
        url = sites.set_page("http://spa.test/privacy", scripted_policy("spa.test Privacy Policy", "/static/app.js"))
        sites.set_page("http://spa.test/static/app.js", policy_script("/api/moved.json", DELAY_MS))
        sites.set_page("http://spa.test/api/moved.json", redirect(internal.url, status=302))
        config = write_config(tmp_path / "config", {"spa": (url, "auto")})
        result = run_cli(config, tmp_path / "data1", "track", env=environment(sites))
        assert result.returncode == 1
        assert "FAILED spa/privacy-policy: javascript-shell" in result.stderr, "the page's data was not fetched"
        assert internal.requests == 0, "the redirect to an internal address was not followed"

        # A redirect the rules allow is followed, and the page is built from where it leads.
        sites.set_page("http://spa.test/api/moved.json", redirect("/api/policy.json", status=302))
        sites.set_page("http://spa.test/api/policy.json", json_data(sections()))
        result = run_cli(config, tmp_path / "data2", "track", env=environment(sites))
        assert result.returncode == 0, result.stderr
        assert DELAYED in version_text(tmp_path / "data2", "spa")
    finally:
        internal.close()


# --- the page's own navigation: each redirect hop is Scrapy's request, checked like a plain fetch's -----------

SECRET = b'{"AccessKeyId": "ASIA-SECRET"}'


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED")]


def test_a_rendered_navigation_redirected_inside_is_refused_as_a_plain_fetch_is(sites: StandinSites, tmp_path: Path):
    # render = "always": no plain fetch precedes the browser, which is sent to the internal service directly.
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        url = sites.set_page("http://spa.test/privacy", redirect(secret.url("/latest/meta-data/iam"), status=302))
        failures = {}
        for render in ("always", "never"):
            data = tmp_path / f"data-{render}"
            config = write_config(tmp_path / f"config-{render}", {"spa": (url, render)})
            result = run_cli(config, data, "track", env=environment(sites))
            assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
            failures[render] = failed_lines(result.stderr)
            assert not list(data.glob("captures/*.warc.gz")), "nothing recorded"
        assert secret.paths == [], "nothing reached the internal address, neither browser nor Scrapy"
    (rendered,) = failures["always"]
    assert rendered.startswith(f"FAILED spa/privacy-policy: private-address: {secret.url('/latest/meta-data/iam')}")
    assert failures["always"] == failures["never"], "the same one-line refusal as the plain fetch's"


def test_a_server_redirecting_only_the_browser_inside_is_refused(sites: StandinSites, tmp_path: Path):
    # render = "auto": the plain fetch gets a shell, the browser's fetch of the same URL a redirect inside.
    with (
        RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret,
        RouteServer({"/privacy": [javascript_shell(), redirect(secret.url("/latest/meta-data/iam"), 302)]}) as site,
    ):
        config = write_config(tmp_path / "config", {"acme": (site.url("/privacy"), "auto")})
        result = run_cli(config, tmp_path / "data", "track", env=environment(sites))
        assert secret.paths == []
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert site.paths == ["/robots.txt", "/privacy", "/privacy"], "plain fetch, then the browser's"
    (failed,) = failed_lines(result.stderr)
    assert failed.startswith("FAILED acme/privacy-policy: javascript-shell"), failed
    assert f"; private-address: {secret.url('/latest/meta-data/iam')} (127.0.0.1, loopback;" in failed
    records = [r for r in warc_records(tmp_path / "data") if r[0] != "warcinfo"]
    assert [(kind, target) for kind, target, _, _ in records] == [("response", site.url("/privacy"))], "the shell"
    assert all(b"ASIA-SECRET" not in payload for _, _, payload, _ in records)
    assert ("acme/privacy-policy", "refused", 0) in [row[:3] for row in catalog_rows(tmp_path / "data")]


def test_a_rendered_navigation_redirected_to_another_site_is_rendered_and_recorded_there(
    sites: StandinSites, tmp_path: Path
):
    # The page's relative script and data URLs exist only on the site the redirect leads to.
    final = add_spa(sites, "www.spa.test")
    moved = sites.set_page("http://spa.test/privacy.html", redirect(final, status=302))
    config = write_config(tmp_path / "config", {"spa": (moved, "always")})
    data = tmp_path / "data"

    result = run_cli(config, data, "track", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert DELAYED in version_text(data, "spa"), "built from the final site's scripts and data"
    assert [r.path for r in sites.requests("spa.test")] == ["/robots.txt", "/privacy.html"]
    assert [r.path for r in sites.requests("www.spa.test")] == [
        "/robots.txt",  # the hop's own site's robots.txt, asked before the hop
        "/privacy",
        "/static/policy.js",
        "/api/policy.json",
    ]
    agents = {r.user_agent for r in sites.requests("spa.test") + sites.requests("www.spa.test")}
    assert len(agents) == 1 and "policy-archive" in agents.pop().lower(), "every hop sent as Scrapy sends it"
    records = [r for r in warc_records(data) if r[0] in ("response", "resource")]
    assert [(kind, target) for kind, target, _, _ in records] == [
        ("response", final),
        ("resource", f"urn:rendered:{final}"),
    ]
    assert records[0][2] == sites.page(final).body, "the raw bytes the final URL served"
    trailers = git(data / "versions", "log", "-1", "--format=%(trailers:key=Snapshot-Url,valueonly)", "main")
    assert trailers.strip() == final, "the version's URL is the URL its bytes came from"


def test_a_rendered_navigation_obeys_robots_txt_at_every_hop(sites: StandinSites, tmp_path: Path):
    final = add_spa(sites, "www.spa.test")
    sites.set_page("http://www.spa.test/robots.txt", robots_txt(["/privacy"]))
    moved = sites.set_page("http://spa.test/privacy.html", redirect(final, status=302))
    failures = {}
    for render in ("always", "never"):
        config = write_config(tmp_path / f"config-{render}", {"spa": (moved, render)})
        result = run_cli(config, tmp_path / f"data-{render}", "track", env=environment(sites))
        assert result.returncode == 1, result.stderr
        failures[render] = failed_lines(result.stderr)
    hop = "http://www.spa.test/privacy"
    refusal = f"FAILED spa/privacy-policy: robots.txt: disallows {hop} for this crawler (setting [crawl] obey_robots)"
    assert failures["always"] == failures["never"] == [refusal], "the same one-line refusal as the plain fetch's"
    paths = [r.path for r in sites.requests("www.spa.test")]
    assert paths == ["/robots.txt", "/robots.txt"], "each run asked the hop's robots.txt, never sent the hop"


def test_a_rendered_navigation_redirect_loop_is_bounded_like_a_plain_fetch(sites: StandinSites, tmp_path: Path):
    sites.set_page("http://loop.test/a", redirect("/b", status=302))
    url = sites.set_page("http://loop.test/b", redirect("/a", status=302))
    config = write_config(tmp_path / "config", {"loop": (url, "always")})
    result = run_cli(config, tmp_path / "data", "track", env=environment(sites))
    assert result.returncode == 1, result.stderr
    loop = "http://loop.test/b → http://loop.test/a → http://loop.test/b"
    stopped = f"stopped after {REDIRECT_MAX_TIMES} redirects"
    assert failed_lines(result.stderr) == [f"FAILED loop/privacy-policy: redirect-loop: {loop} ({stopped})"]
    hops = [r.path for r in sites.requests("loop.test") if r.path != "/robots.txt"]
    # The first request and Scrapy's limit of redirects. Once, in a full run of the suite on a loaded machine, one
    # hop more reached the server (22; cause not pinned down, not reproduced in isolation nor four runs at once):
    # the bound asserted is that the loop stops at Scrapy's limit, not that no hop is ever sent twice.
    assert REDIRECT_MAX_TIMES + 1 <= len(hops) <= 2 * (REDIRECT_MAX_TIMES + 1), hops


def test_a_rendered_navigation_that_cannot_be_fetched_says_why_in_one_line(sites: StandinSites, tmp_path: Path):
    with RouteServer({}) as gone:
        url = gone.url("/privacy")  # a declared origin (allowed), closed before the run: connection refused
    config = write_config(tmp_path / "config", {"acme": (url, "always")})
    result = run_cli(config, tmp_path / "data", "track", env=environment(sites))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (failed,) = failed_lines(result.stderr)
    assert failed == (
        "FAILED acme/privacy-policy: could not be fetched for now (run again to retry): rendering failed: connection"
        " refused"
    ), "in the plain fetch's words"


def test_a_rendered_dom_over_the_page_limit_is_refused_not_kept(sites: StandinSites, tmp_path: Path):
    # A 180-byte answer whose script builds a 210 KB DOM: the raw bytes are within max_page_bytes, the DOM is not.
    # Kept, the DOM would be refused at every later read (a stored record is read back within the limit).
    script = "document.body.insertAdjacentHTML('beforeend', '<p>' + 'policy '.repeat(30000) + '</p>')"
    body = f"<!DOCTYPE html><html><head><title>Privacy</title></head><body><script>{script}</script></body></html>"
    url = sites.set_page("http://big.test/privacy", Page(body=body.encode()))
    config = write_config(tmp_path / "config", {"big": (url, "always")}, "[crawl]\nmax_page_bytes = 100000\n")
    data = tmp_path / "data"

    result = run_cli(config, data, "track", env=environment(sites))

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (failed,) = failed_lines(result.stderr)
    assert re.fullmatch(
        r"FAILED big/privacy-policy: cannot be fetched as the site serves it \(running again alone will not help\): "
        r"the answer is too large: its rendered DOM is 2\d\d,\d\d\d bytes, over the limit of 100,000 bytes"
        r" \(setting \[crawl\] max_page_bytes: raise it to keep this page\)",
        failed,
    ), failed
    assert not [record for record in warc_records(data) if record[0] == "resource"], "no oversized DOM stored"


def test_a_live_page_whose_scripts_answer_much_is_too_large_in_all_and_ends_at_once(
    sites: StandinSites, tmp_path: Path
):
    """Each script of a live page within ``max_page_bytes`` (the crawl cut one over it already), together over it:
    the rendering ends at once (its wait is 10 minutes), not taken, said final with the setting named; as a
    rendering from the archive is bounded (the same count). Before, a live page's answers had no limit in all."""
    limit = 100_000
    scripts = [f"http://cdn.test/lib{n}.js" for n in range(6)]
    for script in scripts:  # 40 KB each: a comment the browser reads through
        sites.set_page(script, Page(body=b"/*" + b"x" * 40_000 + b"*/", content_type=JS))
    url = add_spa(sites, "spa.test")
    sites.set_page(url, scripted_policy("Spa Privacy Policy", "/static/policy.js", other_scripts=scripts))
    settings = f"[crawl]\nmax_page_bytes = {limit}\nrender_timeout_seconds = 600\n"
    config = write_config(tmp_path / "config", {"spa": (url, "always")}, settings=settings)
    data = tmp_path / "data"
    temporary = Path(tempfile.mkdtemp(prefix="pa-render-"))  # the browser's user-data-dir: see in_flight_page

    result = run_cli(config, data, "track", env=environment(sites, TMPDIR=str(temporary)))

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    (failed,) = failed_lines(result.stderr)
    assert re.fullmatch(
        r"FAILED spa/privacy-policy: cannot be fetched as the site serves it \(running again alone will not help\): "
        r"the answer is too large: the answers to the page's requests came to 1\d\d,\d\d\d bytes in all, over the"
        r" limit of 100,000 bytes \(setting \[crawl\] max_page_bytes: raise it to render this page\)",
        failed,
    ), failed
    # Ended at once, not after its wait (600 s, more than run_cli waits): nothing else bounded it.
    assert not (data / "versions" / "s" / "spa").exists(), "nothing recorded of the page"
    assert_no_chromium_left(temporary)


def test_the_pages_own_requests_go_one_at_a_time_per_site_over_every_tab(sites: StandinSites, tmp_path: Path):
    # Two pages rendered in the same run load three slow scripts from one shared site, which Chromium alone would
    # fetch side by side: live tracking's politeness is one request at a time per site.
    shared = [f"http://cdn.test/lib{n}.js" for n in range(3)]
    for script in shared:
        sites.set_page(script, slow(Page(body=b"window.libs = (window.libs || 0) + 1;", content_type=JS), 0.3))
    documents = {}
    for host in ("one.test", "two.test"):
        url = add_spa(sites, host)
        sites.set_page(url, scripted_policy(f"{host} Privacy Policy", "/static/policy.js", other_scripts=shared))
        documents[host.split(".")[0]] = (url, "always")
    data = tmp_path / "data"
    result = run_cli(write_config(tmp_path / "config", documents), data, "track", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert DELAYED in version_text(data, "one") and DELAYED in version_text(data, "two")
    scripts = sorted(r.path for r in sites.requests("cdn.test") if r.path != "/robots.txt")
    assert scripts == sorted(2 * [f"/lib{n}.js" for n in range(3)]), "every script, for each page"
    assert sites.max_in_flight("cdn.test") == 1, "never two requests at a time to the shared site"


@pytest.mark.parametrize("render", ["auto", "always"])
def test_a_shell_served_as_octet_stream_is_not_a_web_page_and_is_not_rendered(
    sites: StandinSites, tmp_path: Path, render: str
):
    """Check of 2026-11-29: a page served as application/octet-stream was read as HTML, found a script shell and
    sent to the browser, which downloaded it instead of displaying it: "rendering failed: the browser kept no raw
    answer to the page's request". It is said not a web page, naming its content type, and never rendered."""
    shell = replace(javascript_shell(), content_type="application/octet-stream")
    with RouteServer({"/privacy": shell}) as site:
        config = write_config(tmp_path / "config", {"acme": (site.url("/privacy"), render)})
        result = run_cli(config, tmp_path / "data", "track", env=environment(sites))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert site.paths == ["/robots.txt", "/privacy"], "one fetch: the plain one (auto), or the browser's (always)"
    (failed,) = failed_lines(result.stderr)
    if render == "auto":  # known from the plain fetch: never sent to the browser
        assert failed == (
            "FAILED acme/privacy-policy: not a web page: served as application/octet-stream, which a browser"
            " downloads instead of displaying; read as HTML, it has no text without its scripts"
        ), result.stderr
        assert [row[:3] for row in catalog_rows(tmp_path / "data")] == [("acme/privacy-policy", "refused", 0)]
    else:  # rendered first: the browser downloaded it, said as such, a refusal (asking again gets the same)
        assert failed == (
            "FAILED acme/privacy-policy: rendering failed: not a web page: served as application/octet-stream, which"
            " the browser downloaded instead of displaying"
        ), result.stderr
    assert result.stderr.splitlines()[-1] == "1 document failed: 1 refused (named above)", result.stderr
