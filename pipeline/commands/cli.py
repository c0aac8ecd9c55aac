"""The `policy-archive` command line: thin wrappers; the work is in the pipeline modules.

Exit status: 0 all fine; 1 some documents failed (each named on stderr with its reason); 2 usage or
configuration error (nothing written).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click

from policy_archive.config.settings import Config, ConfigError, load_config, parse_date_option
from policy_archive.errors import (
    EXIT_FAILURES,
    EXIT_USAGE,
    ConfigurationError,
    PolicyArchiveError,
    environment_failure,
)
from policy_archive.pipeline.jobs.strategy import MAX_HIDDEN_CAPTURES
from policy_archive.records import ID_PATTERN, ExtractionRules
from policy_archive.text import printable


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
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
    except ConfigurationError as error:
        fail(f"configuration error: {error}", error.exit_status)
    except PolicyArchiveError as error:
        fail(str(error), error.exit_status)
    except FileNotFoundError as error:  # a file named on the command line, or a data directory removed under us
        fail(str(error), EXIT_FAILURES)
    except Exception as error:  # a full disk or a read-only data directory, however it surfaced
        if reason := environment_failure(error):
            fail(reason, EXIT_FAILURES)
        raise


class Context:
    def __init__(self, config_dir: str | None, data_dir: str | None):
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.verbosity = 0  # -1 quiet, 0 normal, 1 verbose

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    def config(self) -> Config:
        return load_config(self.config_dir, self.data_dir)


pass_context = click.make_pass_decorator(Context)


def date_option(name: str, help_text: str) -> Callable[[Any], Any]:
    def convert(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
        if value is None:
            return None
        try:
            return parse_date_option(value, f"--{param.name}")
        except ConfigError as error:
            raise click.BadParameter(error.reason) from None

    return click.option(name, callback=convert, metavar="YYYY-MM-DD", help=help_text)


def report(run_report: Any, quiet: bool = False) -> None:
    for note in () if quiet else run_report.notes:
        click.echo(note, err=True)
    for failure in run_report.failures:
        click.echo(f"FAILED {failure.document}: {failure.reason}", err=True)
    if run_report.last_line:  # a caveat on the results themselves: printed even with --quiet
        click.echo(run_report.last_line, err=True)
    if run_report.exit_status:
        sys.exit(run_report.exit_status)


def run_writing_command(
    obj: Context, command: str, documents: tuple[str, ...], no_wait: bool, work: Callable[[Any, Any, Any], Any]
) -> None:
    """Validate, lock the data directory, run ``work(workspace, declarations, progress)``, note the run, report."""
    from policy_archive.pipeline.jobs.progress import Progress
    from policy_archive.pipeline.jobs.workspace import open_workspace

    with reported_errors():
        config = obj.config()
        declarations = config.select(documents)
        with open_workspace(config, command, wait=not no_wait) as workspace, workspace.run_log(command) as runs:
            for note in workspace.notes:
                click.echo(f"repaired: {printable(note)}", err=True)
            result = work(workspace, declarations, Progress(command, quiet=obj.quiet))
            runs.append(result)
    report(result, obj.quiet)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_dir",
    metavar="DIR",
    help="Configuration directory [default: ./config, or env POLICY_ARCHIVE_CONFIG].",
)
@click.option(
    "--data",
    "data_dir",
    metavar="DIR",
    help="Data directory [default: settings archive.data_dir, or env POLICY_ARCHIVE_DATA].",
)
@click.version_option(package_name="policy-archive")
@click.pass_context
def main(ctx: click.Context, config_dir: str | None, data_dir: str | None) -> None:
    """Track how websites' legal documents change over time, as a dated Git history."""
    ctx.obj = Context(config_dir, data_dir)
    ctx.obj.verbosity = ctx.meta.get(VERBOSITY, 0)


@main.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@date_option("--since", "Only captures on or after this day.")
@date_option("--until", "Only captures on or before this day.")
@click.option(
    "--strategy",
    type=click.Choice(["bisect", "all", "sample"]),
    default="bisect",
    show_default=True,
    help="bisect: change-point search guided by the listed capture lengths; every version it finds is dated "
    f"at its first capture; a change is missed only if it lasts at most {MAX_HIDDEN_CAPTURES} captures whose "
    "listed lengths all look like the text around them; the captures it did not fetch are recorded and "
    "counted (status, last line). "
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
@click.option("--no-wait", is_flag=True, help="Fail at once if another command is writing the data directory.")
@pass_context
def backfill(
    obj: Context,
    documents: tuple[str, ...],
    since: date | None,
    until: date | None,
    strategy: str,
    verify_spans: bool,
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
            progress=progress,
        ),
    )


@main.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@click.option("--no-wait", is_flag=True, help="Fail at once if another command is writing the data directory.")
@pass_context
def track(obj: Context, documents: tuple[str, ...], no_wait: bool) -> None:
    """Fetch the live documents now and record those whose text changed."""
    from policy_archive.pipeline.jobs.track import track as run_track

    run_writing_command(obj, "track", documents, no_wait, run_track)  # run_track(workspace, declarations, progress)


@main.command()
@click.option(
    "--every",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Run every SECONDS instead of on the cron expression of settings [schedule] track.",
)
@pass_context
def schedule(obj: Context, every: float | None) -> None:
    """Run `track` on a schedule in the foreground; SIGTERM or Ctrl-C stops it cleanly."""
    import logging

    from policy_archive.pipeline.scheduling.scheduler import run_schedule

    with reported_errors():
        config = obj.config()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
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
    status = run_schedule(
        command,
        None if every else config.settings.schedule.track,
        every,
        log=logging.getLogger("policy-archive.schedule"),
    )
    sys.exit(status)


@main.command()
@click.argument("document", metavar="DOC")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array, one object per version: date, commit, source, subject, snapshot_url, "
    "stated_date, unchanged_since (null when unknown), document, note.",
)
@pass_context
def log(obj: Context, document: str, as_json: bool) -> None:
    """List a document's versions: date, commit, source, subject, snapshot. DOC may be SERVICE: each of its
    documents in turn."""
    from policy_archive.pipeline.commands import review

    with reported_errors(), _review(obj, document, several=True) as (catalog, store, declarations):
        click.echo(
            review.log_json(catalog, store, declarations)
            if as_json
            else review.format_logs(catalog, store, declarations)
        )


@main.command()
@click.argument("document", metavar="DOC")
@date_option("--at", "Show the version in force at the end of this day [default: the latest].")
@pass_context
def show(obj: Context, document: str, at: date | None) -> None:
    """Print a document's version file."""
    from policy_archive.pipeline.commands import review

    with reported_errors(), _review(obj, document) as (catalog, store, declaration):
        click.echo(review.show(catalog, store, declaration, at), nl=False)


@main.command()
@click.argument("document", metavar="DOC")
@date_option("--from", "Version in force at the end of this day [default: the one before --to].")
@date_option("--to", "Version in force at the end of this day [default: the latest].")
@pass_context
def diff(obj: Context, document: str, **dates: date | None) -> None:
    """Show what changed in a document between two dates (default: its last change)."""
    from policy_archive.pipeline.commands import review

    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        fail(f"--from {dates['from']} is after --to {dates['to']}")  # else a reversed patch, silently
    with reported_errors(), _review(obj, document) as (catalog, store, declaration):
        click.echo(review.diff(catalog, store, declaration, dates["from"], dates["to"]), nl=False)


@contextmanager
def _review(obj: Context, document: str, *, several: bool = False) -> Iterator[tuple[Any, Any, Any]]:
    """The catalog, the version store and the declaration named (with ``several``: the tuple of them)."""
    from policy_archive.archive.versions import VersionStore
    from policy_archive.pipeline.jobs.workspace import check_in_step, data_paths, open_catalog

    config = obj.config()
    if "/" not in document and not several:
        raise ConfigError("command line", document, "name one document as SERVICE/DOCUMENT")
    declarations = config.select([document])
    with open_catalog(config) as catalog:
        store = VersionStore(data_paths(config.settings.data_dir)[2], read_only=True)
        check_in_step(catalog, store)
        yield catalog, store, (declarations if several else declarations[0])


def _version_store(config: Config) -> Any:
    """The versions repository, opened for reading only (no lock, nothing repaired or written)."""
    from policy_archive.archive.versions import VersionStore
    from policy_archive.pipeline.jobs.workspace import data_paths

    directory = data_paths(config.settings.data_dir)[2]
    if not (directory / ".git").exists():
        raise FileNotFoundError(f"no data in {config.settings.data_dir} yet: run `policy-archive backfill` first")
    return VersionStore(directory, read_only=True)


def _export_formats() -> list[str]:
    from policy_archive.pipeline.exports import format_names

    return format_names()


@main.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(_export_formats()),
    required=True,
    help="jsonl: one JSON object per line; csv: a header row, one row per version; sqlite: a database for "
    "Datasette (versions and documents tables, full-text search); ota: a Git repository in Open Terms Archive's "
    "layout (<Service name>/<Terms type>.md, one commit per version; a second export adds only new versions).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    metavar="PATH",
    help="File to write (replaced whole when the export is complete); for ota, the repository's directory.",
)
@pass_context
def export(obj: Context, documents: tuple[str, ...], format_name: str, output: Path) -> None:
    """Export every version of the documents (DOC is SERVICE/DOCUMENT or SERVICE; none means all): one row per
    version with its dates, commit, snapshot, title, word and line counts and text."""
    from policy_archive.pipeline.exports import format_module
    from policy_archive.pipeline.exports._rows import ExportSource
    from policy_archive.pipeline.jobs.progress import Progress

    with reported_errors():
        config = obj.config()
        declarations = config.select(documents)
        progress = Progress(f"export {format_name}", quiet=obj.quiet)
        source = ExportSource(declarations, _version_store(config), progress)
        summary = format_module(format_name).export(source, output)
        progress.finish()
    click.echo(summary)


@main.command("report")
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    metavar="DIR",
    help="Directory of the site (index.html, one page and one Atom feed per document, feed.atom); an existing "
    "report there is updated: only documents with a new version are rewritten.",
)
@pass_context
def report_site(obj: Context, documents: tuple[str, ...], output: Path) -> None:
    """Write a static site of the history that opens from file:// with no server: every document, its timeline,
    each change as a word-level difference, links to every snapshot, Atom feeds."""
    from policy_archive.pipeline.jobs.progress import Progress
    from policy_archive.pipeline.jobs.workspace import open_catalog
    from policy_archive.pipeline.webreport.build import build_report

    with reported_errors():
        config = obj.config()
        declarations = config.select(documents)
        store = _version_store(config)
        progress = Progress("report", quiet=obj.quiet)
        progress.expect(len(declarations), "documents")
        with open_catalog(config) as catalog:
            result = build_report(declarations, config.documents, catalog, store, output, progress)
        progress.finish()
    click.echo(
        f"{result.documents} documents in {result.index} ({len(result.rewritten)} pages written, the others unchanged)"
    )


@main.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@pass_context
def verify(obj: Context, documents: tuple[str, ...]) -> None:
    """Check every version against its raw capture: the capture is kept, its payload matches the commit's
    Payload-Sha1, and extracting it again gives the recorded text. Exit 1 naming each mismatch."""
    from policy_archive.archive.captures import CaptureStore
    from policy_archive.pipeline.jobs.progress import Progress
    from policy_archive.pipeline.jobs.verify import Verdict, Verifier
    from policy_archive.pipeline.jobs.verify import verify as run_verify
    from policy_archive.pipeline.jobs.workspace import data_paths, open_catalog

    with reported_errors():
        config = obj.config()
        declarations = config.select(documents)
        store = _version_store(config)
        progress = Progress("verify", quiet=obj.quiet)
        progress.expect(None, "versions")
        counts = dict.fromkeys(Verdict, 0)
        with open_catalog(config) as catalog:
            verifier = Verifier(catalog, CaptureStore(data_paths(config.settings.data_dir)[1]))
            for check in run_verify(declarations, store, verifier, progress):
                counts[check.verdict] += 1
                if check.verdict is Verdict.MISMATCH:
                    click.echo(f"FAILED {check.document}: {check.describe()}", err=True)
                elif check.verdict is Verdict.OLDER_EXTRACTOR:
                    click.echo(f"{check.document}: {check.describe()}")
        progress.finish()
    total = sum(counts.values())
    older = counts[Verdict.OLDER_EXTRACTOR]
    click.echo(
        f"{counts[Verdict.VERIFIED]}/{total} versions verified"
        + (f"; {older} made by another extractor revision (not a mismatch)" if older else "")
        + (f"; {counts[Verdict.MISMATCH]} mismatches" if counts[Verdict.MISMATCH] else "")
    )
    if counts[Verdict.MISMATCH]:
        sys.exit(EXIT_FAILURES)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--url",
    default="https://example.org/",
    show_default=True,
    help="The page's URL (resolves relative links; chooses the site's rules).",
)
@click.option("--select", multiple=True, metavar="CSS", help="CSS selector of the document body (repeatable).")
@click.option("--remove", multiple=True, metavar="CSS", help="CSS selector to drop before extraction (repeatable).")
@click.option("--content-type", default=None, help="Content-Type as served, e.g. 'text/html; charset=windows-1252'.")
@click.option(
    "--type",
    "document_type",
    default="privacy-policy",
    show_default=True,
    metavar="TYPE",
    help="Document type to keep when the page holds several (privacy-policy, terms-of-service, cookie-policy, …).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"title", "markdown", "stated_date"} as JSON (stated_date: YYYY-MM-DD or null).',
)
def extract(
    file: Path,
    url: str,
    select: tuple[str, ...],
    remove: tuple[str, ...],
    content_type: str | None,
    document_type: str,
    as_json: bool,
) -> None:
    """Print the Markdown this project would record for FILE (to tune a declaration)."""
    from policy_archive.config.settings import selector_error
    from policy_archive.pipeline.extraction.extract import ExtractionRefused
    from policy_archive.pipeline.extraction.extract import extract as run_extract
    from policy_archive.pipeline.jobs.provenance import document_text

    for selector in select + remove:
        if reason := selector_error(selector):
            fail(f"invalid CSS selector {selector!r}: {reason}")
    try:
        document = run_extract(
            file.read_bytes(), url, ExtractionRules(select, remove), content_type, document_type=document_type
        )
    except ExtractionRefused as refusal:
        fail(
            f"{file}: not recorded: {refusal.reason}" + (f": {refusal.detail}" if refusal.detail else ""),
            EXIT_FAILURES,
        )
    if as_json:
        stated = document.stated_date.isoformat() if document.stated_date else None
        fields = {"title": document.title, "markdown": document.body, "stated_date": stated}
        click.echo(json.dumps(fields, ensure_ascii=False))
        return
    click.echo(document_text(document), nl=False)  # the version file after its header, as recorded


@main.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@click.option("--no-wait", is_flag=True, help="Fail at once if another command is writing the data directory.")
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
    )


@main.command()
@click.argument("domains", nargs=-1, metavar="[DOMAIN]...")
@click.option(
    "--from",
    "domain_file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Also search the domains listed in FILE, one a line ('#' starts a comment; '-' reads stdin).",
)
@click.option(
    "--type",
    "document_type",
    default="privacy-policy",
    show_default=True,
    metavar="ID",
    help="Document to look for: privacy-policy, terms-of-service, cookie-policy (any id: its words).",
)
@click.option(
    "--service", "service_id", metavar="ID", help="Service id of the declaration [default: the domain] (one DOMAIN)."
)
@date_option("--since", "Only home-page captures on or after this day.")
@date_option("--until", "Only home-page captures on or before this day.")
@click.option("--write", is_flag=True, help="Write config/services/ID.toml instead of printing the declaration.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write DIR/ID.toml instead of printing the declaration (instead of config/services/ with --write).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace service files that exist; a list also searches again the domains an earlier run finished.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Read today's home page instead of the archive's captures and propose the current URL "
    "(one DOMAIN, which may then start with http:// to read it over plain HTTP).",
)
@pass_context
def discover(
    obj: Context,
    domains: tuple[str, ...],
    domain_file: Any,
    document_type: str,
    service_id: str | None,
    since: date | None,
    until: date | None,
    write: bool,
    output: Path | None,
    force: bool,
    live: bool,
) -> None:
    """Find where each DOMAIN's document lived over time from the archive's home-page captures; print (or
    --write) a service declaration with one history entry per earlier URL. Several domains (or --from FILE) are
    searched in turn, each written to its own service file; a rerun skips those already written."""
    from policy_archive.config.settings import config_directory
    from policy_archive.pipeline.commands import discovery as listing
    from policy_archive.pipeline.jobs import discover as discovery
    from policy_archive.pipeline.jobs.progress import Progress

    if since and until and since > until:
        fail(f"--since {since} is after --until {until}")
    if live and (since or until):
        fail("--since and --until read the archive; --live reads today's home page")
    try:
        given = [listing.domain_of(domain) for domain in domains]
        listed = listing.read_domains(domain_file, domain_file.name) if domain_file else []
    except listing.BadDomain as error:
        fail(str(error))
    names = list(dict.fromkeys([domain for _, domain in given] + listed))
    several = domain_file is not None or len(names) > 1
    if not names:
        fail("no domain to search: give DOMAIN... or --from FILE" + (" (the file lists none)" if domain_file else ""))
    if several and service_id:
        fail("--service names the service of one DOMAIN; with several, each service is named after its domain")
    if several and live:
        fail("--live reads one home page: give one DOMAIN")
    if several and not (write or output):
        fail("several domains are written one service file each: add --write (config/services/) or --output DIR")
    with reported_errors():
        if not ID_PATTERN.fullmatch(service_id or names[0]) or not ID_PATTERN.fullmatch(document_type):
            raise ConfigError("command line", service_id, "service and document ids must match [a-z0-9][a-z0-9.-]*")
        config = obj.config()
        directory = output or (config_directory(obj.config_dir) / "services" if write else None)
        request = listing.Request(document_type, since, until, directory, force, service_id)
        data_dir = config.settings.data_dir
        outcomes = listing.Outcomes(request, data_dir, listing=several, verbose=obj.verbosity > 0)
        wanted = outcomes.to_search(names)
        if live and wanted:
            scheme = given[0][0]
            outcomes(discovery.discover_live(config.settings, f"{scheme}://{names[0]}/", names[0], document_type))
        elif wanted:
            progress = Progress("discover", quiet=obj.quiet)
            progress.expect(len(names), "domains")
            progress.add("skipped", len(names) - len(wanted), done=True)
            outcomes.interrupted(
                discovery.discover(
                    config.settings,
                    data_dir,
                    wanted,
                    document_type,
                    outcomes,
                    since=since,
                    until=until,
                    progress=progress,
                )  # fmt: skip
            )
    if several:
        click.echo(outcomes.summary(), err=True)
    sys.exit(outcomes.exit_status)


@main.command("import-ota")
@click.argument("declarations", metavar="DECLARATIONS_DIR", type=click.Path(path_type=Path))
@click.argument("services", nargs=-1, metavar="[SERVICE]...")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write the service files here [default: the configuration's services/ folder].",
)
@click.option("--force", is_flag=True, help="Replace service files that already exist.")
@pass_context
def import_ota(obj: Context, declarations: Path, services: tuple[str, ...], output: Path | None, force: bool) -> None:
    """Turn Open Terms Archive declarations (<Service>.json, <Service>.history.json) into service files.
    SERVICE is an OTA file name (ASUS) or its id here (asus); none means every declaration."""
    from policy_archive.config.settings import config_directory
    from policy_archive.pipeline.imports import ota

    with reported_errors():
        files = ota.choose(ota.declaration_files(declarations), services)
        if output is None:
            root = config_directory(obj.config_dir)
            if not root.is_dir():
                raise ConfigError(root, "", "configuration directory not found (use --config DIR or --output DIR)")
            output = root / "services"
        result = ota.import_ota(files, output, force=force)
    for path in result.written:
        click.echo(f"wrote {path}")
    for problem in result.problems:
        click.echo(problem.line(), err=True)
    click.echo(ota.describe(len(files), result), err=True)
    sys.exit(result.exit_status)


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path), metavar="[DIR]")
@click.option("--force", is_flag=True, help="Replace settings.toml and the example service if they exist.")
@pass_context
def init(obj: Context, directory: Path | None, force: bool) -> None:
    """Write a commented starter configuration into DIR [default: --config, or ./config]."""
    from policy_archive.config.settings import config_directory
    from policy_archive.config.starter import write_starter_configuration

    target = directory or config_directory(obj.config_dir)
    with reported_errors():
        written = write_starter_configuration(target, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: edit {target}/services/*.toml, then `policy-archive --config {target} validate`")


@main.command()
@click.option("--no-wait", is_flag=True, help="Fail at once if another command is writing the data directory.")
@pass_context
def repair(obj: Context, no_wait: bool) -> None:
    """Repair the data directory: set an unreadable catalog aside and list the versions of Git again, remake a
    half-made repository, set aside files edited by hand in data/versions (every writing command does this too)."""
    from policy_archive.pipeline.jobs.report import RunReport

    def check(workspace: Any, _declarations: Any, _progress: Any) -> Any:
        return RunReport([], [], [] if workspace.notes else [f"{workspace.data_dir}: nothing to repair"])

    run_writing_command(obj, "repair", (), no_wait, check)


@main.command()
@pass_context
def validate(obj: Context) -> None:
    """Check the configuration; print what is declared."""
    with reported_errors():
        config = obj.config()
    services = {d.service_id for d in config.documents}
    click.echo(
        f"configuration OK: {len(config.documents)} documents of {len(services)} services in "
        f"{config.directory}; data in {config.settings.data_dir}"
    )


@main.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array, one object per document: document, versions, last_capture, last_change, "
    "consecutive_failures, last_failure, refused_captures.",
)
@pass_context
def status(obj: Context, as_json: bool) -> None:
    """What is tracked: last capture, last change, versions, consecutive failures, next scheduled run."""
    import json

    from policy_archive.pipeline.commands.status import document_statuses, status_lines

    with reported_errors():
        config = obj.config()
        if as_json:
            statuses = [status.as_json() for status in document_statuses(config)]
            click.echo(json.dumps(statuses, indent=2, ensure_ascii=False))
            return
        for line in status_lines(config):
            click.echo(line)


VERBOSITY = "policy_archive.verbosity"


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
        if level > 0:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(logging.INFO if level > 0 else logging.ERROR)

    return callback


def _add_verbosity_options(command: click.Command) -> None:
    """--quiet and --verbose on the group and on every command, so either place works."""
    command.params.extend(
        [
            click.Option(
                ["-q", "--quiet"],
                is_flag=True,
                expose_value=False,
                callback=_set_verbosity(-1),
                help="Print only failures and errors (no progress, no notes).",
            ),
            click.Option(
                ["-v", "--verbose"],
                is_flag=True,
                expose_value=False,
                callback=_set_verbosity(1),
                help="Also log what is being fetched and decided (the crawler's and the jobs' log lines).",
            ),
        ]
    )


for _command in (main, *main.commands.values()):
    _add_verbosity_options(_command)


if __name__ == "__main__":
    main()
