"""`log --json` and `status --json`: machine-readable review, same facts as the text output."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from review_data import handmade_history
from standin.cli import git, run_cli

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.commands.common import report
from policy_archive.pipeline.commands.review import log_json
from policy_archive.pipeline.jobs.report import RunReport, refusal_kind
from policy_archive.records import DocumentDeclaration, iso_z, parse_iso_z

KEYS = [
    "date",
    "commit",
    "source",
    "subject",
    "snapshot_url",
    "stated_date",
    "unchanged_since",
    "document",
    "note",
    "unverified_captures",
    "hard",
]


def test_log_json_has_one_object_per_version(recorded):
    config, data = recorded
    result = run_cli(config, data, "log", "acrcloud/privacy-policy", "--json")
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout)
    assert list(first) == KEYS
    assert (first["date"], second["date"]) == ("2017-01-03T10:20:30Z", "2018-05-28T08:00:07Z")
    assert second["commit"] == git(data / "versions", "rev-parse", "main").strip()
    assert (second["source"], second["subject"]) == ("wayback", "Record new changes of ACRCloud Privacy Policy")
    assert second["snapshot_url"].endswith("/20180528080007id_/https://www.acrcloud.com/privacy")
    assert first["unchanged_since"] is None and second["unchanged_since"] < second["date"]
    assert second["document"] == "acrcloud/privacy-policy"
    text = run_cli(config, data, "log", "acrcloud/privacy-policy").stdout.splitlines()
    assert [line.split()[1] for line in text if not line.startswith(" ")] == [
        first["commit"][:10],
        second["commit"][:10],
    ]
    assert json.loads(run_cli(config, data, "log", "acrcloud", "--json").stdout) == [first, second]


def test_log_json_reads_the_stated_date_trailer(tmp_path):
    repo = tmp_path / "versions"
    handmade_history(repo)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    commits = git(repo, "log", "--reverse", "--format=%H %(trailers:key=Captured-At,valueonly)", "main").split("\n\n")
    pairs = [line.split() for line in commits if line.strip()]
    catalog.add_versions({("example/privacy-policy", parse_iso_z(at)): commit for commit, at in pairs}, pairs[-1][0])
    declaration = DocumentDeclaration("example", "Example", "privacy-policy", "https://example.org/privacy")
    first, second = json.loads(log_json(catalog, VersionStore(repo, read_only=True), [declaration]))
    assert (first["stated_date"], second["stated_date"]) == (None, "2018-05-25")
    assert second["source"] == "wayback"  # from the trailer: this catalog knows no capture


def test_status_json_has_one_object_per_document(recorded, tmp_path):
    config, data = recorded
    result = run_cli(config, data, "status", "--json")
    assert result.returncode == 0, result.stderr
    (status,) = json.loads(result.stdout)
    assert status["document"] == "acrcloud/privacy-policy"
    assert (status["versions"], status["last_change"]) == (2, "2018-05-28T08:00:07Z")
    assert status["last_capture"] >= status["last_change"]
    assert status["consecutive_failures"] == 0 and status["last_failure"] is None
    assert status["refused_captures"], "the stand-in history has a 404, a soft-404 and a home-page redirect"
    empty = run_cli(config, tmp_path / "nothing", "status", "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)[0]["versions"] == 0


def test_status_json_gives_each_captures_note_and_each_refusal(history):
    """The notes the catalog keeps per capture (a digest not checkable, a guard's note) and every refusal's reason,
    which the text output gives only as counts (or, for a version's capture, in `log`): each an object, oldest
    first; the refusal's kind is the key it is counted under in ``refused_captures``."""
    config, data = history
    (before,) = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert before["capture_notes"] == []
    catalog = Catalog(data / "catalog.sqlite3")
    rows = catalog.captures("acrcloud/privacy-policy", texts=False)
    extracted = next(row for row in rows if row.outcome is Outcome.EXTRACTED)
    catalog.set_note("acrcloud/privacy-policy", extracted.source, extracted.captured_at, "a guard's note\nsecond")
    catalog.close()
    result = run_cli(config, data, "status", "--json")
    assert result.returncode == 0, result.stderr
    (status,) = json.loads(result.stdout)
    assert status["capture_notes"] == [
        {
            "captured_at": iso_z(extracted.captured_at),
            "source": "wayback",
            "outcome": "extracted",
            "note": "a guard's note\nsecond",  # as kept: JSON quotes it
        }
    ]
    refused = [row for row in rows if row.outcome is Outcome.REFUSED]
    assert status["refusals"] == [
        {"captured_at": iso_z(r.captured_at), "source": "wayback", "kind": refusal_kind(r.reason), "reason": r.reason}
        for r in refused
    ]
    assert Counter(refusal["kind"] for refusal in status["refusals"]) == status["refused_captures"]
    assert [refusal["captured_at"] for refusal in status["refusals"]] == sorted(
        refusal["captured_at"] for refusal in status["refusals"]
    )


def test_status_prints_a_stored_failure_reason_as_one_line(history):
    # A failure's reason may quote what a site answered; `status` must not let it start a line of its own.
    config, data = history
    catalog = Catalog(data / "catalog.sqlite3")
    catalog.note_failure("acrcloud/privacy-policy", datetime.now(UTC), "HTTP 503\nFAILED other/doc: forged\x1b[2J")
    catalog.close()
    result = run_cli(config, data, "status")
    assert result.returncode == 0, result.stderr
    assert "HTTP 503\\nFAILED other/doc: forged\\x1b[2J" in result.stdout
    assert not any(line.startswith("FAILED") for line in result.stdout.splitlines())
    assert json.loads(run_cli(config, data, "status", "--json").stdout)[0]["last_failure"].startswith("HTTP 503\n")


def test_run_notes_and_last_line_are_one_printable_line_each(capsys):
    report(RunReport([], [], notes=["a\nFAILED x/y: forged"], last_line="unverified\x1b[2J\u202e"))
    assert capsys.readouterr().err.splitlines() == ["a\\nFAILED x/y: forged", "unverified\\x1b[2J\\u202e"]
