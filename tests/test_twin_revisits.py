"""A version dated at a capture never fetched, known through its twin (same listed digest: docs/decisions/0015),
is rebuilt from the WARC files with the same date and commit id (an outside audit, 2026-11-28: after `repair`, or
the catalog and the versions lost, such versions moved to their fetched twin's later date and their commits
changed). Backfill keeps a ``revisit`` record (identical-payload-digest profile) for each such capture, referring
to the twin's response record; re-indexing lists it again from it (decision 0004, amendment of 2026-11-28)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta

from standin.cli import git, run_cli
from test_backfill_accounting import replays_of
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, configured, warc_records

from policy_archive.records import payload_sha1

REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def twin_history(archive) -> list[str]:
    """V1 twice (different bytes), then V2 twice with the same bytes: bisect fetches the last, and dates V2 at the
    third capture, never fetched."""
    moments = [ts(START + timedelta(days=10 * n)) for n in range(4)]
    for n, (moment, token) in enumerate(zip(moments, "abcc", strict=True)):
        archive.add_capture(URL, moment, page(V1 if n < 2 else V2, token))
    return moments


def history_of(data) -> str:
    return git(data / "versions", "log", "--format=%H %aI %(trailers:key=Snapshot-Url,valueonly)", "main")


def test_a_twin_dating_a_version_is_kept_as_a_revisit_record_once(standin_archive, tmp_path):
    moments = twin_history(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    assert run_cli(config, data, "backfill", DOC).returncode == 0
    assert replays_of(standin_archive, moments[2]) == 0, "the twin is not fetched"
    assert run_cli(config, data, "backfill", DOC).returncode == 0

    records = warc_records(data)
    revisits = [headers for _, kind, headers, _ in records if kind == "revisit"]
    assert len(revisits) == 1, "one record, however many runs"
    (revisit,) = revisits
    (fetched,) = [h for _, kind, h, _ in records if kind == "response" and h.get_header("WARC-Date") == iso(moments[3])]
    body = page(V2, "c").encode("utf-8")
    assert revisit.get_header("WARC-Target-URI") == URL
    assert revisit.get_header("WARC-Date") == iso(moments[2])
    assert revisit.get_header("WARC-Profile") == REVISIT_PROFILE
    assert revisit.get_header("WARC-Payload-Digest") == f"sha1:{payload_sha1(body)}"
    assert revisit.get_header("WARC-Refers-To-Target-URI") == URL
    assert revisit.get_header("WARC-Refers-To-Date") == iso(moments[3])
    assert revisit.get_header("WARC-Refers-To") == fetched.get_header("WARC-Record-ID")
    listed = json.loads(revisit.get_header("WARC-Policy-Archive-Listed"))
    assert (listed["url"], listed["timestamp"], listed["digest"]) == (URL, iso(moments[2]), payload_sha1(body))

    for path in sorted((data / "captures").glob("*.warc.gz")):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(path)], capture_output=True)
        assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", *map(str, sorted((data / "captures").glob("*.warc.gz")))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line.split(" ", 2)[2]) | {"at": line.split(" ")[1]} for line in index.splitlines()]
    twin_row = next(row for row in rows if row["at"] == moments[2])
    assert (twin_row["mime"], twin_row["status"], twin_row["digest"]) == (
        "warc/revisit",
        "200",
        f"sha1:{payload_sha1(body)}",
    )


def test_a_lost_catalog_is_rebuilt_with_the_versions_a_twin_dates(standin_archive, tmp_path):
    moments = twin_history(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    assert run_cli(config, data, "backfill", DOC).returncode == 0
    before = history_of(data)
    assert f"/{moments[2]}id_/" in before

    kept = tmp_path / "kept"
    shutil.copytree(data, kept)
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)
    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "1 capture never fetched listed again from its revisit records" in repaired.stdout + repaired.stderr
    rebuilt = run_cli(config, data, "reextract", "--rebuild", DOC)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert history_of(data) == before, "same dates, same commit ids"

    # The catalog and the versions lost: the history made again from the WARC files alone.
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (kept / name).unlink(missing_ok=True)
    shutil.rmtree(kept / "versions")
    assert run_cli(config, kept, "repair").returncode == 0
    assert history_of(kept) == before
    verified = run_cli(config, kept, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def iso(timestamp: str) -> str:
    return f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}T{timestamp[8:10]}:{timestamp[10:12]}:{timestamp[12:]}Z"
