"""The report in a real headless Chromium (Debian's package, driven by Playwright), opened from file://.

Checks what a reader gets: the text of the index and of a document page, keyboard navigation, contrast of the
text colours (WCAG AA), the print layout; and takes a screenshot like the README's (docs/report.png).
"""

from __future__ import annotations

from pathlib import Path

import offline_guard
import pytest
from review_data import recorded_history
from standin.cli import run_cli

from policy_archive.crawler.render import extra_installed, system_chromium

pytestmark = pytest.mark.skipif(
    not extra_installed() or system_chromium() is None,
    reason="needs the browser extra and Chromium (apt-get install chromium; .ci/run installs both)",
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    *offline_guard.CHROMIUM_ARGS,  # nothing but 127.0.0.1 resolves (tests/offline/offline_guard.py)
]
# WCAG 2.1 AA: normal text needs a contrast ratio of at least 4.5:1 against its background.
CONTRAST = """(selector) => {
  const channel = (value) => { value /= 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4; };
  const luminance = (css) => { const [r, g, b] = css.match(/[\\d.]+/g).map(Number);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b); };
  const background = (element) => { for (let e = element; e; e = e.parentElement) {
      const colour = getComputedStyle(e).backgroundColor; if (!colour.startsWith("rgba(0, 0, 0, 0")) return colour; }
    return "rgb(255, 255, 255)"; };
  const element = document.querySelector(selector);
  const [a, b] = [luminance(getComputedStyle(element).color), luminance(background(element))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("browser")
    config, data = recorded_history(directory)
    result = run_cli(config, data, "report", "--output", str(directory / "site"))
    assert result.returncode == 0, result.stderr
    return directory / "site"


@pytest.fixture
def browser_page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile for every test
            executable_path=system_chromium(),
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        # Offline by construction: any request that is not a file:// one fails the test.
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        try:
            yield context.new_page()
        finally:
            context.close()
        assert all(url.startswith("file://") for url in requests), requests


def test_index_and_document_page_in_chromium(site, browser_page, tmp_path):
    page = browser_page
    page.goto((site / "index.html").as_uri())
    assert page.title() == "Policy histories"
    row = page.locator("table.documents tbody tr").first
    assert row.locator("th").inner_text().startswith("ACRCloud Privacy Policy")
    assert row.locator("td").nth(0).inner_text() == "2"
    assert "2017-01-03" in row.inner_text() and "2018-05-28" in row.inner_text()

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.get_by_role("link", name="ACRCloud Privacy Policy").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/acrcloud/privacy-policy.html")
    assert page.get_by_role("heading", level=1).inner_text() == "ACRCloud Privacy Policy"
    inserted = page.locator("article.version ins").all_inner_texts()
    assert "We comply with the General Data Protection Regulation (GDPR)." in inserted
    assert "2016" in page.locator("article.version del").all_inner_texts()
    assert page.locator("dl.facts a[href*='id_/']").count() == 2, "a link to every snapshot"
    for selector in ("body", "ins", "del", "a", ".diff p.same", "dl.facts dt"):
        assert page.evaluate(CONTRAST, selector) >= 4.5, selector

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000 and shot.read_bytes().startswith(b"\x89PNG")

    page.emulate_media(media="print")
    assert page.locator("svg.timeline").first.is_hidden(), "the timeline picture is not printed"
    assert page.locator("article.version ins").first.is_visible()


def test_older_changes_are_a_link_away_with_the_keyboard(browser_page, tmp_path):
    """A document with more versions than its page holds (3 a page here): its page links to the older changes,
    which Chromium follows with the keyboard to a page of the same style, printed the same way."""
    from test_report_paging import PAGING, add_versions, report

    repo = tmp_path / "versions"
    add_versions(repo, 1, 8)
    site = report(tmp_path, repo)
    page = browser_page
    page.goto((site / "example" / "privacy-policy.html").as_uri())
    assert page.locator("article.version").count() == PAGING.page
    older = page.get_by_role("navigation", name="Pages of changes (top)").get_by_role("link", name="Older changes")
    older.focus()
    assert page.evaluate(CONTRAST, "nav.pages a") >= 4.5
    page.keyboard.press("Enter")
    page.wait_for_url("**/example/privacy-policy-2.html")
    assert page.get_by_role("heading", level=1).inner_text() == "Example Privacy Policy: versions 4–6"
    assert page.locator("article.version").count() == PAGING.page
    assert "4" in page.locator("article.version ins").all_inner_texts()
    page.get_by_role("navigation", name="Pages of changes (top)").get_by_role("link", name="Older changes").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/example/privacy-policy-1.html")
    assert page.locator("details.fulltext").count() == 1, "the first version's whole text, on the oldest page"
    page.emulate_media(media="print")
    assert page.locator("nav.pages").first.is_hidden(), "links between pages are not printed"
    assert page.locator("article.version").first.is_visible()
