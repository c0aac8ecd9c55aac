"""End to end: `track` fetches different sites in parallel — a site that does not answer holds back no other.

Politeness is per site (one request at a time each); across sites only ``CONCURRENT_REQUESTS`` (16) bounds the
crawl. A site with more documents than that used to fill Scrapy's downloader with requests waiting for their turn,
and the other sites were sent nothing until it answered (crawler/sitequeue.py). Proved without timing: each site
holds its answer until the test has seen every site's request arrive, which can only happen if all were sent while
the others were still unanswered; the timeouts are failure guards, far from anything the run needs.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from standin.cli import cli_command, cli_environment, git, wait_for
from standin.legal_text import policy_page
from standin.pages import held
from standin.sites import StandinSites
from test_track_e2e import write_config

# More documents than the crawl's CONCURRENT_REQUESTS (crawler/settings.py), all of them queued for one site.
HANGING_DOCUMENTS = 20
# Longer than the guard below, so that no request times out (which would let the others through) before it fails.
DOWNLOAD_TIMEOUT = 300
GUARD_SECONDS = 60


def test_a_site_that_does_not_answer_holds_back_no_other_site(sites: StandinSites, tmp_path: Path) -> None:
    answer = threading.Event()  # every site answers once the test has seen each site's first request arrive
    hanging = {
        f"doc-{number:02d}": sites.set_page(
            f"http://hanging.test/doc-{number:02d}", held(policy_page("hanging.test", f"doc-{number}"), answer)
        )
        for number in range(HANGING_DOCUMENTS)
    }
    # Service files are read in name order: the hanging site's requests come first out of the plan.
    others = {
        name: sites.set_page(f"http://{name}.test/privacy", held(policy_page(f"{name}.test", "privacy"), answer))
        for name in ("quick", "steady")
    }
    services = {"hanging": hanging, **{name: {"privacy": url} for name, url in others.items()}}
    config = write_config(tmp_path / "config", services)
    (config / "settings.toml").write_text(f"[wayback]\ntimeout_seconds = {DOWNLOAD_TIMEOUT}\n")
    data = tmp_path / "data"

    def every_site_asked() -> bool:
        return any(sites.received(url) for url in hanging.values()) and all(
            sites.received(url) == 1 for url in others.values()
        )

    run = subprocess.Popen(
        cli_command(config, data, "track"),
        env=cli_environment(http_proxy=sites.proxy_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(every_site_asked, GUARD_SECONDS, "a request to each site while none has answered")
    except AssertionError:
        run.kill()  # held back: its queued documents would now be spaced by the hanging site's long latency
        raise
    finally:
        answer.set()
        _, stderr = run.communicate(timeout=120)

    # While the test waited, the hanging site was asked one document: the rest waited for its turn, not the others.
    assert run.returncode == 0, stderr
    assert f"track: {HANGING_DOCUMENTS + 2}/{HANGING_DOCUMENTS + 2} documents (100 %)" in stderr, stderr
    assert len(git(data / "versions", "log", "--format=%H", "main").split()) == HANGING_DOCUMENTS + 2
    for site in ("hanging.test", "quick.test", "steady.test"):
        assert sites.max_in_flight(site) == 1, site
