"""Fidelity: every version dated by the bytes it came from, every capture kept replayable, every refusal said.

The real CLI runs against the stand-in archive (tests/standin/archive.py); WARC files are read back with warcio
and indexed with cdxj-indexer (the indexer pywb uses), as a replay tool would.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import tracemalloc
import zlib
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import brotli
import pytest
from standin.archive import StandinArchive
from standin.cli import cli_environment, git, progress_counts, run_cli
from test_backfill_resilience import START, V1, V2, V3, declaration, page, ts, write_config
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.archive.captures import CaptureStore, StoredCapture
from policy_archive.archive.catalog import Catalog
from policy_archive.config.settings import CrawlSettings
from policy_archive.pipeline.extraction.decode import MAX_DECODED_BYTES, ContentEncodingError, undo_content_encoding

URL = "https://www.example.com/privacy"
TARGET = "https://www.example.com/legal/privacy"
DOC = "example/privacy-policy"


def configured(archive: StandinArchive, tmp_path: Path, **crawl: object) -> tuple[Path, Path]:
    config = write_config(tmp_path / "config", archive, {"example": declaration(URL)})
    settings = config / "settings.toml"
    wayback = {key: value for key, value in crawl.items() if key == "check_digests"}
    crawl_only = {key: value for key, value in crawl.items() if key != "check_digests"}
    text = settings.read_text() + "".join(f"{key} = {str(value).lower()}\n" for key, value in wayback.items())
    if crawl_only:
        text += "[crawl]\n" + "".join(f"{key} = {value}\n" for key, value in crawl_only.items())
    settings.write_text(text)
    return config, tmp_path / "data"


def catalog_rows(data: Path) -> list[sqlite3.Row]:
    connection = sqlite3.connect(data / "catalog.sqlite3")
    connection.row_factory = sqlite3.Row
    try:
        return list(connection.execute("SELECT * FROM captures ORDER BY captured_at"))
    finally:
        connection.close()


def warc_records(data: Path) -> list:
    records = []
    for path in sorted((data / "captures").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                records.append((path.name, record.rec_type, record.rec_headers, record.http_headers))
    return records


def redirected_history(archive: StandinArchive) -> tuple[str, str, str]:
    """V1 at the policy URL; then the site moved it: an archived 301 at T1 whose target was captured 40 minutes
    later (T2), with V2; a later revisit of the target. Returns (T1, T2, first)."""
    first = ts(START)
    archive.add_capture(URL, first, page(V1, "a"))
    t1 = START + timedelta(days=30)
    t2 = t1 + timedelta(minutes=40)
    archive.add_capture(URL, ts(t1), b"", status=301, location="/legal/privacy", redirect_form="path")
    archive.add_capture(TARGET, ts(t2), page(V2, "b"))
    return ts(t1), ts(t2), first


def test_a_redirected_capture_is_dated_by_the_memento_of_its_target(standin_archive, tmp_path):
    t1, t2, first = redirected_history(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr

    repo = data / "versions"
    dates = git(repo, "log", "--reverse", "--format=%aI %cI", "main").splitlines()
    assert dates == [
        "2014-02-03T04:05:06+00:00 2014-02-03T04:05:06+00:00",
        "2014-03-05T04:45:06+00:00 2014-03-05T04:45:06+00:00",
    ]
    message = git(repo, "log", "-1", "--format=%B", "main")
    snapshot = f"{standin_archive.replay_url}/{t2}id_/{TARGET}"
    assert "Captured-At: 2014-03-05T04:45:06Z" in message
    assert f"Snapshot-Url: {snapshot}" in message
    header = git(repo, "show", "main:e/example/privacy-policy.md").splitlines()[0]
    assert "archived on 2014-03-05" in header
    assert f"{standin_archive.replay_url}/{t2}id_/https%3A//www.example.com/legal/privacy)" in header

    row = next(r for r in catalog_rows(data) if r["captured_at"] == "2014-03-05T04:05:06Z")
    assert (row["status"], row["mimetype"]) == (301, "text/html"), "the CDX row's word is kept"
    assert (row["fetched_status"], row["memento_at"], row["memento_url"]) == (200, "2014-03-05T04:45:06Z", TARGET)
    assert row["snapshot_url"] == snapshot

    log = run_cli(config, data, "log", DOC)
    assert log.returncode == 0 and snapshot in log.stdout and "2014-03-05T04:45:06Z" in log.stdout


def test_captures_are_kept_in_standard_warcs_under_the_site_url(standin_archive, tmp_path):
    t1, t2, first = redirected_history(standin_archive)
    revisit = ts(START + timedelta(days=60))
    standin_archive.add_capture(URL, revisit, page(V2, "b"), status=None, mimetype="warc/revisit")
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr

    records = warc_records(data)
    files = {name for name, *_ in records}
    for name in files:
        kinds = [kind for record_file, kind, *_ in records if record_file == name]
        assert kinds[0] == "warcinfo" and kinds.count("warcinfo") == 1
    info = next(headers for _, kind, headers, _ in records if kind == "warcinfo")
    assert info.get_header("WARC-Filename") in files
    responses = [(headers, http) for _, kind, headers, http in records if kind == "response"]
    seen = {
        (h.get_header("WARC-Target-URI"), h.get_header("WARC-Date"), http.get_statuscode()) for h, http in responses
    }
    assert (URL, "2014-03-05T04:05:06Z", "301") in seen, "the archived redirect hop is a record of its own"
    assert (TARGET, "2014-03-05T04:45:06Z", "200") in seen
    assert (URL, "2014-02-03T04:05:06Z", "200") in seen
    hop = next(http for headers, http in responses if http.get_statuscode() == "301")
    # The archive wrote its capture URL (``/web/…id_/…``, site-relative) into the Location; the record holds the
    # site's, so the hop replays inside any collection of these WARCs (its archive URL is the WARC-Source-URI).
    assert hop.get_header("Location") == TARGET
    for headers, http in responses:
        assert "/web/" not in headers.get_header("WARC-Target-URI")
        archive_own = [name for name, _ in http.headers if name.lower() in ("memento-datetime", "link")]
        assert not archive_own, "the archive's own headers are left out, as pywb's recorder does"
        source = headers.get_header("WARC-Source-URI")
        assert source.startswith(standin_archive.replay_url) and "id_/" in source
        assert headers.get_header("WARC-Creation-Date")

    for name in files:
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", "-v", str(data / "captures" / name)],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        fields = "warc-type,warc-target-uri"
        listed = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "index", "-f", fields, str(data / "captures" / name)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert '"warc-type": "warcinfo"' in listed and '"warc-type": "response"' in listed
        assert "/web/" not in listed, "warcio indexes every record under the site's URL"
    index = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", *(str(data / "captures" / name) for name in sorted(files))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    keys = {tuple(line.split(" ", 2)[:2]) for line in index.splitlines() if line.strip()}
    assert ("com,example)/privacy", "20140203040506") in keys
    assert ("com,example)/privacy", t1) in keys
    assert ("com,example)/legal/privacy", t2) in keys

    row = next(r for r in catalog_rows(data) if r["captured_at"] == "2014-04-04T04:05:06Z")
    assert (row["status"], row["mimetype"]) == (None, "warc/revisit")
    assert (row["fetched_status"], row["fetched_mimetype"]) == (200, "text/html")


def test_a_gzip_served_capture_matches_its_digest_and_is_extracted(standin_archive, tmp_path):
    encoded = gzip.compress(page(V1, "z").encode("utf-8"), mtime=0)
    standin_archive.add_capture(URL, ts(START), encoded, content_encoding="gzip")
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC)
    assert result.returncode == 0, result.stderr
    (row,) = catalog_rows(data)
    assert row["outcome"] == "extracted" and row["payload_sha1"] == row["digest"]
    assert V1[0] in git(data / "versions", "show", "main:e/example/privacy-policy.md")
    verified = run_cli(config, data, "verify")
    assert verified.returncode == 0, verified.stderr
    assert "1/1 versions verified" in verified.stdout + verified.stderr, "the kept payload is the encoded one"


def test_a_replay_answer_without_memento_datetime_is_not_a_capture(standin_archive, tmp_path):
    standin_archive.add_capture(URL, ts(START), page(V1, "a"))
    standin_archive.exclude_from_replay(URL)
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC)
    assert result.returncode == 1
    assert f"FAILED {DOC}: no version: 1 captures listed, all refused (1 not-archived)" in result.stderr
    # Counted and named as a digest mismatch is: the archive answered something other than the capture listed.
    assert f"{DOC}: capture {ts(START)} refused: not-archived: the archive answered 200" in result.stderr
    counts = progress_counts(result.stderr)
    assert (counts["capture examined"], counts["capture listed"], counts["fetched"], counts["refused"]) == (1, 1, 1, 1)
    (row,) = catalog_rows(data)
    assert row["outcome"] == "refused" and row["reason"].startswith("not-archived")
    assert row["warc_file"] is None
    assert not (data / "versions" / "e").exists()


def test_bytes_other_than_the_listed_digest_are_refused(standin_archive, tmp_path):
    for n, text in enumerate((V1, V1, V2)):
        standin_archive.add_capture(URL, ts(START + timedelta(days=10 * n)), page(text, str(n)))
    forged = ts(START + timedelta(days=20))
    standin_archive.serve_other_bytes(URL, forged, page(V3, "another site's policy"))
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert f"capture {forged} refused: digest-mismatch" in result.stderr
    assert len(git(data / "versions", "log", "--format=%H", "main").splitlines()) == 1
    refused = next(r for r in catalog_rows(data) if r["captured_at"] == "2014-02-23T04:05:06Z")
    assert refused["outcome"] == "refused" and refused["reason"].startswith("digest-mismatch")

    lenient, lenient_data = configured(standin_archive, tmp_path / "lenient", check_digests=False)
    again = run_cli(lenient, lenient_data, "backfill", DOC, "--strategy", "all")
    assert again.returncode == 0, again.stderr
    assert len(git(lenient_data / "versions", "log", "--format=%H", "main").splitlines()) == 2


@pytest.mark.parametrize("fault", ["oversized", "reset"])
def test_an_unfetchable_capture_is_skipped_named_and_retried(standin_archive, tmp_path, fault):
    moments = [START + timedelta(days=9 * n) for n in range(6)]
    texts = [V1, V1, V1, V2, V2, V2]
    for n, (moment, text) in enumerate(zip(moments, texts, strict=True)):
        body = page(text, str(n))
        if fault == "oversized" and n == 3:
            body = body.replace("</main>", "<!--" + "x" * 300_000 + "--></main>")
        standin_archive.add_capture(URL, ts(moment), body)
    bad = ts(moments[3])
    if fault == "reset":
        standin_archive.reset_capture(URL, bad)
    config, data = configured(standin_archive, tmp_path, max_page_bytes=200_000)
    result = run_cli(config, data, "backfill", DOC)
    assert result.returncode == 1
    said = {
        "reset": "could not be fetched for now (run again to retry)",
        "oversized": "cannot be fetched as the archive serves it (running again alone will not help)",
    }[fault]
    assert f"FAILED {DOC}: 1 capture {said}: {bad} (" in result.stderr
    if fault == "oversized":
        assert "max_page_bytes" in result.stderr
    dates = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert dates == ["2014-02-03T04:05:06+00:00", "2014-03-11T04:05:06+00:00"], "V2 found around the gap"
    assert next(r for r in catalog_rows(data) if r["captured_at"].startswith("2014-03-02"))["outcome"] == "failed"

    if fault == "reset":
        standin_archive.reset_capture(URL, bad, enabled=False)
    else:
        settings = config / "settings.toml"
        settings.write_text(settings.read_text().replace("max_page_bytes = 200000", "max_page_bytes = 2000000"))
    rerun = run_cli(config, data, "backfill", DOC)
    assert rerun.returncode == 0, rerun.stderr
    dates = git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()
    assert dates == ["2014-02-03T04:05:06+00:00", "2014-03-02T04:05:06+00:00"], "the retried capture dates V2"


def test_a_text_seen_on_two_days_after_a_length_drop_is_recorded_with_a_note(standin_archive, tmp_path):
    bloated = V2 + [f"Appendix line {n}: " + "lorem ipsum dolor sit amet " * 20 for n in range(200)]
    history = [V1, bloated, V3, V3]
    for n, text in enumerate(history):
        standin_archive.add_capture(URL, ts(START + timedelta(days=10 * n)), page(text, str(n)))
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert len(git(data / "versions", "log", "--format=%H", "main").splitlines()) == 3
    assert "recorded although far shorter than the previous version" in result.stderr
    log = run_cli(config, data, "log", DOC)
    assert "captured on 2 different days" in log.stdout

    # The same archive, but only the first capture of V3 inside the period: seen once, it stays refused.
    single, single_data = configured(standin_archive, tmp_path / "once")
    once = run_cli(single, single_data, "backfill", DOC, "--strategy", "all", "--until", "2014-03-04")
    assert once.returncode == 0, once.stderr
    assert len(git(single_data / "versions", "log", "--format=%H", "main").splitlines()) == 2
    refused = [r for r in catalog_rows(single_data) if r["outcome"] == "refused"]
    assert refused and "recorded once captured on 2 different days" in refused[0]["reason"]


def test_a_200_row_served_as_an_archived_429_is_refused_for_its_status(standin_archive, tmp_path):
    """An index listing a 200 for a record the archive serves as its stored 429 (with Memento-Datetime): the
    status served is the telling reason, not the digest its error page cannot match (decision 0004)."""
    standin_archive.add_capture(URL, ts(START), page(V1, "a"))
    limited = ts(START + timedelta(days=10))
    standin_archive.add_capture(URL, limited, "<html>Too Many Requests</html>", status=429)
    standin_archive.list_status(URL, limited, 200)
    standin_archive.add_capture(URL, ts(START + timedelta(days=20)), page(V1, "b"))
    config, data = configured(standin_archive, tmp_path)
    result = run_cli(config, data, "backfill", DOC, "--strategy", "all")
    assert result.returncode == 0, result.stderr
    assert f"{DOC}: capture {limited} refused: archived status 429 (listed as 200)" in result.stderr
    assert "digest-mismatch" not in result.stderr
    refused = next(r for r in catalog_rows(data) if r["captured_at"] == "2014-02-13T04:05:06Z")
    assert (refused["outcome"], refused["reason"], refused["status"]) == ("refused", "archived status 429", 200)


def test_a_document_with_only_refused_captures_says_why(standin_archive, tmp_path):
    standin_archive.add_capture(URL, ts(START), "<html><body></body></html>")
    shell = (
        "<html><head><title>App</title><script src='app.js'></script></head><body><div id='root'></div></body></html>"
    )
    standin_archive.add_capture(URL, ts(START + timedelta(days=1)), shell)
    standin_archive.add_capture(URL, ts(START + timedelta(days=2)), "<html>Too Many Requests</html>", status=429)
    config, data = configured(standin_archive, tmp_path)
    # render = "never": the shell is refused whether or not this venv has the browser extra (with `auto` and no
    # browser it would be a capture to retry once one is installed, not a refusal).
    (config / "services" / "example.toml").write_text(declaration(URL, 'render = "never"\n'))
    result = run_cli(config, data, "backfill", DOC)
    assert result.returncode == 1
    line = next(line for line in result.stderr.splitlines() if line.startswith(f"FAILED {DOC}"))
    assert line.startswith(f"FAILED {DOC}: no version: 3 captures listed, all refused (")
    assert "1 javascript-shell" in line
    assert "1 archived status 429" in line and "lists no capture" not in result.stderr
    # A refused capture is one capture examined (it was counted twice, as fetched and as refused); the archived 429
    # is refused from its listed status, never fetched.
    counts = progress_counts(result.stderr)
    examined = (counts["captures examined"], counts["captures listed"], counts["fetched"], counts["refused"])
    assert examined == (2, 3, 2, 2)
    status = run_cli(config, data, "status")
    assert "archived status 429" in status.stdout


def test_review_diff_is_a_valid_patch_and_log_takes_a_service(standin_archive, tmp_path):
    redirected_history(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    (config / "services" / "example.toml").write_text(
        declaration(URL) + '[documents.terms-of-service]\nurl = "https://www.example.com/terms"\n'
    )
    assert run_cli(config, data, "backfill", DOC).returncode == 0

    patch = run_cli(config, data, "diff", DOC)
    assert patch.returncode == 0 and patch.stdout.endswith("\n") and patch.stdout.startswith("diff --git")
    first = git(data / "versions", "log", "--reverse", "--format=%H", "main").splitlines()[0]
    tree = tmp_path / "tree"
    (tree / "e" / "example").mkdir(parents=True)
    (tree / "e" / "example" / "privacy-policy.md").write_text(
        git(data / "versions", "show", f"{first}:e/example/privacy-policy.md")
    )
    (tree / "change.patch").write_text(patch.stdout)
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    applied = subprocess.run(
        ["git", "-C", str(tree), "apply", "--check", "change.patch"], capture_output=True, text=True
    )
    assert applied.returncode == 0, applied.stderr

    same = run_cli(config, data, "diff", DOC, "--from", "2014-03-06", "--to", "2014-03-07")
    assert same.returncode == 0
    assert same.stdout == "no change between 2014-03-06 and 2014-03-07: both show the version of 2014-03-05T04:45:06Z\n"

    service_log = run_cli(config, data, "log", "example")
    assert service_log.returncode == 0, service_log.stderr
    assert DOC in service_log.stdout and "example/terms-of-service" in service_log.stdout
    assert "no recorded version yet" in service_log.stdout


HOSTILE_GITCONFIG = """[diff]
	noprefix = true
	mnemonicPrefix = true
	context = 0
	interHunkContext = 9
	external = {external}
	algorithm = histogram
	indentHeuristic = false
	suppressBlankEmpty = true
	renames = copies
	relative = true
[color]
	ui = always
[core]
	attributesFile = {attributes}
[diff "upper"]
	textconv = tr a-z A-Z
"""


def test_diff_is_the_same_patch_whatever_the_users_git_configuration(standin_archive, tmp_path):
    """Outside audit 9: ``diff`` ran porcelain ``git diff``, which reads ~/.gitconfig: ``diff.noprefix`` gave a
    patch ``git apply`` refuses, ``diff.external`` (difftastic, delta) printed the tool's output instead, a
    textconv driver printed converted text. The patch is now the same under any configuration."""
    redirected_history(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    assert run_cli(config, data, "backfill", DOC).returncode == 0
    plain = run_cli(config, data, "diff", DOC, env=cli_environment(GIT_CONFIG_GLOBAL=os.devnull))
    assert plain.returncode == 0 and plain.stdout.startswith("diff --git a/e/example/privacy-policy.md b/")

    external = tmp_path / "external-diff"
    external.write_text("#!/bin/sh\necho output of an external tool\n")
    external.chmod(0o755)
    attributes = tmp_path / "attributes"
    attributes.write_text("*.md diff=upper\n")
    hostile = tmp_path / "hostile.gitconfig"
    hostile.write_text(HOSTILE_GITCONFIG.format(external=external, attributes=attributes))
    configured_diff = run_cli(config, data, "diff", DOC, env=cli_environment(GIT_CONFIG_GLOBAL=str(hostile)))
    assert configured_diff.returncode == 0, configured_diff.stderr
    assert configured_diff.stdout == plain.stdout


# The captures table as released before 2026-11-27 (the CDX status overwritten by the served one).
OLD_CAPTURES_TABLE = """
CREATE TABLE captures (
    id INTEGER PRIMARY KEY, document TEXT NOT NULL, source TEXT NOT NULL, url TEXT NOT NULL,
    captured_at TEXT NOT NULL, status INTEGER, mimetype TEXT, digest TEXT, length INTEGER, fetched_url TEXT,
    payload_sha1 TEXT, warc_file TEXT, warc_offset INTEGER, outcome TEXT NOT NULL, reason TEXT, title TEXT,
    body TEXT, body_sha1 TEXT, window_start TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (document, source, url, captured_at)
)
"""


def test_old_catalogs_and_old_warc_records_stay_readable(tmp_path):
    captures = tmp_path / "captures"
    captures.mkdir()
    replay = f"https://web.archive.org/web/20180629162426id_/{URL}"
    with (captures / "captures-old.warc.gz").open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        http = StatusAndHeaders("200 -", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(replay, "response", payload=BytesIO(b"<p>old</p>"), http_headers=http)
        )
    path = tmp_path / "catalog.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(OLD_CAPTURES_TABLE)
    connection.execute(
        "INSERT INTO captures (document, source, url, captured_at, status, mimetype, digest, fetched_url,"
        " warc_file, warc_offset, outcome) VALUES (?, 'wayback', ?, '2018-06-29T16:24:26Z', 200, 'text/html',"
        " 'X', ?, 'captures-old.warc.gz', 0, 'extracted')",
        (DOC, URL, replay),
    )
    connection.commit()
    connection.close()

    catalog = Catalog(path)
    (row,) = catalog.captures(DOC)
    assert (row.memento_at, row.fetched_status, row.note) == (None, None, None)
    assert row.bytes_at == row.captured_at and row.bytes_url == URL and row.served_status == 200
    catalog.close()
    Catalog(path).close()  # opening a migrated catalog again changes nothing
    kept = CaptureStore(captures, max_page_bytes=CrawlSettings.max_page_bytes).read(
        StoredCapture("captures-old.warc.gz", 0)
    )
    assert (kept.status, kept.body) == (200, b"<p>old</p>")


def test_content_encodings_are_undone_for_extraction_and_bombs_refused():
    text = b"<p>privacy</p>" * 100
    assert undo_content_encoding(gzip.compress(text), "gzip") == text
    assert undo_content_encoding(zlib.compress(text), "deflate") == text
    assert undo_content_encoding(brotli.compress(text), "br") == text
    assert undo_content_encoding(gzip.compress(brotli.compress(text)), "br, gzip") == text
    assert undo_content_encoding(text, "gzip") == text, "already decoded by the archive: taken as it is"
    assert undo_content_encoding(text, "") == text
    with pytest.raises(ContentEncodingError):
        undo_content_encoding(gzip.compress(b"\0" * (MAX_DECODED_BYTES + 1)), "gzip")
    with pytest.raises(ContentEncodingError):
        undo_content_encoding(text, "compress")


def test_a_brotli_bomb_is_refused_before_it_is_decoded_whole():
    """brotli.decompress decoded a whole bomb before the bound was checked (audit 2026-11-28: 386 KB decoding to
    2 GiB made backfill peak at 4.3 GB): decoding stops once the output passes the bound."""
    compressor = brotli.Compressor(quality=5)
    megabyte = bytes(2**20)
    bomb = b"".join(compressor.process(megabyte) for _ in range(256)) + compressor.finish()  # ~300 B -> 256 MiB
    tracemalloc.start()
    try:
        with pytest.raises(ContentEncodingError, match="decoded payload over"):
            undo_content_encoding(bomb, "br")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_DECODED_BYTES * 3 // 2, f"{peak} bytes held while decoding"
    # Decoded in several steps, a payload at the bound is whole; one cut short is refused.
    text = bytes(range(256)) * (MAX_DECODED_BYTES // 256)
    encoded = brotli.compress(text, quality=1)
    assert undo_content_encoding(encoded, "br") == text
    with pytest.raises(ContentEncodingError, match="corrupt brotli"):
        undo_content_encoding(encoded[: len(encoded) // 2], "br")
