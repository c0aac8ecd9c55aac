"""The provenance header is exactly the seed documents' first line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_archive.pipeline.jobs.provenance import header, site_name
from policy_archive.records import DocumentDeclaration, Source, parse_wayback_timestamp, title_from_id

# The seed documents' first lines, copied from ../shared/seeds (tests/fixtures/seeds/README.md): CI's fresh
# clone has no ../shared.
SEED_HEADERS = Path(__file__).resolve().parent / "fixtures" / "seeds" / "headers.txt"
SNAPSHOT = re.compile(r"\((?P<replay>https://web\.archive\.org/web)/(?P<ts>\d{14})id_/(?P<original>[^)]+)\)")


@pytest.mark.parametrize("first_line", SEED_HEADERS.read_text(encoding="utf-8").splitlines())
def test_header_reproduces_each_seed(first_line):
    match = SNAPSHOT.search(first_line)
    assert match, first_line
    original = match["original"].replace("%3A//", "://")
    declaration = DocumentDeclaration("svc", "Service", "privacy-policy", original)
    captured_at = parse_wayback_timestamp(match["ts"])
    snapshot = f"{match['replay']}/{match['ts']}id_/{original}"
    assert header(declaration, Source.WAYBACK, original, captured_at, snapshot) == first_line


def test_live_header_names_the_url_and_retrieval_date():
    declaration = DocumentDeclaration("acrcloud", "ACRCloud", "terms-of-service", "https://www.acrcloud.com/terms")
    line = header(
        declaration,
        Source.LIVE,
        declaration.url,
        parse_wayback_timestamp("20261122101500"),
        declaration.url,
    )
    assert line == (
        "> *The following text is extracted and transformed from the acrcloud.com terms of service that was "
        "retrieved on 2026-11-22 from [https://www.acrcloud.com/terms](https://www.acrcloud.com/terms).*"
    )


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://auth.cimediacloud.com/legal/privacypolicy", "cimediacloud.com"),
        ("http://www.bbc.co.uk/privacy", "bbc.co.uk"),
        ("https://example.org/", "example.org"),
        ("http://127.0.0.1:8080/privacy", "127.0.0.1"),
        ("http://[::1]/privacy", "::1"),
    ],
)
def test_site_name(url, site):
    assert site_name(url) == site


@pytest.mark.parametrize(
    ("document_id", "title"),
    [
        ("privacy-policy", "Privacy Policy"),
        ("terms-of-service", "Terms of Service"),
        ("of-use", "Of Use"),  # the first word is capitalised, small or not
        ("api-terms-and-conditions", "Api Terms and Conditions"),
    ],
)
def test_titles_keep_small_words_small(document_id, title):
    assert title_from_id(document_id) == title
