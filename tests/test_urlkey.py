"""The archive's key of a URL (policy_archive/urlkey.py): equal to the urlkey of every real row recorded from the
Wayback Machine, and to the ``surt`` package's (the canonicaliser pywb uses) on generated variants of a URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from surt import surt

from policy_archive.urlkey import match_key

CDX = Path(__file__).parent / "fixtures" / "cdx"
RECORDED = json.loads((CDX / "recorded-listings.json").read_text())
# Real answers (tests/fixtures/cdx/README.md): exact listings of nasa.gov and zew.de, prefix listings of nasa.gov/.
EXACT_BODIES = {"nasa.gov": "nasa.gov.txt", "zew.de": "zew.de.txt"}
PREFIX_BODIES = ("nasa.gov-prefix.txt", "nasa.gov-prefix-filtered.txt")


def rows(body: str) -> list[tuple[str, str]]:
    """(urlkey, original) of each 7-field row of a CDX answer."""
    return [(fields[0], fields[2]) for line in body.splitlines() if len(fields := line.split(" ")) == 7]


def exact_listings() -> dict[str, list[tuple[str, str]]]:
    """The asked URL and the rows of every recorded exact listing."""
    listings = {
        listing["url"]: [row for page in listing["pages"] for row in rows(page["body"])]
        for listing in RECORDED["listings"].values()
    }
    listings.update({url: rows((CDX / "rows" / name).read_text()) for url, name in EXACT_BODIES.items()})
    return {url: found for url, found in listings.items() if found}


def every_real_row() -> list[tuple[str, str]]:
    prefixed = [row for name in PREFIX_BODIES for row in rows((CDX / "rows" / name).read_text())]
    return [row for found in exact_listings().values() for row in found] + prefixed


def test_the_key_of_every_real_row_is_the_urlkey_the_archive_wrote() -> None:
    real = every_real_row()
    assert len(real) > 3000 and len({original for _, original in real}) > 30
    assert [(urlkey, original) for urlkey, original in real if match_key(original) != urlkey] == []


@pytest.mark.parametrize("asked", sorted(exact_listings()))
def test_every_row_of_a_real_exact_listing_has_the_asked_urls_key(asked: str) -> None:
    found = exact_listings()[asked]
    originals = {original for _, original in found}
    # The variants the Wayback Machine lists for one URL: scheme, www/www1, :80, user info, no path, empty query.
    assert len(originals) >= 2
    assert {original for original in originals if match_key(original) != match_key(asked)} == set()


def test_the_variants_seen_in_real_listings_share_one_key() -> None:
    for variant in (
        "http://www.nasa.gov:80/",
        "http://www1.nasa.gov:80/",
        "https://nasa.gov",
        "http://www.nasa.gov:80/?",
        "https://NASA.gov:443/#top",
        "http://someone:secret@www.nasa.gov/",
    ):
        assert match_key(variant) == match_key("https://www.nasa.gov/") == "gov,nasa)/", variant
    assert match_key("https://nationalpost.com/health/") == match_key("http://www.nationalpost.com/health")
    assert match_key("http://www.reddit.com/r/PokemonGiveaway") == "com,reddit)/r/pokemongiveaway"
    session = "PHPSESSID=0123456789abcdef0123456789abcdef"
    assert match_key(f"https://a.example/p?{session}&b=2&a=1") == match_key("https://a.example/p?a=1&b=2")


@pytest.mark.parametrize(
    "other",
    [
        "https://www.fake.com/privacy",  # another site
        "https://www.other.example.org/privacy",  # a subdomain that is not www
        "https://www.other.example/privacy-old",  # a longer path (a prefix match)
        "https://www.other.example/legal/privacy",
        "https://www.other.example/privacy?lang=fr",  # a query the asked URL has not
        "https://www.other.example:8443/privacy",  # another port
        "https://www.other.example/",
    ],
)
def test_another_host_path_query_or_port_is_another_key(other: str) -> None:
    assert match_key(other) != match_key("https://www.other.example/privacy")


HOSTS = st.sampled_from(["example.org", "Example.ORG", "www.example.org", "www2.example.org", "blog.example.org"])
SEGMENTS = st.lists(st.sampled_from(["privacy", "Privacy", "legal", ".", "..", "", "a%2Fb", "%7Euser", "caf%C3%A9"]))
QUERIES = st.lists(st.sampled_from(["a=1", "B=2", "b=2", "x", "q=%41", "jsessionid=" + "0" * 32]), max_size=3)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=HOSTS,
    port=st.sampled_from(["", ":80", ":443", ":8080"]),
    segments=SEGMENTS,
    slash=st.booleans(),
    query=QUERIES,
    fragment=st.sampled_from(["", "#top"]),
)
def test_the_key_is_the_canonicalisers_on_generated_variants(
    scheme: str, host: str, port: str, segments: list[str], slash: bool, query: list[str], fragment: str
) -> None:
    path = "/" + "/".join(segments) + ("/" if slash and segments else "")
    url = f"{scheme}://{host}{port}{path}" + (f"?{'&'.join(query)}" if query else "") + fragment
    assert match_key(url) == surt(url)
