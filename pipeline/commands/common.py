"""What every command shares: the context (configuration and data directories, verbosity), one line
and an exit status per expected error, date options, the run report, the lock around a writing command, and
--quiet/--verbose (the exit statuses: ``cli``).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from policy_archive.config.bounds import check_number_option
from policy_archive.config.checks import ConfigError, secret_url_hider
from policy_archive.config.settings import Config, WaybackSettings, load_config, parse_date_option
from policy_archive.errors import (
    DISK_FULL,
    EXIT_FAILURES,
    EXIT_USAGE,
    ConfigurationError,
    DocumentError,
    OutputError,
    OutputFailure,
    OutputStateError,
    PolicyArchiveError,
    StateError,
    disk_full,
    environment_failure,
)
from policy_archive.files import standard_stream, unwritable, writing_at
from policy_archive.stop_signals import Stopped, stop_signals_handled
from policy_archive.text import printable

if TYPE_CHECKING:
    from policy_archive.pipeline.jobs.progress import Progress


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print ``policy-archive: MESSAGE`` on stderr as one line (unsafe characters escaped, see
    :func:`~policy_archive.text.printable`) and exit with ``status``, 2 (a usage error) unless told; never returns."""
    # One line, whatever the message quotes (a file name with a newline, a page title with ESC).
    click.echo(f"policy-archive: {printable(message)}", err=True)
    sys.exit(status)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn every expected error (the :class:`PolicyArchiveError` family) into one line and its exit status.

    Anything else is a bug and keeps its traceback.
    """
    try:
        yield
    except OutputError as error:  # about a path of the command line, not the configuration
        fail(str(error), error.exit_status)
    except ConfigError as error:  # every problem found, one line each (already escaped), then how many if several
        for problem in error.problems:
            click.echo(f"policy-archive: configuration error: {problem}", err=True)
        if len(error.problems) > 1:
            click.echo(f"policy-archive: {len(error.problems)} configuration problems", err=True)
        sys.exit(error.exit_status)
    except ConfigurationError as error:
        fail(f"configuration error: {error}", error.exit_status)
    except DocumentError as error:
        echo_failed(error.document, error.reason)
        sys.exit(error.exit_status)
    except PolicyArchiveError as error:
        fail(str(error), error.exit_status)
    except FileNotFoundError as error:  # a file named on the command line, or a data directory removed under us
        fail(str(error), EXIT_FAILURES)
    except Exception as error:  # a full disk or a read-only data directory, however it surfaced
        if reason := environment_failure(error):
            fail(reason, EXIT_FAILURES)
        raise


def check_output(
    path: Path, option: str, *, directory: bool, force: bool | None = None, on_the_way: bool = True
) -> None:
    """Refuse, before any work, an output ``path`` that cannot be written (``files.unwritable``; not
    ``on_the_way``: one whose folder does not exist) or, when ``force`` is False (not None: the command replaces
    nothing), a file that exists. A file the process's standard output or error already is (``--output
    /dev/stdout > out.jsonl``: the shell made it) is not one to replace: it is written into as asked
    (``files.standard_stream``). ``option`` names it as the command line did (``--output``; empty for an
    argument). A disk found full here is a failure (``writing_output``)."""
    named = f"{option} {path}" if option else str(path)
    with writing_output(path, option):
        reason = unwritable(path, directory=directory, on_the_way=on_the_way)
    if reason:
        raise OutputError(f"{named}: {reason}")
    if force is False and path.is_file() and standard_stream(path) is None:
        raise OutputError(f"{named}: exists; add --force to replace it")


@contextmanager
def writing_output(path: Path, option: str) -> Iterator[None]:
    """An error of the operating system while writing the output ``path`` becomes one naming ``path`` as given
    (never a partial file of ours) and why: a path that cannot take the output is an :class:`OutputError` (exit 2,
    ``/proc/x`` passes :func:`check_output` and fails here); a full disk is an :class:`OutputFailure` (exit 1: the
    run failed, the command line was right), also when SQLite or Git say it or the error names no file — the
    commands writing an output only read the data directory. Errors about anything else (the data directory)
    pass on unchanged."""
    try:
        yield
    except (OutputError, OutputFailure):
        raise
    except OutputStateError as error:  # what the output holds, or Git writing it (archive.plain_git): its reason
        named = f"{option} {path}" if option else str(path)
        raise (OutputError if error.exit_status == EXIT_USAGE else OutputFailure)(f"{named}: {error.reason}") from None
    except Exception as error:
        named = f"{option} {path}" if option else str(path)
        where = _written_at(error, path)
        # What says the disk is full: the system (OSError), SQLite (the sqlite export); not any error whose words
        # happen to say so.
        said_by_writer = isinstance(error, (OSError, sqlite3.Error, StateError))
        if said_by_writer and disk_full(error) and where != _ELSEWHERE:
            raise OutputFailure(f"{named}: cannot be written: {DISK_FULL}" + (f" ({where})" if where else "")) from None
        if not isinstance(error, OSError) or where in (None, _ELSEWHERE):
            raise
        why = error.strerror or str(error)
        raise OutputError(f"{named}: cannot be written: {why}" + (f" ({where})" if where else "")) from None


_ELSEWHERE = "elsewhere"  # an error naming a file that is not the output's: the data directory's, passed on


def _written_at(error: BaseException, path: Path) -> str | None:
    """``files.writing_at`` for ``error`` (``path`` or, for a link, the file it names); :data:`_ELSEWHERE` when the
    error names another file; None when it names none."""
    if not isinstance(error, OSError) or (error.filename is None and error.filename2 is None):
        return None
    where = writing_at(error, path)
    if where is None and path.is_symlink():  # export writes beside the file a link names
        where = writing_at(error, path.resolve())
    return _ELSEWHERE if where is None else where


def versions_for_reading(config: Config, command: str) -> Any:
    """The versions repository, opened for reading only (no lock, nothing repaired or written). Commits added
    to ``main`` by hand are not read by any reader (writers refuse them): said in one line on stderr."""
    from policy_archive.archive.versions import VersionStore
    from policy_archive.pipeline.jobs.datadir import data_paths, require_readable

    require_readable(config.settings.data_dir, command)
    store = VersionStore(data_paths(config.settings.data_dir)[2], read_only=True)
    if store.changed_outside:
        reason = printable(store.changed_outside)
        click.echo(f"policy-archive: {command} reads the history as policy-archive left it: {reason}", err=True)
    return store


class Context:
    """Click's ``obj`` for the group and every command: the ``--config`` and ``--data`` directories as given (None:
    the defaults of :func:`~policy_archive.config.settings.load_config`) and the verbosity that --quiet/--verbose set
    (-1, 0 or 1). The configuration is read only when a command asks for it (:meth:`config`), so ``--help`` and
    ``--version`` need none."""

    def __init__(self, config_dir: str | None, data_dir: str | None):
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.verbosity = 0  # -1 quiet, 0 normal, 1 verbose

    @property
    def quiet(self) -> bool:
        """Whether --quiet was given (on the group or the command): progress, notes and counts are left out, failures
        and errors are not."""
        return self.verbosity < 0

    def progress(self, label: str) -> Progress:
        """The progress display of a command: none with --quiet; with --verbose a line at every step (a log of
        the whole run), otherwise one every few seconds."""
        from policy_archive.pipeline.jobs.progress import INTERVAL_SECONDS, Progress

        return Progress(label, quiet=self.quiet, interval=0 if self.verbosity > 0 else INTERVAL_SECONDS)

    def config(self) -> Config:
        """Read and validate the configuration afresh on every call (nothing cached); raises
        :class:`~policy_archive.config.checks.ConfigError` naming every problem, which :func:`reported_errors`
        turns into one line each and exit status 2."""
        config = load_config(self.config_dir, self.data_dir)
        hide_secret_urls_in_logs(config)
        return config


pass_context = click.make_pass_decorator(Context)


def date_option(name: str, help_text: str) -> Callable[[Any], Any]:
    """A ``YYYY-MM-DD`` option whose value reaches the command as a :class:`~datetime.date` (None when not given); a
    malformed date is click's usage error (exit 2) naming the option. The day has no time zone: the commands read it
    as a UTC day."""

    def convert(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
        if value is None:
            return None
        try:
            return parse_date_option(value, f"--{param.name}")
        except ConfigError as error:
            raise click.BadParameter(error.reason) from None

    return click.option(name, callback=convert, metavar="YYYY-MM-DD", help=help_text)


def number_option(name: str, help_text: str, *, lowest: float, highest: float, metavar: str) -> Callable[[Any], Any]:
    """A numeric option checked as numbers in settings are: finite and from ``lowest`` to ``highest``
    (click's FloatRange lets NaN, infinity and 1e309 through). Every numeric option is made here (a test
    gives each of them NaN, infinities and out-of-range values)."""

    def check(_ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
        if value is None:
            return None
        try:
            return check_number_option(value, f"--{param.name}", lowest, highest)
        except ConfigError as error:
            raise click.BadParameter(error.reason) from None

    return click.option(name, type=click.FLOAT, callback=check, metavar=metavar, help=help_text)


def echo_failed(document: str, reason: str) -> None:
    """The contract's line for a document that failed (exit status 1)."""
    click.echo(f"FAILED {document}: {printable(reason)}", err=True)


# A URL written into the configuration whose name gave no address (``discover``, ``import-ota``): kept (an old era's
# site may be gone; an offline machine resolves nothing), but a declared origin is exempt from track's
# internal-address check (crawler/hosts.py), so the person writing it should know it was not checked.
UNCHECKED = "not known whether it leads to an internal address: look before tracking it"


def echo_unchecked(name: str, note: str) -> None:
    """``UNCHECKED NAME URL: why: …`` (``note`` is ``URL: why``); the exit status is unchanged."""
    click.echo(f"UNCHECKED {name} {printable(note)}: {UNCHECKED}", err=True)


def report(run_report: Any, quiet: bool = False) -> None:
    """Print a run's report on stderr, then exit with its ``exit_status`` if that is not 0 (1: a document failed),
    else return. Printed: its notes (not with ``quiet``), a ``FAILED`` line per failed document, then its last line,
    which is printed even with ``quiet`` (a caveat on the results). ``run_report`` is a
    :class:`~policy_archive.pipeline.jobs.report.RunReport` or anything with the same attributes."""
    # Notes quote what archives and pages said (a refusal's reason, a redirect's target): one line each.
    for note in () if quiet else run_report.notes:
        click.echo(printable(note), err=True)
    for failure in run_report.failures:
        echo_failed(failure.document, failure.reason)
    if run_report.last_line:  # a caveat on the results themselves: printed even with --quiet
        click.echo(printable(run_report.last_line), err=True)
    if run_report.exit_status:
        sys.exit(run_report.exit_status)


def echo_repaired(note: str) -> None:
    """One line on stderr, ``repaired: NOTE``, whatever the verbosity: what a writing command repaired or set aside
    in the data directory (on opening, or files edited by hand that one of its saves set aside)."""
    click.echo(f"repaired: {printable(note)}", err=True)


def run_writing_command(
    obj: Context,
    command: str,
    documents: tuple[str, ...],
    no_wait: bool,
    work: Callable[[Any, Any, Any], Any],
    *,
    existing: bool = False,
    drop_lost_history: bool = False,
) -> None:
    """Validate, lock the data directory, run ``work(workspace, declarations, progress)``, note the run, report.
    ``existing`` and ``drop_lost_history``: as ``open_workspace`` takes them.

    SIGTERM and SIGINT are handled from here to the end (policy_archive/stop_signals.py): the work ends early as an
    interrupted run and says so, its run noted stopped; a signal while the data directory's lock is waited for
    ends the command before it starts."""
    from policy_archive.pipeline.jobs.workspace import open_workspace

    with stop_signals_handled() as stop:
        with reported_errors():
            try:
                config = obj.config()
                declarations = config.select(documents)
                opened = open_workspace(
                    config, command, wait=not no_wait, existing=existing, drop_lost_history=drop_lost_history
                )
                with opened as workspace, workspace.run_log(command) as runs:
                    for note in workspace.notes:
                        echo_repaired(note)
                    said = len(workspace.versions.notes)
                    try:
                        result = work(workspace, declarations, obj.progress(command))
                    finally:
                        # Files edited by hand while the command ran, set aside by one of its saves: said as
                        # what opening repaired is, even with --quiet (until 2026-11-29 no command said it).
                        for note in workspace.versions.notes[said:]:
                            echo_repaired(note)
                    if stop.received:
                        result = replace(result, stopped_by=stop.signal_name)
                    runs.append(result)
            except Stopped as stopped:
                fail(f"stopped by {stopped.signal_name} before the run started: nothing done", EXIT_FAILURES)
        report(result, obj.quiet)


# The configured URLs that may hold a secret token, hidden in every log record made from now on (one hider: the
# last configuration read), or none yet.
_HIDERS: list[Callable[[str], str]] = []


def hide_secret_urls_in_logs(config: Config) -> None:
    """Make every log line name the archive's endpoints and the webhook by scheme and host only, whoever writes it
    (Scrapy's ``Crawled (200) <GET {replay_url}/…>`` under ``--verbose``, Twisted's, ours, the schedule's): their
    path or query may hold a secret token (issue 11, 2026-11-29). Through the record factory, so that every
    handler gets the line hidden, Scrapy's and Python's last-resort one included."""
    wayback, public = config.settings.wayback, WaybackSettings()
    # The Internet Archive's own endpoints, as shipped, hold no token: their lines keep naming the capture asked.
    endpoints = [url for url in (wayback.cdx_url, wayback.replay_url) if url not in (public.cdx_url, public.replay_url)]
    hider = secret_url_hider([*endpoints, config.settings.schedule.webhook_url or ""])
    if not _HIDERS:
        logging.setLogRecordFactory(_hiding(logging.getLogRecordFactory()))
    _HIDERS[:] = [hider]


def _hiding(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = factory(*args, **kwargs)
        try:
            message = made.getMessage()
        except Exception:  # noqa: BLE001 -- a record whose arguments do not fit its format: logging says so later
            return made
        hidden = _HIDERS[0](message)
        if hidden != message:
            made.msg, made.args = hidden, ()
        return made

    return record


VERBOSITY = "policy_archive.verbosity"
# The loggers that say when a request waits before asking again (the archive's pauses, a replay or a live page
# asked again): one bare line each on stderr at the default verbosity.
WAITS_LOGGERS = ("policy_archive.crawler.ratelimit", "policy_archive.crawler.middlewares")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes bare messages to whatever ``sys.stderr`` is when a record comes (click's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setLevel(logging.WARNING)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is always the current ``sys.stderr``."""


_WAITS = _Stderr()


def show_waits(shown: bool = True) -> None:
    """Print every wait before asking again (``archive web.archive.org answered 429: pausing all requests for
    60 s``) on stderr, also during a crawl: Scrapy 2.19's LogCount extension adds a handler to the root logger
    while it crawls, and from then on Python's last-resort handler, which printed them before, prints nothing.
    ``--verbose`` logs them with every other line, ``--quiet`` not at all (``shown=False``)."""
    for name in WAITS_LOGGERS:
        logger = logging.getLogger(name)
        if shown and _WAITS not in logger.handlers:
            logger.addHandler(_WAITS)
        elif not shown:
            logger.removeHandler(_WAITS)


def _set_verbosity(level: int) -> Callable[[click.Context, click.Parameter, bool], None]:
    def callback(ctx: click.Context, _param: click.Parameter, given: bool) -> None:
        if not given:
            return
        # The group's own options are read before its body creates the Context: keep the level in the
        # context chain's shared meta as well, where the group body picks it up.
        ctx.meta[VERBOSITY] = level
        obj = ctx.find_object(Context)
        if obj is not None:
            obj.verbosity = level
        # Scrapy and our modules log through the standard logging tree; the level decides what reaches stderr.
        show_waits(False)
        if level > 0:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(logging.INFO if level > 0 else logging.ERROR)

    return callback


def add_verbosity_options(command: click.Command) -> None:
    """--quiet and --verbose on the group and on every command, so either place works."""
    command.params.extend(
        [
            click.Option(
                ["-q", "--quiet"],
                is_flag=True,
                expose_value=False,
                callback=_set_verbosity(-1),
                help=(
                    "Print only failures and errors: no progress, no notes, no counts; report and export print "
                    "nothing when they succeed. A command's own output stays, as do backfill's last line, the "
                    "files init, discover and import-ota name as written, and their summary over several."
                ),
            ),
            click.Option(
                ["-v", "--verbose"],
                is_flag=True,
                expose_value=False,
                callback=_set_verbosity(1),
                help=(
                    "Also log what is being fetched and decided (the crawler's and the jobs' log lines), "
                    "and a progress line at every step."
                ),
            ),
        ]
    )
