"""A long listing of one text (an outside audit, 2026-11-28: a million CDX rows of one URL, all one digest, made
backfill read every catalog row of the document at each decision of the versions' dating, ~18 minutes after its
one replay, and a SIGTERM then waited 8 minutes and was not said). The work is counted here, not timed: the rows
the catalog builds for the decisions, and what a stop signal while they are made does.

The first run of each test is the command's (its crawl: a process crawls once); the second runs in this process,
with nothing left to fetch (every capture a twin of the one fetched), so that the decisions can be watched."""

from __future__ import annotations

import gc
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from standin.cli import git, run_cli
from test_backfill_resilience import INTERRUPTED, START, V1, page, ts
from test_fidelity import DOC, URL, configured

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.capture_reads import CaptureReads
from policy_archive.config.settings import load_config
from policy_archive.pipeline.jobs import backfill as backfill_job
from policy_archive.pipeline.jobs import change_dating
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import Capture, CaptureRef, Source, payload_sha1
from policy_archive.stop_signals import Stopped, stop_signals_handled


def one_text_listed(archive, tmp_path: Path, captures: int) -> tuple[Path, Path]:
    """``captures`` captures of one page with the same bytes (one digest), backfilled once by the command."""
    body = page(V1, "same")
    for n in range(captures):
        archive.add_capture(URL, ts(START + timedelta(days=n)), body)
    config, data = configured(archive, tmp_path)
    first = run_cli(config, data, "backfill", DOC)
    assert first.returncode == 0, first.stderr
    return config, data


class Counted:
    """The catalog rows built (``CaptureReads._row``), in all and while the versions' dating decides, and how many
    times it decided."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = self.rows_deciding = self.decisions = 0
        self._deciding = False
        built, decide = CaptureReads._row, change_dating.decide

        def row(row):
            self.rows += 1
            self.rows_deciding += self._deciding
            return built(row)

        def deciding(catalog, plan, *check):
            self.decisions += 1
            self._deciding = True
            try:
                return decide(catalog, plan, *check)
            finally:
                self._deciding = False

        monkeypatch.setattr(CaptureReads, "_row", staticmethod(row))
        monkeypatch.setattr(change_dating, "decide", deciding)
        monkeypatch.setattr(backfill_job, "decide", deciding)


def backfill_here(config: Path, data: Path):
    loaded = load_config(str(config), str(data))
    with stop_signals_handled() as stop, open_workspace(loaded, "backfill") as workspace:
        report = backfill_job.backfill(workspace, loaded.select((DOC,)))
    return report, stop


@pytest.mark.parametrize("captures", [10, 40])
def test_the_dating_reads_the_rows_it_needs_once_per_catalog_state(standin_archive, tmp_path, monkeypatch, captures):
    """Before 2026-11-28 each decision read every catalog row of the document (6 row reads per listed capture in
    this run, 3 of them for the decisions); now the decisions read the rows that show a text (here the one fetched),
    once while the catalog is not written, and the run builds at most 3 rows per listed capture."""
    config, data = one_text_listed(standin_archive, tmp_path, captures)
    counted = Counted(monkeypatch)
    report, _ = backfill_here(config, data)

    assert report.failures == []
    assert counted.decisions >= 2, "asked by the plan, then to make the versions"
    assert counted.rows_deciding == 1, "the fetched capture's row, read once whatever the listing's length"
    assert counted.rows <= 3 * captures, counted.rows


def row_objects() -> int:
    """How many listed-row objects (:class:`CaptureRef`) this process holds."""
    gc.collect()
    return sum(isinstance(thing, CaptureRef) for thing in gc.get_objects())


def test_the_listing_is_held_by_column_not_as_an_object_per_row(standin_archive, tmp_path, monkeypatch):
    """While the versions of a listing of 60 captures are decided, the listing and the plan hold a handful of row
    objects, not one per listed capture: the listing is kept by column (``policy_archive.listed``; before
    2026-11-29 the listing and the plan held every row, ~1.1 KiB each with their index: 1.2 GB at a million)."""
    config, data = one_text_listed(standin_archive, tmp_path, 60)
    before, decide, held = row_objects(), change_dating.decide, []

    def counting(catalog, plan, check):
        held.append(row_objects() - before)
        return decide(catalog, plan, check)

    monkeypatch.setattr(backfill_job, "decide", counting)
    report, _ = backfill_here(config, data)

    assert report.failures == [] and held
    assert max(held) < 10, held


def test_a_stop_signal_while_the_versions_are_decided_stops_the_run(standin_archive, tmp_path, monkeypatch):
    """A SIGTERM while the versions are decided (after the crawl): the document is left interrupted, nothing of its
    decisions written, and the run says so (a FAILED line, exit 1) instead of ending as if nothing came. The signal
    is sent from inside the decisions, in this process, where it is only noted."""
    config, data = one_text_listed(standin_archive, tmp_path, 10)
    commits = git(data / "versions", "log", "--format=%H", "main")
    decide = change_dating.decide
    signalled = []

    def signalling(catalog, plan, check):
        if not signalled:
            signalled.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return decide(catalog, plan, check)

    monkeypatch.setattr(backfill_job, "decide", signalling)
    report, stop = backfill_here(config, data)

    assert signalled and stop.received
    assert [(failure.document, failure.reason) for failure in report.failures] == [(DOC, INTERRUPTED)]
    assert report.recorded == []
    assert git(data / "versions", "log", "--format=%H", "main") == commits


def test_a_stop_signal_inside_one_document_s_decisions_ends_them(standin_archive, tmp_path, monkeypatch):
    """A SIGTERM while one document's versions are being decided ends those decisions at their next check, not
    after them (before 2026-11-29 a long listing's were all made first, minutes on a million captures): none of
    its captures is dated, the document is left interrupted, nothing written. The signal is sent from inside the
    decisions (when they ask which captures show a change), in this process, where it is only noted."""
    config, data = one_text_listed(standin_archive, tmp_path, 10)
    commits = git(data / "versions", "log", "--format=%H", "main")
    decide, changes, dating_capture = change_dating.decide, change_dating.changes, change_dating.dating_capture
    making, signalled, dated, raised = [], [], [], []

    def making_versions(catalog, plan, check):
        making.append(True)  # backfill's own decisions, not bisect's dry runs while it plans
        try:
            return decide(catalog, plan, check)
        except Stopped:
            raised.append(True)
            raise

    def signalling(known):
        if making and not signalled:
            signalled.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return changes(known)

    monkeypatch.setattr(backfill_job, "decide", making_versions)
    monkeypatch.setattr(change_dating, "changes", signalling)

    def dating(*args):
        dated.extend([args] if making else [])
        return dating_capture(*args)

    monkeypatch.setattr(change_dating, "dating_capture", dating)
    report, stop = backfill_here(config, data)

    assert signalled and stop.received
    assert raised == [True], "the decisions stopped inside, at their check"
    assert dated == [], "no capture dated in the decisions stopped"
    assert [(failure.document, failure.reason) for failure in report.failures] == [(DOC, INTERRUPTED)]
    assert report.recorded == []
    assert git(data / "versions", "log", "--format=%H", "main") == commits


def test_the_decisions_check_for_a_stop_as_they_walk_the_captures(standin_archive, tmp_path, monkeypatch):
    """The check is asked at each change and every ``CHECK_EVERY`` captures walked, so a stop is acted on
    within a walk over a long listing (here every 4 of 40 captures: at least 10 times), and a run without a stop
    decides as before."""
    config, data = one_text_listed(standin_archive, tmp_path, 40)
    monkeypatch.setattr(change_dating, "CHECK_EVERY", 4)
    decide, checks = change_dating.decide, []

    def counting(catalog, plan, check):
        def counted():
            checks.append(True)
            check()

        return decide(catalog, plan, counted)

    monkeypatch.setattr(backfill_job, "decide", counting)
    report, stop = backfill_here(config, data)

    assert not stop.received and report.failures == []
    assert len(checks) >= 40 // 4, len(checks)


# A page that gives no text: every capture of it is refused ``empty``, a refusal that holds for its twins.
EMPTY = b"<html><head><title>Privacy Policy</title></head><body><main></main></body></html>"


def test_a_refusal_passed_on_to_every_twin_holds_no_row_object_per_twin(standin_archive, tmp_path, monkeypatch):
    """A listing of 60 captures of one page without text: the one capture fetched is refused, and its refusal is
    passed on to its 59 twins. Until 2026-11-29 a list of every twin's row (and, in the catalog, a second of their
    keys) was built before the refusal was written: 1,000,000 twins took the command to 1.2 GB. The rows are now
    made as the catalog writes them. The crawl is replaced by its answers (the stand-in's bytes, as Scrapy would
    hand them over): a process crawls once, and the refusal is watched here."""
    for n in range(60):
        standin_archive.add_capture(URL, ts(START + timedelta(days=n)), EMPTY)
    config, data = configured(standin_archive, tmp_path)
    held: list[int] = []
    before = row_objects()
    refuse_listed = Catalog.refuse_listed

    def counting(catalog, document, refused):
        held.append(row_objects() - before)
        return refuse_listed(catalog, document, refused)

    def answered(fetching, *_):  # the archive's answer to each replay asked, as the spider hands it over
        requests = list(fetching.start())
        while requests:
            request = requests.pop()
            answer = Capture(
                document=request.document,
                source=Source.WAYBACK,
                url=request.original_url,
                fetched_url=request.url,
                captured_at=request.ref.timestamp,
                status=200,
                content_type="text/html",
                body=EMPTY,
                payload_sha1=payload_sha1(EMPTY),
                listed=request.ref,
            )
            requests += fetching.handle(answer)

    monkeypatch.setattr(Catalog, "refuse_listed", counting)
    monkeypatch.setattr(backfill_job, "crawl_archive", answered)
    report, _ = backfill_here(config, data)

    assert [failure.reason for failure in report.failures] == ["no version: 60 captures listed, all refused (60 empty)"]
    assert held and max(held) < 10, held


def test_the_catalog_writes_refusals_and_relistings_as_it_reads_them(tmp_path):
    """``refuse_listed`` and ``relist`` write each row as their input gives it, never a list of them all first
    (until 2026-11-29 each built one: a second copy of a million twins' keys), and ``refused_replays`` reads a page
    of rows at a time, so that relisting between its reads is safe: each input item is read after the write of the
    one before it (the catalog's count of changes grows between two items), and every row is relisted once."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    refs = [CaptureRef(URL, START + timedelta(minutes=n), 200, "text/html", None) for n in range(250)]
    catalog.add_listed(DOC, refs)
    changes: list[int] = []

    def watched(items):
        for item in items:
            changes.append(catalog.connection.total_changes)
            yield item

    catalog.refuse_listed(DOC, watched((ref, "not-archived: no Memento-Datetime") for ref in refs))
    assert len(changes) == 250 and changes == sorted(set(changes)), "one row written before the next is read"
    changes.clear()
    catalog.relist(DOC, watched((ref.url, ref.timestamp) for ref in refs[:100]))
    assert len(changes) == 100 and changes == sorted(set(changes))

    relisted = 0
    for url, at, _, _ in catalog.refused_replays(DOC, ["not-archived"]):  # written between two reads
        catalog.relist(DOC, [(url, at)])
        relisted += 1
    assert relisted == 150
    assert list(catalog.refused_replays(DOC, ["not-archived"])) == []
