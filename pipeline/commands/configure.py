"""The commands that write or check the configuration: init, validate, discover, import-ota, extract."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click

from policy_archive.config.checks import ConfigError
from policy_archive.errors import EXIT_FAILURES
from policy_archive.pipeline.commands.common import (
    Context,
    check_output,
    date_option,
    echo_failed,
    echo_unchecked,
    fail,
    number_option,
    pass_context,
    reported_errors,
    writing_output,
)
from policy_archive.records import ID_MAX_LENGTH, ID_PATTERN, ID_RULE, ExtractionRules, is_valid_id
from policy_archive.stop_signals import stop_signals_handled
from policy_archive.text import plural, printable


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path), metavar="[DIR]")
@click.option("--force", is_flag=True, help="Replace settings.toml and the example service if they exist.")
@pass_context
def init(obj: Context, directory: Path | None, force: bool) -> None:
    """Write a commented starter configuration into DIR [default: --config, or ./config]."""
    from policy_archive.config.settings import config_directory
    from policy_archive.config.starter import write_starter_configuration

    target = directory or config_directory(obj.config_dir)
    with reported_errors():
        check_output(target, "", directory=True)
        with writing_output(target, ""):
            written = write_starter_configuration(target, force=force)
    for path in written:
        click.echo(f"wrote {path}")
    if not obj.quiet:  # a hint, not a result
        click.echo(f"next: edit {target}/services/*.toml, then `policy-archive --config {target} validate`")


@click.command()
@pass_context
def validate(obj: Context) -> None:
    """Check the configuration; print what is declared (and a warning for each page declared twice)."""
    with reported_errors():
        config = obj.config()
    for same in config.same_pages():
        written = printable(" and ".join(document.url for document in same))
        click.echo(
            f"policy-archive: warning: {' and '.join(document.key for document in same)} declare the same page "
            f"({written}): each is fetched and recorded separately",
            err=True,
        )
    services = {d.service_id for d in config.documents}
    click.echo(
        f"configuration OK: {len(config.documents)} {plural(len(config.documents), 'document')} of {len(services)} "
        f"{plural(len(services), 'service')} in "
        f"{config.directory}; data in {config.settings.data_dir}"
    )


@click.command()
@click.argument("domains", nargs=-1, metavar="[DOMAIN]...")
@click.option(
    "--from",
    "domain_file",
    type=click.File("rb"),  # read a line at a time, bounded (listing.read_domains), and decoded there
    metavar="FILE",
    help="Also search the domains listed in FILE (UTF-8), one a line ('#' starts a comment; '-' reads stdin); a "
    "line that names no domain, or is longer than 4,096 bytes, is one FAILED FILE:LINE line, the others are searched.",
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
    help="Read each domain's home page today instead of the archive's captures and propose the current URL "
    "(a DOMAIN, or a line of FILE, may then start with http:// to read it over plain HTTP).",
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
    """Find where each DOMAIN's document lived over time from the archive's home-page captures (or, --live,
    where it is today); print (or --write) a service declaration with one history entry per earlier URL. Several
    domains (or --from FILE) are searched in one run, each written to its own service file; a rerun skips those
    already written."""
    from policy_archive.config.settings import config_directory
    from policy_archive.pipeline.commands import discovery as listing
    from policy_archive.pipeline.jobs import discover as discovery
    from policy_archive.pipeline.jobs.discover_live import discover_live

    if since and until and since > until:
        fail(f"--since {since} is after --until {until}")
    if live and (since or until):
        fail("--since and --until read the archive; --live reads today's home page")
    try:
        schemes, bad_lines = listing.domains_given(domains, domain_file)
    except listing.BadDomain as error:
        fail(str(error))
    names = list(schemes)
    several = domain_file is not None or len(names) > 1
    if not names and not bad_lines:
        fail("no domain to search: give DOMAIN... or --from FILE" + (" (the file lists none)" if domain_file else ""))
    if several and service_id:
        fail("--service names the service of one DOMAIN; with several, each service is named after its domain")
    if several and not (write or output):
        fail("several domains are written one service file each: add --write (config/services/) or --output DIR")
    # SIGTERM and SIGINT from here to the end: the domain being searched fails as interrupted, the others are
    # counted not searched (policy_archive/stop_signals.py), also when the signal comes before the crawl.
    with stop_signals_handled():
        with reported_errors():
            for option, given_id in (("--service", service_id), ("--type", document_type)):
                if given_id is not None and not is_valid_id(given_id):
                    if len(given_id) > ID_MAX_LENGTH and ID_PATTERN.fullmatch(given_id):  # the length is what fails
                        reason = f"an id is at most {ID_MAX_LENGTH} characters, got {len(given_id)}"
                        raise ConfigError("command line", option, reason)
                    raise ConfigError("command line", option, f"an id must match {ID_RULE}, got {given_id!r}")
            config = obj.config()
            directory = output or (config_directory(obj.config_dir) / "services" if write else None)
            if directory is not None:  # before any request: a search may take hours
                check_output(directory, "--output" if output else "", directory=True)
            request = listing.Request(document_type, since, until, directory, force, service_id, live)
            data_dir = config.settings.data_dir
            outcomes = listing.Outcomes(request, data_dir, listing=several, verbosity=obj.verbosity)
            outcomes.bad_lines(bad_lines)
            with writing_output(directory, "--output" if output else "") if directory else nullcontext():
                if wanted := outcomes.to_search(names):
                    progress = obj.progress("discover")
                    progress.expect(len(names), "domains", one="domain")
                    if skipped := len(names) - len(wanted):
                        progress.already("skipped", skipped)
                    if live:
                        homes = {domain: f"{schemes[domain]}://{domain}/" for domain in wanted}
                        left = discover_live(config.settings, homes, document_type, outcomes, progress=progress)
                    else:
                        left = discovery.discover(
                            config.settings, data_dir, wanted, document_type, outcomes, since=since, until=until,
                            progress=progress,
                        )  # fmt: skip
                    outcomes.interrupted(left)
        if several:
            click.echo(outcomes.summary(), err=True)
        sys.exit(outcomes.exit_status)


@click.command("import-ota")
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
    from policy_archive.config.settings import WaybackSettings, config_directory, load_settings
    from policy_archive.crawler.hosts import NameAddresses, Proposals
    from policy_archive.pipeline.imports import ota, ota_files

    with reported_errors():
        files = ota_files.choose(ota_files.declaration_files(declarations), services)
        root = config_directory(obj.config_dir)
        if output is None and not root.is_dir():
            raise ConfigError(root, "", "configuration directory not found (use --config DIR or --output DIR)")
        given = output is not None
        output = output or root / "services"
        check_output(output, "--output" if given else "", directory=True)
        # Each fetch URL's name is looked up as discover looks up a linked one, bounded as every lookup is.
        seconds = load_settings(root).wayback.timeout_seconds if root.is_dir() else WaybackSettings.timeout_seconds
        with writing_output(output, "--output" if given else ""):
            result = ota.import_ota(files, output, force=force, proposals=Proposals((), NameAddresses(seconds)))
    for path in result.written:
        click.echo(f"wrote {path}")
    for problem in result.problems:
        echo_failed(problem.name, problem.message)
    for name, note in result.unchecked:
        echo_unchecked(name, note)
    click.echo(ota.describe(len(files), result), err=True)
    sys.exit(result.exit_status)


@click.command()
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
    default=None,
    metavar="TYPE",
    help="Document type to keep when the page holds several: a document id, as backfill and track pass theirs"
    " (headings recognised for privacy-policy, terms-of-service, cookie-policy, imprint, acceptable-use-policy,"
    " community-guidelines; with any other id a page holding several documents is refused); a page that is only"
    " another known document is then refused not-the-document. [default: privacy-policy among several, no page"
    " refused for being another]",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"title", "markdown", "stated_date", "dropped", "hard", "refused"} as JSON (stated_date: YYYY-MM-DD'
    " or null; dropped: what went from inside the located content, each {reason, words, sample}; hard: a note or"
    " null; refused: null, or {reason, detail} with the other fields null and exit 1).",
)
@number_option(
    "--max-bytes",
    "Refuse a FILE larger than BYTES [default: setting [crawl] max_page_bytes of the configuration, the limit"
    " backfill and track keep pages within; 20 MiB without a configuration].",
    lowest=1,
    highest=2**40,
    metavar="BYTES",
)
@pass_context
def extract(
    obj: Context,
    file: Path,
    url: str,
    select: tuple[str, ...],
    remove: tuple[str, ...],
    content_type: str | None,
    document_type: str | None,
    as_json: bool,
    max_bytes: float | None,
) -> None:
    """Print the Markdown this project would record for FILE (to tune a declaration)."""
    from policy_archive.config.declarations import selector_error
    from policy_archive.pipeline.extraction.dropped import hard_note
    from policy_archive.pipeline.extraction.extract import ExtractionRefused
    from policy_archive.pipeline.extraction.extract import extract as run_extract
    from policy_archive.pipeline.jobs.provenance import document_text

    for selector in select + remove:
        if reason := selector_error(selector):
            fail(reason)
    if document_type is not None:
        _check_type(document_type)
    limit = int(max_bytes) if max_bytes is not None else _page_limit(obj)
    with file.open("rb") as handle:
        body = handle.read(limit + 1)  # never more: a page over the limit is refused, not held in memory
    if len(body) > limit:
        source = "--max-bytes" if max_bytes is not None else "setting [crawl] max_page_bytes; --max-bytes to raise it"
        detail = f"over the limit of {limit:,} bytes ({source})"
        _refuse(file, "too-large", detail, as_json, said="too large")
    try:
        document = run_extract(body, url, ExtractionRules(select, remove), content_type, document_type=document_type)
    except ExtractionRefused as refusal:
        _refuse(file, refusal.reason, refusal.detail, as_json)
    if as_json:
        stated = document.stated_date.isoformat() if document.stated_date else None
        fields = {
            "title": document.title,
            "markdown": document.body,
            "stated_date": stated,
            "dropped": [{"reason": d.reason, "words": d.words, "sample": d.sample} for d in document.dropped],
            "hard": hard_note(document.dropped),
            "refused": None,
        }
        click.echo(json.dumps(fields, ensure_ascii=False))
        return
    click.echo(document_text(document), nl=False)  # the version file after its header, as recorded


def _check_type(document_type: str) -> None:
    """Refuse (exit 2) a ``--type`` no declaration could have; the document type is the document's id in backfill
    and track, so any valid id is taken, and one whose headings are not recognised is said on stderr."""
    from policy_archive.pipeline.extraction.documents import NAMES

    known = ", ".join(NAMES)
    if not is_valid_id(document_type):
        fail(f"--type {document_type!r}: a document type is a document id ({ID_RULE}); recognised: {known}")
    if document_type not in NAMES:
        click.echo(
            f"policy-archive: note: --type {document_type}: no headings recognised for it (recognised: {known}):"
            " a page holding several documents is refused several-documents, as in backfill for that id",
            err=True,
        )


def _refuse(file: Path, reason: str, detail: str | None, as_json: bool, said: str | None = None) -> NoReturn:
    """The refusal in one line on stderr (``said``, or the reason), exit 1; with ``--json`` also its JSON on stdout,
    so a consumer reading stdout always gets an object (the fields of a text all null, ``refused`` saying why)."""
    if as_json:
        fields = {"title": None, "markdown": None, "stated_date": None, "dropped": [], "hard": None}
        click.echo(json.dumps(fields | {"refused": {"reason": reason, "detail": detail or None}}, ensure_ascii=False))
    fail(f"{file}: not recorded: {said or reason}" + (f": {detail}" if detail else ""), EXIT_FAILURES)


def _page_limit(obj: Context) -> int:
    """The size limit of pages: the configuration's, if there is a configuration, else the setting's default."""
    from policy_archive.config.settings import CrawlSettings, config_directory

    if not config_directory(obj.config_dir).is_dir():
        return CrawlSettings().max_page_bytes
    with reported_errors():
        return obj.config().settings.crawl.max_page_bytes
