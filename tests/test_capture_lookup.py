"""A capture is looked up by the URL and time of its bytes where the caller knows the URL: rows of two URLs can
share a memento second (a redirect followed to its target's memento beside the target's own row, a URL move), and
the time alone picked one of them whatever the caller meant (before 2026-11-28)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from test_backfill_e2e import URL, write_config

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import Outcome
from policy_archive.archive.warc_records import StoredCapture
from policy_archive.config.settings import load_config
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.track import TrackPlan
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import Capture, CaptureRef, Source, payload_sha1

DOC = "acrcloud/privacy-policy"
SECOND = datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)
OLD_URL = "https://www.acrcloud.com/privacy.html"
TARGET = "https://www.acrcloud.com/legal/privacy"
LIVE_TEXT = "Live text of the policy: we keep your data for two years and never sell it to anyone."


def archived(listed: CaptureRef, memento_url: str, text: str) -> Capture:
    """The archive's answer for ``listed``: bytes of ``memento_url`` at :data:`SECOND` (after redirects)."""
    body = f"<html><body><main><p>{text}</p></main></body></html>".encode()
    return Capture(DOC, Source.WAYBACK, memento_url, memento_url, SECOND, 200, "text/html", body,
                   payload_sha1(body), listed=listed)  # fmt: skip


def record(catalog: Catalog, capture: Capture, text: str) -> None:
    catalog.record_fetch(capture, StoredCapture("x.warc.gz", 0), Outcome.EXTRACTED, title="Privacy", body=text)


def test_two_urls_at_one_memento_second_are_told_apart_by_the_url(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        # The old URL listed a second earlier, redirected to the target's memento; the new URL's own row there.
        redirect = CaptureRef(OLD_URL, SECOND.replace(second=6), 301, "text/html", None)
        record(catalog, archived(redirect, TARGET, "followed"), "followed")
        record(catalog, archived(CaptureRef(URL, SECOND, 200, "text/html", None), URL, "moved"), "moved")
        assert catalog.capture_at(DOC, SECOND).body == "followed"  # the time alone: the first recorded, whichever
        assert catalog.capture_at(DOC, SECOND, url=URL).body == "moved"
        assert catalog.capture_at(DOC, SECOND, url=TARGET).body == "followed"  # the URL of its bytes
        assert catalog.capture_at(DOC, SECOND, url=OLD_URL) is None  # listed there, its bytes are the target's
    finally:
        catalog.close()


def test_track_records_its_own_capture_when_an_archived_row_of_another_url_shares_its_second(tmp_path):
    """Track looks up the row it just recorded to make the version: by the time alone, an archived row of the
    document's old URL with its memento at that second (the archive's rows sort first) became the version."""
    directory = write_config(tmp_path / "config", None, cdx_url="http://127.0.0.1:9/cdx")
    config = load_config(str(directory), str(tmp_path / "data"))
    with open_workspace(config, "track") as workspace:
        old = CaptureRef(OLD_URL, SECOND, 200, "text/html", None)
        record(workspace.catalog, archived(old, OLD_URL, "archived"), "archived")
        plan = TrackPlan(workspace, config.documents, Progress("track", stream=io.StringIO()))
        body = f"<html><head><title>Privacy</title></head><body><main><p>{LIVE_TEXT}</p></main></body></html>"
        live = Capture(DOC, Source.LIVE, URL, URL, SECOND, 200, "text/html; charset=utf-8", body.encode(),
                       payload_sha1(body.encode()))  # fmt: skip
        assert list(plan.handle(live)) == []
        (version,) = plan.versions
        assert version.source is Source.LIVE and LIVE_TEXT in version.body
