"""``import-ota``: Open Terms Archive declarations → ``services/<id>.toml`` (docs/decisions/0013).

A collection's files are found and read by :mod:`.ota_files` (``{"name", "terms": {"Privacy Policy": {"fetch",
"select", "remove", "filter", "executeClientScripts", "combine"}}}`` in ``<Service>.json``, earlier declarations
``{"Privacy Policy": [{..., "validUntil"}]}`` in ``<Service>.history.json``); each terms declaration is translated
by :mod:`.ota_terms`. Here: a service's documents planned and loaded back as the real loader would, the files
written, and what did not translate reported. A document is **skipped** when what it records would change, or
imported **without** an option when dropping it only keeps more text around the same document; both are reported
(``FAILED SERVICE/DOC: ...``, exit 1) and written as comments in the file.

A declaration is untrusted input: a ``fetch`` URL whose host is an internal address (``127.0.0.1``,
``169.254.169.254``, ``localhost``: crawler/hosts.py) or a name resolving to one (``127.0.0.1.nip.io``, looked up
as ``discover`` looks up a linked name: :class:`~crawler.hosts.Proposals`; every declaration's names at once,
:func:`plan_services`) skips its document, since the live crawl may reach a declared origin inside; a name that
gives no address is written, and said (``unchecked``). A file :mod:`.ota_files` cannot read within its bounds is
that service's ``FAILED`` line (never read whole, never a traceback); the text it holds (terms types, filter
names) reaches stderr through ``printable`` and the file's comments through ``one_line``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from policy_archive.config.checks import ConfigError, spacing_problem
from policy_archive.config.declarations import NAME_MAX_LENGTH, load_service
from policy_archive.config.writer import DocumentDraft, ServiceFileExists, service_toml, slug_id, write_service_file
from policy_archive.crawler.hosts import LITERALS_ONLY, Proposals
from policy_archive.pipeline.imports.ota_files import HISTORY_SUFFIX, Unreadable, read_declaration
from policy_archive.pipeline.imports.ota_terms import NotImported, history_entries, translate, valid_until
from policy_archive.records import DocumentDeclaration, Render
from policy_archive.text import QUOTE_LIMIT, invisible_character, lookalike_space, plural, unsafe_character


@dataclass(frozen=True)
class Problem:
    """Something that did not translate: ``name`` is ``SERVICE/DOC`` (or ``SERVICE``); ``skipped`` when nothing
    of it was imported, else it was imported without what ``reason`` names."""

    name: str
    reason: str
    skipped: bool

    @property
    def message(self) -> str:
        """What follows ``FAILED SERVICE/DOC: `` (printed by ``echo_failed``, which makes it one printable line)."""
        return f"{'not imported' if self.skipped else 'imported without'}: {self.reason}"


@dataclass(frozen=True)
class ServicePlan:
    """One OTA service translated: the file to write (``text``; None when no document could be imported)."""

    service_id: str
    name: str
    sources: tuple[Path, ...]
    documents: tuple[DocumentDraft, ...]
    problems: tuple[Problem, ...]
    text: str | None


@dataclass(frozen=True)
class ImportReport:
    """What `import-ota` did: the service files ``written``, and the ``problems`` (documents or services skipped, or
    imported without something), each printed as a ``FAILED`` line."""

    written: tuple[Path, ...]
    problems: tuple[Problem, ...]
    # (SERVICE/DOC, "URL: why") of each URL written whose name gave no address: whether it leads inside is not known.
    unchecked: tuple[tuple[str, str], ...] = ()

    @property
    def exit_status(self) -> int:
        """1 when there is any problem, a partial import included, else 0; unchecked URLs do not change it."""
        return 1 if self.problems else 0


def plan_service(path: Path, proposals: Proposals = LITERALS_ONLY) -> ServicePlan:
    """Translate one ``<Service>.json`` (and its ``.history.json``) into a service file's text; ``proposals`` says
    which ``fetch`` URLs may not be written (an internal address, by spelling or, when it looks names up, by name)."""
    fallback_id = slug_id(path.stem, "service")
    try:
        raw = read_declaration(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise NotImported(f"{path.name} has no service name")
        # The loader's limit on a name (every document of the service would fail it); a long name is kept whole,
        # its id cut to the id limit with a hash of the whole name (slug_id).
        if bad := unsafe_character(raw["name"]) or invisible_character(raw["name"]):
            # Rewriting it (a control character as a space) would import a name that is not OTA's, unsaid (outside
            # audit 31, 2026-11-29): the loader refuses such a name, so the service is not imported, named.
            said = f"its name holds a control or invisible character ({bad})"
            raise NotImported(f"{path.name}: {said}: {_quoted_name(raw['name'])}")
        # Spaces likewise (issue 11, 2026-11-29): a no-break or ideographic space, two in a row or one at an end make
        # a name that looks like another, which the loader refuses; tidying them (the import once did, unsaid)
        # would write a name that is not OTA's.
        if said := _spacing(raw["name"]):
            raise NotImported(f"{path.name}: its name {said}, which the loader refuses: {_quoted_name(raw['name'])}")
        if len(raw["name"]) > NAME_MAX_LENGTH:
            raise NotImported(f"{path.name}: its name is longer than {NAME_MAX_LENGTH:,} characters (not a name)")
        if not isinstance(raw.get("terms"), dict) or not raw["terms"]:
            raise NotImported(f"{path.name} declares no terms")
        history_path = path.with_name(path.stem + HISTORY_SUFFIX)
        history = read_declaration(history_path) if history_path.exists() else {}
        if not isinstance(history, dict):
            raise NotImported(f"{history_path.name} is not an object of terms types")
    except (Unreadable, NotImported) as skip:
        return ServicePlan(fallback_id, path.stem, (path,), (), (Problem(fallback_id, str(skip), True),), None)
    name = raw["name"]  # OTA's name as it is: whatever the loader would refuse in it was refused above
    service_id = slug_id(name, "service")
    sources = (path, history_path) if history else (path,)
    drafts: list[DocumentDraft] = []
    problems: list[Problem] = []
    types: dict[str, str] = {}  # document id → the terms type it was made from first
    for terms_type, declaration in raw["terms"].items():
        document_id = slug_id(terms_type, "document")
        key = f"{service_id}/{document_id}"
        if document_id in types:  # "Privacy Policy" and "Privacy-Policy": one file cannot declare both
            problems.append(Problem(key, f"{terms_type}: same id as {types[document_id]}", True))
            continue
        types[document_id] = terms_type
        try:
            draft, dropped = _document(
                service_id, name, document_id, declaration, history.get(terms_type, []), proposals
            )
        except NotImported as skip:
            problems.append(Problem(key, f"{terms_type}: {skip}", True))
            continue
        drafts.append(draft)
        if dropped:
            problems.append(Problem(key, f"{terms_type}: " + "; ".join(dropped), False))
    for terms_type in sorted(history.keys() - raw["terms"].keys()):
        key = f"{service_id}/{slug_id(terms_type, 'document')}"
        problems.append(Problem(key, f"{terms_type}: only in the history (no current declaration to track)", True))
    comments = [f"Imported from Open Terms Archive: {', '.join(source.name for source in sources)}"]
    comments += [f"Not imported: {problem.reason}" for problem in problems if problem.skipped]
    text = service_toml(name, drafts, comments) if drafts else None
    return ServicePlan(service_id, name, sources, tuple(drafts), tuple(problems), text)


def _document(
    service_id: str, name: str, document_id: str, current: Any, history: Any, proposals: Proposals
) -> tuple[DocumentDraft, list[str]]:
    """One terms type: its draft and the reasons of what it was imported without (raises NotImported)."""
    now = translate(current, proposals)
    if not isinstance(history, list):
        raise NotImported("its history is not a list of declarations")
    past = [(valid_until(entry), translate(entry, proposals)) for entry in history]
    past.sort(key=lambda item: item[0])
    entries, dropped = history_entries(past, now)
    comments = list(dict.fromkeys(now.notes + [note for _, t in past for note in t.notes]))
    if any(entry.render != Render(now.render or "auto") for entry in entries):
        # Said where a reviewer edits: one form of the page ran its scripts in OTA and another did not.
        comments.append(
            "Open Terms Archive ran this page's scripts (executeClientScripts) in some of its forms only: each "
            'history entry says its own render ("always" where it did, "auto" where it fetched the page as served)'
        )
    dropped = list(dict.fromkeys(now.dropped + [reason for _, t in past for reason in t.dropped] + dropped))
    declaration = DocumentDeclaration(
        service_id, name, document_id, now.url, now.rules, tuple(entries), written_by="import-ota"
    )
    options = (("render", now.render),) if now.render else ()
    _check_loads(declaration, options)
    draft = DocumentDraft(
        declaration, options, tuple(f"Not translated: {reason}" for reason in dropped) + tuple(comments)
    )
    return draft, dropped


def _check_loads(declaration: DocumentDeclaration, options: tuple[tuple[str, str], ...]) -> None:
    """What the real loader would refuse (a ``file:`` URL, ...) skips this document, not the whole service. The
    file is checked as it will be written, its ``render`` with it (a URL's fragment is kept only with ``render =
    "always"``)."""
    with TemporaryDirectory() as scratch:
        probe = Path(scratch) / f"{declaration.service_id}.toml"
        draft = DocumentDraft(declaration, options)
        probe.write_text(service_toml(declaration.service_name, [draft]), encoding="utf-8")
        try:
            load_service(probe)
        except ConfigError as error:
            raise NotImported(f"{error.key}: {error.reason}") from None


# --- writing --------------------------------------------------------------------------------------------


def import_ota(
    files: Iterable[Path], output: Path, *, force: bool = False, proposals: Proposals = LITERALS_ONLY
) -> ImportReport:
    """Translate every file, refuse (nothing written) if a target exists without ``force``, then write;
    ``proposals``: which ``fetch`` URLs are never written (:func:`plan_service`)."""
    plans = plan_services(files, proposals)
    problems = [problem for plan in plans for problem in plan.problems]
    chosen: dict[str, ServicePlan] = {}
    for plan in plans:
        if plan.text is None:
            continue
        if plan.service_id in chosen:
            other = chosen[plan.service_id].sources[0].name
            problems.append(Problem(plan.service_id, f"{plan.sources[0].name}: same id as {other}", True))
            continue
        chosen[plan.service_id] = plan
    existing = [output / f"{service_id}.toml" for service_id in chosen if (output / f"{service_id}.toml").exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise ServiceFileExists(f"{names} already exist{'s' if len(existing) == 1 else ''} (use --force to replace)")
    written = [write_service_file(output, plan.service_id, plan.text or "", force=force) for plan in chosen.values()]
    return ImportReport(tuple(written), tuple(problems), _unchecked(chosen.values(), proposals))


def _spacing(name: str) -> str | None:
    """What of ``name``'s spaces the loader refuses (:func:`~policy_archive.config.checks.spacing_problem`, and a
    space other than U+0020), as the ``FAILED`` line says it; None when its spaces are plain and single."""
    if bad := lookalike_space(name):
        return f"holds a space other than U+0020 ({bad})"
    return spacing_problem(name)


def _quoted_name(name: str) -> str:
    """``name`` quoted for a one-line message: each character a terminal would not show escaped as Python writes it
    (``'Exa\\u200bmple'``), at most ``QUOTE_LIMIT`` characters shown, then ``…``, as :func:`quoted` shows a value.
    A refused name is quoted before its length is checked: one of a million characters was printed whole."""
    shown: list[str] = []
    length = 0
    for character in name:
        piece = character if character.isprintable() else repr(character)[1:-1]
        if length + len(piece) > QUOTE_LIMIT:
            return f"'{''.join(shown)}…'"
        shown.append(piece)
        length += len(piece)
    return f"'{''.join(shown)}'"


def plan_services(files: Iterable[Path], proposals: Proposals = LITERALS_ONLY) -> list[ServicePlan]:
    """:func:`plan_service` of each file, the ``fetch`` names of them all looked up at once rather than one after the
    other (contrib-declarations asks 339, each up to ``[wayback] timeout_seconds``: nearly all of the import's time).

    Each file is first planned with its names collected and taken as public, then the names looked up together
    (``NameAddresses.look_up_all``). A plan depends only on its file and on what its names answer, so one whose
    names all answer public (or give no address) is the plan the lookups would have given; a file asking a name
    found inside is planned again, its names now known."""
    files = list(files)
    names = proposals.names
    if names is None:
        return [plan_service(path, proposals) for path in files]
    collecting, hosts = proposals.collecting()
    first: list[tuple[Path, ServicePlan, list[str]]] = []
    for path in files:
        start = len(hosts)
        plan = plan_service(path, collecting)
        first.append((path, plan, hosts[start:]))
    names.look_up_all(hosts)
    return [
        plan_service(path, proposals) if any(names.internal(host) for host in asked) else plan
        for path, plan, asked in first
    ]


def _unchecked(plans: Iterable[ServicePlan], proposals: Proposals) -> tuple[tuple[str, str], ...]:
    """Each URL written whose name gave no address, with why, by document (``discover``'s ``UNCHECKED`` notes)."""
    notes: dict[tuple[str, str], None] = {}
    for draft in (draft for plan in plans for draft in plan.documents):
        declaration = draft.declaration
        for url in (declaration.url, *(entry.url for entry in declaration.history)):
            if why := proposals.unresolved(url):
                notes[(f"{declaration.service_id}/{declaration.document_id}", f"{url}: {why}")] = None
    return tuple(notes)


def describe(plan_count: int, report: ImportReport) -> str:
    """The summary line `import-ota` prints last: services written out of ``plan_count`` (the declaration files read,
    one service each), documents or services not imported at all, and services imported without something."""
    skipped = sum(problem.skipped for problem in report.problems)
    partial = len({problem.name for problem in report.problems if not problem.skipped})
    return (
        f"imported {len(report.written)} of {plan_count} {plural(plan_count, 'service')}; {skipped} "
        f"{plural(skipped, 'document or service', 'documents or services')} not imported, "
        f"{partial} imported without something (named above)"
    )
