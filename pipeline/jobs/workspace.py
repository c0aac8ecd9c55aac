"""The data directory opened for a writing command: locked, its catalog, raw capture store and version store
repaired and kept in step (reading commands open it with ``datadir``, which loads no crawler and no extractor)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.captures import CaptureStore
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import VersionOrigin
from policy_archive.archive.catalog.runs import DID_NOT_FINISH
from policy_archive.archive.catalog.schema import CatalogUnreadable
from policy_archive.archive.lock import DataDirectoryLock
from policy_archive.archive.versions import VersionStore
from policy_archive.config.settings import Config
from policy_archive.pipeline.jobs.datadir import data_paths, require_data
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.reindex import reindex_captures
from policy_archive.pipeline.jobs.report import RunReport
from policy_archive.pipeline.jobs.unrecorded import record_killed_tracks, texts_left_after_reindex
from policy_archive.pipeline.scheduling.notify import change_summaries, notify
from policy_archive.records import RecordedVersion, Version, document_of, file_stamp

log = logging.getLogger(__name__)


@dataclass
class Workspace:
    """An open, locked data directory for a writing command: the configuration, the catalog, the raw capture store
    and the versions repository, kept in step; ``notes`` are what opening repaired. Made by :func:`open_workspace`,
    which holds the lock and closes it."""

    config: Config
    data_dir: Path
    catalog: Catalog
    captures: CaptureStore
    versions: VersionStore
    # When the run began (UTC, to the second): the one clock a run judges an archive's dates by, read once so that
    # every check of the run agrees (``examine.in_the_future``); tests give their own.
    clock: datetime
    notes: list[str] = field(default_factory=list)  # what opening repaired, one line each
    # The versions recorded before are gone from Git (repository deleted, objects lost): `repair` rebuilds them.
    history_lost: bool = False
    # The versions of killed `track` runs recorded on opening (``unrecorded``), each with the text of the version
    # before it: `track` posts them with its own changes to the webhook, any other command on opening.
    recovered: list[tuple[RecordedVersion, str | None]] = field(default_factory=list)

    def record(self, versions: Sequence[Version]) -> list[RecordedVersion]:
        """Save versions to Git and mirror the branch into the catalog's versions table."""
        if not versions:
            return []
        latest_before = self.catalog.latest_version_time()
        recorded = self.versions.save(versions)
        inserted_before_head = latest_before is not None and any(
            r.version.commit_time < latest_before for r in recorded
        )
        if inserted_before_head:
            # A rebuild rewrote (and may have dropped) later commits: mirror the whole branch again.
            self.resync()
            for remote in self.versions.remote_commits_rewritten():
                log.warning(
                    "older versions were inserted: %s no longer matches main; publishing needs a force-push, "
                    "which policy-archive never does for you",
                    remote,
                )
        else:
            self.catalog.add_versions(
                {(r.version.document, r.version.commit_time): r.commit for r in recorded},
                self.versions.head(),
                {
                    (r.version.document, r.version.commit_time): VersionOrigin(
                        r.version.captured_at, r.version.snapshot_url
                    )
                    for r in recorded
                },
            )
        return recorded

    @contextmanager
    def run_log(self, command: str) -> Iterator[list[RunReport]]:
        """Note a run in the catalog (for `status`); the caller appends its report to the yielded list."""
        run_id = self.catalog.start_run(command, datetime.now(UTC))
        reports: list[RunReport] = []
        try:
            yield reports
        finally:
            status, summary = (reports[0].exit_status, reports[0].summary()) if reports else (1, DID_NOT_FINISH)
            self.catalog.finish_run(run_id, datetime.now(UTC), status, summary)

    def resync(self) -> None:
        """Make the catalog's versions table the Git branch's commits again, whole, with the branch head and the URL
        and time of each version's bytes (its ``Captured-At``, and the URL found from it and its ``Snapshot-Url``):
        after a history was rewritten, a run was killed between the Git update and the catalog's, or the catalog is
        from before ``versions.url`` or ``versions.bytes_at``."""
        mapped: dict[tuple[str, datetime], str] = {}
        origins: dict[tuple[str, datetime], VersionOrigin] = {}
        for version in self.versions.main_versions():
            key = (document_of(version.path), version.captured_at)
            mapped[key] = version.commit
            origins[key] = VersionOrigin(version.bytes_at or version.captured_at, version.snapshot_url)
        self.catalog.replace_versions(mapped, self.versions.head(), origins)

    def close(self) -> None:
        """Close the capture store's WARC file and the catalog; the lock is released by :func:`open_workspace`, not
        here, and the versions repository needs no closing."""
        self.captures.close()
        self.catalog.close()


@contextmanager
def open_workspace(
    config: Config, command: str, *, wait: bool = True, existing: bool = False, drop_lost_history: bool = False
) -> Iterator[Workspace]:
    """Lock the data directory for writing, open the stores and repair what a killed run (or a full disk, or a
    hand) left behind; each repair is one line in ``Workspace.notes``. ``existing``: the command only works on
    data already there, so a data directory holding no catalog, captures or versions is refused (and not
    created). ``drop_lost_history``: a history whose Git objects are missing is dropped (`repair` then
    rebuilds it from the captures) instead of refused (``VersionStore``)."""
    data_dir = config.settings.data_dir
    clock = datetime.now(UTC).replace(microsecond=0)
    if existing:
        require_data(data_dir, command)
    data_dir.mkdir(parents=True, exist_ok=True)
    catalog_path, captures_dir, versions_dir = data_paths(data_dir)
    with DataDirectoryLock(data_dir, command=command, wait=wait):
        notes: list[str] = []
        catalog = _open_catalog_setting_aside(catalog_path, notes)
        captures = CaptureStore(captures_dir, max_page_bytes=config.settings.crawl.max_page_bytes)
        try:
            reindexed = _reindex_if_new(catalog, captures, config, command, notes, clock)
            had_versions = catalog.versions_head() is not None
            # Versions listed, or captures kept (a catalog deleted with the repository, re-indexed just now):
            # the history was there; its repository, gone, is made again empty, and `repair` rebuilds it.
            versions_missing = (had_versions or catalog.holds_captures()) and not (versions_dir / ".git").exists()
            versions = VersionStore(versions_dir, drop_lost_history=drop_lost_history)
        except BaseException:
            catalog.close()
            raise
        notes += versions.notes
        if versions_missing:
            notes.append(
                f"{versions_dir} was missing: a new repository was started; `policy-archive repair` (as `reextract "
                "--rebuild`) rebuilds the history from the stored captures"
            )
        lost = versions_missing or versions.history_lost
        workspace = Workspace(config, data_dir, catalog, captures, versions, clock, notes, history_lost=lost)
        try:
            if catalog.versions_head() != versions.head():
                if not had_versions:
                    notes.append(f"{catalog_path.name} listed no versions: those of {versions_dir} read again")
                workspace.resync()  # a run was killed between the Git update and the catalog update
            elif catalog.versions_unfilled():
                # A catalog from before versions.url or bytes_at: each version's URL and bytes' time read from Git, once
                workspace.resync()
            if not lost:  # else the history is rebuilt from every capture (`repair`), these included
                notes += record_killed_tracks(workspace, command)
                if reindexed and (left := texts_left_after_reindex(workspace)):
                    notes.append(left)
                if command != "track":  # `track` posts them with its own changes, in one summary
                    notes += notify(config.settings, change_summaries(workspace.recovered, recovered=True))
            yield workspace
        finally:
            workspace.close()


def _reindex_if_new(
    catalog: Catalog, captures: CaptureStore, config: Config, command: str, notes: list[str], clock: datetime
) -> bool:
    """A catalog holding no capture (just started, or one set aside) learns those the WARC files keep; whether it
    did (its ``runs`` are then lost: ``texts_left_after_reindex``)."""
    if catalog.holds_captures():
        return False
    if reindexed := reindex_captures(
        catalog, captures, config, Progress(f"{command}: re-indexing the kept captures"), clock
    ):
        notes.append(reindexed)
    return reindexed is not None


def _open_catalog_setting_aside(path: Path, notes: list[str]) -> Catalog:
    """An unreadable catalog is renamed (kept for inspection) and a new one started: Git holds the versions,
    which are read again, and the WARC files the captures, which are re-indexed (``open_workspace``)."""
    try:
        return Catalog(path)
    except CatalogUnreadable as error:
        aside = path.with_name(f"{path.name}.unreadable-{file_stamp(datetime.now(UTC))}")
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        notes.append(f"{error}: set aside as {aside.name}; a new catalog was started")
        return Catalog(path)
