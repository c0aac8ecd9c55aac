"""`status`: per document — last capture (listed or fetched), last one fetched, last change, versions, consecutive
failures, refused captures, captures not verified — and the schedule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from sqlite3 import Row

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome, UnrecordedTrack, UnverifiedSpan, VersionRow
from policy_archive.archive.lock import running_writer
from policy_archive.config.cron import next_run_time
from policy_archive.config.settings import Config
from policy_archive.crawler.lasting import lasting
from policy_archive.crawler.sources.base import ASKED_AGAIN
from policy_archive.pipeline.extraction.dropped import hard_note
from policy_archive.pipeline.jobs.datadir import holds_data, open_catalog
from policy_archive.pipeline.jobs.future_dates import CLOCK_SKEW, FUTURE_REMEDY, IN_THE_FUTURE, in_the_future
from policy_archive.pipeline.jobs.report import RETRY_HINT, format_counts, refusal_counts, refusal_kind
from policy_archive.pipeline.jobs.unverified import describe, longest, not_fetched_as_served
from policy_archive.records import iso_z
from policy_archive.text import plural


@dataclass(frozen=True)
class CaptureNote:
    """What the catalog says of one capture: its note, or its refusal's reason (and kind, as counted)."""

    captured_at: datetime  # as listed (or fetched live)
    source: str  # wayback or live
    outcome: str  # the catalog's: extracted, refused, ...
    text: str

    def as_json(self, key: str) -> dict[str, object]:
        """The object `status --json` prints for this capture under ``key``: with ``key`` ``reason`` (a refusal) it
        carries the refusal's kind as counted, with any other key (``note``) the capture's outcome; times in UTC with
        ``Z``."""
        shown: dict[str, object] = {"captured_at": iso_z(self.captured_at), "source": self.source}
        if key == "reason":
            shown["kind"] = refusal_kind(self.text)
        else:
            shown["outcome"] = self.outcome
        return {**shown, key: self.text}


@dataclass(frozen=True)
class DocumentStatus:
    """Where one document stands: what `status` prints a line for, and `status --json` an object."""

    document: str
    versions: int
    # The latest capture the catalog knows of: listed in the archive (fetched or not: a capture with the bytes of
    # one fetched, or assumed unchanged, is not fetched again) or fetched live. Until 2026-11-28 this was the
    # latest fetched, which read as if the archive held nothing after it.
    last_capture: datetime | None
    last_change: datetime | None  # the latest version's commit date
    consecutive_failures: int
    last_failure: str | None
    refused_captures: dict[str, int]  # refusal kind -> captures
    unverified: tuple[UnverifiedSpan, ...] = ()  # spans of listed captures a backfill assumed unchanged
    # Versions whose extraction was hard (time, what was dropped): for a reviewer to check, oldest first.
    hard: tuple[tuple[datetime, str], ...] = ()
    # Why the last backfill of the document failed, and when (None: it succeeded, or none ran).
    backfill_failure: str | None = None
    backfill_failure_at: datetime | None = None
    # Captures that could not be fetched (listed time, why), oldest first: the next run tries them again.
    failed_captures: tuple[tuple[datetime, str], ...] = ()
    # The listed times of those that running again alone will not fetch (too large, a header too long: the catalog's
    # ``lasting``; a row failed before 2026-11-29, without it, judged from its reason's opening).
    final_captures: frozenset[datetime] = frozenset()
    # Listed captures the last backfill left unexamined because it was interrupted; whether it could not list
    # the document at all (then how many captures are not verified is unknown).
    unexamined: int = 0
    unlisted: bool = False
    # Whether the catalog records a backfill of the document: without one, nothing is known of its archived
    # captures (never backfilled, or the catalog that knew was lost and its captures re-indexed).
    backfilled: bool = False
    # The latest capture whose bytes were read (kept in a WARC, or a live 304): at most ``last_capture``.
    last_fetched: datetime | None = None
    # Every capture the catalog keeps a note for (why bytes were taken that a rule would question: a digest not
    # checkable, a guard's note), and every refused capture with its reason, each oldest first.
    notes: tuple[CaptureNote, ...] = ()
    refusals: tuple[CaptureNote, ...] = ()
    # Versions dated after the clock of `status` (an archive's future date, recorded before such dates were refused
    # on 2026-11-29): each would stay the document's latest, the later ones put before it.
    future_versions: tuple[datetime, ...] = ()

    @property
    def unverified_captures(self) -> int | None:
        """Listed captures not verified: assumed unchanged, or left unexamined; None when unknown (no backfill
        recorded, or not listed by its last backfill)."""
        if self.unlisted or not self.backfilled:
            return None
        return sum(span.captures for span in self.unverified) + self.unexamined

    def as_json(self) -> dict[str, object]:
        """The object `status --json` prints for this document: times in UTC with ``Z`` or null; ``unverified_spans``
        is the number of spans, ``longest_unverified`` the longest one (null when none); ``last_backfill_failure``
        null unless both its reason and time are known."""
        return {
            "document": self.document,
            "versions": self.versions,
            "last_capture": iso_z(self.last_capture) if self.last_capture else None,
            "last_fetched": iso_z(self.last_fetched) if self.last_fetched else None,
            "last_change": iso_z(self.last_change) if self.last_change else None,
            "consecutive_failures": self.consecutive_failures,
            "last_failure": self.last_failure,
            "refused_captures": self.refused_captures,
            "unverified_captures": self.unverified_captures,
            "unverified_spans": len(self.unverified),
            "longest_unverified": _span_json(longest(self.unverified)),
            "hard_versions": [{"date": iso_z(at), "hard": note} for at, note in self.hard],
            "last_backfill_failure": (
                {"at": iso_z(self.backfill_failure_at), "reason": self.backfill_failure}
                if self.backfill_failure and self.backfill_failure_at
                else None
            ),
            "failed_captures": [
                {"captured_at": iso_z(at), "reason": why, "final": at in self.final_captures}
                for at, why in self.failed_captures
            ],
            "capture_notes": [note.as_json("note") for note in self.notes],
            "refusals": [refusal.as_json("reason") for refusal in self.refusals],
            "future_versions": [iso_z(at) for at in self.future_versions],
        }


def _span_json(span: UnverifiedSpan | None) -> dict[str, object] | None:
    if span is None:
        return None
    return {
        "captures": span.captures,
        "days": round(span.days, 1),
        "after": iso_z(span.start_at) if span.start_at else None,  # the fetched captures around it
        "before": iso_z(span.end_at) if span.end_at else None,
    }


def not_verified(status: DocumentStatus) -> str:
    """``not verified: 37 captures in 9 spans; longest: 8 captures over 412 days (...)``: the listed captures
    a backfill assumed unchanged instead of fetching (see ``backfill --verify-spans``), those an interrupted one
    left unexamined, or that none are known (no backfill recorded, not listed); empty if none."""
    if not status.backfilled:
        return "not verified: unknown, no backfill recorded (run `policy-archive backfill`)"
    if status.unlisted:
        return "not verified: unknown, its last backfill could not list it (run again)"
    parts = []
    if status.unexamined:
        count = status.unexamined
        parts.append(f"{count} {plural(count, 'capture')} not examined (its last backfill was interrupted: run again)")
    if (worst := longest(status.unverified)) is not None:
        total, spans = sum(span.captures for span in status.unverified), len(status.unverified)
        parts.append(
            f"{total} {plural(total, 'capture')} in {spans} {plural(spans, 'span')}; longest: {describe(worst)}"
        )
    return f"not verified: {'; '.join(parts)}" if parts else ""


def _read(row: CaptureRow) -> bool:
    """Whether a capture's bytes were read: kept (extracted, or refused after reading), or a live 304."""
    return row.stored is not None or row.outcome in (Outcome.EXTRACTED, Outcome.NOT_MODIFIED)


def _version_row(
    catalog: Catalog, key: str, version: VersionRow, extracted: dict[tuple[datetime, str], CaptureRow]
) -> CaptureRow | None:
    """The extracted capture a version holds the text of: among the document's ``extracted`` rows read already by
    the time and URL of its bytes, else as the catalog finds it (a twin's fetched capture; by the time alone
    when the version's URL is not known, a catalog from before 2026-11-29 read before any writing command)."""
    known = extracted.get((version.bytes_at, version.url)) if version.url else None
    return known or catalog.version_capture(key, version.bytes_at, version.url)


def document_status(catalog: Catalog, key: str, clock: datetime) -> DocumentStatus:
    """Where the document ``key`` stands, from the catalog alone (no Git, no network), at ``clock``. A key the
    catalog has never seen gives an empty status (no versions, no times, no failures), not an error. A version dated
    at an unfetched twin takes its hard-extraction note from the capture fetched. A capture dated in the future of
    ``clock`` (``future_dates.in_the_future``: refused, or kept by an older release) is no last capture."""
    rows = catalog.captures(key, texts=False)
    dated = [c for c in rows if in_the_future(c.captured_at, clock, "") is None]
    fetched = [c for c in rows if c.outcome not in (Outcome.LISTED, Outcome.FAILED)]
    versions = catalog.versions(key)
    # A version's capture by the time and URL of its bytes: rows of two URLs may share a second.
    extracted = {(c.bytes_at, c.bytes_url): c for c in fetched if c.outcome is Outcome.EXTRACTED}
    notes = [
        (version.captured_at, hard_note(row.dropped))
        for version in versions
        if (row := _version_row(catalog, key, version, extracted)) is not None
    ]
    state = catalog.document_state(key)
    return DocumentStatus(
        document=key,
        versions=len(versions),
        last_capture=max((c.captured_at for c in dated), default=None),
        last_change=versions[-1].captured_at if versions else None,
        consecutive_failures=state.consecutive_failures,
        last_failure=state.last_failure if state.consecutive_failures else None,
        refused_captures=dict(refusal_counts(c.reason for c in fetched if c.outcome is Outcome.REFUSED)),
        unverified=tuple(catalog.unverified_spans(key)),
        hard=tuple((at, note) for at, note in notes if note),
        backfill_failure=state.backfill_failure,
        backfill_failure_at=state.backfill_failure_at,
        failed_captures=tuple((c.captured_at, c.reason or "") for c in rows if c.outcome is Outcome.FAILED),
        final_captures=frozenset(c.captured_at for c in rows if c.outcome is Outcome.FAILED and _final(c)),
        unexamined=state.backfill_unexamined or 0,
        unlisted=state.backfill_unlisted,
        backfilled=state.backfill_at is not None,
        last_fetched=max((c.captured_at for c in dated if _read(c)), default=None),
        notes=tuple(_noted(c, c.note) for c in rows if c.note),
        refusals=tuple(_noted(c, c.reason or "unknown") for c in rows if c.outcome is Outcome.REFUSED),
        future_versions=tuple(v.captured_at for v in versions if in_the_future(v.captured_at, clock, "")),
    )


def _future_versions(versions: tuple[datetime, ...], clock: datetime) -> str:
    """``WARNING: 1 version dated in the future (more than 1 day after 2026-11-29T…Z): 2099-01-01T00:00:00Z;
    recorded before …``: the versions an older release recorded from an archive's future date."""
    count = len(versions)
    named = ", ".join(iso_z(at) for at in versions)
    after = f"more than {CLOCK_SKEW.days} {plural(CLOCK_SKEW.days, 'day')} after {iso_z(clock)}"
    return f"WARNING: {count} {plural(count, 'version')} {IN_THE_FUTURE} ({after}): {named}; {FUTURE_REMEDY}"


def _final(row: CaptureRow) -> bool:
    """Whether running again alone will not fetch a failed capture: as the catalog keeps it (FetchFailure.lasting,
    judged on the failure's own reason, so a rendering's after a shell's refusal too), or for a row failed before
    that column, from its reason's opening (crawler/lasting.py)."""
    return row.lasting if row.lasting is not None else lasting(row.reason or "")


def _noted(row: CaptureRow, text: str) -> CaptureNote:
    return CaptureNote(row.captured_at, str(row.source), str(row.outcome), text)


SHOWN_FAILED_CAPTURES = 3  # `status` names the first few; `status --json` lists them all


def _failure_lines(status: DocumentStatus) -> Iterator[str]:
    """``backfill failed AT: reason``, ``failed captures: N, tried again by the next run: TIME (why); ...`` and,
    apart, those a rerun cannot change (:attr:`DocumentStatus.final_captures`: an answer over ``max_page_bytes``, a
    rendering's answers or DOM over it, a header too long),
    said as `backfill` says them: ``failed captures: N cannot be fetched as the archive serves them (asked once
    more by the next run; running again alone will not help): TIME (why)``."""
    if status.backfill_failure and status.backfill_failure_at:
        yield f"    backfill failed {iso_z(status.backfill_failure_at)}: {status.backfill_failure}"
    as_served = [(at, why) for at, why in status.failed_captures if at in status.final_captures]
    for_now = [(at, why) for at, why in status.failed_captures if at not in status.final_captures]
    if for_now:
        yield f"    failed captures: {len(for_now)}, tried again by the next run: {_named(for_now)}"
    if as_served:
        how, rerun = not_fetched_as_served(len(as_served))
        named = _named(as_served)
        yield f"    failed captures: {len(as_served)} {how} (asked once more by the next run; {rerun}): {named}"


def _named(captures: list[tuple[datetime, str]]) -> str:
    """``TIME (why); ...``: the first few captures named."""
    named = "; ".join(f"{iso_z(at)} ({why})" for at, why in captures[:SHOWN_FAILED_CAPTURES])
    return named + ("; ..." if len(captures) > SHOWN_FAILED_CAPTURES else "")


def document_statuses(config: Config) -> list[DocumentStatus]:
    """One status per configured document (all empty when there is no data yet)."""
    if not holds_data(config.settings.data_dir):
        return [DocumentStatus(d.key, 0, None, None, 0, None, {}) for d in config.documents]
    with open_catalog(config, "status") as catalog:
        clock = datetime.now(UTC)
        return [document_status(catalog, declaration.key, clock) for declaration in config.documents]


# What a user does about a `track` run that kept captures and never recorded their versions.
RECORD_THEM = "run `policy-archive repair` to record {them} (any writing command does it first)"


def run_lines(catalog: Catalog, data_dir: Path, shown: int = 3) -> Iterator[str]:
    """``run COMMAND STARTED → how it ended``: the last ``shown`` runs, newest first, then any older `track` run
    whose kept captures are not recorded yet (killed, or stopped by an error): until they are, they matter
    whatever ran since. A run with no exit status is still running only when it is the newest and the data
    directory's writer noted in its lock file is alive and runs that command; otherwise it never finished."""
    runs = catalog.last_runs(shown)
    unrecorded = {run.run_id: run for run in catalog.unrecorded_tracks()}
    writer = running_writer(data_dir)
    for index, run in enumerate(runs):
        running = index == 0 and writer is not None and writer.command == run["command"]
        ending = f"still running (PID {writer.pid})" if running and writer else _run_ending(catalog, run, unrecorded)
        yield f"run {run['command']} {run['started_at']} → {ending}"
    shown_ids = {run["id"] for run in runs}
    for run in catalog.runs_by_id(sorted(set(unrecorded) - shown_ids)):
        yield f"run {run['command']} {run['started_at']} → {_run_ending(catalog, run, unrecorded)}"


def _run_ending(catalog: Catalog, run: Row, unrecorded: dict[int, UnrecordedTrack]) -> str:
    # A run with no exit status (and not running) never reached its end: ended at once by a second SIGTERM or
    # Ctrl-C (policy_archive/stop_signals.py; a first one is handled from before the run is noted), kill -9, the
    # machine going down. Before 2026-11-28 a SIGTERM before the crawl (the listing, Scrapy's start) left it so too.
    # Until then `status` said "did not finish (still running, or killed)" for both, and nothing of its captures.
    if run["exit_status"] is None:
        ending = "never finished (killed, or the machine stopped)"
        if run["id"] not in unrecorded:  # not a `track`: nothing of it waits to be recorded
            return f"{ending}: run it again to finish its work"
    else:
        ending = f"exit {run['exit_status']}: {run['summary'] or ''}"
        if run["id"] not in unrecorded:
            return ending
    count = catalog.live_extracted_count(unrecorded[run["id"]])
    if not count:
        return f"{ending}; it kept no capture: nothing to record"
    them = plural(count, "it", "them")
    kept = f"its {count} kept {plural(count, 'capture')} {plural(count, 'is', 'are')} not recorded yet"
    return f"{ending}; {kept}: {RECORD_THEM.format(them=them)}"


def status_lines(config: Config) -> Iterator[str]:
    """The lines `status` prints: the next scheduled track (UTC) first; with no data yet only one more line saying
    so; otherwise the last three runs (and any older `track` whose captures wait: :func:`run_lines`), a table
    header, and per declared document a line and indented lines for its failures, refusals, unverified captures
    and hard versions. The catalog is read without the lock; raises as
    :func:`~policy_archive.pipeline.jobs.datadir.open_catalog` does."""
    now = datetime.now(UTC)
    yield f"next scheduled track: {iso_z(next_run_time(config.settings.schedule.track, now))}"
    if not holds_data(config.settings.data_dir):
        yield f"no data in {config.settings.data_dir} yet"
        return
    with open_catalog(config, "status") as catalog:
        yield from run_lines(catalog, config.settings.data_dir)
        yield (
            f"{'document':<40} {'versions':>8}  {'last capture':<20}  {'last fetched':<20}  {'last change':<20}  "
            "failures"
        )
        for declaration in config.documents:
            status = document_status(catalog, declaration.key, now)
            last_capture, last_fetched, last_change = (
                iso_z(at) if at else "-" for at in (status.last_capture, status.last_fetched, status.last_change)
            )
            failing = f"{status.consecutive_failures}" + (f" ({status.last_failure})" if status.last_failure else "")
            failing += "; last backfill failed" if status.backfill_failure else ""
            yield (
                f"{status.document:<40} {status.versions:>8}  {last_capture:<20}  {last_fetched:<20}  "
                f"{last_change:<20}  {failing}"
            )
            yield from _failure_lines(status)
            if status.refused_captures:
                # Refusals of the archive's own answer may be a configuration mistake's or a passing fault's.
                again = any(kind in ASKED_AGAIN for kind in status.refused_captures)
                hint = f" ({RETRY_HINT})" if again else ""
                yield f"    refused captures: {format_counts(status.refused_captures)}{hint}"
            if status.future_versions:
                yield f"    {_future_versions(status.future_versions, now)}"
            if unverified := not_verified(status):
                yield f"    {unverified}"
            if status.hard:
                at, note = status.hard[-1]
                count = len(status.hard)
                yield f"    hard: {count} {plural(count, 'version')} to check; latest {iso_z(at)}: {note}"
