"""A technical upgrade's capture is found by the time of its bytes, not by its date: the catalog's ``versions`` keeps
that time (``bytes_at``, since 2026-11-29), so that after an upgrade `reextract` upgrades the document again on the
next rule change and `track` judges the next page against the upgraded text (the shrink guard). Before, the
upgrade was mirrored at its commit date alone, when no capture was made, and every lookup found nothing. A catalog
from before the column is read as it was and brought up to date from Git by the next writing command."""

from __future__ import annotations

import io
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.cli import run_cli
from test_backfill_e2e import URL, write_config

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.archive.catalog.schema import VERSIONS_UNFILLED
from policy_archive.config.settings import Config, load_config
from policy_archive.pipeline.jobs.examine import examine, make_version
from policy_archive.pipeline.jobs.future_dates import CLOCK_SKEW
from policy_archive.pipeline.jobs.guards import LENGTH_DROP
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.reextract import reextract, upgrade_time
from policy_archive.pipeline.jobs.track import TrackPlan
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import Capture, CaptureRef, RecordedVersion, Source, payload_sha1

DOC = "acrcloud/privacy-policy"
SECOND = datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)  # when the `reextract` runs given a clock begin (a past second)
SENTENCE = "Clause {}: we keep the data you give us while your account is open and delete it within {} days after."
KEPT = " ".join(SENTENCE.format(n, 10 + n) for n in range(12))  # the text every rule keeps
# Removed by the second rule change: three times as long as KEPT, so that a text without it is far shorter than one
# with it (the shrink guard: under half of the previous version).
RETENTION = " ".join(f"Retention rule {n}: backups are erased within {n + 30} days of the request." for n in range(60))
CONTACT = "Write to our privacy officer at privacy@acrcloud.example: we answer within a month."  # the first change


def page(kept: str = KEPT) -> bytes:
    return (
        "<html><head><title>Privacy</title></head><body><main>"
        f'<p>{kept}</p><div class="retention"><p>{RETENTION}</p></div><div class="contact"><p>{CONTACT}</p></div>'
        "</main></body></html>"
    ).encode()


def one_version(tmp_path: Path) -> Config:
    """A data directory (real WARC, catalog and Git) whose document has one version, from an archive's capture at
    :data:`SECOND`."""
    directory = write_config(tmp_path / "config", None, cdx_url="http://127.0.0.1:9/cdx")
    config = load_config(str(directory), str(tmp_path / "data"))
    (declaration,) = config.documents
    body = page()
    snapshot = f"http://127.0.0.1:9/web/20190304050607id_/{URL}"
    capture = Capture(
        DOC, Source.WAYBACK, URL, snapshot, SECOND, 200, "text/html", body, payload_sha1(body),
        listed=CaptureRef(URL, SECOND, 200, "text/html", None), snapshot_url=snapshot,
    )  # fmt: skip
    with open_workspace(config, "backfill") as workspace:
        examination = examine(declaration, capture, clock=workspace.clock)
        assert examination.outcome is Outcome.EXTRACTED and examination.document is not None
        workspace.catalog.record_fetch(
            capture, workspace.captures.write(capture), Outcome.EXTRACTED,
            title=examination.document.title, body=examination.document.body, body_sha1=examination.body_sha1,
        )  # fmt: skip
        row = workspace.catalog.capture_at(DOC, SECOND)
        assert row is not None
        workspace.record([make_version(declaration, row, wayback=config.settings.wayback)])
    return config


def remove(tmp_path: Path, *selectors: str) -> Config:
    """The declaration's rules with ``selectors`` removed too (a rule change after which `reextract` upgrades)."""
    service = tmp_path / "config" / "services" / "acrcloud.toml"
    removed = ", ".join(f'"{selector}"' for selector in ("footer", "nav", *selectors))
    service.write_text(re.sub(r"^remove = \[.*\]$", f"remove = [{removed}]", service.read_text(), flags=re.MULTILINE))
    return load_config(str(tmp_path / "config"), str(tmp_path / "data"))


def upgrade(config: Config, clock: datetime | None = None) -> list[RecordedVersion]:
    """`reextract` run in this process: the versions it recorded (none failing); ``clock``: the second the run
    began (``Workspace.clock``, which dates an upgrade), so that two runs share one second without racing for it."""
    with open_workspace(config, "reextract") as workspace:
        if clock is not None:
            workspace.clock = clock
        report = reextract(workspace, config.documents, progress=Progress("reextract", stream=io.StringIO()))
    assert not report.failures
    return report.recorded


def catalog_path(config: Config) -> Path:
    return config.settings.data_dir / "catalog.sqlite3"


def test_a_second_rule_change_upgrades_the_upgraded_version_again(tmp_path):
    config = one_version(tmp_path)
    (first,) = upgrade(remove(tmp_path, ".contact"), NOW)
    assert first.version.technical_upgrade and first.version.captured_at == SECOND
    assert CONTACT not in first.version.body and RETENTION in first.version.body
    with closing(Catalog(catalog_path(config), read_only=True)) as catalog:
        latest = catalog.versions(DOC)[-1]
        assert latest.captured_at == first.version.commit_time != SECOND  # dated when it was made
        assert latest.bytes_at == SECOND and latest.url == URL  # its capture's time and URL
        found = catalog.version_capture(DOC, latest.bytes_at, latest.url)
        assert found is not None and found.body == first.version.body

    (second,) = upgrade(changed := remove(tmp_path, ".contact", ".retention"))  # before: none (no capture found)
    assert second.version.technical_upgrade and second.version.captured_at == SECOND
    assert second.version.commit_time > first.version.commit_time
    assert RETENTION not in second.version.body and KEPT in second.version.body
    assert upgrade(changed) == []  # the rules unchanged since: no third
    with closing(Catalog(catalog_path(config), read_only=True)) as catalog:
        assert [version.bytes_at for version in catalog.versions(DOC)] == [SECOND] * 3


def test_two_upgrades_in_one_second_are_both_recorded_a_second_apart(tmp_path):
    """Two `reextract` runs that begin in the same second (the clock frozen, not raced for), each after a rule
    change: the second upgrade is dated a second after the first, whose date and path it would otherwise have had
    (a version the ledger already holds: it was dropped without a word before 2026-11-29). A third in that second
    comes a second after the second; the commits stay in date order."""
    one_version(tmp_path)
    (first,) = upgrade(remove(tmp_path, ".contact"), NOW)
    assert first.version.commit_time == NOW
    (second,) = upgrade(remove(tmp_path, ".contact", ".retention"), NOW)
    assert second.version.commit_time == NOW + timedelta(seconds=1)
    assert RETENTION not in second.version.body and KEPT in second.version.body
    (third,) = upgrade(config := remove(tmp_path), NOW)  # the rules as they were: the retention rules back
    assert third.version.commit_time == NOW + timedelta(seconds=2) and RETENTION in third.version.body
    with closing(Catalog(catalog_path(config), read_only=True)) as catalog:
        versions = catalog.versions(DOC)
    assert [(v.captured_at, v.bytes_at) for v in versions] == [
        (SECOND, SECOND), (NOW, SECOND), (NOW + timedelta(seconds=1), SECOND), (NOW + timedelta(seconds=2), SECOND),
    ]  # fmt: skip


def test_an_upgrade_is_dated_when_its_run_began_unless_the_latest_version_is_not_earlier():
    assert upgrade_time(NOW, NOW - timedelta(seconds=1)) == NOW
    assert upgrade_time(NOW, NOW) == NOW + timedelta(seconds=1)
    assert upgrade_time(NOW, NOW + timedelta(hours=2)) == NOW + timedelta(hours=2, seconds=1)  # waited for the lock?
    # An archive's date in the future (recorded before 2026-11-29) is never followed: status and verify name it.
    assert upgrade_time(NOW, NOW + CLOCK_SKEW + timedelta(seconds=1)) == NOW


def test_track_after_an_upgrade_judges_the_page_against_the_upgraded_text(tmp_path):
    """The upgrade drops RETENTION (three quarters of the text). A page with KEPT and a sentence more is a version
    (against the text before the upgrade it would be far shorter); a page keeping a fifth of KEPT is refused by the
    shrink guard, which before was not applied at all (no previous text found)."""
    one_version(tmp_path)
    config = remove(tmp_path, ".retention")
    (upgraded,) = upgrade(config)
    assert RETENTION not in upgraded.version.body

    at = SECOND + timedelta(days=30)
    shrunk = page(" ".join(SENTENCE.format(n, 10 + n) for n in range(2)))
    with open_workspace(config, "track") as workspace:
        plan = TrackPlan(workspace, config.documents, Progress("track", stream=io.StringIO()))
        assert plan.previous_bodies[DOC] == upgraded.version.body
        live = Capture(DOC, Source.LIVE, URL, URL, at, 200, "text/html", shrunk, payload_sha1(shrunk))
        assert list(plan.handle(live)) == []
        assert plan.failures[DOC].startswith(LENGTH_DROP), plan.failures
        assert plan.versions == []

    grown = page(f"{KEPT} We added this sentence.")
    with open_workspace(config, "track") as workspace:
        plan = TrackPlan(workspace, config.documents, Progress("track", stream=io.StringIO()))
        live = Capture(DOC, Source.LIVE, URL, URL, at + timedelta(days=1), 200, "text/html", grown, payload_sha1(grown))
        assert list(plan.handle(live)) == []
        assert DOC not in plan.failures, plan.failures
        (version,) = plan.versions
        assert "We added this sentence." in version.body


def drop_versions_columns(config: Config, *columns: str) -> list[str]:
    """The catalog's ``versions`` made as a release before ``columns`` made it; its columns then."""
    with closing(sqlite3.connect(catalog_path(config))) as database:
        for column in columns:
            database.execute(f"ALTER TABLE versions DROP COLUMN {column}")
        database.commit()
        return [row[1] for row in database.execute("PRAGMA table_info(versions)")]


def test_a_catalog_from_before_the_bytes_time_is_read_as_it_was_then_filled_from_git(tmp_path):
    """A catalog made before versions.url and versions.bytes_at, holding an upgrade: a reader (which writes
    nothing) finds the upgrade at its date alone, as before; the next writing command adds the columns and reads
    each version's bytes' time from Git (its Captured-At), after which the next rule change upgrades it again."""
    one_version(tmp_path)
    (first,) = upgrade(remove(tmp_path, ".contact"))
    assert drop_versions_columns(first_config := remove(tmp_path, ".contact"), "url", "bytes_at") == [
        "document",
        "captured_at",
        "commit_id",
    ]
    with closing(Catalog(catalog_path(first_config), read_only=True)) as catalog:
        latest = catalog.versions(DOC)[-1]
        assert (latest.url, latest.stored_bytes_at, latest.bytes_at) == (None, None, first.version.commit_time)
    shown = run_cli(tmp_path / "config", first_config.settings.data_dir, "status")
    assert shown.returncode == 0, shown.stderr
    assert drop_versions_columns(first_config) == ["document", "captured_at", "commit_id"]  # a reader wrote nothing

    with closing(Catalog(catalog_path(first_config))) as catalog:  # the schema brought up to date: Git not read
        assert catalog.versions_unfilled()
        assert catalog.versions(DOC)[-1].bytes_at == first.version.commit_time
    repaired = run_cli(tmp_path / "config", first_config.settings.data_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    with closing(Catalog(catalog_path(first_config), read_only=True)) as catalog:
        assert not catalog.versions_unfilled()
        assert [(v.bytes_at, v.url) for v in catalog.versions(DOC)] == [(SECOND, URL), (SECOND, URL)]

    (second,) = upgrade(remove(tmp_path, ".contact", ".retention"), first.version.commit_time)  # the same second
    assert second.version.technical_upgrade and RETENTION not in second.version.body


def test_a_catalog_with_version_urls_only_gets_the_bytes_time_too(tmp_path):
    """A catalog brought up to date for versions.url alone (main before this change), possibly still holding that
    migration's mark: the next writing command fills bytes_at, and both marks are gone."""
    one_version(tmp_path)
    config = remove(tmp_path, ".contact")
    (first,) = upgrade(config)
    assert "url" in drop_versions_columns(config, "bytes_at")
    with closing(sqlite3.connect(catalog_path(config))) as database:
        database.execute("INSERT INTO meta VALUES ('versions_url_unfilled', '1')")
        database.commit()
    with open_workspace(config, "reextract") as workspace:
        assert [v.bytes_at for v in workspace.catalog.versions(DOC)] == [SECOND, SECOND]
        assert not workspace.catalog.versions_unfilled()
        marks = workspace.catalog.connection.execute(
            "SELECT key FROM meta WHERE key IN (?, 'versions_url_unfilled')", (VERSIONS_UNFILLED,)
        ).fetchall()
        assert marks == []


def test_a_catalog_started_again_reads_an_upgrade_s_bytes_time_from_git(tmp_path):
    """The catalog lost: `repair` re-indexes the WARC files and reads the versions from Git, the upgrade's bytes'
    time from its Captured-At; `track` then has the upgraded text to compare with."""
    one_version(tmp_path)
    config = remove(tmp_path, ".retention")
    (upgraded,) = upgrade(config)
    for suffix in ("", "-wal", "-shm"):
        catalog_path(config).with_name(f"catalog.sqlite3{suffix}").unlink(missing_ok=True)
    repaired = run_cli(tmp_path / "config", config.settings.data_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    with open_workspace(config, "track") as workspace:
        latest = workspace.catalog.versions(DOC)[-1]
        assert (latest.captured_at, latest.bytes_at) == (upgraded.version.commit_time, SECOND)
        plan = TrackPlan(workspace, config.documents, Progress("track", stream=io.StringIO()))
        assert plan.previous_bodies[DOC] == upgraded.version.body
