"""The commands that read the history: log, show, diff, status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from policy_archive.config.checks import ConfigError
from policy_archive.pipeline.commands.common import (
    Context,
    date_option,
    fail,
    pass_context,
    reported_errors,
    versions_for_reading,
)
from policy_archive.text import printable


@click.command()
@click.argument("document", metavar="DOC")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array, one object per version: date, commit, source, subject, snapshot_url, "
    "stated_date, unchanged_since (null when unknown), document, note, unverified_captures (listed captures a "
    "backfill assumed to show this version without fetching them), hard (what extraction dropped, when a "
    "reviewer should check; else null).",
)
@pass_context
def log(obj: Context, document: str, as_json: bool) -> None:
    """List a document's versions: date, commit, source, subject, snapshot. DOC may be SERVICE: each of its
    documents in turn."""
    from policy_archive.pipeline.commands import review

    with reported_errors(), _review(obj, document, "log", several=True) as (catalog, store, declarations):
        if catalog is None:  # the first writer is running: nothing recorded yet, said as for a document later
            click.echo("[]" if as_json else review.format_waiting(declarations, store))
            return
        click.echo(
            review.log_json(catalog, store, declarations)
            if as_json
            else review.format_logs(catalog, store, declarations)
        )


@click.command()
@click.argument("document", metavar="DOC")
@date_option("--at", "Show the version in force at the end of this day [default: the latest].")
@pass_context
def show(obj: Context, document: str, at: date | None) -> None:
    """Print a document's version file."""
    from policy_archive.pipeline.commands import review

    with reported_errors(), _review(obj, document, "show") as (catalog, store, declaration):
        click.echo(review.show(catalog, store, declaration, at), nl=False)


@click.command()
@click.argument("document", metavar="DOC")
@date_option("--from", "Version in force at the end of this day [default: the one before --to].")
@date_option("--to", "Version in force at the end of this day [default: the latest].")
@pass_context
def diff(obj: Context, document: str, **dates: date | None) -> None:
    """Show what changed in a document between two dates (default: its last change)."""
    from policy_archive.pipeline.commands import review

    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        fail(f"--from {dates['from']} is after --to {dates['to']}")  # else a reversed patch, silently
    with reported_errors(), _review(obj, document, "diff") as (catalog, store, declaration):
        click.echo(review.diff(catalog, store, declaration, dates["from"], dates["to"]), nl=False)


@contextmanager
def _review(obj: Context, document: str, command: str, *, several: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """The catalog, the version store and the declaration named (with ``several``: the tuple of them), for
    ``command``. While the first writer of a data directory holding nothing yet runs: `show` and `diff` fail the
    document with no recorded version yet (as later, exit 1), and `log` gets no catalog and, in place of the store,
    what runs (``backfill (PID 1234) is running``)."""
    from policy_archive.archive.lock import running_writer
    from policy_archive.pipeline.jobs.datadir import check_in_step, holds_data, open_catalog

    config = obj.config()
    declarations = config.select([document])
    if len(declarations) > 1 and not several:
        # SERVICE means all its documents (DESIGN.md): one document is shown or diffed at a time, so a service
        # of one document is that document, and a service of several is refused naming them.
        names = ", ".join(declaration.key for declaration in declarations)
        raise ConfigError("command line", document, f"name one document as SERVICE/DOCUMENT ({names})")
    data_dir = config.settings.data_dir
    # A first backfill or track writes its catalog only once it has something to keep: until then the data
    # directory holds its lock file alone, which is not a wrong --data (exit 2) but a history not recorded yet.
    if not holds_data(data_dir) and (writer := running_writer(data_dir)) is not None:
        from policy_archive.pipeline.commands.review import NO_VERSION_YET, NoVersion

        running = f"{writer.command or 'a command'} (PID {writer.pid}) is running"
        if not several:
            raise NoVersion(declarations[0].key, f"{NO_VERSION_YET}: {running}")
        yield None, running, declarations
        return
    with open_catalog(config, command) as catalog:
        store = versions_for_reading(config, command)
        check_in_step(catalog, store)
        yield catalog, store, (declarations if several else declarations[0])


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array, one object per document: document, versions, last_capture (the latest capture "
    "listed or fetched, never one dated in the future), last_fetched (the latest whose bytes were read), last_change, "
    "consecutive_failures, last_failure, refused_captures, unverified_captures and unverified_spans (listed "
    "captures a backfill assumed unchanged without fetching them, and in how many spans; unverified_captures is "
    "null when unknown: never backfilled, or not listed by its last backfill), longest_unverified "
    "(the longest such span, or null), hard_versions (versions whose extraction was hard), last_backfill_failure "
    "(why its last backfill failed, or null), failed_captures (captures to fetch again), capture_notes (each "
    "capture's catalog note), refusals (each refused capture's reason), future_versions (versions dated in the "
    "future, recorded by a release before 2026-11-29: `reextract --rebuild` removes them).",
)
@pass_context
def status(obj: Context, as_json: bool) -> None:
    """What is tracked: last capture (listed or fetched), last one fetched, last change, versions, consecutive
    failures, next scheduled run."""

    from policy_archive.pipeline.commands.status import document_statuses, status_lines

    with reported_errors():
        config = obj.config()
        if as_json:
            statuses = [status.as_json() for status in document_statuses(config)]
            click.echo(json.dumps(statuses, indent=2, ensure_ascii=False))
            return
        for line in status_lines(config):
            click.echo(printable(line))  # a last failure's reason quotes what a site or an archive answered
