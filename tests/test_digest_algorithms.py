"""Payload digests in the algorithm their listing names (acceptance report 7, F2): Browsertrix-crawler and
warcio.js write ``sha256:`` digests, which pywb's CDX lists as they are; a SHA-1 may be written in hex. Each is
compared in its own algorithm; one that cannot be compared is ``digest-not-comparable``, never a mismatch; the
commit's ``Payload-Sha1`` stays the payload's base32 SHA-1. And a foreign WARC's records in ``data/captures`` are
left out in words, never called damaged (F12)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standin import pywb
from standin.cli import git, run_cli
from test_backfill_e2e import V1, V2, page
from test_backfill_resilience import START, ts
from test_fidelity import DOC as DOC_304
from test_fidelity import URL as URL_304
from test_fidelity import configured
from test_pywb import RunningPywb, config_for, pywb_server  # noqa: F401  (the module's pywb, as a fixture)
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.digests import ALGORITHMS, PayloadDigest
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan, compared_as_sha1
from policy_archive.pipeline.jobs.examine import holds_for_twins
from policy_archive.pipeline.jobs.served_bytes import (
    DIGEST_MISMATCH,
    DIGEST_NOT_COMPARABLE,
    as_archived,
    digest_mismatch,
)
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    Source,
    iso_z,
    payload_sha1,
)

URL = "http://sha.test/privacy"
AT = datetime(2022, 1, 1, tzinfo=UTC)


# --- parsing and comparing, for any bytes and every way real archives write a digest ---------------------------


def encodings(raw: bytes) -> list[str]:
    """Every form a WARC or CDX writer gives a digest's bytes: hex either case, base32 either case with or without
    padding, base64 and its URL-safe alphabet with or without padding."""
    b32 = base64.b32encode(raw).decode("ascii")
    b64 = base64.b64encode(raw).decode("ascii")
    return [
        raw.hex(),
        raw.hex().upper(),
        b32,
        b32.lower(),
        b32.rstrip("="),
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    ]


LABELS = {"sha1": ["sha1", "SHA1", "sha-1", "SHA-1"], "sha256": ["sha256", "SHA-256", "sha-256"]}


@given(
    payload=st.binary(max_size=300),
    algorithm=st.sampled_from(sorted(ALGORITHMS)),
    form=st.integers(min_value=0, max_value=7),
    spelling=st.integers(min_value=0, max_value=3),
)
def test_a_digest_names_its_payload_in_every_algorithm_and_encoding(
    payload: bytes, algorithm: str, form: int, spelling: int
) -> None:
    raw = hashlib.new(algorithm, payload).digest()
    labels = LABELS.get(algorithm, [algorithm, algorithm.upper()])
    text = f"{labels[spelling % len(labels)]}:{encodings(raw)[form]}"
    digest = PayloadDigest.parse(text)
    assert digest.algorithm == algorithm and digest.comparable
    assert digest.names(payload) is True
    assert digest.names(payload + b"x") is False
    assert PayloadDigest.parse(str(digest)) == digest, "the catalog's text reads back as the same digest"


@given(payload=st.binary(max_size=300), lower=st.booleans())
def test_a_bare_base32_sha1_is_the_internet_archives_and_stays_as_written(payload: bytes, lower: bool) -> None:
    written = payload_sha1(payload).lower() if lower else payload_sha1(payload)
    digest = PayloadDigest.parse(written)
    assert digest == PayloadDigest("sha1", written) and digest.base32_sha1
    assert str(digest) == written, "kept in the catalog as before"
    assert str(PayloadDigest.parse(f"sha1:{written}")) == written, "pywb's sha1: label dropped, as before"
    assert digest.names(payload) is True


@given(text=st.text(max_size=80), payload=st.binary(max_size=50))
def test_any_text_parses_and_is_never_a_false_mismatch(text: str, payload: bytes) -> None:
    """Whatever a listing holds, parsing never raises, its text reads back the same, and a digest that cannot be
    compared says None (not comparable), never False (other bytes)."""
    digest = PayloadDigest.parse(text)
    assert PayloadDigest.parse(str(digest)) == digest
    verdict = digest.names(payload)
    assert (verdict is None) == (not digest.comparable)
    if digest.algorithm not in ALGORITHMS:
        assert verdict is None and "does not compute" in digest.why_not_comparable


@given(payload=st.binary(max_size=100), other=st.binary(max_size=100))
def test_a_sha256_is_never_compared_with_a_sha1(payload: bytes, other: bytes) -> None:
    """F2: the row's ``sha256:`` hex was compared, as text, with the bytes' base32 SHA-1."""
    digest = PayloadDigest.parse(f"sha256:{hashlib.sha256(payload).hexdigest()}")
    assert digest.names(other) is (other == payload)


def test_a_value_holding_a_colon_reads_back_as_written() -> None:
    for text in ("sha1:abc:def", "sha256:x:y", "a:b", ":x", "sha1:"):
        digest = PayloadDigest.parse(text)
        assert PayloadDigest.parse(str(digest)) == digest, text


def test_unknown_algorithms_and_unreadable_values_are_not_comparable() -> None:
    for text in ("blake3:af1349b9f5f9a1a6a0404dea36dcc949", "xxh64:0123456789abcdef", "sha1:not-a-digest", "D1"):
        digest = PayloadDigest.parse(text)
        assert not digest.comparable and digest.names(b"anything") is None, text
    assert PayloadDigest.parse("blake3:ab").why_not_comparable == "policy-archive does not compute blake3 digests"
    assert PayloadDigest.parse("sha256:ab").why_not_comparable == (
        "its value is no sha256 digest (32 bytes) in hex, base32 or base64"
    )


# --- examining a capture against its listed digest --------------------------------------------------------------


def capture(body: bytes, digest: str | None, headers: tuple[tuple[str, str], ...] = ()) -> Capture:
    listed = CaptureRef(URL, AT, 200, "text/html", PayloadDigest.parse(digest) if digest else None)
    return Capture(
        document="sha/privacy-policy",
        source=Source.WAYBACK,
        url=URL,
        fetched_url=f"http://archive.test/coll/20220101000000id_/{URL}",
        captured_at=AT,
        status=200,
        content_type="text/html",
        body=body,
        payload_sha1=payload_sha1(body),
        headers=headers,
        listed=listed,
    )


def test_a_sha256_digest_is_checked_in_sha256() -> None:
    body = b"<p>the policy</p>"
    assert digest_mismatch(capture(body, f"sha256:{hashlib.sha256(body).hexdigest()}")) is None
    other = f"sha256:{hashlib.sha256(b'another page').hexdigest()}"
    reason = digest_mismatch(capture(body, other))
    assert reason == (
        f"{DIGEST_MISMATCH}: the archive served bytes with SHA-256 {hashlib.sha256(body).hexdigest()} for a capture"
        f" its listing gives as {other} (setting [wayback] check_digests)"
    )


def test_a_sha1_mismatch_says_what_it_said_before() -> None:
    body = b"<p>the policy</p>"
    listed = payload_sha1(b"another page")
    assert digest_mismatch(capture(body, listed)) == (
        f"{DIGEST_MISMATCH}: the archive served bytes with SHA-1 {payload_sha1(body)} for a capture its listing"
        f" gives as {listed} (setting [wayback] check_digests)"
    )
    assert digest_mismatch(capture(body, f"sha1:{hashlib.sha1(body).hexdigest()}")) is None, "hex SHA-1"


def test_an_unknown_algorithm_is_not_comparable_and_never_a_mismatch() -> None:
    reason = digest_mismatch(capture(b"<p>the policy</p>", "blake3:af1349b9f5f9a1a6"))
    assert reason is not None and reason.startswith(f"{DIGEST_NOT_COMPARABLE}: ")
    assert "blake3:af1349b9f5f9a1a6" in reason and "does not compute blake3" in reason
    assert DIGEST_MISMATCH not in reason and "check_digests" in reason
    # A refusal of this replay's check, like a mismatch: a twin listed with the same digest is fetched in turn.
    assert not holds_for_twins(reason)


def test_the_archives_transfer_gzip_is_undone_for_a_sha256_digest() -> None:
    """IA-style transfer compression of a capture whose listing names its plain bytes in SHA-256: kept decoded,
    its Payload-Sha1 the plain bytes' SHA-1."""
    body = b"<p>the policy</p>" * 20
    served = capture(gzip.compress(body), f"sha256:{hashlib.sha256(body).hexdigest()}", (("Content-Encoding", "gzip"),))
    kept = as_archived(served)
    assert kept.body == body and kept.payload_sha1 == payload_sha1(body) and kept.header("Content-Encoding") is None
    assert digest_mismatch(kept) is None
    unknown = capture(gzip.compress(body), "blake3:0011", (("Content-Encoding", "gzip"),))
    assert as_archived(unknown) is unknown, "no digest to tell by: kept as served"


def row(reason: str, digest: str, payload: str = "P" * 32) -> CaptureRow:
    return CaptureRow(
        id=1,
        document="sha/privacy-policy",
        source=Source.WAYBACK,
        url=URL,
        captured_at=AT,
        status=200,
        mimetype="text/html",
        digest=PayloadDigest.parse(digest),
        fetched_url=None,
        payload_sha1=payload,
        stored=None,
        outcome=Outcome.REFUSED,
        reason=reason,
        title=None,
        body=None,
        body_sha1=None,
        window_start=None,
    )


def test_a_refusal_of_a_sha256_row_compared_as_sha1_before_is_examined_again() -> None:
    sha256 = f"sha256:{'ab' * 32}"
    old = f"{DIGEST_MISMATCH}: the archive served bytes with SHA-1 {'P' * 32} for a capture its listing gives as"
    stale = row(f"{old} {sha256} (setting [wayback] check_digests)", sha256)
    assert compared_as_sha1(stale)
    assert compared_as_sha1(row(f"{old} {'cd' * 20} (setting …)", "cd" * 20)), "a hex SHA-1, compared as text"
    base32 = "Q" * 32
    assert not compared_as_sha1(row(f"{old} {base32} (setting …)", base32)), "a real SHA-1 mismatch stays refused"
    today = f"{DIGEST_MISMATCH}: the archive served bytes with SHA-256 {'ef' * 32} for a capture its listing gives as"
    assert not compared_as_sha1(row(f"{today} {sha256} (setting …)", sha256))

    declaration = DocumentDeclaration("sha", "Sha", "privacy-policy", URL)
    listed = CaptureRef(URL, AT, 200, "text/html", PayloadDigest.parse(sha256))
    plan = DocumentPlan(declaration, [listed], "all", None, [stale])  # type: ignore[arg-type]
    assert plan.known == {}, "fetched again, as if never fetched"


# --- end to end, through a real pywb -------------------------------------------------------------------------


V3 = [*V2, "We now keep server logs for 30 days only."]
V4 = [*V3, "This paragraph was added in 2025."]


def sha256_record(moment: datetime, body: bytes, payload_digest: str | None = None) -> bytes:
    """One gzipped WARC response record as Browsertrix-crawler and warcio.js write them: payload and block digests
    ``sha256:<hex>`` (warcio, here, writes base32 SHA-1 and recomputes any digest given to it); ``payload_digest``
    replaces the payload's."""
    block = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    headers = [
        ("WARC-Type", "response"),
        ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"),
        ("WARC-Date", iso_z(moment)),
        ("WARC-Target-URI", URL),
        ("Content-Type", "application/http; msgtype=response"),
        ("WARC-Payload-Digest", payload_digest or f"sha256:{hashlib.sha256(body).hexdigest()}"),
        ("WARC-Block-Digest", f"sha256:{hashlib.sha256(block).hexdigest()}"),
        ("Content-Length", str(len(block))),
    ]
    head = "WARC/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    return gzip.compress(head.encode("ascii") + block + b"\r\n\r\n")


def write_sha256_warc(path: Path) -> dict[datetime, bytes]:
    """Five captures: three texts with SHA-256 digests in hex, the third text again with a hex SHA-1, and a fourth
    text whose digest names an algorithm we do not compute."""
    moments = [datetime(year, 3, 1, tzinfo=UTC) for year in (2021, 2022, 2023, 2024, 2025)]
    bodies = [page(text, n).encode("utf-8") for n, text in enumerate((V1, V2, V3, V3, V4))]
    written = {
        moments[3]: f"sha1:{hashlib.sha1(bodies[3]).hexdigest()}",
        moments[4]: "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    }
    path.write_bytes(
        b"".join(sha256_record(moment, body, written.get(moment)) for moment, body in zip(moments, bodies, strict=True))
    )
    return dict(zip(moments, bodies, strict=True))


def test_a_pywb_collection_with_sha256_digests_gives_every_version(
    pywb_server: RunningPywb,  # noqa: F811
    tmp_path: Path,
) -> None:
    captures = write_sha256_warc(tmp_path / "btx.warc.gz")
    pywb.build_collection(pywb_server.bin_dir, pywb_server.root, "btx", [tmp_path / "btx.warc.gz"])
    index = "".join(path.read_text() for path in (pywb_server.root / "collections" / "btx" / "indexes").iterdir())
    assert '"digest": "sha256:' in index and '"digest": "blake3:' in index, index  # pywb lists them as written

    services = {"sha": f'name = "Sha"\n[documents.privacy-policy]\nurl = "{URL}"\n'}
    config = config_for(tmp_path, pywb_server.base, "btx", services)
    data = tmp_path / "data"
    result = run_cli(config, data, "backfill", "--strategy", "all", timeout=300)
    assert result.returncode == 0, result.stderr
    assert DIGEST_MISMATCH not in result.stderr
    assert (
        "sha/privacy-policy: capture 20250301000000 refused: digest-not-comparable: its listing gives the digest as"
        " blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262, and policy-archive does not"
        " compute blake3 digests: the bytes served cannot be checked (setting [wayback] check_digests)"
    ) in result.stderr

    log = json.loads(run_cli(config, data, "log", "sha/privacy-policy", "--json").stdout)
    dated = sorted(captures)[:3]
    assert sorted(version["date"] for version in log) == [iso_z(moment) for moment in dated], log
    trailers = git(data / "versions", "log", "--format=%(trailers:key=Payload-Sha1,valueonly)", "main").split()
    assert sorted(trailers) == sorted(payload_sha1(captures[moment]) for moment in dated), "base32 SHA-1s"

    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        digests = dict(catalog.execute("SELECT captured_at, digest FROM captures"))
    assert digests[iso_z(dated[0])] == f"sha256:{hashlib.sha256(captures[dated[0]]).hexdigest()}"
    assert digests["2024-03-01T00:00:00Z"] == hashlib.sha1(captures[sorted(captures)[3]]).hexdigest()
    verified = run_cli(config, data, "verify", timeout=300)
    assert verified.returncode == 0, verified.stderr
    assert "3/3 versions verified" in verified.stdout + verified.stderr

    lenient = tmp_path / "lenient"
    (lenient / "config").mkdir(parents=True)
    (lenient / "config" / "services").mkdir()
    settings = (config / "settings.toml").read_text() + "check_digests = false\n"
    (lenient / "config" / "settings.toml").write_text(settings)
    (lenient / "config" / "services" / "sha.toml").write_text(services["sha"])
    again = run_cli(lenient / "config", lenient / "data", "backfill", "--strategy", "all", timeout=300)
    assert again.returncode == 0, again.stderr
    log = json.loads(run_cli(lenient / "config", lenient / "data", "log", "sha/privacy-policy", "--json").stdout)
    assert len(log) == 4, "with check_digests = false the capture whose digest cannot be compared is taken"


@pytest.fixture
def heritrix_warc(tmp_path: Path) -> bytes:
    """A WARC as Heritrix writes one: a response, a revisit of it (``identical-payload-digest``), whose
    ``WARC-Payload-Digest`` is the original's payload's by definition, not its own (empty) payload's, and a later
    response."""
    body = page(V1, 1).encode("utf-8")
    digest = f"sha1:{payload_sha1(body)}"
    stream = BytesIO()
    writer = WARCWriter(stream, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    response = writer.create_warc_record(
        URL,
        "response",
        payload=BytesIO(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": "2019-03-01T00:00:00Z"},
    )
    writer.write_record(response)
    revisit = writer.create_revisit_record(
        URL,
        digest,
        URL,
        "2019-03-01T00:00:00Z",
        http_headers=http,
        warc_headers_dict={"WARC-Date": "2019-06-01T00:00:00Z"},
    )
    writer.write_record(revisit)
    later = writer.create_warc_record(
        URL,
        "response",
        payload=BytesIO(page(V2, 2).encode("utf-8")),
        http_headers=http,
        warc_headers_dict={"WARC-Date": "2020-03-01T00:00:00Z"},
    )
    writer.write_record(later)  # the revisit in the middle of the file, where damage would be named
    return stream.getvalue()


def test_a_foreign_warc_in_the_captures_is_left_out_in_words_never_damaged(
    tmp_path: Path, heritrix_warc: bytes
) -> None:
    """F12: another tool's WARC file copied into ``data/captures``, the catalog rebuilt by ``repair``."""
    config = tmp_path / "config"
    (config / "services").mkdir(parents=True)
    (config / "services" / "sha.toml").write_text(f'name = "Sha"\n[documents.privacy-policy]\nurl = "{URL}"\n')
    data = tmp_path / "data"
    (data / "captures").mkdir(parents=True)
    (data / "captures" / "captures-20200101T000000Z-1.warc.gz").write_bytes(heritrix_warc)
    result = run_cli(config, data, "repair")
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "3 records not written by policy-archive (2 response, 1 revisit) left out" in said, said
    assert "damaged" not in said and "backup" not in said and "WARC-Payload-Digest" not in said, said
    again = run_cli(config, data, "repair")  # the catalog kept: every WARC file read through for damage
    assert again.returncode == 0 and "FAILED" not in again.stderr and "damaged" not in again.stderr, again.stderr


# --- an archived 304 revisit is no evidence of the text (F7: decision 0015, amendment of 2026-11-28) -----------


def test_an_archived_304_revisit_is_refused_unfetched_and_moves_no_change_window(standin_archive, tmp_path):
    """Heritrix's ``server-not-modified`` revisit (CDX status 304) says the site answered a conditional request
    as unchanged, by validators from a fetch the listing does not name: not bytes. It is refused from its row,
    never fetched, and the next version's change window still starts at the last capture whose bytes showed the
    text before it."""
    moments = [START + timedelta(days=100 * n) for n in range(3)]
    standin_archive.add_capture(URL_304, ts(moments[0]), page(V1, "a"))
    standin_archive.add_capture(URL_304, ts(moments[1]), b"", status=304, mimetype="warc/revisit")
    standin_archive.add_capture(URL_304, ts(moments[2]), page(V2, "b"))
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC_304, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert not [request for request in standin_archive.requests if ts(moments[1]) in request.path], "never fetched"
    log = json.loads(run_cli(config, data, "log", DOC_304, "--json").stdout)
    assert [(version["date"], version["unchanged_since"]) for version in log] == [
        (iso_z(moments[0]), None),
        (iso_z(moments[2]), iso_z(moments[0])),
    ], log
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        (refused,) = catalog.execute("SELECT outcome, reason FROM captures WHERE status = 304").fetchall()
    assert refused == ("refused", "archived status 304")
