"""A live redirect whose ``Location`` is not a URL is refused in words, one line, the other documents unaffected.

The site sends ``Location: http://[::1/x`` (an unclosed IPv6 bracket: urllib's "Invalid IPv6 URL"). Scrapy's
RedirectMiddleware raised on it, so `track` said ``could not be fetched for now (run again to retry): the download
failed (Invalid IPv6 URL)`` — neither for now nor saying why. The archive's kind: tests/test_archived_locations.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from standin.cli import cli_environment, run_cli
from standin.legal_text import policy_page
from standin.pages import redirect
from standin.sites import StandinSites
from test_discover_list import failed_lines
from test_discover_live import home
from test_track_e2e import cli, commits, failure_lines, write_config

BROKEN = "http://[::1/x"
REASON = "the redirect's Location is not a URL: 'http://[::1/x' (Invalid IPv6 URL)"


def test_track_refuses_a_redirect_to_no_url_in_words_and_records_the_others(tmp_path: Path) -> None:
    with StandinSites() as sites:
        good = sites.set_page("http://acme.test/legal/privacy", policy_page("acme.test", "privacy-policy"))
        bad = sites.set_page("http://acme.test/legal/terms", redirect(BROKEN, 302))
        config = write_config(tmp_path / "config", {"acme": {"privacy-policy": good, "terms-of-service": bad}})
        result = cli(sites, config, tmp_path / "data", "track")
        asked = [request.path for request in sites.requests("acme.test")]

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert failure_lines(result.stderr) == {"acme/terms-of-service": REASON}
    assert "for now" not in result.stderr, result.stderr
    assert asked.count("/legal/terms") == 1, "refused, not asked again at once"
    assert len(commits(tmp_path / "data")) == 1, "the other document is recorded"


def test_discover_live_says_why_a_home_page_redirecting_to_no_url_is_not_read(tmp_path: Path) -> None:
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    listing = tmp_path / "domains.txt"
    listing.write_text("http://cafe.test\n")
    with StandinSites() as sites:
        sites.set_page("http://cafe.test/", home(("/legal/privacy", "Privacy Policy")))
        sites.set_page("http://moved.test/", redirect(BROKEN, 301))
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        command = ("discover", "--live", "http://moved.test", "--from", str(listing), "--write")
        result = run_cli(config, tmp_path / "data", *command, env=env)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    said = f"FAILED moved.test: today's home page could not be read: not fetched: {REASON}"
    assert failed_lines(result.stderr) == [said]
    assert "for now" not in result.stderr, result.stderr
    written = tomllib.loads((config / "services" / "cafe.test.toml").read_text())
    assert written["documents"]["privacy-policy"]["url"] == "http://cafe.test/legal/privacy"
