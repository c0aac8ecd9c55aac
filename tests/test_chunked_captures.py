"""Captures recorded ``Transfer-Encoding: chunked`` as Heritrix writes them (issue 10, "any Wayback-compatible
archive"): the payload is the chunks as they came, and the digest listed is over those chunks or over the entity,
by crawler. A replay may pass the chunks on or join them (pywb 2.10 always joins them). A capture is accepted when
the digest is that of the bytes served, of their entity, or (the chunks passed on) of the chunks; it is kept as the
bytes the digest names. An entity whose digest is of chunks the replay no longer shows (no one can re-make them)
is accepted as "digest not checkable", kept as served with a note, only when the archive says it joined the
chunks and dates the bytes at the listed time by its own Memento-Datetime; any other bytes matching none of the
digests are refused ``digest-mismatch``.

The chunk reader is checked on open-ended input (Hypothesis); the real CLI runs against the stand-in archive
(tests/standin/archive.py) passing the chunks on or joining them; test_pywb.py serves a Heritrix-style WARC through
the real pywb.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standin.archive import StandinArchive
from standin.cli import git, run_cli
from standin.hostile import RouteServer
from standin.pages import Page
from test_archive_encodings import kept_payloads, version_dates
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured
from test_hostile import tracked_config
from warcio.archiveiterator import ArchiveIterator

from policy_archive.archive.catalog.rows import Outcome
from policy_archive.digests import PayloadDigest
from policy_archive.framing import dechunked, recorded_chunks, says_chunked
from policy_archive.pipeline.jobs.examine import examine
from policy_archive.pipeline.jobs.served_bytes import (
    CHUNKS_JOINED,
    CHUNKS_UNDECLARED,
    digest_mismatch,
    digest_not_comparable,
    entity,
    joined_notes,
    undeclared_chunks,
)
from policy_archive.records import Capture, CaptureRef, DocumentDeclaration, Source, payload_sha1

# --- the chunk reader ----------------------------------------------------------------------------------------


@st.composite
def chunked_bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(entity, its chunks): chunk sizes, hex case, extensions and trailers as any server may send them."""
    entity = draw(st.binary(max_size=600))
    chunks, at = [], 0
    while at < len(entity):
        size = draw(st.integers(1, len(entity) - at))
        hex_size = (b"%x" if draw(st.booleans()) else b"%X") % size
        extension = draw(st.sampled_from([b"", b";a=b", b' ;name="quoted"']))
        chunks.append(hex_size + extension + b"\r\n" + entity[at : at + size] + b"\r\n")
        at += size
    trailers = draw(st.sampled_from([b"", b"Expires: 0\r\n", b"A: 1\r\nB: 2\r\n"]))
    return entity, b"".join(chunks) + b"0\r\n" + trailers + b"\r\n"


@given(chunked_bodies())
def test_chunks_give_their_entity(case):
    entity, chunks = case
    assert dechunked(chunks) == entity


@given(chunked_bodies(), st.binary(min_size=1, max_size=20))
def test_bytes_after_the_last_chunk_or_a_body_cut_short_are_not_chunks(case, extra):
    _, chunks = case
    assert dechunked(chunks + extra) is None
    for cut in range(len(chunks)):
        assert dechunked(chunks[:cut]) is None


@given(st.binary(max_size=400))
def test_any_bytes_are_chunks_or_none_and_a_page_never_is(body):
    entity = dechunked(body)
    assert entity is None or len(entity) < len(body)
    assert dechunked(b"<html>" + body) is None


def test_only_a_header_naming_the_coding_makes_a_payload_recorded_chunks() -> None:
    chunks = b"5\r\nhello\r\n0\r\n\r\n"
    assert recorded_chunks(chunks, [("X-Archive-Orig-Transfer-Encoding", "chunked")]) == b"hello"
    assert recorded_chunks(chunks, [("Transfer-Encoding", "gzip, chunked")]) == b"hello"
    assert recorded_chunks(chunks, [("Content-Type", "text/html")]) is None
    assert recorded_chunks(b"<p>hello</p>", [("Transfer-Encoding", "chunked")]) is None  # de-chunked in transfer
    assert not says_chunked([("Transfer-Encoding", "identity")])


def test_only_the_archive_saying_it_joined_chunks_at_the_listed_time_makes_a_digest_not_comparable() -> None:
    listed = CaptureRef(
        URL, START, 200, "text/html", PayloadDigest.parse(payload_sha1(b"5\r\nhello\r\n0\r\n\r\n")), None
    )
    served = b"hello"
    joined = (("X-Archive-Orig-Transfer-Encoding", "chunked"),)

    def capture(headers: tuple[tuple[str, str], ...], at=START, body=served) -> Capture:
        return Capture(
            DOC, Source.WAYBACK, URL, URL, at, 200, "text/html", body, payload_sha1(body), headers, listed=listed
        )

    # The archive says it joined the chunks, and dates the bytes at the listed time: taken, with a note.
    assert digest_mismatch(capture(joined)) is None
    assert digest_not_comparable(capture(joined)) == CHUNKS_JOINED
    # Dated by another memento than the one listed (a nearest memento in its place): the digest is the only word.
    later = digest_mismatch(capture(joined, at=START + timedelta(seconds=1)))
    assert later is not None and "a digest of the chunks as recorded cannot be checked" in later
    assert "not at the capture listed" in later
    assert digest_not_comparable(capture(joined, at=START + timedelta(seconds=1))) is None
    # Chunks served (passed on) are compared as they are: other chunks are other bytes.
    other_chunks = capture(joined, body=b"5\r\nhellO\r\n0\r\n\r\n")
    assert digest_not_comparable(other_chunks) is None and digest_mismatch(other_chunks) is not None
    # No word of joined chunks (none, or pywb's own chunked transfer of every id_ replay): a mismatch is refused.
    for headers in ((), (("Transfer-Encoding", "chunked"),)):
        refused = digest_mismatch(capture(headers))
        assert refused is not None and "chunks" not in refused
        assert digest_not_comparable(capture(headers)) is None


def test_a_capture_note_keeps_its_examination_part_beside_a_guards() -> None:
    guard = "recorded although far shorter than the previous version: the same text was captured on 2 different days"
    both = joined_notes(CHUNKS_JOINED, guard)
    assert both == f"{CHUNKS_JOINED}; {guard}"
    assert joined_notes(CHUNKS_JOINED, both) == both  # written again, not doubled
    assert joined_notes(None, both) == guard  # the examination no longer says it (check_digests = false)
    assert joined_notes(None, None) is None and joined_notes(CHUNKS_JOINED, None) == CHUNKS_JOINED


# --- backfills from the stand-in archive ---------------------------------------------------------------------

MOMENTS = [START, START + timedelta(days=10), START + timedelta(days=20)]
BODIES = [page(V1, "a"), page(V1, "b"), page(V2, "c")]


def chunked_history(archive: StandinArchive, digest: str) -> list[bytes]:
    """Three captures recorded chunked (v1, v1, v2), their digests over ``digest``; their recorded payloads."""
    held = [
        archive.add_capture(URL, ts(moment), body, chunked=digest)  # type: ignore[arg-type]
        for moment, body in zip(MOMENTS, BODIES, strict=True)
    ]
    return [capture.recorded for capture in held]


def response_headers(data) -> dict[str, list[tuple[str, str]]]:
    """Each kept response record's HTTP headers, by ``WARC-Date``."""
    kept = {}
    for path in sorted((data / "captures").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    kept[record.rec_headers.get_header("WARC-Date")] = record.http_headers.headers
    return kept


def backfilled(archive: StandinArchive, tmp_path, **settings: object):
    config, data = configured(archive, tmp_path, **settings)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    return config, data, result


def assert_two_versions_with_the_right_text(data) -> None:
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00", "2014-02-23T04:05:06+00:00"]
    text = git(data / "versions", "show", "main:e/example/privacy-policy.md")
    assert V2[-1] in text and ";src=crawl" not in text and "\n0\n" not in text
    first = git(data / "versions", "show", "main~1:e/example/privacy-policy.md")
    assert V1[0] in first and V2[-1] not in first


def test_chunks_passed_on_with_a_digest_of_the_chunks_are_kept_as_recorded(standin_archive, tmp_path):
    recorded = chunked_history(standin_archive, "chunks")
    config, data, result = backfilled(standin_archive, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    assert_two_versions_with_the_right_text(data)
    # The record is the crawler's: the chunks, and a header saying so (a replay tool de-chunks it).
    kept = kept_payloads(data)
    dates = [f"{moment:%Y-%m-%dT%H:%M:%SZ}" for moment in MOMENTS]
    assert {date: payload for date, (_, payload) in kept.items()} == dict(zip(dates, recorded, strict=True))
    for headers in response_headers(data).values():
        names = {name.lower(): value for name, value in headers}
        assert names["transfer-encoding"] == "chunked" and "content-length" not in names
    for row in catalog_rows(data):
        assert row["outcome"] == "extracted" and row["payload_sha1"] == row["digest"]
    trailers = git(data / "versions", "log", "--format=%(trailers:key=Payload-Sha1,valueonly)", "main").split()
    assert trailers == [payload_sha1(recorded[2]), payload_sha1(recorded[0])]
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "2/2 versions verified" in verified.stdout + verified.stderr
    rebuilt = run_cli(config, data, "reextract", DOC)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert_two_versions_with_the_right_text(data)


@pytest.mark.parametrize("joined", [False, True], ids=["chunks-passed-on", "chunks-joined"])
def test_a_digest_of_the_entity_keeps_the_entity(standin_archive, tmp_path, joined):
    chunked_history(standin_archive, "entity")
    if joined:
        standin_archive.dechunk_replays()  # pywb 2.10's way
    config, data, result = backfilled(standin_archive, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    assert_two_versions_with_the_right_text(data)
    kept = kept_payloads(data)
    assert [kept[date][1] for date in sorted(kept)] == [body.encode("utf-8") for body in BODIES]
    for headers in response_headers(data).values():
        names = {name.lower() for name, _ in headers}
        assert "transfer-encoding" not in names and "content-length" in names
    assert all(row["payload_sha1"] == row["digest"] for row in catalog_rows(data))
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr


def test_an_entity_served_for_a_digest_of_chunks_is_kept_as_served_with_a_note(standin_archive, tmp_path):
    chunked_history(standin_archive, "chunks")
    standin_archive.dechunk_replays()  # pywb 2.10's way: the chunks the digest is over are not shown
    config, data, result = backfilled(standin_archive, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "digest-mismatch" not in result.stderr
    assert f"{DOC}: version of 2014-02-03T04:05:06Z {CHUNKS_JOINED}" in result.stderr
    assert_two_versions_with_the_right_text(data)
    # Kept as served (the entity), with no word of chunks: the record is what the archive gave.
    kept = kept_payloads(data)
    assert [kept[date][1] for date in sorted(kept)] == [body.encode("utf-8") for body in BODIES]
    for headers in response_headers(data).values():
        assert "transfer-encoding" not in {name.lower() for name, _ in headers}
    rows = catalog_rows(data)
    assert all(row["outcome"] == "extracted" and row["payload_sha1"] != row["digest"] for row in rows)
    assert {row["payload_sha1"] for row in rows} == {payload_sha1(body.encode("utf-8")) for body in BODIES}
    # The version's Payload-Sha1 is the SHA-1 of the bytes kept, not the listing's digest (over the chunks).
    trailers = git(data / "versions", "log", "--format=%(trailers:key=Payload-Sha1,valueonly)", "main").split()
    assert trailers == [payload_sha1(BODIES[2].encode("utf-8")), payload_sha1(BODIES[0].encode("utf-8"))]
    log = json.loads(run_cli(config, data, "log", DOC, "--json").stdout)
    assert [(version["date"], version["note"]) for version in log] == [
        ("2014-02-03T04:05:06Z", CHUNKS_JOINED),
        ("2014-02-23T04:05:06Z", CHUNKS_JOINED),
    ]
    # `status --json` gives every capture's note (each capture kept, the versions' and the others').
    (status,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert status["capture_notes"] == [
        {"captured_at": row["captured_at"], "source": "wayback", "outcome": "extracted", "note": CHUNKS_JOINED}
        for row in sorted(rows, key=lambda row: row["captured_at"])
    ]
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "2/2 versions verified" in verified.stdout + verified.stderr
    for rebuild in ((), ("--rebuild",)):
        rerun = run_cli(config, data, "reextract", DOC, *rebuild)
        assert rerun.returncode == 0, rerun.stderr
        assert_two_versions_with_the_right_text(data)
        notes = {row["captured_at"]: row["note"] for row in catalog_rows(data)}
        assert notes["2014-02-03T04:05:06Z"] == notes["2014-02-23T04:05:06Z"] == CHUNKS_JOINED
    # Digests not checked (``check_digests = false``): the same versions, no digest compared, none noted.
    _, data, result = backfilled(standin_archive, tmp_path / "unchecked", check_digests=False)
    assert result.returncode == 0, result.stderr
    assert_two_versions_with_the_right_text(data)
    assert {row["note"] for row in catalog_rows(data)} == {None}


def test_an_entity_of_joined_chunks_from_another_memento_is_refused(standin_archive, tmp_path):
    """The archive serves another memento for a capture listed (its 302 to it): its Memento-Datetime is not the
    listed time, and with a digest that cannot be checked nothing says the bytes are the capture's."""
    chunked_history(standin_archive, "chunks")
    standin_archive.dechunk_replays()
    standin_archive.replay_from(URL, ts(MOMENTS[2]), ts(MOMENTS[1]))
    _, data, result = backfilled(standin_archive, tmp_path)
    assert f"capture {ts(MOMENTS[2])} refused: digest-mismatch" in result.stderr
    assert "a digest of the chunks as recorded cannot be checked on what it served" in result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00"]
    refused = next(row for row in catalog_rows(data) if row["captured_at"] == "2014-02-23T04:05:06Z")
    assert refused["outcome"] == "refused" and refused["reason"].startswith("digest-mismatch")
    assert refused["note"] is None


def test_other_bytes_of_a_capture_not_recorded_chunked_are_refused_where_replays_join_chunks(standin_archive, tmp_path):
    """An archive joining the chunks of records kept chunked says so only for those: a capture recorded whole
    (no ``X-Archive-Orig-Transfer-Encoding``) served with other bytes than its digest's is refused."""
    for moment, body in zip(MOMENTS, BODIES, strict=True):
        standin_archive.add_capture(URL, ts(moment), body)
    standin_archive.dechunk_replays()
    forged = ts(MOMENTS[2])
    standin_archive.serve_other_bytes(URL, forged, page(V2, "another site's policy"))
    _, data, result = backfilled(standin_archive, tmp_path)
    assert f"capture {forged} refused: digest-mismatch" in result.stderr
    assert "chunks" not in result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00"]
    assert {row["note"] for row in catalog_rows(data)} == {None}


@pytest.mark.parametrize("digest", ["chunks", "entity"])
def test_bytes_matching_neither_digest_are_refused(standin_archive, tmp_path, digest):
    chunked_history(standin_archive, digest)
    forged = ts(MOMENTS[2])
    standin_archive.serve_other_bytes(URL, forged, page(V2, "another site's policy"))
    _, data, result = backfilled(standin_archive, tmp_path)
    assert f"capture {forged} refused: digest-mismatch" in result.stderr
    assert version_dates(data) == ["2014-02-03T04:05:06+00:00"]
    refused = next(row for row in catalog_rows(data) if row["captured_at"] == "2014-02-23T04:05:06Z")
    assert refused["outcome"] == "refused" and refused["reason"].startswith("digest-mismatch")


# --- chunks no header declares ---------------------------------------------------------------------------------


DECLARATION = DocumentDeclaration("example", "Example", "privacy-policy", URL)


def chunks_of(entity: bytes, size: int = 0x1F4) -> bytes:
    """``entity`` as HTTP chunks of ``size`` bytes (``1f4`` size lines, the last fewer), a last chunk, no trailer."""
    parts = [entity[at : at + size] for at in range(0, len(entity), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def plain_capture(body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> Capture:
    listed = CaptureRef(URL, START, 200, "text/html", PayloadDigest.parse(payload_sha1(body)), None)
    return Capture(
        DOC, Source.WAYBACK, URL, URL, START, 200, "text/html", body, payload_sha1(body), headers, listed=listed
    )


def test_whole_chunks_no_header_declares_are_read_as_their_entity_with_a_note() -> None:
    entity_bytes = page(V2, "a").encode("utf-8")
    framed = chunks_of(entity_bytes)
    assert framed.startswith(b"1f4\r\n<")
    assert undeclared_chunks(plain_capture(framed)) == entity(plain_capture(framed)) == entity_bytes
    examined = examine(DECLARATION, plain_capture(framed), clock=START)
    assert examined.outcome is Outcome.EXTRACTED and examined.note == CHUNKS_UNDECLARED
    assert "1f4" not in examined.document.body and V2[-1] in examined.document.body
    # The same page unframed gives the same text, with no note.
    plain = examine(DECLARATION, plain_capture(entity_bytes), clock=START)
    assert plain.note is None and plain.document.body == examined.document.body
    # Declared (as recorded): the existing reading, no note of this kind.
    declared = plain_capture(framed, (("Transfer-Encoding", "chunked"),))
    assert undeclared_chunks(declared) is None and entity(declared) == entity_bytes
    assert examine(DECLARATION, declared, clock=START).note is None


@pytest.mark.parametrize(
    "body",
    [
        # A text page that starts with a hex number and a CRLF, as a size line would.
        b"1f4\r\nPrivacy policy of example.org: we collect what you send us.\r\n",
        # A valid first chunk, then no last chunk.
        b"5\r\nhello\r\n",
        # Whole chunks, then more bytes after the end.
        b"5\r\nhello\r\n0\r\n\r\n<p>more</p>",
        # A size line that does not match its chunk's length.
        b"6\r\nhello\r\n0\r\n\r\n",
        # A size line with something else than hex digits and an extension.
        b"5 x\r\nhello\r\n0\r\n\r\n",
        # Whole chunks with a bare LF instead of CRLF.
        b"5\nhello\n0\n\n",
    ],
)
def test_a_payload_that_only_looks_like_chunks_is_read_as_it_is(body) -> None:
    assert undeclared_chunks(plain_capture(body)) is None
    assert entity(plain_capture(body)) == body


def test_a_page_starting_with_hex_digits_is_extracted_as_it_is_without_a_note() -> None:
    text = (
        b"1f4\r\n<html><head><title>Privacy</title></head><body><main>"
        + "".join(f"<p>{paragraph}</p>" for paragraph in V1).encode()
        + b"</main></body></html>\r\n"
    )
    examined = examine(DECLARATION, plain_capture(text), clock=START)
    assert examined.outcome is Outcome.EXTRACTED and examined.note is None


@pytest.mark.parametrize("check_digests", [True, False], ids=["digest-of-the-chunks", "digests-unchecked"])
def test_chunks_passed_on_with_no_header_are_extracted_from_their_entity_and_noted(
    standin_archive, tmp_path, check_digests
):
    """An archive passing on the chunks of a record whose headers no longer say so (no ``Transfer-Encoding``, no
    ``X-Archive-Orig-Transfer-Encoding``); the digest listed is over the chunks served, so it proves the bytes are
    the capture's and says nothing of their framing (or is not checked). The versions hold no size line, the
    bytes are kept as served, and each capture's note says its text was read from chunks nothing declared."""
    framed = [chunks_of(body.encode("utf-8")) for body in BODIES]
    for moment, body in zip(MOMENTS, framed, strict=True):
        standin_archive.add_capture(URL, ts(moment), body)  # a plain capture whose payload is chunks
    config, data, result = backfilled(standin_archive, tmp_path, check_digests=check_digests)
    assert result.returncode == 0, result.stderr
    assert f"{DOC}: version of 2014-02-03T04:05:06Z {CHUNKS_UNDECLARED}" in result.stderr
    assert_two_versions_with_the_right_text(data)
    for revision in ("main", "main~1"):
        text = git(data / "versions", "show", f"{revision}:e/example/privacy-policy.md")
        assert "1f4" not in text and not any(line.strip() in {"0", "c8", "1f4"} for line in text.splitlines())
    kept = kept_payloads(data)
    assert [kept[date][1] for date in sorted(kept)] == framed  # as served: the digest's bytes
    rows = catalog_rows(data)
    assert {row["note"] for row in rows} == {CHUNKS_UNDECLARED}
    (status,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert [note["note"] for note in status["capture_notes"]] == [CHUNKS_UNDECLARED] * len(rows)
    log = json.loads(run_cli(config, data, "log", DOC, "--json").stdout)
    assert [version["note"] for version in log] == [CHUNKS_UNDECLARED, CHUNKS_UNDECLARED]
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0 and "2/2 versions verified" in verified.stdout, verified.stdout + verified.stderr
    for rebuild in ((), ("--rebuild",)):
        rerun = run_cli(config, data, "reextract", DOC, *rebuild)
        assert rerun.returncode == 0, rerun.stderr
        assert_two_versions_with_the_right_text(data)
        assert {row["note"] for row in catalog_rows(data)} == {CHUNKS_UNDECLARED}


def test_a_live_page_chunked_twice_is_recorded_from_its_entity_with_a_note(tmp_path):
    """A live server (a proxy chunking twice) sending whole chunks as its body with a Content-Length: `track`
    records the entity's text, the bytes as served, and the note."""
    framed = chunks_of(page(V2, "live").encode("utf-8"))
    with RouteServer({"/privacy": Page(body=framed)}) as site:
        config = tracked_config(tmp_path / "config", site.url("/privacy"))
        result = run_cli(config, tmp_path / "data", "track")
    assert result.returncode == 0, result.stderr
    text = git(tmp_path / "data" / "versions", "show", "main:a/acme/privacy-policy.md")
    assert V2[-1] in text and "1f4" not in text
    (status,) = json.loads(run_cli(config, tmp_path / "data", "status", "--json").stdout)
    assert [(note["source"], note["outcome"], note["note"]) for note in status["capture_notes"]] == [
        ("live", "extracted", CHUNKS_UNDECLARED)
    ]
