"""The date a document states for itself: the parser, extraction, ``extract --json`` and the catalog column."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from policy_archive.archive.catalog import Catalog
from policy_archive.pipeline.commands.cli import main
from policy_archive.pipeline.extraction.extract import extract
from policy_archive.pipeline.extraction.stated_date import stated_date
from policy_archive.records import ExtractionRules

POLICY = "We collect personal data to provide the service and keep it no longer than needed."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Last Updated: May 25th, 2018", date(2018, 5, 25)),
        ("Effective as of 1 May 2018", date(2018, 5, 1)),
        ("Last Revised: April 4, 2013", date(2013, 4, 4)),
        ("Dernière mise à jour : 3 mars 2024", date(2024, 3, 3)),
        ("Stand: 01.02.2023", date(2023, 2, 1)),
        ("**Effective Date: June 5, 2026**", date(2026, 6, 5)),
        ("_En vigueur au 13 décembre 2024_", date(2024, 12, 13)),
        ("Stand: 18. März 2025", date(2025, 3, 18)),
        ("Date de la publication de la politique de confidentialité : 21/06/2021", date(2021, 6, 21)),
        ("This Privacy Policy applies from April 4, 2026. The previous version applies until then.", date(2026, 4, 4)),
        ("Last update: 16 July, 2026", date(2026, 7, 16)),
    ],
)
def test_stated_phrases_in_several_languages(text: str, expected: date) -> None:
    assert stated_date(f"# Privacy Policy\n\nIntro paragraph.\n\n{text}\n\n{POLICY}\n") == expected


def test_no_stated_date_when_the_text_gives_none() -> None:
    assert stated_date(f"# Privacy Policy\n\n{POLICY}\n\nWe update this policy from time to time.\n") is None


def test_copyright_lines_and_bare_years_never_count() -> None:
    text = f"# Privacy Policy\n\n{POLICY}\n\n© 2024 Example Corp. Updated 1 May 2020.\n\nCopyright 2019\n"
    assert stated_date(text) is None


def test_a_month_alone_is_not_a_date() -> None:
    assert stated_date(f"# Datenschutz\n\n{POLICY}\n\nStand: Juni 2021\n") is None


def test_a_date_alone_under_the_title_is_the_stated_date() -> None:
    assert stated_date(f"# Conditions de service\n\n23 avril 2021\n\n{POLICY}\n") == date(2021, 4, 23)


def test_the_first_stated_date_in_reading_order_wins() -> None:
    text = f"# Terms\n\nUpdated: 1 December 2025\n\n**Effective: January 1, 2026**\n\n{POLICY}\n"
    assert stated_date(text) == date(2025, 12, 1)


def test_a_sentence_end_separates_a_phrase_from_a_later_date() -> None:
    assert stated_date(f"# Terms\n\nWe updated this. On 3 May 2020 we moved.\n\n{POLICY}\n") is None


def test_ambiguous_numeric_dates_use_the_capture_day_then_the_language() -> None:
    text = f"# Privacy\n\nUpdated: 11/05/2026\n\n{POLICY}\n"
    # 5 November 2026 would be after the capture: only 11 May remains, whatever the language.
    assert stated_date(text, "en-us", date(2026, 5, 12)) == date(2026, 5, 11)
    both_past = f"# Privacy\n\nLast Updated: 3/11/2025\n\n{POLICY}\n"
    assert stated_date(both_past, "en", date(2026, 1, 1)) == date(2025, 3, 11)
    assert stated_date(both_past, "fr", date(2026, 1, 1)) == date(2025, 11, 3)
    assert stated_date(both_past, "en-GB", date(2026, 1, 1)) == date(2025, 11, 3)


def page(body: str) -> bytes:
    return f"<html lang='en'><head><title>Privacy Policy</title></head><body>{body}</body></html>".encode()


def test_navigation_dates_never_become_the_stated_date() -> None:
    html = page(
        "<nav><a href='/news'>News</a> <span>Last updated: 2 January 2020</span></nav>"
        f"<main><h1>Privacy Policy</h1><p>{POLICY}</p><p>{POLICY}</p></main>"
        "<footer><p>© 2024 Example Corp. Updated 3 March 2021.</p></footer>"
    )
    document = extract(html, "https://example.com/privacy", ExtractionRules())
    assert document.stated_date is None


def test_extraction_reads_the_stated_date_of_the_document() -> None:
    html = page(f"<main><h1>Privacy Policy</h1><p><em>Last Updated: May 25th, 2018</em></p><p>{POLICY}</p></main>")
    document = extract(html, "https://example.com/privacy", ExtractionRules())
    assert document.stated_date == date(2018, 5, 25)


def test_extract_json_prints_title_markdown_and_stated_date(tmp_path: Path) -> None:
    dated = tmp_path / "dated.html"
    dated.write_bytes(page(f"<main><h1>Privacy Policy</h1><p>Effective as of 1 May 2018</p><p>{POLICY}</p></main>"))
    undated = tmp_path / "undated.html"
    undated.write_bytes(page(f"<main><h1>Privacy Policy</h1><p>{POLICY}</p></main>"))
    runner = CliRunner()
    result = runner.invoke(main, ["extract", "--json", str(dated)])
    assert result.exit_code == 0, result.output
    fields = json.loads(result.output)
    assert fields == {
        "title": "Privacy Policy",
        "markdown": f"Effective as of 1 May 2018\n\n{POLICY}\n",  # the h1 repeated the title
        "stated_date": "2018-05-01",
        "dropped": [],
        "hard": None,
    }
    result = runner.invoke(main, ["extract", "--json", str(undated)])
    assert json.loads(result.output)["stated_date"] is None


def test_an_older_catalog_gains_the_stated_date_column(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE captures (id INTEGER PRIMARY KEY, document TEXT NOT NULL, source TEXT NOT NULL,"
        " url TEXT NOT NULL, captured_at TEXT NOT NULL, status INTEGER, mimetype TEXT, digest TEXT, length INTEGER,"
        " fetched_url TEXT, payload_sha1 TEXT, warc_file TEXT, warc_offset INTEGER, outcome TEXT NOT NULL,"
        " reason TEXT, title TEXT, body TEXT, body_sha1 TEXT,"
        " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
        " UNIQUE (document, source, url, captured_at))"
    )
    old.execute(
        "INSERT INTO captures (document, source, url, captured_at, outcome) VALUES"
        " ('acme/privacy-policy', 'live', 'https://acme.test/p', '2026-01-01T00:00:00Z', 'refused')"
    )
    old.commit()
    old.close()
    catalog = Catalog(path)
    try:
        (row,) = catalog.captures("acme/privacy-policy")
        assert row.stated_date is None and row.window_start is None
        catalog.update_extraction(row.id, row.outcome, "x", None, None, None, date(2018, 5, 25))
        assert catalog.capture(row.id).stated_date == date(2018, 5, 25)
    finally:
        catalog.close()
