"""No silent assumption (issue 16), end to end: what `backfill` did not fetch is recorded in the catalog, said on
its last line and by `status`, and `backfill --verify-spans` fetches it later without starting over."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import git, run_cli, write_archive_settings

URL = "https://www.example.com/privacy"
START = datetime(2019, 1, 7, 9, 30, tzinfo=UTC)
# A variant that changes a word for one of the same length: no CDX length can tell it from the text around it.
KEEP_A = "We keep your messages for thirty days after you delete them."
KEEP_B = "We keep your messages for ninety days after you delete them."
LONGER = KEEP_A + " Backups are kept for one more year and then destroyed."
PARAGRAPHS = [f"Paragraph {n} of the Example privacy policy explains how we handle personal data." for n in range(12)]


def page(keep: str, capture: int) -> str:
    body = "".join(f"<p>{text}</p>" for text in [*PARAGRAPHS[:6], keep, *PARAGRAPHS[6:]])
    # A token of fixed width makes every capture's bytes differ while the length follows the text exactly.
    return (
        f"<html><head><title>Privacy Policy</title><script>var token='{capture:06d}';</script></head>"
        f"<body><main><h1>Privacy Policy</h1>{body}</main></body></html>"
    )


def serve(archive: StandinArchive, texts: list[str]) -> list[str]:
    stamps = [f"{START + timedelta(days=7 * n):%Y%m%d%H%M%S}" for n in range(len(texts))]
    for n, (stamp, keep) in enumerate(zip(stamps, texts, strict=True)):
        archive.add_capture(URL, stamp, page(keep, n))
    return stamps


def write_config(directory: Path, archive: StandinArchive) -> Path:
    write_archive_settings(directory, archive.cdx_url, archive.replay_url)
    (directory / "services" / "example.toml").write_text(
        f'name = "Example"\n[documents.privacy-policy]\nurl = "{URL}"\nselect = ["main"]\n'
    )
    return directory


def commit_dates(data: Path) -> list[str]:
    log = git(data / "versions", "log", "--reverse", "--format=%aI", "main")
    return [datetime.fromisoformat(line).strftime("%Y%m%d%H%M%S") for line in log.split()]


def catalog_spans(data: Path) -> list[tuple]:
    with sqlite3.connect(data / "catalog.sqlite3") as connection:
        return connection.execute(
            "SELECT document, start_at, end_at, first_at, last_at, captures, days, ends_differ, strategy"
            " FROM unverified_spans"
        ).fetchall()


def test_a_same_size_flip_is_missed_said_and_found_by_verify_spans(standin_archive: StandinArchive, tmp_path: Path):
    texts = [KEEP_A] * 3 + [KEEP_B] * 2 + [KEEP_A] * 4  # 9 weekly captures, 7 of them between the two ends
    stamps = serve(standin_archive, texts)
    config, data = write_config(tmp_path / "config", standin_archive), tmp_path / "data"

    first = run_cli(config, data, "backfill")
    assert first.returncode == 0, first.stderr
    assert standin_archive.counts()["replay"] == 2  # both ends: their lengths, and all between, are equal
    assert commit_dates(data) == [stamps[0]]
    assert first.stderr.splitlines()[-1] == (
        "7 captures not verified (assumed unchanged in 1 span between fetched captures); longest: "
        "example/privacy-policy, 7 captures over 56 days (2019-01-07 to 2019-03-04); "
        "backfill --verify-spans fetches them"
    )
    assert catalog_spans(data) == [
        (
            "example/privacy-policy",
            "2019-01-07T09:30:00Z",
            "2019-03-04T09:30:00Z",
            "2019-01-14T09:30:00Z",
            "2019-02-25T09:30:00Z",
            7,
            56.0,
            0,
            "bisect",
        )
    ]
    status = run_cli(config, data, "status")
    assert (
        "    not verified: 7 captures in 1 span; longest: 7 captures over 56 days (2019-01-07 to 2019-03-04)"
        in status.stdout.splitlines()
    )
    (document,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert (document["unverified_captures"], document["unverified_spans"]) == (7, 1)
    assert document["longest_unverified"] == {
        "captures": 7, "days": 56.0, "after": "2019-01-07T09:30:00Z", "before": "2019-03-04T09:30:00Z",
    }  # fmt: skip
    (version,) = json.loads(run_cli(config, data, "log", "example/privacy-policy", "--json").stdout)
    assert version["unverified_captures"] == 7

    standin_archive.clear_log()
    verified = run_cli(config, data, "backfill", "--verify-spans")
    assert verified.returncode == 0, verified.stderr
    assert standin_archive.counts()["replay"] == 7  # only the unfetched ones: nothing fetched twice
    assert commit_dates(data) == [stamps[0], stamps[3], stamps[5]]  # the flip and the change back, each dated
    assert verified.stderr.splitlines()[-1].startswith("0 captures not verified")
    assert catalog_spans(data) == []
    status = run_cli(config, data, "status")
    assert "not verified" not in status.stdout
    versions = json.loads(run_cli(config, data, "log", "example/privacy-policy", "--json").stdout)
    assert [version["unverified_captures"] for version in versions] == [0, 0, 0]
    assert json.loads(run_cli(config, data, "status", "--json").stdout)[0]["longest_unverified"] is None


def test_a_flip_that_changes_the_length_is_found_by_the_default(standin_archive: StandinArchive, tmp_path: Path):
    texts = [KEEP_A] * 20 + [LONGER] * 2 + [KEEP_A] * 18
    stamps = serve(standin_archive, texts)
    config, data = write_config(tmp_path / "config", standin_archive), tmp_path / "data"

    result = run_cli(config, data, "backfill")
    assert result.returncode == 0, result.stderr
    assert commit_dates(data) == [stamps[0], stamps[20], stamps[22]]
    assert standin_archive.counts()["replay"] <= 12  # of 40 captures
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"{40 - standin_archive.counts()['replay']} captures not verified"), last


def test_a_catalog_from_before_the_spans_table_gains_it(tmp_path: Path):
    from policy_archive.archive.catalog import Catalog
    from policy_archive.archive.catalog.rows import UnverifiedSpan

    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    with sqlite3.connect(path) as connection:  # a catalog written before the table existed
        connection.execute("DROP TABLE unverified_spans")
    catalog = Catalog(path)
    try:
        span = UnverifiedSpan(
            "example/privacy-policy", START, START + timedelta(days=70), START + timedelta(days=7),
            START + timedelta(days=63), 9, False, "bisect",
        )  # fmt: skip
        catalog.replace_unverified(span.document, START, START + timedelta(days=70), [span])
        assert catalog.unverified_spans() == [span]
        assert span.days == 70
        catalog.replace_unverified(span.document, START, START + timedelta(days=70), [])
        assert catalog.unverified_spans(span.document) == []
    finally:
        catalog.close()
