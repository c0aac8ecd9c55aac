"""End to end: `track` of many documents served by one host, as a policy host (iubenda, termly…) serves them.

Politeness is one request at a time per site, so the host's documents go one after another; what this checks is
what the user sees of it: a document whose request failed and is retried keeps its place (crawler/settings.py,
``RETRY_PRIORITY_ADJUST``) instead of waiting for every other document of its host.
"""

from __future__ import annotations

from pathlib import Path

from standin.legal_text import policy_page
from standin.pages import failing
from standin.sites import StandinSites
from test_track_e2e import cli, write_config

HOST = "policies.test"
DOCUMENTS = 6


def _provider(sites: StandinSites, failing_document: str) -> dict[str, str]:
    """``DOCUMENTS`` documents on ``HOST``, in the plan's order; ``failing_document`` answers one 500 first."""
    urls = {}
    for number in range(DOCUMENTS):
        name = f"doc-{number:02d}"
        page = policy_page(HOST, name)
        urls[name] = sites.set_page(f"http://{HOST}/{name}", failing(page) if name == failing_document else page)
    return urls


def test_a_retried_document_is_its_hosts_next_request(sites: StandinSites, tmp_path: Path) -> None:
    urls = _provider(sites, "doc-00")
    config = write_config(tmp_path / "config", {"provider": urls})

    result = cli(sites, config, tmp_path / "data", "track")

    assert result.returncode == 0, result.stderr
    assert f"track: {DOCUMENTS}/{DOCUMENTS} documents (100 %), {DOCUMENTS} fetched" in result.stderr
    asked = [entry.path for entry in sites.requests(HOST) if entry.path != "/robots.txt"]
    # The 500, then at once its retry, then the others; Scrapy's default put the retry after all of them.
    assert asked == ["/doc-00", "/doc-00", *(f"/doc-{number:02d}" for number in range(1, DOCUMENTS))]
