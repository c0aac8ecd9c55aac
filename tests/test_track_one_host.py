"""End to end: `track` of many documents served by one host, as a policy host (iubenda, termly…) serves them.

Politeness is one request at a time per site, so the host's documents go one after another; what this checks is
what the user sees of it: a document whose request failed and is retried keeps its place (crawler/settings.py,
``RETRY_PRIORITY_ADJUST``) instead of waiting for every other document of its host, and the progress line names
the documents left by site and those waiting on a retry, with no ETA while one does (pipeline/jobs/sites_left.py).
No timing: a page held until the test releases it orders what the lines can show.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from standin.cli import wait_for
from standin.legal_text import policy_page
from standin.pages import failing, held
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


def test_the_progress_line_names_the_sites_still_busy_and_the_documents_retried(
    sites: StandinSites, tmp_path: Path
) -> None:
    urls = _provider(sites, "doc-00")
    # Another site's page, answered only once the host's last document was asked: until then it is one left.
    answer = threading.Event()
    other = sites.set_page("http://other.test/privacy", held(policy_page("other.test", "privacy"), answer))
    config = write_config(tmp_path / "config", {"provider": urls, "zother": {"privacy": other}})
    last = urls[f"doc-{DOCUMENTS - 1:02d}"]
    release = threading.Thread(target=lambda: (wait_for(lambda: sites.received(last) > 0, 120, last), answer.set()))
    release.start()
    try:
        result = cli(sites, config, tmp_path / "data", "--verbose", "track")
    finally:
        answer.set()
        release.join()

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("track: ")]
    total = DOCUMENTS + 1
    # At the retry, before any document is done: every document left, the busiest site first; no ETA.
    assert (
        f"track: 0/{total} documents (0 %), {total} left on 2 sites ({HOST} {DOCUMENTS}, other.test 1), "
        "1 retried (provider/doc-00)"
    ) in lines, lines
    # Each document done: the counts add up, the retried one is no longer named, and an ETA comes back.
    done = re.compile(
        rf"track: (?P<done>\d)/{total} documents \(\d+ %\), (?P<fetched>\d) fetched, "
        rf"(?P<left>\d) left on (?P<sites>\d) sites? \((?P<named>[^)]+)\), [\d.]+/(s|min|h), ETA \d+:\d\d:\d\d"
    )
    shown = [match for line in lines if (match := done.fullmatch(line))]
    assert len(shown) == total - 1, lines  # the last document done is the final line's, without "left"
    for match in shown:
        assert int(match["done"]) == int(match["fetched"]) == total - int(match["left"]), match.string
        if match["sites"] == "1":  # other.test may answer before the host's last document once released
            assert match["named"] in (HOST, "other.test"), match.string
        else:  # each site named with its documents left, which add up
            assert sum(int(part.rsplit(" ", 1)[1]) for part in match["named"].split(", ")) == int(match["left"])
    final = f"track: {total}/{total} documents (100 %), {total} fetched, {total} versions recorded, "
    assert re.fullmatch(re.escape(final) + r"[\d.]+/(s|min|h)", lines[-1]), lines
