"""``discover`` over one domain or a list: which domains to search, where each declaration goes, what is said.

One domain prints its declaration (or writes it with ``--write``/``--output``). A list (several DOMAIN arguments
or ``--from FILE``) writes one service file per domain, as each domain is done: the researcher with 1,000
domains gets files to review and edit, and an interrupted run keeps every finished domain. Every outcome is one
grep-able line (``wrote PATH``, ``UNSURE domain ...``, ``UNCHECKED domain ...``, ``FAILED domain: reason``),
then one summary line.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import click

from policy_archive.config.checks import ConfigError
from policy_archive.config.writer import (
    DeclaredPages,
    DocumentDraft,
    ServiceFileExists,
    add_document,
    check_addable,
    service_toml,
)
from policy_archive.errors import EXIT_FAILURES, ConfigurationError
from policy_archive.hostnames import HOST_MAX_LENGTH, UnusableHost, ascii_host
from policy_archive.pipeline.commands.common import echo_failed, echo_unchecked
from policy_archive.pipeline.jobs.backfill_plan import NAMED_REFUSALS
from policy_archive.pipeline.jobs.discover import Unfinished, Unread
from policy_archive.pipeline.jobs.discovery_state import Finished, finished_earlier, mark_finished
from policy_archive.pipeline.jobs.eras import Discovery, declaration_of
from policy_archive.pipeline.jobs.future_dates import IN_THE_FUTURE, future_lines
from policy_archive.pipeline.jobs.home_pages import iframes_not_read
from policy_archive.records import ID_MAX_LENGTH, is_valid_id, iso_z
from policy_archive.text import counted, printable, quoted

# A host name (and port): DOMAIN names the discovery's state file, so nothing else may pass (no "/", no "..").
DOMAIN_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?")
_PORT = re.compile(r"(?P<host>.*?)(?P<port>:[0-9]{1,5})?")
HOST_NAME = "a host name such as example.org or bücher.example (optionally :PORT)"
# A line of a --from file is read this far at most: a domain (253 characters) with a scheme and a comment fits
# many times over, and a file of one 1 GB line (no newline) is never held in memory.
LINE_MAX_BYTES = 4096
_SKIP_CHUNK = 64 * 1024  # the file is read this much at a time
NO_SERVICE_ID = f"its service id would be longer than {ID_MAX_LENGTH} characters: search it alone with --service ID"
INTERRUPTED = "interrupted before its search was complete: run again to continue (what was read is kept)"


class BadDomain(ConfigurationError):
    """A DOMAIN argument that is not a host name, or a --from file that is not text (a usage error: nothing is
    done; `discover` says it in its own words, without "configuration error"). A line of the file that is not a
    host name is a :class:`BadLine`, not the list's end."""


@dataclass(frozen=True)
class BadLine:
    """A line of a --from file that names no domain: where it is (``FILE:N``) and why, its text quoted (bounded,
    escaped); the other lines are searched, and the run's exit status is 1."""

    place: str
    reason: str


def domain_of(given: str) -> tuple[str, str]:
    """``(scheme, host)`` of a DOMAIN as typed: ``Example.org``, ``https://example.org/``, ``http://shop.test``;
    an internationalised name as its ASCII form (``bücher.example`` → ``xn--bcher-kva.example``), which is what
    archives list and what names its service id and state file."""
    text = given.strip().lower()
    scheme = "http" if text.startswith("http://") else "https"
    domain = _ascii_domain(text.removeprefix("https://").removeprefix("http://").rstrip("/"))
    if domain is None or not DOMAIN_PATTERN.fullmatch(domain):
        raise BadDomain(f"DOMAIN must be {HOST_NAME}, got {quoted(given)}")
    return scheme, domain


def _ascii_domain(domain: str) -> str | None:
    """``domain`` (a host, optionally ``:PORT``) as browsers send it (:func:`~policy_archive.hostnames.ascii_host`:
    ``straße.de`` → ``xn--strae-oqa.de``, not IDNA 2003's ``strasse.de``); None when it cannot be sent (IDNA
    refuses it, or it is longer than any host name). A line longer than any host name is not converted at all."""
    parts = _PORT.fullmatch(domain)
    host = parts["host"] if parts is not None else ""
    if len(host) > HOST_MAX_LENGTH:
        return None
    try:
        return ascii_host(host) + (parts["port"] if parts is not None and parts["port"] else "")
    except UnusableHost:
        return None


def domains_given(arguments: Sequence[str], domain_file: BinaryIO | None) -> tuple[dict[str, str], list[BadLine]]:
    """The domains to search, each with the scheme of its first spelling (the DOMAIN arguments, then the lines of
    the --from file: a domain given twice is searched once), and the lines of the file that name none. Raises
    :class:`BadDomain` as :func:`domain_of` and :func:`read_domains` do."""
    given = [domain_of(domain) for domain in arguments]
    bad: list[BadLine] = []
    if domain_file is not None:
        listed, bad = read_domains(domain_file, domain_file.name)
        given += listed
    schemes: dict[str, str] = {}
    for scheme, domain in given:
        schemes.setdefault(domain, scheme)  # the first spelling of a domain given twice
    return schemes, bad


def read_domains(stream: BinaryIO, name: str) -> tuple[list[tuple[str, str]], list[BadLine]]:
    """``(scheme, host)`` of each domain of a list file (one a line, ``#`` starts a comment, blank lines ignored;
    a line ends with ``\\n``, ``\\r\\n`` or a lone ``\\r``, as in files saved by old Mac editors),
    and the lines that name none. A line is read :data:`LINE_MAX_BYTES` at most: the rest of a longer one is
    skipped to its end, never held (a comment's rest after a ``#`` in those first bytes is a comment; else the
    line is a :class:`BadLine`). A file that is not UTF-8 text is refused whole (:class:`BadDomain`): its lines
    cannot be told apart reliably."""
    domains: list[tuple[str, str]] = []
    bad: list[BadLine] = []
    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # a BOM, as some editors write, is no part of a domain
    try:
        for number, (line, complete) in enumerate(_bounded_lines(stream, decoder), start=1):
            text = line.split("#", 1)[0].strip()
            if not complete and "#" not in line:
                reason = f"a line longer than {LINE_MAX_BYTES:,} bytes (not read further): {quoted(text)}"
                bad.append(BadLine(f"{printable(name)}:{number}", reason))
            elif text:
                try:
                    domains.append(domain_of(text))
                except BadDomain:
                    bad.append(BadLine(f"{printable(name)}:{number}", f"not {HOST_NAME}: {quoted(text)}"))
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise BadDomain(f"{printable(name)} is not UTF-8 text ({error.reason}: byte 0x{byte:02x}); save the "
                        "list as UTF-8") from None  # fmt: skip
    return domains, bad


def _bounded_lines(stream: BinaryIO, decoder: codecs.IncrementalDecoder) -> Iterator[tuple[str, bool]]:
    """Each line of ``stream`` as text, cut after :data:`LINE_MAX_BYTES` bytes, and whether it is whole. The rest
    of a longer line is read in chunks up to its line end and only checked to be UTF-8 (its text is dropped)."""
    head = b""
    text: str | None = None  # the head's text, once the line is known to be longer than the bound
    for piece, ends_line in _line_pieces(stream):
        if text is not None:
            decoder.decode(piece)
        elif len(head := head + piece) > LINE_MAX_BYTES:
            text = decoder.decode(head[:LINE_MAX_BYTES])  # a character cut at the bound is left in the decoder
            decoder.decode(head[LINE_MAX_BYTES:])
            head = b""
        if ends_line:
            whole = decoder.decode(head, final=True)
            yield (whole, True) if text is None else (text, False)
            head, text = b"", None


def _line_pieces(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """The bytes of ``stream`` in pieces of about :data:`_SKIP_CHUNK` bytes at most, each cut at a line end —
    ``\\n``, ``\\r\\n``, or a lone ``\\r`` as old Mac editors write — and whether it ends its line (the line end
    itself dropped). The last line ends with the stream, with or without a line end."""
    carried = b""  # a \r ending a chunk may be the first half of a \r\n: decided with the next chunk
    ended = True
    while chunk := stream.read(_SKIP_CHUNK):
        data, carried = carried + chunk, b""
        if data.endswith(b"\r"):
            data, carried = data[:-1], b"\r"
        for line in data.splitlines(keepends=True):  # bytes split at \n, \r\n and \r only (str at more)
            piece = line.rstrip(b"\r\n")
            ended = piece != line
            yield piece, ended
    if carried or not ended:
        yield b"", True


def service_id_of(domain: str) -> str:
    """The service id a DOMAIN is declared under by default: the host name without a leading ``www.`` (the site,
    not its web server's name: ``www.acme.com`` → ``acme.com``, as ``acme.com`` is named), with its port after a
    "-" (``shop.test:8080`` → ``shop.test-8080``, ``127.0.0.1:18800`` → ``127.0.0.1-18800``). A valid id for every
    DOMAIN (``:`` is the only character of one an id cannot hold), and two ports of one host stay two services.
    ``www.`` is kept when no dot would be left after it (``www.com`` is a site of its own, not ``com``); the
    domain itself (the home page searched, the declaration's name) keeps it."""
    host, port = domain.partition(":")[::2]
    site = host.removeprefix("www.")
    return (site if "." in site else host) + (f"-{port}" if port else "")


def former_service_id_of(domain: str) -> str:
    """The service id :func:`service_id_of` gave before 2026-11-29, when it kept a leading ``www.``: the name of a
    file an earlier run of a list may have written (``www.acme.com.toml``), which a resumed run keeps."""
    return domain.replace(":", "-")


@dataclass(frozen=True)
class Request:
    """What the command line asked: the document type, the period, where declarations go."""

    document_type: str
    since: date | None
    until: date | None
    directory: Path | None  # None: print the declaration (one domain only)
    force: bool
    service: str | None  # one domain only; a list names each service after its domain (service_id_of)
    live: bool = False  # today's home pages, not the archive's captures


class Outcomes:
    """Says each domain's outcome as it ends, counts them, and gives the summary line and the exit status.

    ``listing``: a list run — a file that exists is that domain's failure (not the run's), the per-domain detail
    (unreadable captures, counts) only with ``verbosity`` > 0 (--verbose), and a summary line at the end; with
    --quiet (``verbosity`` < 0) a domain's counts are not said, its unreadable captures are (each is a capture
    not used, with its reason).
    """

    def __init__(self, request: Request, data_dir: Path, *, listing: bool, verbosity: int) -> None:
        self.request = request
        self.data_dir = data_dir
        self.listing = listing
        self.detail = verbosity > 0 or not listing
        self.counted = verbosity >= 0
        self.counts: Counter[str] = Counter()
        self.domains = 0
        self.pages = DeclaredPages(request.directory) if request.directory is not None else None

    def service_of(self, domain: str) -> str:
        """The service id the declaration of ``domain`` goes under: the one --service gave (one domain only), else
        the id derived from the domain."""
        return self.request.service or service_id_of(domain)

    def target(self, domain: str) -> Finished | None:
        """Where the declaration of ``domain`` is to be written, with the period asked, as an earlier run's state
        file would keep it (to compare); None when no directory was given (the declaration is printed). ``unsure`` is
        always False here: only a run's result knows."""
        if self.request.directory is None:
            return None
        return self._target_named(self.service_of(domain))

    def _target_named(self, service: str) -> Finished:
        assert self.request.directory is not None
        path = self.request.directory / f"{service}.toml"
        return Finished.of(path, self.request.since, self.request.until, unsure=False, live=self.request.live)

    def to_search(self, domains: Sequence[str]) -> list[str]:
        """The domains that need a search, before any request: in a list, not those an earlier run of it
        finished (unless ``--force``); a service file that declares the document already (or does not load) is
        refused at once (one domain: exit 2); one that declares other documents gets this one added."""
        self.domains = len(domains)
        wanted = []
        document_type, force = self.request.document_type, self.request.force
        for domain in domains:
            target = self.target(domain)
            if not is_valid_id(service := self.service_of(domain)):
                self._refuse(domain, ConfigError("command line", domain, f"{NO_SERVICE_ID}, got {service!r}"))
            elif target is None:
                wanted.append(domain)
            elif self.listing and not force and (earlier := self._finished_earlier(domain, target)):
                self._earlier(domain, earlier)
            else:
                try:
                    check_addable(Path(target.file), document_type, force=force)
                except ConfigurationError as error:
                    self._refuse(domain, error)
                else:
                    wanted.append(domain)
        return wanted

    def __call__(self, result: Discovery | Unread) -> None:
        """One domain's result: its lines, its file, its count."""
        if isinstance(result, Unread):
            self._failed(result.domain, result.reason)
            return
        domain = result.domain
        # Said whatever the verbosity, as backfill says them: such a listing is the archive's error.
        for line in future_lines(domain, dict(result.refused), NAMED_REFUSALS):
            click.echo(printable(line), err=True)
        if self.detail:
            for sighting in result.unreadable:
                reason = printable(sighting.unreadable or "")
                click.echo(f"UNREADABLE {domain} {iso_z(sighting.timestamp)}: {reason}", err=True)
            if self.counted and not result.live:  # one page read today: nothing to count
                # How many were read is said here, not in the service file (Era.declared says why).
                # "read" as the progress line says it: captures whose page was read; the others counted apart.
                read = sum(era.captures for era in result.eras)
                unreadable = f", {len(result.unreadable):,} unreadable" if result.unreadable else ""
                click.echo(f"{domain}: {counted(result.listed, 'home-page capture')} listed, {read:,} read"
                           f"{unreadable} ({result.requests:,} replay requests in this run), "
                           f"{counted(len(result.eras), 'era')}", err=True)  # fmt: skip
        unsure = [era for era in result.eras if era.unsure]
        for era in unsure:
            click.echo(f"UNSURE {domain} {printable(era.describe())}: {printable(era.unsure or '')}", err=True)
        for note in result.unchecked:  # said, not counted unsure: an old era's site may simply be gone
            echo_unchecked(domain, note)
        draft = declaration_of(result, self.service_of(domain))
        if draft is None:
            self._failed(domain, self._nothing_found(result))
            return
        if self.request.directory is None:
            click.echo(service_toml(domain, [draft]), nl=False)
        elif not self._write(domain, draft, bool(unsure)):
            return
        self.counts["written"] += 1
        self.counts["unsure"] += bool(unsure)

    def bad_lines(self, lines: Sequence[BadLine]) -> None:
        """The lines of the list that name no domain: one ``FAILED FILE:N: …`` line each, counted apart."""
        for line in lines:
            self.counts["bad lines"] += 1
            echo_failed(line.place, line.reason)

    def interrupted(self, left: Unfinished) -> None:
        """What a stop (Ctrl-C, SIGTERM) left: the domain being searched failed for this run, the rest are counted;
        the line saying the run stopped asking an unreachable archive, when it did."""
        if left.unreachable is not None:
            click.echo(left.unreachable, err=True)
        if left.in_progress:
            self._failed(left.in_progress, INTERRUPTED)
        self.counts["not reached"] += len(left.not_started)

    def summary(self) -> str:
        """The last line of a list run, e.g. ``3 domains: 2 declarations written (1 by an earlier run), 0 unsure, 1
        failed``; the interrupted and bad-line counts are added only when not zero."""
        counts = self.counts
        earlier = f" ({counts['earlier']} by an earlier run)" if counts["earlier"] else ""
        parts = [f"{counted(counts['written'], 'declaration')} written{earlier}", f"{counts['unsure']} unsure",
                 f"{counts['failed']} failed"]  # fmt: skip
        if counts["not reached"]:
            parts.append(f"{counts['not reached']} not searched (interrupted: run again to continue)")
        if counts["bad lines"]:
            parts.append(f"{counted(counts['bad lines'], 'line')} of the list not a domain")
        return f"{counted(self.domains, 'domain')}: {', '.join(parts)}"

    @property
    def exit_status(self) -> int:
        """1 when a person should look: a domain failed, is unsure or was not reached, a line of the list named no
        domain; else 0."""
        troubled = sum(self.counts[key] for key in ("failed", "unsure", "not reached", "bad lines"))
        return EXIT_FAILURES if troubled else 0

    # --- one domain --------------------------------------------------------------------------------------

    def _write(self, domain: str, draft: DocumentDraft, unsure: bool) -> bool:
        request = self.request
        target = self.target(domain)
        assert target is not None and request.directory is not None
        path = Path(target.file)
        url = draft.declaration.url
        assert self.pages is not None
        if elsewhere := self.pages.declared_elsewhere(path.stem, url):
            # Two services of one page would each fetch, track and record it (validate warns of it, same_pages).
            other, document = elsewhere
            self._refuse(
                domain,
                ServiceFileExists(
                    f"{other} already declares its {document} at this page "
                    f"({url}): {path.name} not written (edit or delete that file)"
                ),
            )
            return False
        finished = Finished.of(path, request.since, request.until, unsure, request.live)
        mark_finished(self.data_dir, domain, request.document_type, finished)
        try:
            add_document(request.directory, path.stem, domain, draft, force=request.force)
        except ConfigurationError as error:  # the file changed while this domain was searched
            mark_finished(self.data_dir, domain, request.document_type, None)
            self._refuse(domain, error)
            return False
        self.pages.add(path)
        click.echo(f"wrote {path}")
        return True

    def _finished_earlier(self, domain: str, target: Finished) -> Finished | None:
        """An earlier run's mark of ``domain`` finished (:func:`finished_earlier`): to ``target``, or to the file
        named as the service id was before it left out ``www.`` (``www.acme.com.toml``, not ``acme.com.toml``): a
        list resumed after that change keeps the file it wrote, instead of searching the domain again and
        declaring its page under a second service beside it. Said once, naming that file."""
        document_type = self.request.document_type
        earlier = finished_earlier(self.data_dir, domain, document_type, target)
        former = former_service_id_of(domain)
        if earlier is not None or former == self.service_of(domain):
            return earlier
        earlier = finished_earlier(self.data_dir, domain, document_type, self._target_named(former))
        if earlier is not None and self.counted:
            now = self.service_of(domain)
            click.echo(f"{domain}: written by an earlier run to {earlier.file}, named before the default service id "
                       f"left out www. ({now}): kept there, not searched again", err=True)  # fmt: skip
        return earlier

    def _nothing_found(self, result: Discovery) -> str:
        """Why no declaration: nothing listed, nothing readable (why each was not), or no link on what was read."""
        if not result.listed:
            refused = counted(len(result.refused), "capture")
            future = f" other than {refused} {IN_THE_FUTURE} (refused)" if result.refused else ""
            return (
                "the archive lists no capture of its home page"
                + (" in the period asked" if self.request.since or self.request.until else "")
                + future
            )
        reasons = Counter(sighting.unreadable for sighting in result.unreadable)
        why = "; ".join(f"{count} × {reason}" if count > 1 else str(reason) for reason, count in reasons.items())
        if result.live and result.unreadable:
            return f"today's home page could not be read: {why}"
        if not result.eras:  # a capture fetched, or a failure of this run: nothing read could say
            return f"no home-page capture could be read ({counted(len(result.unreadable), 'tried', 'tried')}: {why})"
        where = "today's home page" if result.live else counted(result.listed, "home-page capture")
        iframes = list(dict.fromkeys(url for era in result.eras for url in era.iframes))
        shows = f"; {iframes_not_read(iframes)}" if iframes else ""
        return f"no {result.document_type} link found on {where}{shows}"

    def _earlier(self, domain: str, earlier: Finished) -> None:
        self.counts["written"] += 1
        self.counts["earlier"] += 1
        if earlier.unsure:
            self.counts["unsure"] += 1
            click.echo(f"UNSURE {domain}: written by an earlier run to {earlier.file}, with eras to review", err=True)

    def _refuse(self, domain: str, error: ConfigurationError) -> None:
        if not self.listing:
            raise error  # one domain: a usage error (exit 2), as it was before any request
        self._failed(domain, str(error))

    def _failed(self, domain: str, reason: str) -> None:
        self.counts["failed"] += 1
        echo_failed(domain, reason)
