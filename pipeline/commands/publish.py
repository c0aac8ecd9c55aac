"""The commands that write the history elsewhere or check it: export, report, verify."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from policy_archive.errors import EXIT_FAILURES, OutputError
from policy_archive.pipeline.commands.common import (
    Context,
    check_output,
    echo_failed,
    pass_context,
    reported_errors,
    versions_for_reading,
    writing_output,
)
from policy_archive.text import plural, printable

if TYPE_CHECKING:
    from policy_archive.pipeline.jobs.verify import Verdict


def _export_formats() -> list[str]:
    from policy_archive.pipeline.exports import format_names

    return format_names()


@click.command()
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
    help="File to write, in a folder that exists (replaced whole when the export is complete; an existing file "
    "only with --force); for ota, the repository's directory (created in a folder that exists, or an earlier ota "
    "export there extended).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the file PATH if it exists, an earlier export too (jsonl, csv, sqlite; ota adds to its "
    "repository and needs none).",
)
@pass_context
def export(obj: Context, documents: tuple[str, ...], format_name: str, output: Path, force: bool) -> None:
    """Export every version of the documents (DOC is SERVICE/DOCUMENT or SERVICE; none means all): one row per
    version with its dates, commit, snapshot, title, word and line counts and text."""
    from policy_archive.pipeline.exports import VersionsNotExported, format_module
    from policy_archive.pipeline.exports._output import leftovers_removed
    from policy_archive.pipeline.exports._rows import ExportSource

    repository = format_name == "ota"  # a directory, extended by each export (decision 0013)
    with reported_errors():
        # A file is replaced only when asked: a typo (--output notes.json) must not cost a file, and whether an
        # existing file is an earlier export cannot be told reliably from its bytes (a CSV is any text). Nor is a
        # folder made on the way to it: a typo in a folder's name would make a new folder tree (as report).
        check_output(output, "--output", directory=repository, force=None if repository else force, on_the_way=False)
        config = obj.config()
        declarations = config.select(documents)
        progress = obj.progress(f"export {format_name}")
        source = ExportSource(declarations, versions_for_reading(config, "export"), progress, config.documents)
        try:
            with writing_output(output, "--output"):
                # What an export killed outright left beside the file (never removed otherwise), said whatever
                # the verbosity: files of the user's folder are removed.
                if not repository and (removed := leftovers_removed(output)):
                    click.echo(removed, err=True)
                summary = format_module(format_name).export(source, output)
        except VersionsNotExported as partial:
            progress.finish()
            if not obj.quiet:
                click.echo(partial.summary, err=True)
            for document, reason in partial.failures:
                echo_failed(document, reason)
            sys.exit(EXIT_FAILURES)
        progress.finish()
    # What was written is the summary of a success (--quiet prints nothing then), on stderr as track's and
    # backfill's: stdout may be the export itself (--output /dev/stdout), whose last row it was (audit 2026-11-28).
    if not obj.quiet:
        click.echo(summary, err=True)


def _base_url(_ctx: click.Context, _param: click.Parameter, given: str | None) -> str | None:
    """``--base-url`` as the feeds join it with their paths: an absolute http(s) URL without query, fragment or
    user name, ending in ``/`` (``https://example.org/policies`` is the folder ``policies/``, as a report is a
    folder). Anything else is click's usage error (exit 2): a feed naming a wrong address sends its readers
    elsewhere."""
    if given is None:
        return None
    try:
        parts = urlsplit(given)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # urllib refuses an unclosed IPv6 bracket, a port that is no number or out of range
        valid = False
    # "?", "#" and "@" are looked for in the text, not in urlsplit's parts: a bare "?" or "#" gives an empty query
    # or fragment (and "https://@host/" an empty user name), which the feeds' paths would then be joined inside.
    if not valid or "?" in given or "#" in given or "@" in parts.netloc or not given.isprintable() or " " in given:
        raise click.BadParameter(
            f"{printable(given)} is not an absolute http(s) address of a folder (such as https://example.org/policies/"
            "): no query, fragment or user name"
        )
    return given if given.endswith("/") else given + "/"


@click.command("report")
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    metavar="DIR",
    help="Directory of the site (index.html, one page and one Atom feed per document, feed.atom), made if missing "
    "in a folder that exists; an existing report there is updated: only documents with a new version are "
    "rewritten. Any other directory must be empty, unless --force.",
)
@click.option(
    "--base-url",
    metavar="URL",
    callback=_base_url,
    help="The http(s) address DIR is published at (https://example.org/policies/): each Atom feed then names its "
    'own address (rel="self"), as feed readers use to find it again. Without it no feed names itself (a report '
    "read from file:// has no such address). Changing it rewrites every feed: give every document then.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write the report into DIR even if it holds files that are not a report's, replacing its index.html, "
    "style.css, feed.atom and the documents' pages and feeds there.",
)
@pass_context
def report_site(obj: Context, documents: tuple[str, ...], output: Path, base_url: str | None, force: bool) -> None:
    """Write a static site of the history that opens from file:// with no server: every document, its timeline,
    each change as a word-level difference, links to every snapshot, Atom feeds."""
    from policy_archive.pipeline.jobs.datadir import open_catalog
    from policy_archive.pipeline.webreport.build import build_report, foreign_directory

    with reported_errors():
        check_output(output, "--output", directory=True, on_the_way=False)  # DIR is made, not folders to it
        config = obj.config()
        declarations = config.select(documents)
        # A directory of one's own is not written into unasked, as init, export and import-ota do not replace a file.
        if not force and (reason := foreign_directory(output, declarations)):
            raise OutputError(f"--output {output}: {reason}")
        store = versions_for_reading(config, "report")
        progress = obj.progress("report")
        progress.expect(len(declarations), "documents", one="document")
        with open_catalog(config, "report") as catalog, writing_output(output, "--output"):
            result = build_report(declarations, config.documents, catalog, store, output, progress, base_url=base_url)
        progress.finish()
    if obj.quiet:  # nothing on success with --quiet, as for export
        return
    click.echo(  # on stderr, as export's summary
        f"{result.documents} {plural(result.documents, 'document')} in {result.index} ({len(result.rewritten)} "
        f"{plural(len(result.rewritten), 'page')} written, the others unchanged)",
        err=True,
    )


@click.command()
@click.argument("documents", nargs=-1, metavar="[DOC]...")
@pass_context
def verify(obj: Context, documents: tuple[str, ...]) -> None:
    """Check every version against its raw capture: the capture is kept, its payload matches the commit's
    Payload-Sha1, and extracting it again gives the recorded text. Versions made by another extractor revision or
    with other extraction rules (the declaration edited since) are named, not mismatches. A version whose own
    record cannot be read is checked on the same bytes kept from another capture, and named: that confirms its
    text, not its date. A capture whose bytes were archived at another time than its CDX row (a redirect's target)
    is held to 30 days from it and, where the catalog keeps the listing, between the captures listed around it;
    a document whose listing it does not keep (re-indexed from the WARC files) is named. A version dated more
    than a day after the command began (an archive's future date an older release recorded) is a mismatch. A
    ``main`` changed outside policy-archive fails too: each commit added by hand is named with what it changes, and
    policy-archive's own commits no longer on it are counted. A technical upgrade made from an earlier capture,
    with other bytes, than the version it follows (a history an older release wrote) is named stale, with its
    repair. Exit 1 naming each mismatch, each such version and each such commit."""
    from policy_archive.archive.captures import CaptureStore
    from policy_archive.pipeline.jobs.datadir import data_paths, open_catalog
    from policy_archive.pipeline.jobs.verify import FAILING, NO_LISTING, Verdict, Verifier, by_hand_lines
    from policy_archive.pipeline.jobs.verify import verify as run_verify

    clock = datetime.now(UTC).replace(microsecond=0)  # the run's one clock (examine.in_the_future)
    with reported_errors():
        config = obj.config()
        declarations = config.select(documents)
        store = versions_for_reading(config, "verify")
        progress = obj.progress("verify")
        progress.expect(None, "versions", one="version")
        counts = dict.fromkeys(Verdict, 0)
        with open_catalog(config, "verify") as catalog:
            captures = CaptureStore(
                data_paths(config.settings.data_dir)[1], max_page_bytes=config.settings.crawl.max_page_bytes
            )
            verifier = Verifier(catalog, captures, clock=clock)
            for check in run_verify(declarations, store, verifier, progress):
                counts[check.verdict] += 1
                if check.verdict in FAILING:
                    click.echo(f"FAILED {check.document}: {check.describe()}", err=True)
                elif check.verdict in (Verdict.OLDER_EXTRACTOR, Verdict.OTHER_RULES):
                    click.echo(f"{check.document}: {check.describe()}")
            for document in verifier.unlisted:
                click.echo(f"{document}: {NO_LISTING}")
            declared = {declaration.path: declaration.key for declaration in config.documents}
            by_hand, said_by_hand = by_hand_lines(store, declared)
            for line in by_hand:
                click.echo(f"FAILED {line}", err=True)
        progress.finish()
    click.echo(_verified_line(counts) + said_by_hand)
    if by_hand or any(counts[verdict] for verdict in FAILING):
        sys.exit(EXIT_FAILURES)


def _verified_line(counts: dict[Verdict, int]) -> str:
    """`verify`'s last line, of the versions checked (``counts``: how many of each verdict)."""
    from policy_archive.pipeline.jobs.verify import Verdict

    total = sum(counts.values())
    older, other_rules = counts[Verdict.OLDER_EXTRACTOR], counts[Verdict.OTHER_RULES]
    mismatches, elsewhere = counts[Verdict.MISMATCH], counts[Verdict.SAME_BYTES_ELSEWHERE]
    stale = counts[Verdict.STALE_UPGRADE]
    return (
        f"{counts[Verdict.VERIFIED]}/{total} versions verified"  # "versions" whatever N: the contract's line
        + (f"; {older} made by another extractor revision (not a mismatch)" if older else "")
        + (f"; {other_rules} made with other extraction rules (not a mismatch)" if other_rules else "")
        + (
            f"; {elsewhere} confirmed only by the same bytes of another capture (own record unreadable)"
            if elsewhere
            else ""
        )
        + (f"; {mismatches} {plural(mismatches, 'mismatch', 'mismatches')}" if mismatches else "")
        + (f"; {stale} stale technical {plural(stale, 'upgrade')}" if stale else "")
    )
