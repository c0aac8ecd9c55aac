"""`report` on a document with more versions than one page or feed holds: the newest changes on the document's
page, older ones on pages of a fixed number of versions counted from the oldest, feeds of the newest entries only,
and an update that writes only the pages a new version changes. Small pages and feeds here (``Paging``), the same
code as the defaults' (docs/decisions/0018-report-pages-and-feeds.md)."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

from review_data import handmade_commit
from standin.cli import git

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.webreport import document_files
from policy_archive.pipeline.webreport.build import build_report
from policy_archive.pipeline.webreport.document_files import Paging
from policy_archive.records import DocumentDeclaration, parse_iso_z

ATOM = "{http://www.w3.org/2005/Atom}"
PAGING = Paging(page=3, feed=2)
DECLARATION = DocumentDeclaration("example", "Example", "privacy-policy", "https://example.org/privacy")


def add_versions(repo: Path, first: int, last: int) -> None:
    """Versions ``first`` to ``last`` (numbered from 1), each one changing one word of the one before."""
    if first == 1:
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    for number in range(first, last + 1):
        handmade_commit(repo, f"2018-01-{number:02d}T12:00:00Z", f"We keep your data for {number} days.\n", "")


def report(tmp_path: Path, repo: Path) -> Path:
    """The report of the history in ``repo`` (every commit catalogued as a version) in ``tmp_path/site``."""
    lines = git(repo, "log", "--reverse", "--format=%H %(trailers:key=Captured-At,valueonly)", "main").split("\n\n")
    pairs = [line.split() for line in lines if line.strip()]
    catalog = Catalog(tmp_path / f"catalog-{len(pairs)}.sqlite3")
    catalog.add_versions({("example/privacy-policy", parse_iso_z(at)): commit for commit, at in pairs}, pairs[-1][0])
    site = tmp_path / "site"
    store = VersionStore(repo, read_only=True)
    build_report([DECLARATION], [DECLARATION], catalog, store, site, Progress("t"), PAGING)
    return site


def commits_shown(page: Path) -> list[str]:
    return re.findall(r"<code>([0-9a-f]{40})</code>", page.read_text(encoding="utf-8"))


def page_links(page: Path) -> set[str]:
    """The pages of changes the navigation of ``page`` links to (file names beside it)."""
    html = page.read_text(encoding="utf-8")
    return set(re.findall(r'<a href="(privacy-policy(?:-\d+)?\.html)"', html))


def entries(feed: Path) -> list[ElementTree.Element]:
    root = ElementTree.parse(feed).getroot()  # well-formed, or this raises
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def test_every_change_is_on_a_bounded_page_reached_by_links_and_feeds_hold_the_newest(tmp_path):
    repo = tmp_path / "versions"
    add_versions(repo, 1, 8)
    site = report(tmp_path, repo)
    folder = site / "example"
    own = folder / "privacy-policy.html"
    assert sorted(path.name for path in folder.glob("*.html")) == [
        "privacy-policy-1.html",  # versions 1-3
        "privacy-policy-2.html",  # versions 4-6
        "privacy-policy-3.html",  # versions 7-8, and 9 once it comes: where links to them lead
        "privacy-policy.html",  # the newest 3: versions 6-8
    ]
    commits = git(repo, "log", "--reverse", "--format=%H", "main").split()
    assert commits_shown(own) == commits[:4:-1]  # newest first
    assert commits_shown(folder / "privacy-policy-2.html") == commits[5:2:-1]
    assert commits_shown(folder / "privacy-policy-1.html") == commits[2::-1]
    assert commits_shown(folder / "privacy-policy-3.html") == commits[:5:-1]
    # Every page is reached from the document's own page by following links, each holds at most a page of versions.
    reached, todo = set(), ["privacy-policy.html"]
    while todo:
        name = todo.pop()
        reached.add(name)
        assert len(commits_shown(folder / name)) <= PAGING.page
        todo += sorted(page_links(folder / name) - reached)
    assert reached == {path.name for path in folder.glob("*.html")}
    assert {c for name in reached for c in commits_shown(folder / name)} == set(commits), "every version shown"
    html = own.read_text(encoding="utf-8")
    assert '<a href="privacy-policy-2.html" rel="next">Older changes</a>' in html
    assert "<script" not in html
    oldest = (folder / "privacy-policy-1.html").read_text(encoding="utf-8")
    assert '<a href="privacy-policy-2.html" rel="prev">Newer changes</a>' in oldest and "Older changes" not in oldest
    assert "The first recorded text" in oldest
    # Feeds: the newest entries only, newest first, each linking to the page that shows its change.
    for feed in (folder / "privacy-policy.atom", site / "feed.atom"):
        found = entries(feed)
        assert [e.findtext(f"{ATOM}updated") for e in found] == ["2018-01-08T12:00:00Z", "2018-01-07T12:00:00Z"]
    link = entries(folder / "privacy-policy.atom")[0].find(f"{ATOM}link").get("href")
    # the page that holds it for good, the anchor its date (kept by a re-chain)
    assert link == "../example/privacy-policy-3.html#v-20180108T120000Z"


def test_a_new_version_rewrites_the_own_page_and_a_page_that_fills_not_the_older_ones(tmp_path, monkeypatch):
    repo = tmp_path / "versions"
    add_versions(repo, 1, 8)
    site = report(tmp_path, repo)
    folder = site / "example"
    pages = {name: folder / name for name in ("privacy-policy-1.html", "privacy-policy-2.html")}
    third = folder / "privacy-policy-3.html"  # versions 7-8: filled by the next version
    for path in pages.values():
        path.touch()
        subprocess.run(["touch", "-d", "2000-01-01", str(path)], check=True)
    stamp = pages["privacy-policy-1.html"].stat().st_mtime_ns
    compared = []
    original = document_files.change_blocks
    monkeypatch.setattr(document_files, "change_blocks", lambda old, new: compared.append(new) or original(old, new))

    add_versions(repo, 9, 9)  # 9 versions: version 9 fills the third page
    site = report(tmp_path, repo)
    assert all(path.stat().st_mtime_ns == stamp for path in pages.values()), "older pages left alone"
    assert len(commits_shown(third)) == PAGING.page
    assert len(compared) <= PAGING.page, "only the versions the own page and the feed show are compared"
    assert entries(folder / "privacy-policy.atom")[0].findtext(f"{ATOM}updated") == "2018-01-09T12:00:00Z"

    add_versions(repo, 10, 10)  # 10 versions: version 10 begins a fourth page
    site = report(tmp_path, repo)
    assert all(path.stat().st_mtime_ns == stamp for path in pages.values()), "pages before the filled one unchanged"
    assert len(commits_shown(third)) == PAGING.page
    assert 'href="privacy-policy-4.html" rel="prev">Newer changes' in third.read_text()
    assert 'href="privacy-policy-3.html" rel="prev">Newer changes' in pages["privacy-policy-2.html"].read_text()
    commits = git(repo, "log", "--format=%H", "main").split()
    assert commits_shown(folder / "privacy-policy.html") == commits[:3]
    assert [e.findtext(f"{ATOM}updated") for e in entries(site / "feed.atom")] == [
        "2018-01-10T12:00:00Z",
        "2018-01-09T12:00:00Z",
    ]
    compared.clear()
    third.unlink()  # a page lost: the next run writes it again, though no version came
    report(tmp_path, repo)
    assert len(commits_shown(third)) == PAGING.page
    assert pages["privacy-policy-1.html"].stat().st_mtime_ns == stamp


class Anchors(HTMLParser):
    """The ids of an HTML page and the targets of its links."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"])


def parsed(page: Path) -> Anchors:
    anchors = Anchors()
    anchors.feed(page.read_text(encoding="utf-8"))
    return anchors


def local_targets(site: Path) -> set[tuple[Path, str]]:
    """Every (file, anchor) a page or feed of the report links to inside it, resolved from where the link is."""
    links = [(page, href) for page in site.rglob("*.html") for href in parsed(page).hrefs]
    for feed in site.rglob("*.atom"):
        for element in ElementTree.parse(feed).getroot().iter(f"{ATOM}link"):
            links.append((feed, element.get("href")))
    targets = set()
    for where, href in links:
        if "://" in href or href.startswith("mailto:"):
            continue
        path, _, anchor = href.partition("#")
        targets.add(((where.parent / path).resolve() if path else where.resolve(), anchor))
    return targets


def test_every_link_an_earlier_report_made_to_a_version_still_leads_to_it(tmp_path):
    """A feed reader keeps the links it read, a person bookmarks a version: every link a report wrote (its pages',
    its feeds') still leads to a page holding that anchor after a page's worth of newer versions and more came.
    Until 2026-11-29 a version's link was the own page's anchor, gone once newer versions pushed it off."""
    repo = tmp_path / "versions"
    add_versions(repo, 1, 8)
    site = report(tmp_path, repo)
    before = local_targets(site)
    assert any(anchor.startswith("v-") for _, anchor in before), "links to versions were made"
    done = 8
    for last in (done + PAGING.page + 1, done + 3 * PAGING.page + 3):  # a page's worth and one, then more pages
        add_versions(repo, done + 1, last)
        done = last
        site = report(tmp_path, repo)
        for path, anchor in sorted(before):
            assert path.is_file(), (path, anchor)
            assert not anchor or anchor in parsed(path).ids, f"{path.name}#{anchor} is gone after {last} versions"
        before |= local_targets(site)
