"""A link the report gave out stays valid when a backfill inserts earlier versions of the same document: a version
keeps the numbered page it was first put on (``state.placed``), the inserted versions take pages of their own,
and every link a reader or a feed reader kept still leads to a page holding that version's article, showing that
version. Real Git through ``VersionStore`` (a backfill's writer), real report output parsed; small pages
(``Paging``), the same code as the defaults' (docs/decisions/0018-report-pages-and-feeds.md)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urldefrag
from xml.etree import ElementTree

from standin.archive import StandinArchive
from standin.cli import run_cli
from standin.legal_text import policy_page
from test_report_rechain import ACME, ATOM, BETA, PAGING, broken_links, feed_ids, parsed, report, version
from test_tour import PRIVACY, configure

from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.webreport.state import STATE_FILE, STATE_FORMAT
from policy_archive.records import iso_z

ARTICLE = re.compile(r'<article class="version" id="(v-[0-9TZ]+)".*?</article>', re.S)


def acme_text(day: float) -> str:
    return f"We keep your data for {day} days."


def remembered(site: Path) -> set[tuple[Path, str]]:
    """Every link to a version (``page#v-…``) that the report's pages and feeds give out, as (file, anchor)."""
    links = [(page, href) for page in site.rglob("*.html") for href in parsed(page).hrefs]
    for feed in site.rglob("*.atom"):
        links += [(feed, link.get("href")) for link in ElementTree.parse(feed).getroot().iter(f"{ATOM}link")]
    kept = set()
    for source, href in links:
        path, fragment = urldefrag(href)
        if fragment.startswith("v-") and not re.match(r"[a-z]+:", href):
            kept.add(((source.parent / unquote(path)).resolve() if path else source.resolve(), fragment))
    return kept


def articles(page: Path) -> dict[str, str]:
    """Each version article of ``page``: its id -> its HTML."""
    return {match.group(1): match.group(0) for match in ARTICLE.finditer(page.read_text(encoding="utf-8"))}


def anchor_of(committed) -> str:
    return "v-" + iso_z(committed.captured_at).replace("-", "").replace(":", "")


def assert_each_leads_to_its_version(links: set[tuple[Path, str]], store: VersionStore) -> None:
    """Each (file, anchor) is a file holding the article of that anchor, and the article shows the version of that
    date now on ``main``: its capture time and its commit."""
    on_main = {(v.document, anchor_of(v)): v for v in store.main_versions()}
    for path, anchor in sorted(links):
        assert path.is_file(), f"{path.name}#{anchor}: no such file"
        shown = articles(path).get(anchor)
        assert shown is not None, f"{path.name}#{anchor}: no such version on the page"
        expected = on_main[(f"{path.parent.name}/{re.sub(r'-[0-9]+$', '', path.stem)}", anchor)]
        assert f'datetime="{iso_z(expected.captured_at)}"' in shown, f"{path.name}#{anchor}: another version"
        assert re.findall(r"<code>([0-9a-f]{40})</code>", shown) == [expected.commit], f"{path.name}#{anchor}"


def numbered_pages(site: Path, declaration) -> dict[str, set[str]]:
    """Each numbered page of a document: its name -> the anchors of the versions it shows."""
    folder = site / declaration.service_id
    return {
        path.name: set(articles(path))
        for path in folder.glob(f"{declaration.document_id}-*.html")
        if re.fullmatch(rf"{declaration.document_id}-\d+\.html", path.name)
    }


def assert_every_version_on_one_bounded_page(site: Path, store: VersionStore) -> None:
    for declaration in (ACME, BETA):
        pages = numbered_pages(site, declaration)
        held = [anchor for anchors in pages.values() for anchor in anchors]
        expected = {anchor_of(v) for v in store.main_versions() if v.document == declaration.key}
        assert sorted(held) == sorted(expected), f"{declaration.key}: each version on exactly one numbered page"
        assert all(len(anchors) <= PAGING.page for anchors in pages.values())


def test_every_link_given_out_still_leads_to_its_version_after_earlier_versions_are_inserted(tmp_path):
    store = VersionStore(tmp_path / "versions")
    # acme: days 10-20, 11 versions (pages of 3: 10-12, 13-15, 16-18, 19-20); beta: two versions.
    store.save([version(ACME, day, acme_text(day)) for day in range(10, 21)])
    store.save([version(BETA, 12, "Be nice."), version(BETA, 15, "Be very nice.")])
    site = report(tmp_path, store)
    links = remembered(site)
    assert_each_leads_to_its_version(links, store)
    before = numbered_pages(site, ACME)
    ids = {feed: feed_ids(feed) for feed in site.rglob("*.atom")}

    # A backfill of acme brings 4 versions before all (days 0-3), 2 inside page 2 (13.5, 14.5), 1 between pages 2
    # and 3 (15.5) and a newer one (21): each version reported before stays on its page; counted from the oldest,
    # every one of them moved forward by 7 places, and most would have crossed into another page.
    inserted = [0, 1, 2, 3, 13.5, 14.5, 15.5]
    store.save([version(ACME, day, acme_text(day)) for day in [*inserted, 21]])
    site = report(tmp_path, store)
    assert_each_leads_to_its_version(links, store)
    after = numbered_pages(site, ACME)
    assert {name: after[name] & before[name] for name in before} == before, "no version left its page"
    assert broken_links(site) == []
    assert_every_version_on_one_bounded_page(site, store)
    new_pages = {name: anchors for name, anchors in after.items() if name not in before}
    assert [len(new_pages[f"privacy-policy-{number}.html"]) for number in (5, 6, 7)] == [3, 3, 1], (
        "the 7 inserted versions in date order on pages of their own: days 0-2, 3-14.5, 15.5"
    )
    assert "v-20180122T120000Z" in after["privacy-policy-4.html"], "day 21 fills the page of the newest"
    for feed, kept in ids.items():  # a feed entry keeps its id (its link's page did not change either)
        now = feed_ids(feed)
        assert {at: now[at] for at in kept if at in now} == {at: kept[at] for at in kept if at in now}

    # The pages' links lead in order of their oldest versions (page 7, day 15.5, between pages 2 and 3), and the
    # own page lists every page of versions it does not all show.
    links |= remembered(site)
    folder = site / "acme"
    own = folder / "privacy-policy.html"
    listed = set(re.findall(r'<li><a href="(privacy-policy-\d+\.html)">', own.read_text(encoding="utf-8")))
    assert listed == {name for name in after if after[name] - set(articles(own))}
    chain = newer_chain(folder, "privacy-policy-5.html")
    assert chain == [f"privacy-policy-{number}.html" for number in (5, 6, 1, 2, 7, 3, 4)]
    second = (folder / "privacy-policy-2.html").read_text(encoding="utf-8")
    assert "<h1>Acme Privacy Policy: 3 of versions 8–12</h1>" in second, "days 13, 14, 15; 13.5, 14.5 elsewhere"
    assert '<li value="10">' in second

    # A second backfill, before all again, after a version on a full page the first one made (1.5) and after the
    # one on page 7 (15.7, which joins it: page 7 has room): every link of both reports still leads to its version.
    store.save([version(ACME, day, acme_text(day)) for day in (-5, 1.5, 15.7)])
    site = report(tmp_path, store)
    assert_each_leads_to_its_version(links, store)
    assert broken_links(site) == []
    assert_every_version_on_one_bounded_page(site, store)
    again = numbered_pages(site, ACME)
    assert again["privacy-policy-7.html"] == {"v-20180117T000000Z", "v-20180117T044800Z"}
    assert again["privacy-policy-8.html"] == {"v-20171227T120000Z", "v-20180103T000000Z"}


def test_an_insertion_rewrites_only_the_pages_it_reaches(tmp_path):
    store = VersionStore(tmp_path / "versions")
    store.save([version(ACME, day, acme_text(day)) for day in range(10, 21)])
    site = report(tmp_path, store)
    folder = site / "acme"
    names = [f"privacy-policy-{number}.html" for number in (1, 2, 3, 4)]
    for name in names:
        (folder / name).touch()
    stamps = {name: (folder / name).stat().st_mtime_ns for name in names}

    # Day 18.5 falls after page 3 (days 16-18): pages 1 and 2 are as they were; page 3 gains a link to the new page
    # 5, page 4 (days 19-20) its commits re-chained and its link back to page 5.
    store.save([version(ACME, 18.5, acme_text(18.5))])
    site = report(tmp_path, store)
    changed = {name for name in names if (folder / name).stat().st_mtime_ns != stamps[name]}
    assert changed == {"privacy-policy-3.html", "privacy-policy-4.html"}
    assert set(articles(folder / "privacy-policy-5.html")) == {"v-20180120T000000Z"}
    assert 'href="privacy-policy-5.html" rel="prev">Newer changes' in (folder / "privacy-policy-3.html").read_text()
    assert 'href="privacy-policy-5.html" rel="next">Older changes' in (folder / "privacy-policy-4.html").read_text()
    assert broken_links(site) == []

    # Nothing new: nothing written.
    stamps = {path: path.stat().st_mtime_ns for path in site.rglob("*") if path.is_file()}
    report(tmp_path, store)
    assert {path: path.stat().st_mtime_ns for path in stamps} == stamps


def newer_chain(folder: Path, name: str) -> list[str]:
    """The numbered pages met from ``name`` following each one's "Newer changes" link."""
    chain = []
    while name:
        chain.append(name)
        found = re.search(r'<a href="([^"]+)" rel="prev">Newer changes', (folder / name).read_text(encoding="utf-8"))
        name = found and found.group(1)
    return chain


def test_a_new_version_and_an_inserted_one_in_the_same_run_take_pages_of_their_own(tmp_path):
    store = VersionStore(tmp_path / "versions")
    # acme: days 10-15, pages 1 and 2 full; beta: two versions.
    store.save([version(ACME, day, acme_text(day)) for day in range(10, 16)])
    store.save([version(BETA, 12, "Be nice."), version(BETA, 15, "Be very nice.")])
    site = report(tmp_path, store)
    links = remembered(site)
    folder = site / "acme"

    def on(*days: float) -> set[str]:
        return {anchor_of(version(ACME, day, acme_text(day))) for day in days}

    # One run brings an earlier version (day 5, a backfill) and a newer one (day 16, a track): the newer one starts
    # a page after page 2, not the page made for day 5, which the chain puts first (the code before put both on
    # page 3, so the newest version was on the oldest page of the chain).
    store.save([version(ACME, day, acme_text(day)) for day in (5, 16)])
    site = report(tmp_path, store)
    pages = numbered_pages(site, ACME)
    assert pages["privacy-policy-3.html"] == on(5)
    assert pages["privacy-policy-4.html"] == on(16)
    assert newer_chain(folder, "privacy-policy-3.html") == [f"privacy-policy-{n}.html" for n in (3, 1, 2, 4)]
    assert_each_leads_to_its_version(links, store)
    assert broken_links(site) == []
    links |= remembered(site)

    # The run after: another earlier version next to day 5 joins its page, another newer one joins day 16's.
    store.save([version(ACME, day, acme_text(day)) for day in (5.5, 17)])
    site = report(tmp_path, store)
    pages = numbered_pages(site, ACME)
    assert pages["privacy-policy-3.html"] == on(5, 5.5)
    assert pages["privacy-policy-4.html"] == on(16, 17)
    assert newer_chain(folder, "privacy-policy-3.html") == [f"privacy-policy-{n}.html" for n in (3, 1, 2, 4)]
    assert_each_leads_to_its_version(links, store)
    assert broken_links(site) == []
    assert_every_version_on_one_bounded_page(site, store)


def format_5(site: Path, store: VersionStore) -> None:
    """Make the report's state the one the release before wrote (format 5: each numbered page's last commit,
    pages counted from the oldest), as an older report directory has it."""
    state_path = site / STATE_FILE
    state = json.loads(state_path.read_text())
    commits = {(v.document, anchor_of(v)): v.commit for v in store.main_versions()}
    for key, known in state["documents"].items():
        pages = known.pop("pages")
        assert [page["number"] for page in pages] == list(range(1, len(pages) + 1)), "a first report: from the oldest"
        known["page_heads"] = [commits[(key, page["versions"][-1])] for page in pages]
    state["format"] = 5
    state_path.write_text(json.dumps(state))


def test_a_report_of_the_earlier_format_is_upgraded_from_its_pages(tmp_path):
    store = VersionStore(tmp_path / "versions")
    store.save([version(ACME, day, acme_text(day)) for day in range(10, 21)])
    site = report(tmp_path, store)
    format_5(site, store)
    links = remembered(site)

    store.save([version(ACME, day, acme_text(day)) for day in (0, 1, 14.5)])
    site = report(tmp_path, store)
    assert_each_leads_to_its_version(links, store)
    assert broken_links(site) == []
    assert_every_version_on_one_bounded_page(site, store)
    assert json.loads((site / STATE_FILE).read_text())["format"] == STATE_FORMAT  # upgraded to this release's


def test_a_report_of_the_earlier_format_missing_a_page_or_of_another_format_is_rebuilt(tmp_path):
    store = VersionStore(tmp_path / "versions")
    store.save([version(ACME, day, acme_text(day)) for day in range(10, 21)])
    site = report(tmp_path, store)
    format_5(site, store)
    (site / "acme" / "privacy-policy-2.html").unlink()  # what it held is not known: the document is reported anew
    store.save([version(ACME, 0, acme_text(0))])
    site = report(tmp_path, store)
    assert broken_links(site) == []
    assert_every_version_on_one_bounded_page(site, store)
    assert set(articles(site / "acme" / "privacy-policy-1.html")) == {
        "v-20180101T120000Z",
        "v-20180111T120000Z",
        "v-20180112T120000Z",
    }, "counted from the oldest again"

    # A state this release does not know (format 4, or a later release's): every page written again.
    state = json.loads((site / STATE_FILE).read_text())
    state["format"] = 4
    (site / STATE_FILE).write_text(json.dumps(state))
    for path in site.rglob("*.html"):
        path.write_text("stale")
    site = report(tmp_path, store)
    assert not [path for path in site.rglob("*.html") if path.read_text() == "stale"]
    assert broken_links(site) == []


def test_links_of_a_report_stay_valid_through_the_command_line_after_a_backfill_of_earlier_captures(
    standin_archive: StandinArchive, tmp_path: Path
):
    """The commands as a person runs them, at the real page size: `backfill` of 53 captures (a first full page of
    50 and 3 on the next), `report`, then captures from before the first one come to the archive and `backfill`
    records them: `report` again, and every link to a version the first report gave out leads to it. Counted from
    the oldest, the last 5 of page 1 would have crossed into page 2 (the limit before 2026-11-29)."""
    config, data, site = tmp_path / "config", tmp_path / "data", tmp_path / "site"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = run_cli(config, data, *args)
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result

    def capture(day: datetime, revision: int) -> None:
        body = policy_page("acme.test", "privacy-policy", revision=revision, size=3_000).body
        standin_archive.add_capture(PRIVACY, day.strftime("%Y%m%d%H%M%S"), body)

    first = datetime(2018, 1, 1, tzinfo=UTC)
    for number in range(53):
        capture(first + timedelta(days=number), number)
    run("init", str(config))
    configure(config, standin_archive)
    (config / "services" / "acme.toml").write_text(
        f'name = "ACME"\n[documents.privacy-policy]\nurl = "{PRIVACY}"\n', encoding="utf-8"
    )
    run("backfill", "--strategy", "all")
    run("report", "--output", str(site))
    store = VersionStore(data / "versions", read_only=True)
    assert len(store.main_versions()) == 53
    links = remembered(site)
    assert {path.name for path, _ in links} >= {"privacy-policy-1.html", "privacy-policy-2.html"}
    assert_each_leads_to_its_version(links, store)

    for number in range(5):  # earlier texts, each its own
        capture(first - timedelta(days=10 - number), 100 + number)
    run("backfill", "--strategy", "all")
    run("report", "--output", str(site))
    store = VersionStore(data / "versions", read_only=True)
    assert len(store.main_versions()) == 58
    assert_each_leads_to_its_version(links, store)
    assert broken_links(site) == []
