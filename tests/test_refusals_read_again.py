"""A capture refused for its text is read again, from its kept bytes, by the first backfill after the reading that
refused it changed (a rule edit, a new extractor revision).

A backfill read again a kept capture's *text* made with other rules or another extractor (``current_texts``), but
not a kept capture *refused* by extraction (``selector-matched-nothing``, ``not-a-legal-document``, a script shell):
its old reason stayed in the catalog, `status` and the run's `FAILED … all refused` line, and the plan took it as
showing nothing, so a version it now gives was missed until a `reextract` (2026-11-29). The catalog now names the
reading a text refusal was made with, as it names the reading of a text (docs/decisions/0015, amendment of
2026-11-29 (refusals)).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from standin.cli import run_cli
from test_twin_rules import versions_texts
from test_upgrade_superseded import PRIVACY, configured, monthly_history, ok

WRONG_SELECT = 'select = ["article.policy"]\n'  # the pages have no such element


def with_wrong_selector(config: Path) -> None:
    service = config / "services" / "example.toml"
    service.write_text(service.read_text().replace(f'url = "{PRIVACY}"\n', f'url = "{PRIVACY}"\n{WRONG_SELECT}'))


def fix_selector(config: Path) -> None:
    service = config / "services" / "example.toml"
    service.write_text(service.read_text().replace(WRONG_SELECT, ""))


def privacy_reasons(data: Path) -> list[str | None]:
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        rows = catalog.execute(
            "SELECT reason FROM captures WHERE document = 'example/privacy-policy' AND warc_file IS NOT NULL"
        ).fetchall()
    catalog.close()
    return [reason for (reason,) in rows]


def fetched_moments(data: Path) -> list[str]:
    """The Wayback timestamps of the privacy policy's captures whose bytes are kept."""
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        rows = catalog.execute(
            "SELECT captured_at FROM captures WHERE document = 'example/privacy-policy' AND warc_file IS NOT NULL"
        ).fetchall()
    catalog.close()
    return [at.replace("-", "").replace(":", "").replace("T", "").rstrip("Z") for (at,) in rows]


def test_captures_refused_with_other_rules_are_read_again_by_the_next_backfill(standin_archive, tmp_path):
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_wrong_selector(config)
    first = run_cli(config, data, "backfill")
    assert "example/privacy-policy: no version" in first.stdout + first.stderr, first.stdout + first.stderr
    assert privacy_reasons(data) and all("selector-matched-nothing" in (r or "") for r in privacy_reasons(data))
    fix_selector(config)
    kept = fetched_moments(data)
    assert kept and all(len(moment) == 14 and moment.isdigit() for moment in kept), kept
    standin_archive.settle()
    standin_archive.clear_log()

    out = ok(config, data, "backfill")

    standin_archive.settle()
    replayed = [request.path for request in standin_archive.requests if request.endpoint == "replay"]
    assert not [path for path in replayed for moment in kept if f"/{moment}id_/" in path]  # their kept bytes read

    # The versions a fresh data directory records with these rules (privacy: March 1, 2, 3, then 1 again).
    assert sorted(versions_texts(data)) == [
        "2018-01-01T00:00:00Z",
        "2018-03-01T00:00:00Z",
        "2018-06-01T00:00:00Z",
        "2018-08-01T00:00:00Z",
    ], out
    assert not any("selector-matched-nothing" in (reason or "") for reason in privacy_reasons(data))
    assert "selector-matched-nothing" not in ok(config, data, "status")
    assert run_cli(config, data, "verify").returncode == 0


def test_twins_refused_through_a_capture_read_again_take_its_new_reason(standin_archive, tmp_path):
    """Still refused with the rules of now, for another reason (``empty``: nothing left): the capture read again and
    the twins its refusal was passed on to (never fetched) say the new one, and `status` counts it."""
    monthly_history(standin_archive)
    config, data = configured(tmp_path, standin_archive)
    with_wrong_selector(config)
    run_cli(config, data, "backfill")
    service = config / "services" / "example.toml"
    service.write_text(service.read_text().replace(WRONG_SELECT, 'select = ["body"]\nremove = ["main", "nav"]\n'))

    result = run_cli(config, data, "backfill")

    with sqlite3.connect(data / "catalog.sqlite3") as catalog:
        reasons = catalog.execute(
            "SELECT reason, warc_file IS NOT NULL FROM captures WHERE document = 'example/privacy-policy'"
            " AND outcome = 'refused'"
        ).fetchall()
    catalog.close()
    assert reasons and not any("selector-matched-nothing" in reason for reason, _ in reasons), reasons
    assert any(not kept and reason.startswith("same bytes as the capture of") for reason, kept in reasons), reasons
    assert "selector-matched-nothing" not in result.stdout + result.stderr
    assert "selector-matched-nothing" not in run_cli(config, data, "status").stdout
