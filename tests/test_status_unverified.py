"""`status` says how many listed captures are not verified only when a backfill listed the document: a document
no backfill is recorded for is unknown (`null`, "no backfill recorded"), never 0, which reads as all verified."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.cli import run_cli

from policy_archive.archive.catalog import Catalog
from policy_archive.digests import PayloadDigest
from policy_archive.records import CaptureRef

AT = datetime(2026, 11, 1, tzinfo=UTC)
DOCUMENTS = {
    "acme/privacy-policy": "https://acme.example/privacy",  # backfilled, nothing left to verify
    "acme/terms-of-service": "https://acme.example/terms",  # tracked live only: never backfilled
    "acme/cookie-policy": "https://acme.example/cookies",  # its backfill was interrupted
    "acme/imprint": "https://acme.example/imprint",  # its backfill could not list it
}
NEVER = "not verified: unknown, no backfill recorded (run `policy-archive backfill`)"


def write_config(root: Path) -> Path:
    config = root / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text("")
    documents = "".join(f'[documents.{key.split("/")[1]}]\nurl = "{url}"\n' for key, url in DOCUMENTS.items())
    (config / "services" / "acme.toml").write_text(f'name = "ACME"\n{documents}')
    return config


def listed(url: str, count: int) -> list[CaptureRef]:
    return [
        CaptureRef(url, AT - timedelta(days=day), 200, "text/html", PayloadDigest.parse(f"DIGEST{day}"))
        for day in range(count)
    ]


def status_of(config: Path, data: Path) -> tuple[dict[str, dict[str, object]], list[str]]:
    as_json = run_cli(config, data, "status", "--json")
    text = run_cli(config, data, "status")
    assert as_json.returncode == text.returncode == 0, as_json.stderr + text.stderr
    return {entry["document"]: entry for entry in json.loads(as_json.stdout)}, text.stdout.splitlines()


def lines_under(text: list[str], document: str) -> list[str]:
    start = next(number for number, line in enumerate(text) if line.startswith(f"{document} "))
    following = text[start + 1 :]
    return following[: next((n for n, line in enumerate(following) if not line.startswith(" ")), len(following))]


def test_status_tells_never_backfilled_interrupted_and_unlisted_documents_from_all_verified(tmp_path):
    config, data = write_config(tmp_path), tmp_path / "data"
    catalog = Catalog(data / "catalog.sqlite3")
    catalog.add_listed("acme/privacy-policy", listed(DOCUMENTS["acme/privacy-policy"], 3))
    catalog.note_backfill("acme/privacy-policy", AT, None)
    catalog.note_success("acme/terms-of-service", AT, None, None)
    catalog.add_listed("acme/cookie-policy", listed(DOCUMENTS["acme/cookie-policy"], 6))
    catalog.note_backfill("acme/cookie-policy", AT, "interrupted", unexamined=4)
    catalog.note_backfill("acme/imprint", AT, "archive listing failed: 503", unlisted=True)
    catalog.close()
    status, text = status_of(config, data)
    unverified = {key: entry["unverified_captures"] for key, entry in status.items()}
    assert unverified == {
        "acme/privacy-policy": 0,
        "acme/terms-of-service": None,
        "acme/cookie-policy": 4,
        "acme/imprint": None,
    }
    assert not [line for line in lines_under(text, "acme/privacy-policy") if "not verified" in line]
    assert f"    {NEVER}" in lines_under(text, "acme/terms-of-service")
    assert "    not verified: 4 captures not examined (its last backfill was interrupted: run again)" in lines_under(
        text, "acme/cookie-policy"
    )
    assert "    not verified: unknown, its last backfill could not list it (run again)" in lines_under(
        text, "acme/imprint"
    )


def test_a_data_directory_without_data_reports_no_document_as_verified(tmp_path):
    config = write_config(tmp_path)
    status = json.loads(run_cli(config, tmp_path / "nothing", "status", "--json").stdout)
    assert [entry["unverified_captures"] for entry in status] == [None] * len(DOCUMENTS)


def older_catalog(path: Path) -> None:
    """A catalog as a release before backfill_at left it: the privacy policy backfilled (its captures listed),
    the terms only tracked."""
    catalog = Catalog(path)
    catalog.add_listed("acme/privacy-policy", listed(DOCUMENTS["acme/privacy-policy"], 2))
    catalog.note_success("acme/terms-of-service", AT, None, None)
    catalog.connection.execute("ALTER TABLE documents DROP COLUMN backfill_at")
    catalog.close()


def test_an_older_catalog_counts_a_document_with_archived_captures_as_backfilled(tmp_path):
    config, data = write_config(tmp_path), tmp_path / "data"
    older_catalog(data / "catalog.sqlite3")
    read_only = Catalog(data / "catalog.sqlite3", read_only=True)
    assert read_only.document_state("acme/privacy-policy").backfill_at is not None  # read as it will be filled in
    assert read_only.document_state("acme/terms-of-service").backfill_at is None
    read_only.close()
    status, _ = status_of(config, data)
    assert status["acme/privacy-policy"]["unverified_captures"] == 0
    assert status["acme/terms-of-service"]["unverified_captures"] is None
    updated = Catalog(data / "catalog.sqlite3")  # a writer adds the column and fills it in
    columns = {row[1] for row in updated.connection.execute("PRAGMA table_info(documents)")}
    assert "backfill_at" in columns
    assert updated.document_state("acme/privacy-policy").backfill_at is not None
    assert updated.document_state("acme/terms-of-service").backfill_at is None
    updated.close()
