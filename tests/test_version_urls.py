"""A version's own capture is found by the time and URL of its bytes: the catalog's ``versions`` keeps that URL
(since 2026-11-29), so that rows of two URLs of one document in one memento second (a redirect followed to its
target's memento beside the moved page's own row) no longer give `status`, `log`, `reextract` and `track` the other
URL's capture (its text, its Snapshot-Url, its notes). A catalog from before it is brought up to date from Git."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standin.cli import run_cli
from test_backfill_e2e import URL, write_config

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.archive.catalog.schema import VERSIONS_UNFILLED
from policy_archive.archive.catalog.versions import named_url
from policy_archive.archive.versions import VersionStore
from policy_archive.config.settings import Config, load_config
from policy_archive.pipeline.commands.review import log
from policy_archive.pipeline.commands.status import document_status
from policy_archive.pipeline.extraction.dropped import OTHER_DOCUMENT
from policy_archive.pipeline.jobs.examine import examine, make_version
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.reextract import reextract
from policy_archive.pipeline.jobs.track import TrackPlan
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import Capture, CaptureRef, Dropped, Source, payload_sha1

DOC = "acrcloud/privacy-policy"
SECOND = datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)
OLD_URL = "https://www.acrcloud.com/privacy.html"  # moved: archived as a redirect to TARGET
TARGET = "https://www.acrcloud.com/legal/privacy"
SENTENCE = "Clause {}: we keep the data you give us while your account is open and delete it within {} days after."
# The two texts differ in length, so that the guards (a text shrinking to under half of the previous one) tell
# which one `track` compares a new page with.
TEXTS = {
    TARGET: " ".join(SENTENCE.format(n, 10 + n) for n in range(12)),
    URL: "We never sell your data. Ask us to delete it at any time.",
}
CONTACT = (
    "If you have any question about this policy or about the data we keep, write to our privacy officer at "
    "privacy@acrcloud.example and we will answer you within a month of your letter."
)
WORDS = {TARGET: 5, URL: 7}  # what extraction dropped of each (a hard page), which `status` names
NOTES = {TARGET: "followed from the old URL", URL: "the moved page's own capture"}


def page(text: str) -> bytes:
    return (
        "<html><head><title>Privacy</title></head><body><main>"
        f'<p>{text} <span class="contact">{CONTACT}</span></p></main></body></html>'
    ).encode()


def archived(memento_url: str) -> Capture:
    """The archive's answer at :data:`SECOND` with the bytes of ``memento_url``: for TARGET, the old URL's CDX row
    (a second earlier, a 301) followed; for URL, its own row."""
    listed = (
        CaptureRef(OLD_URL, SECOND - timedelta(seconds=1), 301, "text/html", None)
        if memento_url == TARGET
        else CaptureRef(URL, SECOND, 200, "text/html", None)
    )
    body = page(TEXTS[memento_url])
    return Capture(
        DOC, Source.WAYBACK, memento_url, f"http://127.0.0.1:9/web/20190304050607id_/{memento_url}", SECOND, 200,
        "text/html", body, payload_sha1(body), listed=listed,
        snapshot_url=f"http://127.0.0.1:9/web/20190304050607id_/{memento_url}",
    )  # fmt: skip


def two_urls_in_one_second(tmp_path: Path, versioned: str) -> Config:
    """A data directory (real WARC, catalog and Git) whose document has two captures at :data:`SECOND`, TARGET's
    recorded first (the one the time alone picks), and one version, made from ``versioned``'s."""
    directory = write_config(tmp_path / "config", None, cdx_url="http://127.0.0.1:9/cdx")
    config = load_config(str(directory), str(tmp_path / "data"))
    (declaration,) = config.documents
    with open_workspace(config, "backfill") as workspace:
        for memento_url in (TARGET, URL):
            capture = archived(memento_url)
            examination = examine(declaration, capture, clock=workspace.clock)
            assert examination.outcome is Outcome.EXTRACTED and examination.document is not None
            workspace.catalog.record_fetch(
                capture, workspace.captures.write(capture), Outcome.EXTRACTED,
                title=examination.document.title, body=examination.document.body,
                body_sha1=examination.body_sha1, note=NOTES[memento_url],
                dropped=(Dropped(OTHER_DOCUMENT, WORDS[memento_url], "Terms of service"),),
            )  # fmt: skip
        row = workspace.catalog.capture_at(DOC, SECOND, url=versioned)
        assert row is not None and TEXTS[versioned] in (row.body or "")
        (recorded,) = workspace.record([make_version(declaration, row, wayback=config.settings.wayback)])
        assert recorded.version.snapshot_url.endswith(f"id_/{versioned}")
    return config


def catalog_path(config: Config) -> Path:
    return config.settings.data_dir / "catalog.sqlite3"


def versions_columns(config: Config) -> list[str]:
    with closing(sqlite3.connect(catalog_path(config))) as database:
        return [row[1] for row in database.execute("PRAGMA table_info(versions)")]


@pytest.mark.parametrize("versioned", [TARGET, URL])
def test_status_and_log_name_the_version_s_own_capture(tmp_path, versioned):
    config = two_urls_in_one_second(tmp_path, versioned)
    catalog = Catalog(catalog_path(config), read_only=True)
    try:
        (version,) = catalog.versions(DOC)
        assert version.url == versioned
        assert TEXTS[versioned] in (catalog.version_capture(DOC, SECOND, version.url).body or "")
        status = document_status(catalog, DOC, SECOND)
        assert status.hard == ((SECOND, f"dropped {WORDS[versioned]} words of {OTHER_DOCUMENT}"),)
        (entry,) = log(
            catalog, VersionStore(config.settings.data_dir / "versions", read_only=True), config.documents[0]
        )
        assert entry.note == NOTES[versioned]
        assert entry.snapshot_url.endswith(f"id_/{versioned}")
    finally:
        catalog.close()


@pytest.mark.parametrize("versioned", [TARGET, URL])
def test_reextract_upgrades_the_version_from_its_own_capture(tmp_path, versioned):
    """The latest version's capture is extracted again with a selector added: the technical upgrade is made from
    that capture (its text, its Snapshot-Url), not from the other URL's at that second."""
    config = two_urls_in_one_second(tmp_path, versioned)
    services = tmp_path / "config" / "services" / "acrcloud.toml"
    services.write_text(
        services.read_text().replace('remove = ["footer", "nav"]', 'remove = ["footer", "nav", ".contact"]')
    )
    config = load_config(str(tmp_path / "config"), str(tmp_path / "data"))
    with open_workspace(config, "reextract") as workspace:
        report = reextract(workspace, config.documents, progress=Progress("reextract", stream=io.StringIO()))
    assert not report.failures
    (upgrade,) = report.recorded
    assert upgrade.version.technical_upgrade and upgrade.version.captured_at == SECOND
    assert upgrade.version.snapshot_url.endswith(f"id_/{versioned}")
    assert TEXTS[versioned] in upgrade.version.body and CONTACT not in upgrade.version.body


@pytest.mark.parametrize("versioned", [TARGET, URL])
def test_track_compares_a_new_page_with_the_version_s_own_text(tmp_path, versioned):
    """`track` reads the latest version's text to judge the page (the guards) and to tell the webhook what changed.
    A page changed a little from the version's text is recorded; compared with the other URL's (the long text
    against the short one) it would have been refused as shrunk."""
    config = two_urls_in_one_second(tmp_path, versioned)
    with open_workspace(config, "track") as workspace:
        plan = TrackPlan(workspace, config.documents, Progress("track", stream=io.StringIO()))
        assert TEXTS[versioned] in (plan.previous_bodies[DOC] or "")
        body = page(TEXTS[versioned] + " We added this sentence.")
        at = SECOND + timedelta(days=30)
        live = Capture(DOC, Source.LIVE, URL, URL, at, 200, "text/html; charset=utf-8", body, payload_sha1(body))
        assert list(plan.handle(live)) == []
        (row,) = workspace.catalog.captures(DOC, Source.LIVE)
        assert row.outcome is Outcome.EXTRACTED, row.reason
        (version,) = plan.versions
        assert "We added this sentence." in version.body


def test_a_catalog_from_before_version_urls_is_read_as_it_was_and_brought_up_to_date_from_git(tmp_path):
    """The versions table of a catalog made before 2026-11-29 has three columns. A reader (which writes nothing)
    finds versions without a URL and their captures by the time alone; the next writing command adds the column
    and reads each version's URL from Git once (its Snapshot-Url matched against the captures)."""
    config = two_urls_in_one_second(tmp_path, URL)  # the capture recorded second: the time alone picks the other
    with closing(sqlite3.connect(catalog_path(config))) as database:
        database.execute("ALTER TABLE versions DROP COLUMN url")
        database.execute("ALTER TABLE versions DROP COLUMN bytes_at")
        database.commit()
    assert versions_columns(config) == ["document", "captured_at", "commit_id"]

    catalog = Catalog(catalog_path(config), read_only=True)
    try:
        (version,) = catalog.versions(DOC)
        assert version.url is None
        assert catalog.version_capture(DOC, SECOND) is not None  # the time alone, as before
    finally:
        catalog.close()
    shown = run_cli(tmp_path / "config", config.settings.data_dir, "status")
    assert shown.returncode == 0, shown.stderr
    assert versions_columns(config) == ["document", "captured_at", "commit_id"]  # a reader changed nothing

    repaired = run_cli(tmp_path / "config", config.settings.data_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "url" in versions_columns(config)
    catalog = Catalog(catalog_path(config), read_only=True)
    try:
        (version,) = catalog.versions(DOC)
        assert version.url == URL
        assert not catalog.versions_unfilled()
        hard = document_status(catalog, DOC, SECOND).hard
        assert hard == ((SECOND, f"dropped {WORDS[URL]} words of {OTHER_DOCUMENT}"),)
    finally:
        catalog.close()


def test_the_migration_is_marked_only_for_a_catalog_holding_versions(tmp_path):
    """A new catalog gets the column with nothing to fill; an old one with versions is marked until a writing
    command read them from Git (then not again)."""
    config = two_urls_in_one_second(tmp_path, TARGET)
    with closing(sqlite3.connect(catalog_path(config))) as database:
        database.execute("ALTER TABLE versions DROP COLUMN url")
        database.execute("ALTER TABLE versions DROP COLUMN bytes_at")
        database.commit()
    catalog = Catalog(catalog_path(config))  # brings the schema up to date, cannot read Git
    try:
        assert catalog.versions_unfilled()
        assert catalog.versions(DOC)[0].url is None
    finally:
        catalog.close()
    with open_workspace(config, "repair") as workspace:
        assert not workspace.catalog.versions_unfilled()
        assert workspace.catalog.versions(DOC)[0].url == TARGET
    fresh = Catalog(tmp_path / "new" / "catalog.sqlite3")
    try:
        assert not fresh.versions_unfilled()
        assert not fresh.connection.execute("SELECT 1 FROM meta WHERE key = ?", (VERSIONS_UNFILLED,)).fetchone()
    finally:
        fresh.close()


def test_a_version_s_url_read_from_git_alone_is_the_site_s_url_its_snapshot_url_names(tmp_path):
    """When no catalogued capture gives the version's Snapshot-Url (a version dated at a twin never fetched, a
    capture no longer catalogued), its URL is the one the Snapshot-Url names."""
    assert named_url("https://web.archive.org/web/20190304050607id_/https://www.acrcloud.com/legal/privacy") == TARGET
    assert (
        named_url("http://127.0.0.1:8080/coll/20190304050607id_/https://x.example/p?q=1") == "https://x.example/p?q=1"
    )
    assert named_url("https://www.acrcloud.com/privacy") == URL  # a live version's: the URL fetched
    config = two_urls_in_one_second(tmp_path, URL)
    with closing(sqlite3.connect(catalog_path(config))) as database:
        database.execute("UPDATE captures SET snapshot_url = NULL, fetched_url = NULL WHERE memento_url = ?", (URL,))
        database.execute("UPDATE versions SET url = NULL")
        database.execute("INSERT INTO meta VALUES (?, '1')", (VERSIONS_UNFILLED,))
        database.commit()
    with open_workspace(config, "repair") as workspace:
        (version,) = workspace.catalog.versions(DOC)
        assert version.url == URL
        assert TEXTS[URL] in (workspace.catalog.version_capture(DOC, SECOND, version.url).body or "")


@pytest.mark.parametrize("versioned", [TARGET, URL])
def test_a_catalog_started_again_from_the_warc_files_finds_each_version_s_url(tmp_path, versioned):
    """The catalog lost: `repair` re-indexes the kept captures from the WARC files and reads the versions from Git,
    each URL found against the captures re-indexed."""
    config = two_urls_in_one_second(tmp_path, versioned)
    for suffix in ("", "-wal", "-shm"):
        catalog_path(config).with_name(f"catalog.sqlite3{suffix}").unlink(missing_ok=True)
    repaired = run_cli(tmp_path / "config", config.settings.data_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    catalog = Catalog(catalog_path(config), read_only=True)
    try:
        (version,) = catalog.versions(DOC)
        assert version.url == versioned
        assert TEXTS[versioned] in (catalog.version_capture(DOC, SECOND, version.url).body or "")
    finally:
        catalog.close()
