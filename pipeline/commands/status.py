"""`status`: per document — last capture, last change, versions, consecutive failures — and the schedule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from policy_archive.archive.catalog import Outcome
from policy_archive.config.cron import next_run_time
from policy_archive.config.settings import Config
from policy_archive.pipeline.jobs.report import format_counts, refusal_counts
from policy_archive.pipeline.jobs.workspace import data_paths, open_catalog
from policy_archive.records import iso_z


def status_lines(config: Config) -> Iterator[str]:
    now = datetime.now(UTC)
    yield f"next scheduled track: {iso_z(next_run_time(config.settings.schedule.track, now))}"
    if not data_paths(config.settings.data_dir)[0].exists():
        yield f"no data in {config.settings.data_dir} yet"
        return
    with open_catalog(config) as catalog:
        for run in catalog.last_runs(3):
            yield f"run {run['command']} {run['started_at']} → exit {run['exit_status']}: {run['summary'] or ''}"
        yield f"{'document':<40} {'versions':>8}  {'last capture':<20}  {'last change':<20}  failures"
        for declaration in config.documents:
            key = declaration.key
            fetched = [c for c in catalog.captures(key) if c.outcome not in (Outcome.LISTED, Outcome.FAILED)]
            versions = catalog.versions(key)
            state = catalog.document_state(key)
            last_capture = iso_z(max(c.captured_at for c in fetched)) if fetched else "-"
            last_change = iso_z(versions[-1].captured_at) if versions else "-"
            failing = f"{state.consecutive_failures}" + (
                f" ({state.last_failure})" if state.consecutive_failures else ""
            )
            yield f"{key:<40} {len(versions):>8}  {last_capture:<20}  {last_change:<20}  {failing}"
            refusals = refusal_counts(c.reason for c in fetched if c.outcome is Outcome.REFUSED)
            if refusals:
                yield f"    refused captures: {format_counts(refusals)}"
