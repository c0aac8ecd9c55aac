"""`report --output DIR`: the static site's files, its diffs and feeds, and how it updates itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from pathlib import Path
from xml.etree import ElementTree

import pytest
from review_data import handmade_commit, handmade_history
from standin.cli import git, run_cli

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.versions import VersionStore
from policy_archive.errors import ConfigurationError
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.webreport.build import build_report
from policy_archive.pipeline.webreport.diffs import WHOLE_NOTE, change_blocks
from policy_archive.pipeline.webreport.feeds import FeedEntry, feed_xml
from policy_archive.pipeline.webreport.pages import time_element
from policy_archive.pipeline.webreport.state import STATE_FILE
from policy_archive.records import DocumentDeclaration, parse_iso_z

ATOM = "{http://www.w3.org/2005/Atom}"


def test_word_diff_marks_only_the_changed_words_and_folds_unchanged_paragraphs():
    old = "# Policy\n\nWe keep data for 2 years.\n\nOne.\n\nTwo.\n\nThree.\n\nWe never sell it."
    new = "# Policy\n\nWe keep data for 5 years.\n\nOne.\n\nTwo.\n\nThree.\n\nWe never sell it.\n\nNew rights."
    blocks = change_blocks(old, new)
    html = "".join(block.html for block in blocks)
    assert "We keep data for <del>2</del><ins>5</ins> years." in html
    assert "<ins>New rights.</ins>" in html
    assert [block.kind for block in blocks] == ["same", "edited", "same", "folded", "same", "added"]
    assert blocks[3].html == "2 unchanged paragraphs"


def test_a_time_in_another_zone_is_shown_as_its_utc_day_and_second():
    """Every moment of the report is shown in UTC: 01:30 at UTC+2 is 23:30 UTC the day before, in the text shown as
    in the machine-readable attribute (before, the text showed the local day and hour labelled UTC)."""
    paris_summer = timezone(timedelta(hours=2))
    moment = datetime(2024, 6, 1, 1, 30, 5, tzinfo=paris_summer)
    expected = '<time datetime="2024-05-31T23:30:05Z">'
    assert time_element(moment) == expected + "2024-05-31</time>"
    assert time_element(moment, precise=True) == expected + "2024-05-31 23:30:05 UTC</time>"
    assert time_element(moment.astimezone(UTC), precise=True) == time_element(moment, precise=True)


def test_feed_is_atom_newest_first():
    entries = [
        FeedEntry(f"urn:uuid:{n}", f"change {n}", f"2018-0{n}-01T00:00:00Z", f"a/b.html#v-{n}", "summary")
        for n in (1, 3, 2)
    ]
    feed = ElementTree.fromstring(feed_xml("urn:uuid:feed", "All", "index.html", entries, "2017-01-01T00:00:00Z"))
    assert feed.tag == f"{ATOM}feed"
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == ["change 3", "change 2", "change 1"]
    assert feed.findtext(f"{ATOM}updated") == "2018-03-01T00:00:00Z"
    for element in (feed, *feed.findall(f"{ATOM}entry")):  # RFC 4287: id, title, updated on feed and entries
        assert all(element.findtext(f"{ATOM}{name}") for name in ("id", "title", "updated"))
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "policy-archive"


def test_report_pages_diffs_and_feeds(recorded, tmp_path):
    config, data = recorded
    site = tmp_path / "site"
    result = run_cli(config, data, "report", "--output", str(site))
    assert result.returncode == 0, result.stderr
    assert "1 page written" in result.stderr
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="acrcloud/privacy-policy.html">ACRCloud Privacy Policy</a>' in index
    assert '<td class="number">2</td>' in index
    assert ">2017-01-03</time>" in index and ">2018-05-28</time>" in index
    page = (site / "acrcloud" / "privacy-policy.html").read_text(encoding="utf-8")
    assert "<ins>We comply with the General Data Protection Regulation (GDPR).</ins>" in page
    assert "<del>2016</del>" in page
    commits = git(data / "versions", "log", "--format=%H", "main").split()
    for commit in commits:
        assert f"<code>{commit}</code>" in page
    snapshots = git(data / "versions", "log", "--format=%(trailers:key=Snapshot-Url,valueonly)", "main").split()
    assert len(snapshots) == 2 and all(f'<a href="{url}">' in page for url in snapshots)
    style = (site / "style.css").read_text()
    assert "url(" not in style and "@import" not in style, "nothing is loaded from the network"
    assert "<script" not in page and "<script" not in index
    feed = ElementTree.parse(site / "feed.atom").getroot()
    (entry,) = feed.findall(f"{ATOM}entry")  # one change: the first record is not a change
    assert entry.find(f"{ATOM}link").get("href").startswith("acrcloud/privacy-policy-1.html#v-")
    assert entry.findtext(f"{ATOM}updated") == "2018-05-28T08:00:07Z"
    own = ElementTree.parse(site / "acrcloud" / "privacy-policy.atom").getroot()
    assert "General Data Protection Regulation" in own.find(f"{ATOM}entry/{ATOM}content").text


def test_report_rewrites_only_documents_with_a_new_version(recorded, tmp_path):
    config, data = recorded
    site = tmp_path / "site"
    assert run_cli(config, data, "report", "--output", str(site)).returncode == 0
    page, index = site / "acrcloud" / "privacy-policy.html", site / "index.html"
    os.utime(page, ns=(0, 0))
    os.utime(index, ns=(0, 0))
    again = run_cli(config, data, "report", "--output", str(site))
    assert again.returncode == 0 and "0 pages written" in again.stderr
    assert page.stat().st_mtime_ns == 0 and index.stat().st_mtime_ns == 0, "nothing changed, nothing written"
    state = site / STATE_FILE
    state.write_text(state.read_text().replace(git(data / "versions", "rev-parse", "main").strip(), "0" * 40))
    third = run_cli(config, data, "report", "--output", str(site))
    assert "1 page written" in third.stderr
    assert index.stat().st_mtime_ns == 0, "the same index is not written again"


def report_of_handmade(tmp_path: Path, repo: Path) -> Path:
    """The report of a handmade history in ``repo`` (its commits catalogued as versions), in ``tmp_path/site``."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    lines = git(repo, "log", "--reverse", "--format=%H %(trailers:key=Captured-At,valueonly)", "main").split("\n\n")
    pairs = [line.split() for line in lines if line.strip()]
    catalog.add_versions({("example/privacy-policy", parse_iso_z(at)): commit for commit, at in pairs}, pairs[-1][0])
    declaration = DocumentDeclaration("example", "Example", "privacy-policy", "https://example.org/privacy")
    site = tmp_path / "site"
    build_report([declaration], [declaration], catalog, VersionStore(repo, read_only=True), site, Progress("t"))
    return site


def test_report_shows_the_stated_date_next_to_the_capture_date(tmp_path):
    repo = tmp_path / "versions"
    handmade_history(repo)
    site = report_of_handmade(tmp_path, repo)
    page = (site / "example" / "privacy-policy.html").read_text(encoding="utf-8")
    captured = '<dt>Captured</dt><dd><time datetime="2018-05-25T10:00:00Z">2018-05-25 10:00:00 UTC</time></dd>'
    stated = '<dt>Date stated in the text</dt><dd><time datetime="2018-05-25">2018-05-25</time></dd>'
    assert captured + stated in page
    assert "We collect your e-mail<ins> address</ins>." in page


def test_feeds_without_a_change_are_dated_by_the_first_capture(tmp_path):
    repo = tmp_path / "versions"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    handmade_commit(repo, "2017-03-01T12:00:00Z", "We collect your e-mail.\n", "")
    site = report_of_handmade(tmp_path, repo)
    for feed_file in (site / "example" / "privacy-policy.atom", site / "feed.atom"):
        feed = ElementTree.parse(feed_file).getroot()
        assert feed.findall(f"{ATOM}entry") == []
        assert feed.findtext(f"{ATOM}updated") == "2017-03-01T12:00:00Z", feed_file.name


def test_a_change_too_large_to_diff_word_by_word_is_said_so_on_its_page_and_feed(tmp_path):
    repo = tmp_path / "versions"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    handmade_commit(repo, "2017-03-01T12:00:00Z", "We keep it.\n\n" + "the " * 5000 + "\n", "")
    handmade_commit(repo, "2018-03-01T12:00:00Z", "We keep it.\n\n" + "the a " * 2500 + "\n", "")
    site = report_of_handmade(tmp_path, repo)
    page = (site / "example" / "privacy-policy.html").read_text(encoding="utf-8")
    assert f'<p class="note">{escape(WHOLE_NOTE)}</p><p class="removed" lang=""><del>the the' in page
    feed = ElementTree.parse(site / "example" / "privacy-policy.atom").getroot()
    assert WHOLE_NOTE in feed.find(f"{ATOM}entry/{ATOM}content").text


def test_a_version_holding_control_characters_gives_well_formed_feeds_and_pages(tmp_path):
    """Acceptance report 6, F-d1: a version already in Git (extracted before revision 10, or by another tool) holding
    BEL, ESC, DEL, VT, FF and a C1 control, which XML 1.0 forbids or HTML calls parse errors: the feeds still parse,
    and no page holds them; the text around them stays."""
    repo = tmp_path / "versions"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    handmade_commit(repo, "2017-03-01T12:00:00Z", "We collect your e-mail.\n", "")
    controls = "\x07\x1b\x7f\x0b\x0c\x9b\ufffe"
    text = "We collect your e-mail\x07 and \x1b[31mname\x1b[0m.\n\nWe keep\x7f it\x0b a\x0c year\x9b\ufffe.\n"
    handmade_commit(repo, "2018-03-01T12:00:00Z", text, "")
    site = report_of_handmade(tmp_path, repo)
    feed = ElementTree.parse(site / "example" / "privacy-policy.atom").getroot()
    content = feed.find(f"{ATOM}entry/{ATOM}content").text
    assert "<ins> and [31mname[0m</ins>" in content and "<ins>We keep it a year.</ins>" in content
    assert ElementTree.parse(site / "feed.atom").getroot().findall(f"{ATOM}entry")
    for written in (site / "example" / "privacy-policy.html", site / "index.html", *site.rglob("*.atom")):
        assert not set(written.read_text(encoding="utf-8")) & set(controls), written.name


def test_report_refuses_a_file_as_output(recorded, tmp_path):
    config, data = recorded
    (tmp_path / "file").write_text("x")
    result = run_cli(config, data, "report", "--output", str(tmp_path / "file"))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def self_links(feed_file: Path) -> list[str | None]:
    feed = ElementTree.parse(feed_file).getroot()
    return [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]


def test_each_feed_names_its_own_address_only_when_the_report_is_told_where_it_is_published(recorded, tmp_path):
    """RFC 4287 §4.1.1: a feed SHOULD link itself (rel="self"), by an address its content alone gives (a relative
    one is warned of by the W3C validator): with --base-url each feed names its absolute address; without, none."""
    config, data = recorded
    site = tmp_path / "site"
    assert run_cli(config, data, "report", "--output", str(site)).returncode == 0
    feeds = (site / "feed.atom", site / "acrcloud" / "privacy-policy.atom")
    assert [self_links(feed) for feed in feeds] == [[], []]
    published = run_cli(config, data, "report", "--output", str(site), "--base-url", "https://example.org/policies")
    assert published.returncode == 0, published.stderr
    assert "1 page written" in published.stderr  # the document's feed changed: its page and feed written again
    assert [self_links(feed) for feed in feeds] == [
        ["https://example.org/policies/feed.atom"],
        ["https://example.org/policies/acrcloud/privacy-policy.atom"],
    ]
    feed = ElementTree.parse(feeds[0]).getroot()
    (own,) = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert own.get("type") == "application/atom+xml"
    again = run_cli(config, data, "report", "--output", str(site), "--base-url", "https://example.org/policies/")
    assert again.returncode == 0 and "0 pages written" in again.stderr  # the same address, written with its "/"
    # The last three are empty (urlsplit's query, fragment or user name is ""): feed.atom was joined inside them.
    for wrong in ("example.org/policies", "ftp://example.org/", "https://example.org/p?x=1", "https://example.org/#a",
                  "https://user@example.org/", "https://example.org:99999/", "https://", "https://example.org/p?",
                  "https://example.org/policies#", "https://@example.org/"):  # fmt: skip
        refused = run_cli(config, data, "report", "--output", str(site), "--base-url", wrong)
        assert refused.returncode == 2, (wrong, refused.stderr)
        assert f"Invalid value for '--base-url': {wrong} is not an absolute http(s) address" in refused.stderr
    assert self_links(feeds[1]) == ["https://example.org/policies/acrcloud/privacy-policy.atom"]


def test_a_new_base_url_for_some_documents_only_is_refused(tmp_path):
    """Every feed names itself by the base URL: changing it for one document would leave the others' wrong."""
    repo = tmp_path / "versions"
    handmade_history(repo)
    site = report_of_handmade(tmp_path, repo)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    declaration = DocumentDeclaration("example", "Example", "privacy-policy", "https://example.org/privacy")
    store = VersionStore(repo, read_only=True)
    before = {path: path.read_bytes() for path in site.rglob("*") if path.is_file()}
    with pytest.raises(ConfigurationError) as refused:
        build_report([], [declaration], catalog, store, site, Progress("t"), base_url="https://example.org/p/")
    assert str(refused.value) == (
        f"--base-url https://example.org/p/: the report in {site} was written with no --base-url, which its feeds "
        "name themselves by: change it for every document at once (report without DOC)"
    )
    assert {path: path.read_bytes() for path in site.rglob("*") if path.is_file()} == before
    build_report([declaration], [declaration], catalog, store, site, Progress("t"), base_url="https://example.org/p/")
    assert self_links(site / "example" / "privacy-policy.atom") == ["https://example.org/p/example/privacy-policy.atom"]


def test_the_documents_text_claims_no_language_the_reports_own_words_are_english(tmp_path):
    """A recorded text is in its site's language, which nothing records: its elements say ``lang=""`` (unknown)
    rather than inherit the page's English; the report's own words (notes, folds, headings) stay English."""
    repo = tmp_path / "versions"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    first = "Nous collectons votre adresse.\n\nUn.\n\nDeux.\n\nTrois.\n\nFin.\n"
    handmade_commit(repo, "2017-03-01T12:00:00Z", first, "")
    handmade_commit(repo, "2018-03-01T12:00:00Z", first.replace("adresse", "adresse e-mail") + "\nNouveau.\n", "")
    site = report_of_handmade(tmp_path, repo)
    page = (site / "example" / "privacy-policy.html").read_text(encoding="utf-8")
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert '<p class="edited" lang="">Nous collectons votre adresse<ins> e-mail</ins>.</p>' in page
    assert '<p class="added" lang=""><ins>Nouveau.</ins></p>' in page
    assert '<p class="folded">… 2 unchanged paragraphs …</p>' in page
    assert '<div class="text" lang=""><p># Privacy Policy</p><p>Nous collectons votre adresse.</p>' in page
    document_text = re.findall(r'<p class="(same|edited|added|removed)"( lang="")?>', page)
    assert document_text and all(language for _, language in document_text), document_text


def test_a_format_6_report_is_written_again_with_each_page_keeping_its_versions(tmp_path):
    """Format 7 marks the document's text ``lang=""``: a report of format 6 is written again whole by the next run,
    its numbered pages holding the versions they held (links given out stay good), not numbered afresh."""
    repo = tmp_path / "versions"
    handmade_history(repo)
    site = report_of_handmade(tmp_path, repo)
    state_file = site / STATE_FILE
    state = json.loads(state_file.read_text())
    assert state["format"] == 7 and state["base_url"] is None
    pages_before = state["documents"]["example/privacy-policy"]["pages"]
    state["format"] = 6
    del state["base_url"]
    state_file.write_text(json.dumps(state))
    page = site / "example" / "privacy-policy.html"
    page.write_text(page.read_text().replace(' lang=""', ""))
    report_of_handmade(tmp_path, repo)
    assert ' lang=""' in page.read_text()
    again = json.loads(state_file.read_text())
    assert again["format"] == 7 and again["documents"]["example/privacy-policy"]["pages"] == pages_before


def test_report_writes_into_a_directory_of_ones_own_only_with_force(recorded, tmp_path):
    """Audit 31, finding 9: `report --output DIR` replaced a directory's own index.html and style.css without a
    word, where init, export, discover and import-ota refuse to replace a file without --force. A directory that
    is neither empty nor a report (its state file) is refused in one line naming the first file the report would
    replace, or what it holds, exit 2, nothing written; --force writes there, and the report made is then updated
    by later runs without it."""
    config, data = recorded
    home = tmp_path / "home"
    home.mkdir()
    (home / "index.html").write_text("<p>my hand-written home page</p>\n")
    (home / "style.css").write_text("body{color:red}\n")
    before = {path: path.read_bytes() for path in home.rglob("*")}
    refused = run_cli(config, data, "report", "--output", str(home))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"policy-archive: --output {home}: not a report of policy-archive (no {STATE_FILE} in it): the report would "
        f"replace {home / 'index.html'}; add --force to write it there"
    ]
    assert {path: path.read_bytes() for path in home.rglob("*")} == before, "nothing written"

    pages = tmp_path / "pages"
    (pages / "acrcloud").mkdir(parents=True)
    (pages / "acrcloud" / "privacy-policy.atom").write_text("<feed/>\n")  # a document's feed, not the site's
    named = run_cli(config, data, "report", "--output", str(pages))
    assert named.returncode == 2 and f"would replace {pages / 'acrcloud' / 'privacy-policy.atom'};" in named.stderr

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("buy milk\n")
    (notes / "a.txt").write_text("a\n")
    cluttered = run_cli(config, data, "report", "--output", str(notes))
    assert cluttered.returncode == 2
    assert cluttered.stderr.splitlines() == [
        f"policy-archive: --output {notes}: not a report of policy-archive (no {STATE_FILE} in it) and not empty "
        f"({notes / 'a.txt'}); give a new or empty directory, or add --force to write the report among its files"
    ]
    assert sorted(path.name for path in notes.iterdir()) == ["a.txt", "todo.txt"]

    forced = run_cli(config, data, "report", "--output", str(home), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "my hand-written" not in (home / "index.html").read_text(encoding="utf-8")
    assert (home / STATE_FILE).is_file()
    again = run_cli(config, data, "report", "--output", str(home))  # a report now: updated without --force
    assert again.returncode == 0 and "0 pages written" in again.stderr, again.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(config, data, "report", "--output", str(empty)).returncode == 0
    assert (empty / "index.html").is_file()


def test_build_report_makes_its_directory_and_no_folder_on_the_way(tmp_path):
    """`report` refuses a missing folder on the way to DIR before any work (check_output), so building makes DIR
    only: a folder on the way removed in between is an error of the writing, not a folder tree made again."""
    repo = tmp_path / "versions"
    handmade_history(repo)
    declaration = DocumentDeclaration("example", "Example", "privacy-policy", "https://example.org/privacy")
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    store = VersionStore(repo, read_only=True)
    with pytest.raises(FileNotFoundError):
        build_report([declaration], [declaration], catalog, store, tmp_path / "gone" / "site", Progress("t"))
    assert not (tmp_path / "gone").exists()
