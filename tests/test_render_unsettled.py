"""A rendered page whose text was not shown, or was still changing, when its wait ran out is no version.

Before 2026-11-29 such a page was taken as it was at the deadline ("taking the page as it is after the wait", at
INFO): a half-built text became a Git version, and the next run, rendering it whole, a false change. Now it is a
capture failed for now, `render-unsettled: …` (crawler/render.py ``UNSETTLED``), asked again by the next run. A
page polling the network forever whose text is shown and steady is taken; so is one with a ticking clock or a
carousel that only shows and hides its slides (their text's length does not move).

No test here races a delay: the pages that must not settle never do (their text keeps growing, or their data is held
unanswered until the run is over), with a short ``render_timeout_seconds``; the pages that must settle do so at once
under a wait of a day, which only a page taken before its deadline can pass within the run's time limit.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from standin.archive import StandinArchive
from standin.cli import git
from standin.legal_text import policy_page
from standin.pages import held, json_data
from standin.scripted_policy import DATA_PATH, SCRIPT_PATH, archive_settings, policy_script, scripted_policy
from standin.sites import StandinSites
from test_render_e2e import (
    DELAYED,
    catalog_rows,
    environment,
    failed_lines,
    run_cli,
    sections,
    version_text,
    warc_records,
    write_config,
)

from policy_archive.crawler.render import extra_installed, system_chromium

pytestmark = pytest.mark.skipif(
    not extra_installed() or system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)

# Long enough for a page's navigation on a loaded machine; the pages below that must fail never settle at all.
SHORT_WAIT = "[crawl]\nrender_timeout_seconds = 10\n"
# A day: a page taken before its wait ran out is the only way a run ends within the test's time limit (300 s).
DAY_WAIT = "[crawl]\nrender_timeout_seconds = 86400\n"
STILL_CHANGING = (
    "render-unsettled: the page was still changing its text after 10 s (setting [crawl] render_timeout_seconds)"
)
NOT_SHOWN = (
    "render-unsettled: the page was still loading after 10 s, fewer than 200 characters of its text shown (setting"
    " [crawl] render_timeout_seconds)"
)
FOR_NOW = "could not be fetched for now (run again to retry)"

# Text added without end: a paragraph every 50 ms (a page that never finishes building, or a feed).
GROWING = (
    "setInterval(function () { const p = document.createElement('p');"
    " p.textContent = 'One more paragraph of a text that never stops growing.'; document.body.appendChild(p); }, 50);"
)
# One element's text swapped every 50 ms between a short and a long one (a carousel rewriting its slide).
SWAPPING = (
    "const slide = document.createElement('p'); document.body.appendChild(slide); let n = 0;"
    " setInterval(function () { slide.textContent = (n++ % 2) ? 'Short slide.' : 'A long slide. '.repeat(20); }, 50);"
)
# A clock ticking every 50 ms (an ISO time: always 24 characters), and a carousel showing one of three slides of
# different lengths at a time, every 50 ms, by their style alone: what changes is not the text's length.
TICKING = (
    "const clock = document.createElement('p'); document.body.prepend(clock);"
    " setInterval(function () { clock.textContent = new Date().toISOString(); }, 50);"
    " const slides = ['One.', 'Two slides.', 'The third slide, the longest of the three by far.'].map(function (t) {"
    "  const s = document.createElement('div'); s.textContent = t; s.style.display = 'none';"
    "  document.body.appendChild(s); return s; });"
    " let shown = 0;"
    " setInterval(function () { slides.forEach(function (s, i) { s.style.display = i === shown ? '' : 'none'; });"
    "  shown = (shown + 1) % slides.length; }, 50);"
)
# Asks for data every 100 ms as long as it is open (a chat widget, analytics): never network idle.
POLLING = "setInterval(function () { fetch('/poll', {cache: 'no-store'}); }, 100);"


def scripted_page(sites: StandinSites, host: str, script: str) -> str:
    """``http://HOST/privacy``: a ~5 KB policy, whole in its HTML, and ``script`` run on it."""
    page = policy_page(host, "privacy", size=5_000)
    body = page.body.replace(b"</body>", f"<script>{script}</script></body>".encode())
    return sites.set_page(f"http://{host}/privacy", replace(page, body=body))


def rendered_records(data: Path) -> list[str]:
    return [record[1] for record in warc_records(data) if record[0] == "resource"]


@pytest.mark.parametrize("script", [GROWING, SWAPPING], ids=["growing", "swapping"])
def test_a_page_still_changing_its_text_at_the_deadline_is_no_version(sites: StandinSites, tmp_path: Path, script: str):
    url = scripted_page(sites, "busy.test", script)
    config = write_config(tmp_path / "config", {"busy": (url, "always")}, SHORT_WAIT)
    data = tmp_path / "data"

    result = run_cli(config, data, "track", env=environment(sites))

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert failed_lines(result.stderr) == [f"FAILED busy/privacy-policy: {FOR_NOW}: {STILL_CHANGING}"]
    assert result.stderr.splitlines()[-1] == (
        "1 document failed: 1 could not be fetched for now (named above; run again to retry)"
    ), result.stderr
    assert not (data / "versions" / "b" / "busy").exists(), "no version of a half-built text"
    assert rendered_records(data) == [], "no rendered DOM stored"
    status = run_cli(config, data, "status", env=environment(sites))
    assert STILL_CHANGING in status.stdout, status.stdout


def test_a_page_whose_text_comes_after_the_wait_is_no_version_and_is_asked_again(sites: StandinSites, tmp_path: Path):
    """A script shell whose data is held unanswered through the first run's wait (``auto``: fetched plain, found
    to be a shell, rendered): the first run records nothing and says why; the second, the data answered, the text."""
    release = threading.Event()
    url = sites.set_page("http://spa.test/privacy", scripted_policy("Spa Privacy Policy", SCRIPT_PATH))
    sites.set_page(f"http://spa.test{SCRIPT_PATH}", policy_script(DATA_PATH, 0))
    sites.set_page(f"http://spa.test{DATA_PATH}", held(json_data(sections()), release))
    config = write_config(tmp_path / "config", {"spa": (url, "auto")}, SHORT_WAIT)
    data = tmp_path / "data"

    try:
        first = run_cli(config, data, "track", env=environment(sites))
    finally:
        release.set()

    assert first.returncode == 1 and "Traceback" not in first.stderr, first.stderr
    (failed,) = failed_lines(first.stderr)
    assert failed.startswith(f"FAILED spa/privacy-policy: {FOR_NOW}: javascript-shell"), failed
    assert failed.endswith(f"; {NOT_SHOWN}"), failed
    assert first.stderr.splitlines()[-1] == (
        "1 document failed: 1 could not be fetched for now (named above; run again to retry)"
    ), first.stderr
    assert not (data / "versions" / "s" / "spa").exists(), "no version of the shell's few words"
    assert [row[:3] for row in catalog_rows(data)] == [("spa/privacy-policy", "refused", 0)], "the shell only"
    assert NOT_SHOWN in run_cli(config, data, "status", env=environment(sites)).stdout

    second = run_cli(config, data, "track", env=environment(sites))
    assert second.returncode == 0, second.stderr
    assert DELAYED in version_text(data, "spa")


def test_a_page_polling_the_network_forever_is_taken_once_its_text_is_steady(sites: StandinSites, tmp_path: Path):
    """Never network idle (its polls are held unanswered), its text shown and steady: taken when its wait ends."""
    release = threading.Event()
    sites.set_page("http://poll.test/poll", held(json_data({}), release))
    url = scripted_page(sites, "poll.test", POLLING)
    config = write_config(tmp_path / "config", {"poll": (url, "always")}, SHORT_WAIT)
    data = tmp_path / "data"
    try:
        result = run_cli(config, data, "track", "--verbose", env=environment(sites))
    finally:
        release.set()
    assert result.returncode == 0, result.stderr
    assert "poll.test Privacy" in version_text(data, "poll")
    assert "taken without network idle, its text shown and steady" in result.stderr
    assert rendered_records(data) == [f"urn:rendered:{url}"]


def test_a_ticking_clock_and_a_carousel_do_not_keep_a_page_from_settling(sites: StandinSites, tmp_path: Path):
    """The DOM never stops changing, the text's length does not move: taken at once, not at the end of a day's
    wait (before 2026-11-29 such a page was taken only when its wait ran out)."""
    url = scripted_page(sites, "clock.test", TICKING)
    config = write_config(tmp_path / "config", {"clock": (url, "always")}, DAY_WAIT)
    data = tmp_path / "data"
    result = run_cli(config, data, "track", env=environment(sites))
    assert result.returncode == 0, result.stderr
    assert "clock.test Privacy" in version_text(data, "clock")
    (dom,) = [record[2] for record in warc_records(data) if record[0] == "resource"]
    assert b"The third slide" in dom and b"display: none" in dom, "every slide is in the DOM, hidden or not"


def test_an_archived_page_still_changing_is_a_capture_failed_for_now(
    sites: StandinSites, standin_archive: StandinArchive, tmp_path: Path
):
    """The same for a backfill: the capture is not a version, failed for now (the next run asks for it again),
    named with its reason on the document's line and by `status`; the other capture is recorded."""
    url = "http://busy.test/privacy"
    page = policy_page("busy.test", "privacy", size=5_000)
    standin_archive.add_capture(url, "20200101000000", page.body)
    body = page.body.replace(b"</body>", f"<script>{GROWING}</script></body>".encode())
    standin_archive.add_capture(url, "20210101000000", body)
    settings = archive_settings(standin_archive) + SHORT_WAIT
    config = write_config(tmp_path / "config", {"busy": (url, "always")}, settings)
    data = tmp_path / "data"

    result = run_cli(config, data, "backfill", "--strategy", "all", env=environment(sites))

    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    log = git(data / "versions", "log", "--format=%ad", "--date=format:%Y-%m-%d", "main")
    assert log.split() == ["2020-01-01"], "the settled capture only"
    assert failed_lines(result.stderr) == [
        f"FAILED busy/privacy-policy: 1 capture {FOR_NOW}: 20210101000000 ({STILL_CHANGING}); 1 version found among"
        " the others"
    ], result.stderr
    assert result.stderr.splitlines()[-1] == (
        "1 capture not verified: 1 could not be fetched for now (named above; run again to retry); every other listed"
        " capture was fetched, has the bytes of a fetched one, or was refused with its reason"
    ), result.stderr
    assert len(rendered_records(data)) == 1, "the settled capture's rendered DOM only"
    status = run_cli(config, data, "status", env=environment(sites))
    assert f"failed captures: 1, tried again by the next run: 2021-01-01T00:00:00Z ({STILL_CHANGING})" in status.stdout
    said = run_cli(config, data, "status", "--json", env=environment(sites)).stdout
    assert STILL_CHANGING in json.dumps(json.loads(said)), said
