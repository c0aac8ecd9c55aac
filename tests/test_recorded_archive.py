"""Backfill against the Wayback Machine's own recorded answers (tests/fixtures/archive-responses, EDGI wayback).

What real replays do — archived redirects with their own mementos, the archive's redirects to the nearest
memento, scheme-less Locations, an excluded page without Memento-Datetime, an archived 429 — and what the
catalog and the WARC files must say about each.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from standin.cli import run_cli, write_archive_settings
from standin.recorded import FIXTURES, RecordedArchive
from warcio.archiveiterator import ArchiveIterator

DOCUMENTS = {
    "epa": {
        "privacy-policy": "https://www.epa.gov/ghgreporting/san5779-factsheet",
        "terms-of-service": "http://epa.gov/climatechange",
    },
    "census": {"privacy-policy": "https://www.census.gov/geography/gss-initiative.html"},
    "nationalpost": {"privacy-policy": "https://nationalpost.com/health/"},
    "reddit": {"privacy-policy": "http://www.reddit.com/r/PokemonGiveaway"},
    "nasa": {"privacy-policy": "http://www.nasa.gov/"},
    "fws": {"privacy-policy": "http://fws.gov/"},
    "springer": {"privacy-policy": "https://link.springer.com/article/10.1007/s00382-012-1331-2"},
}


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    root = tmp_path_factory.mktemp("recorded")
    config, data = root / "config", root / "data"
    (config / "services").mkdir(parents=True)
    with RecordedArchive() as archive:
        write_archive_settings(config, archive.cdx_url, archive.replay_url, timeout_seconds=10)
        for service, documents in DOCUMENTS.items():
            text = f'name = "{service}"\n' + "".join(
                f'[documents.{document}]\nurl = "{url}"\n' for document, url in documents.items()
            )
            (config / "services" / f"{service}.toml").write_text(text)
        result = run_cli(config, data, "backfill", "--strategy", "all")
    connection = sqlite3.connect(data / "catalog.sqlite3")
    connection.row_factory = sqlite3.Row
    rows = {row["document"]: dict(row) for row in connection.execute("SELECT * FROM captures")}
    connection.close()
    return result, rows, data, archive


def responses(data: Path) -> list[tuple[str, str, str]]:
    found = []
    for path in sorted((data / "captures").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    headers = record.rec_headers
                    found.append(
                        (
                            headers.get_header("WARC-Target-URI"),
                            headers.get_header("WARC-Date"),
                            record.http_headers.get_statuscode(),
                        )
                    )
    return found


def test_a_real_archived_redirect_is_dated_by_its_target_memento(backfilled):
    _, rows, data, _ = backfilled
    row = rows["epa/privacy-policy"]
    target = "https://www.epa.gov/ghgreporting/proposed-rule-fact-sheet-greenhouse-gas-reporting-program-addition-global-warming"
    assert (row["captured_at"], row["status"]) == ("2018-08-08T09:41:44Z", 301)
    assert (row["memento_at"], row["memento_url"], row["fetched_status"]) == ("2018-08-08T10:45:00Z", target, 200)
    assert row["snapshot_url"].endswith(f"/web/20180808104500id_/{target}")
    kept = responses(data)
    assert ("https://www.epa.gov/ghgreporting/san5779-factsheet", "2018-08-08T09:41:44Z", "301") in kept
    assert (target, "2018-08-08T10:45:00Z", "200") in kept


def test_a_real_chain_through_the_archives_own_redirects_ends_40_minutes_later(backfilled):
    _, rows, data, _ = backfilled
    row = rows["epa/terms-of-service"]
    assert row["captured_at"] == "2020-02-01T02:03:57Z"
    assert row["memento_at"] == "2020-02-01T02:44:05Z"
    assert row["memento_url"] == "https://www.epa.gov/sites/production/files/signpost/cc.html"
    # It ends on the EPA's "Help finding information" signpost page, whose only legal word is "terms" in "index
    # of terms and topics": no document (outside audit A, 2026-11-29: it was recorded as the EPA's policy).
    assert row["outcome"] == "refused"
    assert row["reason"].startswith("not-a-legal-document: the text mentions legal matter only in passing ('terms',")
    kept = responses(data)
    assert ("https://www.epa.gov/climatechange", "2020-02-01T02:37:57Z", "301") in kept
    assert not any("/web/" in uri for uri, _, _ in kept), "records are filed under the site's URLs only"


def test_a_schemeless_redirect_to_an_archived_404_is_refused_at_its_memento(backfilled):
    result, rows, _, _ = backfilled
    row = rows["census/privacy-policy"]
    reached = "https://www.census.gov/geo/gssi/ at 2020-11-02T23:30:26Z, after 1 archived redirect"
    assert (row["outcome"], row["reason"]) == ("refused", f"archived status 404 ({reached})")
    assert row["memento_at"] == "2020-11-02T23:30:26Z"
    assert "FAILED census/privacy-policy: no version: 1 captures listed, all refused (1 archived status 404)" in (
        result.stderr
    )


def test_a_real_redirect_loop_through_the_archives_own_redirects_is_refused_with_its_hops_kept(backfilled):
    """link.springer.com 2020: an archived 303 to its login service, which the archive redirects 9 s later, an
    archived 302 back to the article, which the archive redirects to the first capture: a loop (A → B → A)."""
    result, rows, data, _ = backfilled
    article = DOCUMENTS["springer"]["privacy-policy"]
    row = rows["springer/privacy-policy"]
    reason = f"redirect loop inside the archive (back to {article} at 2020-09-25T07:54:02Z)"
    assert (row["outcome"], row["reason"]) == ("refused", reason)
    assert f"springer/privacy-policy: capture 20200925075402 refused: {reason}" in result.stderr
    assert "FAILED springer/privacy-policy: no version: 1 captures listed, all refused (1 redirect loop" in (
        result.stderr
    )
    login = f"https://idp.springer.com/authorize?response_type=cookie&client_id=springerlink&redirect_uri={article}"
    kept = responses(data)
    assert (article, "2020-09-25T07:54:02Z", "303") in kept and (login, "2020-09-25T07:54:11Z", "302") in kept


def test_a_real_memento_is_filed_under_the_url_it_was_archived_from(backfilled):
    """Asked for http://fws.gov/ at its listed time, the Wayback Machine served its capture of https://www.fws.gov/
    (one key), as the Link header's rel="original" says: the catalog and the WARC name that URL, not the one asked."""
    _, rows, data, archive = backfilled
    row = rows["fws/privacy-policy"]
    assert (row["memento_at"], row["memento_url"]) == ("2017-11-24T14:37:28Z", "https://www.fws.gov/")
    assert row["snapshot_url"] == f"{archive.replay_url}/20171124143728id_/https://www.fws.gov/"
    assert ("https://www.fws.gov/", "2017-11-24T14:37:28Z", "200") in responses(data)
    assert not any(uri == "http://fws.gov/" for uri, _, _ in responses(data))


def test_the_real_excluded_page_is_not_archived(backfilled):
    result, rows, _, _ = backfilled
    row = rows["nationalpost/privacy-policy"]
    assert row["outcome"] == "refused" and row["reason"].startswith("not-archived")
    assert row["warc_file"] is None and row["fetched_status"] == 200
    assert "FAILED nationalpost/privacy-policy: no version: 1 captures listed, all refused (1 not-archived)" in (
        result.stderr
    )


def test_an_archived_429_is_a_refused_capture_not_no_capture(backfilled):
    result, rows, _, _ = backfilled
    assert rows["reddit/privacy-policy"]["reason"] == "archived status 429"
    assert "FAILED reddit/privacy-policy: no version: 1 captures listed, all refused (1 archived status 429)" in (
        result.stderr
    )
    assert "lists no capture" not in result.stderr


def test_real_replayed_bytes_match_their_cdx_digest(backfilled):
    # Served gzipped for the transfer, as recorded: the decoded bytes carry the digest, and are what is kept.
    result, rows, data, _ = backfilled
    row = rows["nasa/privacy-policy"]
    assert row["payload_sha1"] == row["digest"] == "MGIGF4GRGGF5GKV6VNCBAXOE3OR5BTZC"
    assert not (row["reason"] or "").startswith("digest-mismatch")
    recorded = (FIXTURES / "bodies" / "tutorial__01.html").read_bytes()
    kept = []
    for path in sorted((data / "captures").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response" and "nasa.gov" in record.rec_headers.get_header("WARC-Target-URI"):
                    kept.append((record.http_headers.get_header("Content-Encoding"), record.raw_stream.read()))
    assert kept == [(None, recorded)]
    assert result.returncode == 1 and "Traceback" not in result.stderr
