"""How an archive's encodings and refusals reach a capture (acceptance report 6: F-b1, F-b2, lower-case digests).

The real CLI runs against the stand-in archive (tests/standin/archive.py) serving a payload recorded gzipped the way
pywb 2.10 does (decoded to a client not taking gzip, as recorded to one that does), or compressing every transfer
as the Wayback Machine does; WARC records are read back with warcio.
"""

from __future__ import annotations

import gzip
import urllib.request
from datetime import timedelta
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_backfill_accounting import replays_of
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured
from warcio.archiveiterator import ArchiveIterator

from policy_archive.crawler.settings import ARCHIVE_ACCEPT_ENCODING
from policy_archive.records import payload_sha1


def kept_payloads(data: Path) -> dict[str, tuple[str | None, bytes]]:
    """Each response record's ``Content-Encoding`` and payload as stored (not decoded), by ``WARC-Date``."""
    kept = {}
    for path in sorted((data / "captures").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    coding = record.http_headers.get_header("Content-Encoding")
                    kept[record.rec_headers.get_header("WARC-Date")] = (coding, record.raw_stream.read())
    return kept


def version_dates(data: Path) -> list[str]:
    return git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()


def replayed(archive: StandinArchive, timestamp: str, accept_encoding: str | None) -> tuple[dict[str, str], bytes]:
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    request = urllib.request.Request(f"{archive.replay_url}/{timestamp}id_/{URL}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(answer.headers.items()), answer.read()


def test_a_payload_recorded_gzipped_is_asked_for_as_recorded_and_kept_as_served(standin_archive, tmp_path):
    moments = [START, START + timedelta(days=30), START + timedelta(days=60)]
    encoded = {
        ts(moment): gzip.compress(page(text, str(n)).encode("utf-8"), mtime=0)
        for n, (moment, text) in enumerate(zip(moments, (V1, V1, V2), strict=True))
    }
    for timestamp, body in encoded.items():
        standin_archive.add_capture(URL, timestamp, body, content_encoding="gzip")
    # The stand-in answers as pywb 2.10 does: decoded to a client not taking gzip (so not the digest's bytes).
    headers, body = replayed(standin_archive, ts(START), None)
    assert headers["X-Archive-Orig-Content-Encoding"] == "gzip" and "Content-Encoding" not in headers
    assert body == gzip.decompress(encoded[ts(START)])
    headers, body = replayed(standin_archive, ts(START), ARCHIVE_ACCEPT_ENCODING)
    assert headers["Content-Encoding"] == "gzip" and body == encoded[ts(START)]

    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-04-04T04:05:06+00:00"]
    assert V2[0] in git(data / "versions", "show", "main:e/example/privacy-policy.md")
    kept = kept_payloads(data)
    assert kept == {f"{moment:%Y-%m-%dT%H:%M:%SZ}": ("gzip", encoded[ts(moment)]) for moment in moments}
    for row in catalog_rows(data):
        assert row["outcome"] == "extracted" and row["payload_sha1"] == row["digest"]
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "2/2 versions verified" in verified.stdout + verified.stderr


def test_an_archive_compressing_the_transfer_is_checked_and_kept_on_the_decoded_bytes(standin_archive, tmp_path):
    # The Wayback Machine's way (tests/standin/recorded.py): gzip for the transfer, the digest of the decoded bytes.
    # The second capture has the first one's digest: a twin, never fetched.
    bodies = [page(V1, "a"), page(V1, "a"), page(V2, "b")]
    moments = [START + timedelta(days=10 * n) for n in range(3)]
    for moment, body in zip(moments, bodies, strict=True):
        standin_archive.add_capture(URL, ts(moment), body)
    standin_archive.compress_transfers()
    headers, served = replayed(standin_archive, ts(START), ARCHIVE_ACCEPT_ENCODING)
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(served) == bodies[0].encode("utf-8")

    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-23T04:05:06+00:00"]
    kept = kept_payloads(data)
    # The archive's transfer coding undone: the record holds the payload the digest names, without the header.
    assert kept == {
        "2014-02-03T04:05:06Z": (None, bodies[0].encode("utf-8")),
        "2014-02-23T04:05:06Z": (None, bodies[2].encode("utf-8")),
    }
    fetched = [row for row in catalog_rows(data) if row["warc_file"]]
    assert len(fetched) == 2 and all(row["payload_sha1"] == row["digest"] for row in fetched)
    trailers = git(data / "versions", "log", "--format=%(trailers:key=Payload-Sha1,valueonly)", "main").split()
    assert trailers == [payload_sha1(bodies[2].encode("utf-8")), payload_sha1(bodies[0].encode("utf-8"))]
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "2/2 versions verified" in verified.stdout + verified.stderr


def test_decoded_bytes_other_than_the_listed_digest_are_still_refused(standin_archive, tmp_path):
    standin_archive.add_capture(URL, ts(START), page(V1, "a"))
    forged = ts(START + timedelta(days=10))
    standin_archive.add_capture(URL, forged, page(V1, "b"))
    standin_archive.serve_other_bytes(URL, forged, page(V2, "another site's policy"))
    standin_archive.compress_transfers()
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert f"capture {forged} refused: digest-mismatch: the archive served bytes with SHA-1" in result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00"]
    refused = next(row for row in catalog_rows(data) if row["captured_at"] == "2014-02-13T04:05:06Z")
    assert refused["outcome"] == "refused" and refused["reason"].startswith("digest-mismatch")


def test_lower_case_digests_are_the_same_digests(standin_archive, tmp_path):
    for n, text in enumerate((V1, V2)):
        standin_archive.add_capture(URL, ts(START + timedelta(days=10 * n)), page(text, str(n)))
    standin_archive.write_digests_in_lower_case()
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-13T04:05:06+00:00"]
    assert all(row["digest"] == row["digest"].lower() != row["payload_sha1"] for row in catalog_rows(data))
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr


def test_a_capture_the_archive_refuses_to_serve_is_named_failed_and_retried(standin_archive, tmp_path):
    moments = [START + timedelta(days=10 * n) for n in range(3)]
    for n, (moment, text) in enumerate(zip(moments, (V1, V2, V2), strict=True)):
        standin_archive.add_capture(URL, ts(moment), page(text, str(n)))
    withheld = ts(moments[1])
    config, data = configured(standin_archive, tmp_path)
    for status, phrase in ((401, "Unauthorized"), (403, "Forbidden")):
        standin_archive.withhold_capture(URL, withheld, status)
        result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
        assert result.returncode == 1, result.stderr
        said = f"the archive refused to serve it: {status} {phrase}, for a capture its listing has"
        assert f"FAILED {DOC}: 1 capture could not be fetched for now (run again to retry): {withheld} ({said})" in (
            result.stderr
        )
        assert "not-archived" not in result.stderr
        row = next(row for row in catalog_rows(data) if row["captured_at"] == "2014-02-13T04:05:06Z")
        assert (row["outcome"], row["reason"], row["fetched_status"]) == ("failed", said, status)
        # Found around the capture withheld, and dated at the first capture that was served.
        assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-23T04:05:06+00:00"]

    standin_archive.withhold_capture(URL, withheld, None)
    rerun = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert rerun.returncode == 0, rerun.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-13T04:05:06+00:00"], "dated by the retry"


def test_a_capture_the_archive_answers_451_is_refused_and_asked_again_when_told(standin_archive, tmp_path):
    """Outside audit 5, item 1: a 451 Unavailable For Legal Reasons (pywb's answer to a capture its access rules
    block) is the archive's access rules, which last: a refusal of the archive's own answer, not a failure "for
    now" asked again by every run; `backfill --retry-refused` asks it again."""
    moments = [START + timedelta(days=10 * n) for n in range(3)]
    for n, (moment, text) in enumerate(zip(moments, (V1, V2, V2), strict=True)):
        standin_archive.add_capture(URL, ts(moment), page(text, str(n)))
    withheld = ts(moments[1])
    config, data = configured(standin_archive, tmp_path)
    standin_archive.withhold_capture(URL, withheld, 451)
    said = "blocked by the archive's access rules: it answered 451 Unavailable For Legal Reasons, for a capture its"
    for _ in range(2):
        result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
        assert result.returncode == 0, result.stderr
        assert "for now" not in result.stderr and "FAILED" not in result.stderr
        row = next(row for row in catalog_rows(data) if row["captured_at"] == "2014-02-13T04:05:06Z")
        assert (row["outcome"], row["fetched_status"]) == ("refused", 451) and row["reason"].startswith(said)
        assert row["replay_url"] == standin_archive.replay_url
        assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-23T04:05:06+00:00"]
    assert replays_of(standin_archive, withheld) == 1, "a lasting refusal: not asked again by the next run"

    standin_archive.withhold_capture(URL, withheld, None)
    told = run_cli(config, data, "backfill", DOC, "--strategy", "all", "--retry-refused")
    assert told.returncode == 0, told.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-13T04:05:06+00:00"], "dated by the retry"


def test_a_failed_line_names_a_few_captures_and_counts_the_rest(standin_archive, tmp_path):
    """Outside audit 5, item 1: 500 captures failing made one FAILED line of 58 KB naming each, which `status`
    repeated. The line names the first five with their reasons and counts the others; `status` repeats that."""
    moments = [ts(START + timedelta(days=n)) for n in range(8)]
    for n, moment in enumerate(moments):
        standin_archive.add_capture(URL, moment, page(V1, str(n)))
        standin_archive.withhold_capture(URL, moment, 403)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 1, result.stderr
    said = "the archive refused to serve it: 403 Forbidden, for a capture its listing has"
    named = "; ".join(f"{moment} ({said})" for moment in moments[:5])
    failed = (
        f"FAILED {DOC}: no version: 8 captures listed, 8 could not be fetched for now (run again to retry): {named}"
    )
    assert f"{failed}; and 3 more" in result.stderr.splitlines(), result.stderr
    status = run_cli(config, data, "status").stdout
    assert f"{named}; and 3 more" in status and moments[5] not in status, status
