"""What extraction dropped from inside the located content, and when a page counts as hard (issue 12).

Pure-function tests on hand-written pages, the catalog column (and its migration), then one end-to-end run of
`track` against a stand-in site showing the note in the catalog, `log`, `log --json` and `status --json`.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from standin.cli import cli_environment, run_cli
from standin.pages import Page
from standin.sites import StandinSites

from policy_archive.archive.catalog import Catalog
from policy_archive.pipeline.extraction.dropped import HARD_WORDS, MAX_DROPPED, bounded, hard_note, is_hard
from policy_archive.pipeline.extraction.extract import extract
from policy_archive.records import Dropped, ExtractionRules

URL = "https://example.org/legal/privacy"
POLICY = " ".join(
    f"We process the personal data of our users for purpose {n} and keep it no longer than needed." for n in range(30)
)


def side_navigation(links: int) -> str:
    """A side navigation inside the main content: ``links`` links of five words each."""
    return (
        "<div>" + "".join(f'<a href="/help/topic-{n}">Help topic number {n} here</a> ' for n in range(links)) + "</div>"
    )


def page(main: str, outside: str = "") -> bytes:
    return (
        f"<html><head><title>Privacy Policy</title></head><body>{outside}<main>{main}</main></body></html>"
    ).encode()


def test_a_side_navigation_inside_the_content_is_reported_with_its_words_and_first_words() -> None:
    document = extract(page(side_navigation(40) + f"<h1>Privacy Policy</h1><p>{POLICY}</p>"), URL, ExtractionRules())
    assert "Help topic" not in document.body and "purpose 29" in document.body
    (navigation,) = document.dropped
    assert navigation == Dropped("navigation", 200, "Help topic number 0 here Help topic number 1 here Help topic …")
    assert is_hard(document.dropped)
    assert hard_note(document.dropped) == "dropped 200 words of navigation"


def test_furniture_outside_the_located_content_is_not_reported() -> None:
    header = "<header><nav>" + side_navigation(40) + "</nav></header><footer>" + side_navigation(40) + "</footer>"
    document = extract(page(f"<h1>Privacy Policy</h1><p>{POLICY}</p>", outside=header), URL, ExtractionRules())
    assert "Help topic" not in document.body
    assert document.dropped == ()
    assert hard_note(document.dropped) is None


def test_hidden_blocks_and_cookie_notices_inside_the_content_are_reported_by_reason() -> None:
    main = (
        f"<h1>Privacy Policy</h1><p>{POLICY}</p><div hidden>An old paragraph nobody can see any more.</div>"
        "<div>We use cookies on this site. <a href='#'>Accept all</a></div>"
    )
    document = extract(page(main), URL, ExtractionRules())
    reasons = {record.reason: record.words for record in document.dropped}
    assert reasons == {"hidden": 8, "cookie-notice": 8}
    assert not is_hard(document.dropped), "a few words are not worth a reviewer's time"


def test_what_the_declared_remove_selectors_remove_is_the_declarations_choice() -> None:
    main = side_navigation(40).replace("<div>", '<div class="help">') + f"<h1>Privacy Policy</h1><p>{POLICY}</p>"
    document = extract(page(main), URL, ExtractionRules(remove=(".help",)))
    assert "Help topic" not in document.body
    assert document.dropped == ()


def test_inside_declared_select_elements_drops_are_reported() -> None:
    main = f'<div id="text"><p>{POLICY}</p><div style="display: none">Hidden draft sentence here.</div></div>'
    document = extract(page(main), URL, ExtractionRules(select=("#text",)))
    assert document.dropped == (Dropped("hidden", 4, "Hidden draft sentence here."),)


def test_keeping_one_of_several_documents_is_hard_and_names_the_others() -> None:
    fixture = Path(__file__).parent / "fixtures" / "extraction-classes" / "several-documents" / "page.html"
    document = extract(fixture.read_bytes(), URL, ExtractionRules(), "text/html", document_type="imprint")
    other = [record for record in document.dropped if record.reason == "other-document"]
    assert len(other) == 1 and other[0].words > 0
    assert other[0].sample.startswith("Terms of Service / Privacy Policy")
    assert is_hard(document.dropped)
    assert hard_note(document.dropped).startswith(f"dropped {other[0].words} words of other-document")


def test_the_records_are_bounded_and_their_totals_exact() -> None:
    many = [Dropped("hidden", n + 1, f"block {n}") for n in range(MAX_DROPPED + 5)] + [Dropped("control", 1, "x")]
    kept = bounded(many)
    assert len(kept) == MAX_DROPPED + 2
    assert sum(record.words for record in kept) == sum(record.words for record in many)
    assert kept[0] == Dropped("hidden", MAX_DROPPED + 5, f"block {MAX_DROPPED + 4}")
    assert Dropped("hidden", sum(range(1, 6)), "(5 smaller blocks)") in kept


def test_hard_starts_at_the_threshold() -> None:
    assert not is_hard([Dropped("navigation", HARD_WORDS - 1, "a")])
    assert hard_note([Dropped("navigation", HARD_WORDS - 20, "a"), Dropped("hidden", 20, "b")]) == (
        f"dropped {HARD_WORDS - 20} words of navigation, 20 of hidden"
    )


def test_an_older_catalog_gains_the_dropped_column_and_keeps_records(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    with sqlite3.connect(path) as old:
        old.execute("ALTER TABLE captures DROP COLUMN dropped")
    catalog = Catalog(path)
    columns = {row["name"] for row in catalog.connection.execute("PRAGMA table_info(captures)")}
    assert "dropped" in columns
    catalog.connection.execute(
        "INSERT INTO captures (document, source, url, captured_at, outcome) VALUES"
        " ('a/b', 'live', 'https://a.test/', '2026-01-01T00:00:00Z', 'extracted')"
    )
    (row,) = catalog.captures("a/b")
    assert row.dropped == ()
    records = (Dropped("navigation", 200, "Help topic"), Dropped("hidden", 3, "Draft « here »"))
    catalog.update_extraction(row.id, row.outcome, None, "T", "B", "sha", None, records)
    assert catalog.capture(row.id).dropped == records
    catalog.close()


# --- end to end --------------------------------------------------------------------------------------------


def test_track_records_a_hard_page_with_its_note_in_the_catalog_log_and_status(
    sites: StandinSites, tmp_path: Path
) -> None:
    url = sites.set_page(
        "http://hard.test/privacy", Page(body=page(side_navigation(40) + f"<h1>Privacy Policy</h1><p>{POLICY}</p>"))
    )
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text("")
    # No selectors: generic extraction, which has to find the text and drop the navigation itself.
    (config / "services" / "hard.toml").write_text(f'name = "Hard"\n[documents.privacy-policy]\nurl = "{url}"\n')
    data = tmp_path / "data"
    env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")

    tracked = run_cli(config, data, "track", env=env)
    assert tracked.returncode == 0, tracked.stderr

    catalog = Catalog(data / "catalog.sqlite3", read_only=True)
    (row,) = catalog.captures("hard/privacy-policy")
    assert row.dropped[0].reason == "navigation" and row.dropped[0].words == 200
    catalog.close()
    logged = run_cli(config, data, "log", "hard/privacy-policy", env=env)
    assert "    hard: dropped 200 words of navigation" in logged.stdout
    (entry,) = json.loads(run_cli(config, data, "log", "hard/privacy-policy", "--json", env=env).stdout)
    assert entry["hard"] == "dropped 200 words of navigation"
    (status,) = json.loads(run_cli(config, data, "status", "--json", env=env).stdout)
    assert status["hard_versions"] == [{"date": entry["date"], "hard": "dropped 200 words of navigation"}]
    lines = run_cli(config, data, "status", env=env).stdout
    assert "hard: 1 version to check; latest " in lines and "dropped 200 words of navigation" in lines
    verified = run_cli(config, data, "verify", env=env)
    assert verified.returncode == 0 and "1/1 versions verified" in verified.stdout, verified.stderr
    reextracted = run_cli(config, data, "reextract", env=env)
    assert reextracted.returncode == 0, reextracted.stderr
    (entry,) = json.loads(run_cli(config, data, "log", "hard/privacy-policy", "--json", env=env).stdout)
    assert entry["hard"] == "dropped 200 words of navigation"
