"""The commands that collect versions into the data directory: backfill, track, schedule, reextract, repair."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import date
from typing import Any

import click

from policy_archive.pipeline.commands.common import (
    Context,
    date_option,
    fail,
    number_option,
    pass_context,
    reported_errors,
    run_writing_command,
)
from policy_archive.pipeline.jobs.strategy import MAX_HIDDEN_CAPTURES

# Running less often than once a year is a typing mistake; much larger intervals overflow APScheduler's
# next-run arithmetic (a traceback).
MAX_INTERVAL_SECONDS = 366 * 86400

# Every writing command takes the data directory's lock: by default it waits for the writer before it.
no_wait_option = click.option(
    "--no-wait", is_flag=True, help="Fail at once if another command is writing the data directory."
)


# ``backfill --retry-refused`` without a reason: every kind of refusal of the archive's own answer.
EVERY_ASKED_AGAIN = "*"


def _refusals_asked_again(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    """The kinds of refusal ``--retry-refused`` asks again (none when not given); a reason that is not one of them
    is a usage error naming those that are (a DOC written right after the option is read as its reason)."""
    if value is None:
        return ()
    from policy_archive.crawler.sources.base import ASKED_AGAIN  # the crawler's words, loaded only when asked

    if value == EVERY_ASKED_AGAIN:
        return ASKED_AGAIN
    if value in ASKED_AGAIN:
        return (value,)
    kinds = ", ".join(repr(kind) for kind in ASKED_AGAIN)
    raise click.BadParameter(
        f"{value!r} is no refusal asked again: those of the archive's own answer are ({kinds}); every other refusal"
        " is final, the bytes served say so (a DOC goes before --retry-refused, or after --retry-refused=REASON)"
    )


@click.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@date_option("--since", "Only captures on or after this day.")
@date_option("--until", "Only captures on or before this day.")
@click.option(
    "--strategy",
    type=click.Choice(["bisect", "all", "sample"]),
    default="bisect",
    show_default=True,
    help="bisect: change-point search guided by the listed capture lengths; every version it finds is dated "
    f"at its first capture; a change is missed only if it lasts at most {MAX_HIDDEN_CAPTURES} captures, each a "
    "page whose listed length looks like the text around it or a row whose length is not compared (an archived "
    "redirect, a revisit record; between pages, the first row of each run of redirects is fetched and the others "
    "taken to lead where it does); the captures it did not fetch are recorded and counted (status, last line). "
    "all: every capture with bytes not fetched before; finds every version at its first capture; the most "
    "requests. sample: one capture per half-year (for comparison); misses shorter-lived versions and dates "
    "each change at the next sample, months late.",
)
@click.option(
    "--verify-spans",
    is_flag=True,
    help="Then fetch every listed capture the strategy left unfetched (the spans status counts), reusing what "
    "earlier runs fetched: bisect with --verify-spans finds what all finds, without starting over.",
)
@click.option(
    "--retry-refused",
    is_flag=False,
    flag_value=EVERY_ASKED_AGAIN,
    default=None,
    callback=_refusals_asked_again,
    metavar="[=REASON]",
    help="Ask the archive again for the captures it refused on its own answer, which a configuration mistake or a "
    "passing fault may have made (a 404 without Memento-Datetime from a wrong replay_url, a proxy, an outage): "
    "not-archived, 'redirect leaves the archive', 'the archive kept redirecting', \"the archive's redirect "
    'Location is not a URL", "blocked by the archive\'s access rules" (a replay answered 451); =REASON asks '
    "those of one reason only (--retry-refused=not-archived). Paced as "
    "every replay request. Without it they are asked again only when [wayback] replay_url has changed since; "
    "other refusals are final (the bytes served say so).",
)
@no_wait_option
@pass_context
def backfill(
    obj: Context,
    documents: tuple[str, ...],
    since: date | None,
    until: date | None,
    strategy: str,
    verify_spans: bool,
    retry_refused: tuple[str, ...],
    no_wait: bool,
) -> None:
    """Record historical versions from the web archive (resumable, idempotent). DOC is SERVICE/DOCUMENT or
    SERVICE; none means every configured document."""
    from policy_archive.pipeline.jobs.backfill import backfill as run_backfill
    from policy_archive.pipeline.jobs.strategy import StrategyName

    if since and until and since > until:
        fail(f"--since {since} is after --until {until}")

    run_writing_command(
        obj,
        "backfill",
        documents,
        no_wait,
        lambda workspace, declarations, progress: run_backfill(
            workspace,
            declarations,
            since=since,
            until=until,
            strategy=StrategyName(strategy),
            verify_spans=verify_spans,
            retry_refused=retry_refused,
            progress=progress,
        ),
    )


@click.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@no_wait_option
@pass_context
def track(obj: Context, documents: tuple[str, ...], no_wait: bool) -> None:
    """Fetch the live documents now and record those whose text changed."""
    from policy_archive.pipeline.jobs.track import track as run_track

    run_writing_command(obj, "track", documents, no_wait, run_track)  # run_track(workspace, declarations, progress)


@click.command()
@number_option(
    "--every",
    "Run every SECONDS (1 to a year) instead of on the cron expression of settings [schedule] track.",
    lowest=1,
    highest=MAX_INTERVAL_SECONDS,
    metavar="SECONDS",
)
@pass_context
def schedule(obj: Context, every: float | None) -> None:
    """Run `track` on a schedule in the foreground; SIGTERM or Ctrl-C stops it cleanly."""

    from policy_archive.archive.lock import ScheduleLock
    from policy_archive.pipeline.scheduling.scheduler import log_formatter, run_schedule

    with reported_errors():
        config = obj.config()
        # One scheduler per data directory, held until it returns: a second one would fetch every site again at
        # each tick (its runs only take turns on the data directory's lock), so it refuses to start (exit 2).
        scheduling = ScheduleLock(config.settings.data_dir)
        scheduling.acquire()
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    command = [
        sys.executable,
        "-m",
        "policy_archive",
        "--config",
        str(config.directory),
        "--data",
        str(config.settings.data_dir),
        "track",
    ]
    try:
        status = run_schedule(
            command,
            None if every else config.settings.schedule.track,
            every,
            log=logging.getLogger("policy-archive.schedule"),
        )
    finally:
        scheduling.release()
    sys.exit(status)


@click.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@no_wait_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Recompute each document's whole history from its captures instead (rewrites its commits).",
)
@pass_context
def reextract(obj: Context, documents: tuple[str, ...], no_wait: bool, rebuild: bool) -> None:
    """Re-run extraction on the stored raw captures; a changed latest text becomes a technical-upgrade commit."""
    from policy_archive.pipeline.jobs.reextract import reextract as run_reextract

    run_writing_command(
        obj,
        "reextract",
        documents,
        no_wait,
        lambda workspace, declarations, progress: run_reextract(
            workspace, declarations, rebuild=rebuild, progress=progress
        ),
        existing=True,
    )


@click.command()
@no_wait_option
@pass_context
def repair(obj: Context, no_wait: bool) -> None:
    """Repair the data directory: set an unreadable catalog aside and list the versions of Git again, remake a
    half-made repository, set aside files edited by hand in data/versions, record the versions a killed `track`
    kept without recording them, dated when captured, and post them to the webhook as `track` would have (every
    writing command does this too);
    rebuild from the stored captures a history whose Git objects (or repository) were lost. Kept captures that
    cannot be read back (a damaged WARC file) are named with the versions they hold, and damaged records in the
    middle of a WARC file with where they start: exit 1."""
    from policy_archive.pipeline.jobs.damage import damaged_in_the_middle, unreadable_captures
    from policy_archive.pipeline.jobs.reextract import rebuild_lost_history
    from policy_archive.pipeline.jobs.report import RunReport

    def check(workspace: Any, declarations: Any, progress: Any) -> Any:
        damaged = damaged_in_the_middle(workspace.captures, workspace.catalog.kept_places())
        if workspace.history_lost:  # the rebuild reads every kept capture, and names those it cannot
            rebuilt = rebuild_lost_history(workspace, declarations, progress)
            return replace(rebuilt, failures=[*rebuilt.failures, *damaged])
        failures = unreadable_captures(workspace.catalog, workspace.captures, declarations, progress) + damaged
        nothing = not workspace.notes and not failures
        return RunReport([], failures, [f"{workspace.data_dir}: nothing to repair"] if nothing else [])

    run_writing_command(obj, "repair", (), no_wait, check, existing=True, drop_lost_history=True)
