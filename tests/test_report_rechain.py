"""`report` after a backfill re-chains the versions branch: inserting an earlier version of one document gives every
later commit of every document a new id (the branch is one history in date order). The pages that show those
commits are written again, every link of the report still leads to a page and an anchor that exist, and a feed
entry keeps its id (feed readers do not see old changes as new). Real Git through ``VersionStore``, small pages
(``Paging``), the same code as the defaults' (docs/decisions/0018-report-pages-and-feeds.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag
from xml.etree import ElementTree

from standin.cli import git

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.webreport.build import build_report
from policy_archive.pipeline.webreport.document_files import Paging
from policy_archive.records import DocumentDeclaration, Source, Version

ATOM = "{http://www.w3.org/2005/Atom}"
PAGING = Paging(page=3, feed=4)
ACME = DocumentDeclaration("acme", "Acme", "privacy-policy", "https://acme.example/privacy")
BETA = DocumentDeclaration("beta", "Beta", "terms-of-service", "https://beta.example/terms")
START = datetime(2018, 1, 1, 12, tzinfo=UTC)


def version(declaration: DocumentDeclaration, day: float, body: str) -> Version:
    at = START + timedelta(days=day)
    snapshot = f"http://127.0.0.1:9/web/{at:%Y%m%d%H%M%S}id_/{declaration.url}"
    header = f"> *The following text is extracted and transformed from [a snapshot]({snapshot}) of {at:%Y-%m-%d}.*"
    return Version(
        document=declaration.key,
        path=declaration.path,
        display_name=declaration.display_name,
        captured_at=at,
        source=Source.WAYBACK,
        snapshot_url=snapshot,
        payload_sha1=f"SHA{day:08.2f}",
        extractor="test 1",
        content=f"{header}\n\n# {declaration.document_title}\n\n{body}\n",
        body=body,
    )


def report(tmp_path: Path, store: VersionStore) -> Path:
    """The report of the branch as it is now (the catalog made to match it, as a backfill does)."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    versions = store.main_versions()
    catalog.replace_versions({(v.document, v.captured_at): v.commit for v in versions}, store.head())
    site = tmp_path / "site"
    build_report([ACME, BETA], [ACME, BETA], catalog, store, site, Progress("t"), PAGING)
    catalog.close()
    return site


class Links(HTMLParser):
    """The hrefs and the ids of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag in ("a", "link") and values.get("href"):
            self.hrefs.append(values["href"])


def parsed(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def broken_links(site: Path) -> list[str]:
    """Every link of every page and feed whose file or anchor does not exist (links out of the report left out)."""
    pages = {page: parsed(page) for page in site.rglob("*.html")}
    hrefs = [(page, href) for page, links in pages.items() for href in links.hrefs]
    for feed in site.rglob("*.atom"):
        root = ElementTree.parse(feed).getroot()
        hrefs += [(feed, link.get("href")) for link in root.iter(f"{ATOM}link")]
    broken = []
    for source, href in hrefs:
        if re.match(r"[a-z]+:", href):
            continue
        path, fragment = urldefrag(href)
        target = (source.parent / unquote(path)).resolve() if path else source
        if not target.exists():
            broken.append(f"{source.relative_to(site)} -> {href}: no such file")
        elif fragment and fragment not in pages[target].ids:
            broken.append(f"{source.relative_to(site)} -> {href}: no such anchor")
    return broken


def feed_ids(feed: Path) -> dict[str, str]:
    """Each entry's capture time -> its Atom id."""
    root = ElementTree.parse(feed).getroot()
    return {entry.findtext(f"{ATOM}updated"): entry.findtext(f"{ATOM}id") for entry in root.iter(f"{ATOM}entry")}


def test_a_backfill_that_rechains_other_documents_leaves_no_dead_commit_broken_link_or_new_feed_id(tmp_path):
    store = VersionStore(tmp_path / "versions")
    # acme: 11 versions (pages 1-3 full, the own page the newest 3); beta: 2 versions after acme's first.
    store.save([version(ACME, day, f"We keep your data for {day} days.") for day in range(10, 21)])
    store.save([version(BETA, 12, "Be nice."), version(BETA, 15, "Be very nice.")])
    site = report(tmp_path, store)
    assert broken_links(site) == []
    before = {feed: feed_ids(feed) for feed in site.rglob("*.atom")}
    oldest = site / "acme" / "privacy-policy-1.html"
    written = oldest.read_bytes()

    # Nothing new: nothing written (the incremental report stays incremental).
    stamps = {path: path.stat().st_mtime_ns for path in site.rglob("*") if path.is_file()}
    for path in stamps:
        path.touch()
    stamps = {path: path.stat().st_mtime_ns for path in stamps}
    report(tmp_path, store)
    assert {path: path.stat().st_mtime_ns for path in stamps} == stamps

    # A backfill brings beta's text of day 0: every acme commit after it is re-chained, though acme has no new
    # version.
    old_main = set(git(tmp_path / "versions", "rev-list", "main").split())
    store.save([version(BETA, 0, "Be kind.")])
    assert not old_main & set(git(tmp_path / "versions", "rev-list", "main").split()), "every commit re-chained"
    site = report(tmp_path, store)

    on_main = set(git(tmp_path / "versions", "rev-list", "main").split())
    for page in site.rglob("*.html"):
        shown = re.findall(r"<code>([0-9a-f]{40})</code>", page.read_text(encoding="utf-8"))
        assert set(shown) <= on_main, f"{page.name} shows commits no longer on main"
    assert oldest.read_bytes() != written, "the full page of acme's oldest versions was written again"
    assert broken_links(site) == []
    after = {feed: feed_ids(feed) for feed in site.rglob("*.atom")}
    for feed, ids in before.items():
        kept = {at: ids[at] for at in ids if at in after[feed]}
        assert kept and {at: after[feed][at] for at in kept} == kept, f"{feed.name}: an unchanged version, a new id"
    beta = after[site / "beta" / "terms-of-service.atom"]
    assert len(set(beta.values())) == len(beta) == 2, "a version's id is its own"


def test_a_rechain_after_the_last_full_page_rewrites_only_the_pages_it_reaches(tmp_path):
    store = VersionStore(tmp_path / "versions")
    store.save([version(ACME, day, f"We keep your data for {day} days.") for day in range(10, 21)])
    store.save([version(BETA, 25, "Be nice.")])
    site = report(tmp_path, store)
    folder = site / "acme"
    pages = {name: folder / name for name in ("privacy-policy-1.html", "privacy-policy-2.html")}
    for path in pages.values():
        path.touch()
    stamps = {name: path.stat().st_mtime_ns for name, path in pages.items()}

    # beta's day 14.5 sits inside acme's page 2 (days 13-15): the commits from acme's day 15 on are re-chained;
    # page 1 (days 10-12) keeps its commits and is not written again.
    store.save([version(BETA, 14.5, "Be kind.")])
    site = report(tmp_path, store)
    assert pages["privacy-policy-1.html"].stat().st_mtime_ns == stamps["privacy-policy-1.html"]
    assert pages["privacy-policy-2.html"].stat().st_mtime_ns != stamps["privacy-policy-2.html"]
    assert broken_links(site) == []
