"""The date a document states for itself: the parser, extraction, ``extract --json`` and the catalog column."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

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
        # Ordinals written "the … of" (audit of 2026-11-29: read as no date).
        ("This policy was last updated on the 1st of June, 2020.", date(2020, 6, 1)),
        ("Effective from the 22nd of March 2021", date(2021, 3, 22)),
    ],
)
def test_stated_phrases_in_several_languages(text: str, expected: date) -> None:
    assert stated_date(f"# Privacy Policy\n\nIntro paragraph.\n\n{text}\n\n{POLICY}\n") == expected


# Outside audit of 2026-11-29 (issue 12): a date spoken of as another version's, or as the end of validity, was
# recorded as the document's own. None is "no date": a Stated-Date is a fact or nothing.
@pytest.mark.parametrize(
    "text",
    [
        "The previous version of this policy, effective January 1, 2015, is archived here.",
        "Version effective until March 1, 2016.",
        "La version précédente, en vigueur depuis le 1er janvier 2015, est archivée.",
        "This version replaces the version of 1 May 2017.",
        "This policy supersedes the version effective 1 May 2017.",
        "The version effective March 1, 2017 is archived.",
        "The version of 1 May 2017 was replaced.",
        "Earlier versions of these terms: version of 3 March 2016.",
        "Our prior privacy policy, last updated May 25, 2018, remains available.",
        "Valid until 31 December 2019.",
        "These terms apply through December 31, 2019.",
        "L'ancienne version, mise à jour le 3 mars 2015, reste consultable.",
        "En vigueur jusqu'au 1er mars 2016.",
        "Cette version remplace la version du 1er janvier 2015.",
        "Die vorherige Fassung vom 1. Januar 2015 ist archiviert.",
        "Gültig bis zum 1. Januar 2016.",
        "Die alte Version, Stand 01.02.2019, finden Sie hier.",
        "La versión anterior, última actualización: 5 de mayo de 2015, está archivada.",
        "En vigor hasta el 5 de mayo de 2015.",
        "La versione precedente, ultimo aggiornamento 5 maggio 2015, è archiviata.",
    ],
)
def test_a_date_of_another_version_or_of_the_end_of_validity_is_not_the_documents(text: str) -> None:
    assert stated_date(f"# Privacy Policy\n\nIntro paragraph.\n\n{text}\n\n{POLICY}\n", "en-US") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The other version's words govern another date of the line, or another clause.
        ("Last updated: May 25, 2018 (previous version: January 1, 2015)", date(2018, 5, 25)),
        ("Last updated on May 1, 2020, replacing the version of January 1, 2015.", date(2020, 5, 1)),
        ("Effective May 1, 2020, this policy replaces our earlier policy.", date(2020, 5, 1)),
        ("The previous version is archived here. This version is effective May 1, 2020.", date(2020, 5, 1)),
        ("Stand: 1. Januar 2020. Die vorherige Fassung vom 1. Januar 2015 ist archiviert.", date(2020, 1, 1)),
        ("Mise à jour le 3 mars 2024 ; ancienne version du 1er janvier 2015", date(2024, 3, 3)),
        # LoveScout24's page (OTA benchmark): no full stop after the date, and the other version named after it.
        (
            "Diese Datenschutzbestimmungen gelten ab 01.02.2026 Bis dahin gilt die bisherige Version, die Sie hier"
            " finden.",
            date(2026, 2, 1),
        ),
        ("Effective Jan. 1, 2015 until further notice.", date(2015, 1, 1)),
        ("Last updated: May 25, 2018 (the 2015 version is archived)", date(2018, 5, 25)),
    ],
)
def test_the_documents_own_date_beside_another_versions_is_kept(text: str, expected: date) -> None:
    assert stated_date(f"# Privacy Policy\n\nIntro paragraph.\n\n{text}\n\n{POLICY}\n", "en-US") == expected


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
    assert stated_date(both_past, "en-US", date(2026, 1, 1)) == date(2025, 3, 11)
    assert stated_date(both_past, "fr", date(2026, 1, 1)) == date(2025, 11, 3)
    assert stated_date(both_past, "en-GB", date(2026, 1, 1)) == date(2025, 11, 3)
    # English without a region, Canadian English and no language at all tell no order: no date rather than a guess.
    for language in ("en", "EN", "en-CA", None, ""):
        assert stated_date(both_past, language, date(2026, 1, 1)) is None, language


# Audit 7 F6: the numeric dates of the audit's reproduction, on a page in each language; None is "no date".
@pytest.mark.parametrize(
    ("line", "language", "expected"),
    [
        # Month first with a day over 12: the only reading, in every language.
        ("Last updated: 12/31/2019", None, date(2019, 12, 31)),
        ("Last updated: 12/31/2019", "en", date(2019, 12, 31)),
        ("Last updated: 12/31/2019", "en-US", date(2019, 12, 31)),
        ("Last updated: 12/31/2019", "fr", date(2019, 12, 31)),
        ("Effective: 1/20/2020", None, date(2020, 1, 20)),
        ("Effective: 1/20/2020", "en-US", date(2020, 1, 20)),
        ("Effective: 1/20/2020", "de-DE", date(2020, 1, 20)),
        ("Effective: 1-20-2020", "en", date(2020, 1, 20)),
        # Day first with a day over 12: the only reading, en-US included.
        ("Last updated: 31/12/2019", "en-US", date(2019, 12, 31)),
        ("published: 31-01-2018", "en-us", date(2018, 1, 31)),
        # Both ways: the page's language decides, or nothing is recorded.
        ("Last updated: 05/06/2018", None, None),
        ("Last updated: 05/06/2018", "en", None),
        ("Last updated: 05/06/2018", "en-US", date(2018, 5, 6)),
        ("Last updated: 05/06/2018", "en_us", date(2018, 5, 6)),
        ("Last updated: 05/06/2018", "en-GB", date(2018, 6, 5)),
        ("Last updated: 05/06/2018", "en-AU", date(2018, 6, 5)),
        ("Last updated: 05/06/2018", "fr-FR", date(2018, 6, 5)),
        ("Last updated: 05-06-2018", "es-419", date(2018, 6, 5)),
        ("Last updated: 05/06/2018", "zh-Hant-TW", date(2018, 6, 5)),
        # Dots are day first, even on en-US pages (LOVOO's "Last updated: 02.01.2025" is 2 January).
        ("Last updated: 02.01.2025", "en-US", date(2025, 1, 2)),
        ("Last updated: 02.01.2025", None, date(2025, 1, 2)),
        # A phrase in another language than English is day first, whatever the lang attribute says.
        ("La présente Politique s’applique à partir de 01/02/2026.", None, date(2026, 2, 1)),
        ("Dernière mise à jour : 05/06/2018", "en-US", date(2018, 6, 5)),
        ("Zuletzt aktualisiert am 05/06/2018", "en", date(2018, 6, 5)),
        # The same number twice reads one way; an impossible pair is no date.
        ("Terms of Use revised on 02/02/2026", None, date(2026, 2, 2)),
        ("Last updated: 02/30/2020", "en-US", None),
        ("Last updated: 13/13/2020", "fr", None),
        # Digits around the pair are not a date's.
        ("Last updated: 112/31/2019", "en-US", None),
    ],
)
def test_numeric_dates_in_both_orders(line: str, language: str | None, expected: date | None) -> None:
    assert stated_date(f"# Privacy Policy\n\n{line}\n\n{POLICY}\n", language) == expected


def test_an_ambiguous_first_date_is_not_replaced_by_a_later_one() -> None:
    # The later date is often the previous version's: "no date" is the truth, a later date would not be.
    text = f"# Privacy\n\nLast updated: 05/06/2018\n\n{POLICY}\n\nThe version effective March 1, 2017 is archived.\n"
    assert stated_date(text) is None
    assert stated_date(text, "en-US") == date(2018, 5, 6)
    alone = f"# Privacy\n\n05/06/2018\n\n{POLICY}\n\nLast updated: March 1, 2017\n"
    assert stated_date(alone, "en") is None


# Property-based: every date the numeric form can write (years 1900–2099), in either order, with each separator,
# padded or not, after an English phrase or alone under the title, captured on its day or later or with no capture
# day. "Never another date" is the rule; None is allowed only where the pair reads both ways.
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
ENGLISH_LEADS = st.sampled_from(["Last updated: ", "Effective date: ", "Version of ", "Revised on ", ""])
OTHER_LEADS = st.sampled_from(["Dernière mise à jour : ", "Stand: ", "Gültig ab ", "Última actualización: "])


def written(day: date, day_first: bool, separator: str, padded: bool) -> str:
    parts = [f"{day.day:02d}", f"{day.month:02d}"] if padded else [str(day.day), str(day.month)]
    return separator.join((parts if day_first else parts[::-1]) + [str(day.year)])


def read(lead: str, text: str, language: str | None, captured: date | None) -> date | None:
    # An empty lead puts the date alone under the title, where a line holding only a date counts.
    return stated_date(f"# Privacy Policy\n\n{lead}{text}\n\n{POLICY}\n", language, captured)


def capture_days(day: date) -> st.SearchStrategy[date | None]:
    """No capture day, or one on or after the stated date (a reading after the capture is dropped: a date the text
    states after its capture, as an announced change can, is not the property's subject)."""
    return st.none() | st.dates(min_value=day, max_value=date(2100, 12, 31))


def both_ways(day: date) -> bool:
    return day.day <= 12 and day.day != day.month


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    day=DATES,
    day_first=st.booleans(),
    separator=st.sampled_from("/-"),
    padded=st.booleans(),
    lead=ENGLISH_LEADS,
    language=st.sampled_from([None, "", "en", "EN", "en-CA"]),
)
def test_without_an_order_a_date_reads_as_itself_or_as_nothing(
    data: st.DataObject, day: date, day_first: bool, separator: str, padded: bool, lead: str, language: str | None
) -> None:
    captured = data.draw(capture_days(day))
    found = read(lead, written(day, day_first, separator, padded), language, captured)
    assert found in (day, None)
    if not both_ways(day):
        assert found == day
    elif captured is None:
        assert found is None  # a guess is not recorded


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    day=DATES,
    separator=st.sampled_from("/-."),
    padded=st.booleans(),
    lead=ENGLISH_LEADS,
    page=st.sampled_from(
        [("en-US", False), ("en-us", False), ("en_US", False), ("en-GB", True), ("fr", True), ("de-DE", True)]
    ),
)
def test_a_date_in_the_pages_order_reads_as_itself(
    data: st.DataObject, day: date, separator: str, padded: bool, lead: str, page: tuple[str, bool]
) -> None:
    language, day_first = page
    day_first = day_first or separator == "."  # dots are day first everywhere
    captured = data.draw(capture_days(day))
    assert read(lead, written(day, day_first, separator, padded), language, captured) == day


@settings(max_examples=300, deadline=None)
@given(
    day=DATES.filter(lambda day: day.day > 12),
    day_first=st.booleans(),
    separator=st.sampled_from("/-."),
    padded=st.booleans(),
    lead=ENGLISH_LEADS | OTHER_LEADS,
    language=st.sampled_from([None, "en", "en-US", "en-GB", "fr-FR", "de", "ja"]),
)
def test_a_pair_that_reads_one_way_reads_that_way_everywhere(
    day: date, day_first: bool, separator: str, padded: bool, lead: str, language: str | None
) -> None:
    assert read(lead, written(day, day_first, separator, padded), language, None) == day


@settings(max_examples=300, deadline=None)
@given(
    day=DATES,
    separator=st.sampled_from("/-."),
    padded=st.booleans(),
    lead=OTHER_LEADS,
    language=st.sampled_from([None, "en", "en-US", "fr", "de-DE"]),
)
def test_after_a_phrase_in_another_language_a_day_first_date_reads_as_itself(
    day: date, separator: str, padded: bool, lead: str, language: str | None
) -> None:
    assert read(lead, written(day, True, separator, padded), language, None) == day


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


@pytest.mark.parametrize(
    ("html_attributes", "line", "expected"),
    [
        ("", "Last updated: 05/06/2018", None),
        ("", "Last updated: 12/31/2019", "2019-12-31"),
        ("", "Effective: 1/20/2020", "2020-01-20"),
        (' lang="en"', "Last updated: 05/06/2018", None),
        (' lang="en"', "Last updated: 12/31/2019", "2019-12-31"),
        (' lang="en-US"', "Last updated: 05/06/2018", "2018-05-06"),
        (' lang="en-US"', "Effective: 1/20/2020", "2020-01-20"),
        (' lang="en-GB"', "Last updated: 05/06/2018", "2018-06-05"),
    ],
)
def test_extract_json_reads_numeric_dates_by_the_pages_language(
    tmp_path: Path, html_attributes: str, line: str, expected: str | None
) -> None:
    """Audit 7 F6's reproduction: ``extract --json`` on a page with and without a language."""
    path = tmp_path / "dated.html"
    path.write_text(
        f"<html{html_attributes}><head><title>Privacy Policy</title></head><body><main><h1>Privacy Policy</h1>"
        f"<p>{line}</p>" + f"<p>{POLICY}</p>" * 4 + "</main></body></html>"
    )
    result = CliRunner().invoke(main, ["extract", "--json", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stated_date"] == expected


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
        "refused": None,
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


# Property-based: whatever the date and its writing, a clause naming another version before it, or a bound of
# validity between its phrase and it, gives no date; the document's own date stated before such a clause is kept.
OTHER_VERSIONS = st.sampled_from(
    [
        "The previous version, {lead}{date}, is archived.",
        "Earlier versions of this policy ({lead}{date}) remain available.",
        "This version replaces the version {lead}{date}.",
        "La version précédente, {lead}{date}, est archivée.",
        "Die vorherige Fassung, {lead}{date}, finden Sie hier.",
        "Versión anterior: {lead}{date}.",
    ]
)
DATE_LEADS = st.sampled_from(["last updated ", "effective ", "version of ", "mise à jour le ", "Stand: ", ""])
END_BOUNDS = st.sampled_from(["Effective until ", "Version valid through ", "En vigueur jusqu'au ", "Gültig bis "])


def spelled(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


@settings(max_examples=200, deadline=None)
@given(day=DATES, own=DATES, sentence=OTHER_VERSIONS, lead=DATE_LEADS, bound=END_BOUNDS, numeric=st.booleans())
def test_another_versions_date_is_never_the_documents(
    day: date, own: date, sentence: str, lead: str, bound: str, numeric: bool
) -> None:
    other = written(day, True, ".", True) if numeric else spelled(day)
    clause = sentence.format(lead=lead, date=other)
    assert read("", clause, "en-US", None) is None
    assert read(bound, other, "en-US", None) is None
    assert read("", f"Last updated: {spelled(own)}. {clause}", "en-US", None) == own
