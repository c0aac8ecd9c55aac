"""``import-ota``: Open Terms Archive declarations → ``services/<id>.toml`` (docs/decisions/0013).

An OTA collection declares each service in ``declarations/<Service>.json`` (``{"name", "terms": {"Privacy
Policy": {"fetch", "select", "remove", "filter", "executeClientScripts", "combine"}}}``) and keeps the earlier
declarations of each terms type in ``<Service>.history.json`` (``{"Privacy Policy": [{..., "validUntil"}]}``),
as of OTA engine 2.x / 10.x (2026-11). Translated: ``fetch`` → ``url``, ``select``/``remove`` (a string or a
list) → lists, history entries oldest first with ``valid_until`` = the UTC day of ``validUntil``,
``executeClientScripts`` → ``render = "always"`` when the configuration has ``render``.

What has no faithful translation is never dropped silently. A document is **skipped** when what it records
would change: ``combine`` (several pages make one document), range selectors in ``select`` (``startBefore`` /
``endAfter`` objects, no CSS equivalent), a ``select`` our extractor cannot apply. It is imported **without**
an option when dropping it only keeps more text around the same document: JavaScript ``filter`` functions,
range selectors or inapplicable selectors in ``remove``, two history entries ending the same UTC day. Both
are reported (``FAILED SERVICE/DOC: ...``, exit 1) and written as comments in the file. So is an item of
``select``/``remove`` that is not a selector (``5``, ``null``): the document is skipped, or imported without it.

A declaration is untrusted input: a ``fetch`` URL whose host is an internal address (``127.0.0.1``,
``169.254.169.254``, ``localhost``: crawler/hosts.py) or a name resolving to one (``127.0.0.1.nip.io``, looked up
as ``discover`` looks up a linked name: :class:`~crawler.hosts.Proposals`; every declaration's names at once,
:func:`plan_services`) skips its document, since the live crawl may reach a declared origin inside; a name that
gives no address is written, and said (``unchecked``). A
file larger than ``MAX_DECLARATION_BYTES`` or nested deeper than ``MAX_NESTING`` is that service's ``FAILED`` line
(never read whole, never a traceback); the text it holds (terms types, filter names) reaches stderr through
``printable`` and the file's comments through ``one_line``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, NoReturn

from policy_archive.config.checks import ConfigError
from policy_archive.config.declarations import NAME_MAX_LENGTH, document_keys, load_service, selector_error
from policy_archive.config.writer import DocumentDraft, ServiceFileExists, service_toml, slug_id, write_service_file
from policy_archive.crawler.hosts import LITERALS_ONLY, Proposals
from policy_archive.records import DocumentDeclaration, ExtractionRules, HistoryEntry
from policy_archive.text import counted, one_line, plural

HISTORY_SUFFIX = ".history.json"
# OTA keys of a terms declaration that are read here; any other key is reported as not translated.
_KNOWN_KEYS = {"fetch", "select", "remove", "filter", "executeClientScripts", "combine", "validUntil"}
# Real declarations and their histories are a few kB (the largest in tests/fixtures/ota, taken from
# OpenTermsArchive/contrib-declarations: 1.1 kB) and nested 5 levels at most (terms → type → select → range
# object → selector): these bounds leave room for any of them and refuse a corrupted or hostile file before it is
# read whole (a file of 200,000 nested lists made json's decoder raise RecursionError).
MAX_DECLARATION_BYTES = 4 * 2**20
MAX_NESTING = 32
_SHOWN_LENGTH = 120  # a value quoted in a message, at most


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


class _Skip(Exception):
    """The document cannot be imported faithfully; ``str()`` says why."""


@dataclass
class _Translation:
    """One OTA declaration entry (current or historical) in our terms, with what was left out."""

    url: str
    rules: ExtractionRules
    render: str | None = None
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- reading a collection --------------------------------------------------------------------------------


def declaration_files(directory: Path) -> list[Path]:
    """``<Service>.json`` files of a declarations folder (or of a collection's ``declarations/`` subfolder)."""
    if not directory.is_dir():
        raise ConfigError(directory, "", "not a directory of Open Terms Archive declarations")
    if not any(directory.glob("*.json")) and (directory / "declarations").is_dir():
        directory = directory / "declarations"
    files = sorted(path for path in directory.glob("*.json") if not path.name.endswith(HISTORY_SUFFIX))
    if not files:
        raise ConfigError(directory, "", "no <Service>.json declaration found")
    return files


def choose(files: Sequence[Path], services: Sequence[str]) -> list[Path]:
    """The files of the named services: an OTA file name (``ASUS``) or the id it gets here (``asus``)."""
    if not services:
        return list(files)
    by_name = {path.stem: path for path in files} | {slug_id(path.stem, "service"): path for path in files}
    unknown = [name for name in services if name not in by_name]
    if unknown:
        raise ConfigError("command line", ", ".join(unknown), "no such service among the declarations")
    return list(dict.fromkeys(by_name[name] for name in services))


def _read_json(path: Path) -> Any:
    """The JSON value of a declaration file, read within ``MAX_DECLARATION_BYTES`` and ``MAX_NESTING``."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_DECLARATION_BYTES + 1)
        if len(data) > MAX_DECLARATION_BYTES:
            raise _Skip(f"{path.name} is larger than {MAX_DECLARATION_BYTES // 2**20} MiB (not a declaration)")
        value = json.loads(data.decode("utf-8"))
    except RecursionError:  # json's decoder recurses once per nested list or object
        raise _Skip(f"{path.name} cannot be read: nested deeper than Python's JSON decoder goes") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _Skip(f"{path.name} cannot be read: {error}") from None
    if _nested_deeper(value, MAX_NESTING):
        raise _Skip(f"{path.name} is nested deeper than {MAX_NESTING} levels (not a declaration)")
    try:  # JSON's \ud800 escapes decode to lone surrogates, which no service file (UTF-8 TOML) can hold
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise _Skip(f"{path.name} cannot be read: it holds a lone surrogate ({error.reason})") from None
    return value


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether lists and objects in ``value`` are nested more than ``limit`` levels (walked level by level, so
    that what reads a declaration after this never recurses deeper than ``limit``)."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return False
    return any(isinstance(item, dict | list) for item in level)


# --- translating ----------------------------------------------------------------------------------------


def plan_service(path: Path, proposals: Proposals = LITERALS_ONLY) -> ServicePlan:
    """Translate one ``<Service>.json`` (and its ``.history.json``) into a service file's text; ``proposals`` says
    which ``fetch`` URLs may not be written (an internal address, by spelling or, when it looks names up, by name)."""
    fallback_id = slug_id(path.stem, "service")
    try:
        raw = _read_json(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise _Skip(f"{path.name} has no service name")
        # The loader's limit on a name (every document of the service would fail it); a long name is kept whole,
        # its id cut to the id limit with a hash of the whole name (slug_id).
        if len(one_line(raw["name"])) > NAME_MAX_LENGTH:
            raise _Skip(f"{path.name}: its name is longer than {NAME_MAX_LENGTH:,} characters (not a name)")
        if not isinstance(raw.get("terms"), dict) or not raw["terms"]:
            raise _Skip(f"{path.name} declares no terms")
        history_path = path.with_name(path.stem + HISTORY_SUFFIX)
        history = _read_json(history_path) if history_path.exists() else {}
        if not isinstance(history, dict):
            raise _Skip(f"{history_path.name} is not an object of terms types")
    except _Skip as skip:
        return ServicePlan(fallback_id, path.stem, (path,), (), (Problem(fallback_id, str(skip), True),), None)
    name = one_line(raw["name"])  # a service name is one line without control characters (validation)
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
        except _Skip as skip:
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
    """One terms type: its draft and the reasons of what it was imported without (raises _Skip)."""
    now = _translate(current, proposals)
    if not isinstance(history, list):
        raise _Skip("its history is not a list of declarations")
    past = [(_valid_until(entry), _translate(entry, proposals)) for entry in history]
    past.sort(key=lambda item: item[0])
    entries, dropped = _history(past, now)
    comments = list(dict.fromkeys(now.notes + [note for _, t in past for note in t.notes]))
    dropped = list(dict.fromkeys(now.dropped + [reason for _, t in past for reason in t.dropped] + dropped))
    declaration = DocumentDeclaration(
        service_id, name, document_id, now.url, now.rules, tuple(entries), written_by="import-ota"
    )
    options = (("render", now.render),) if now.render else ()
    _check_loads(declaration)
    draft = DocumentDraft(
        declaration, options, tuple(f"Not translated: {reason}" for reason in dropped) + tuple(comments)
    )
    return draft, dropped


def _history(past: list[tuple[datetime, _Translation]], now: _Translation) -> tuple[list[HistoryEntry], list[str]]:
    """History entries oldest first; an entry that reads exactly like the next one is merged into it."""
    entries: list[HistoryEntry] = []
    dropped: list[str] = []
    for index, (until, translation) in enumerate(past):
        later = past[index + 1][1] if index + 1 < len(past) else now
        if (translation.url, translation.rules) == (later.url, later.rules):
            continue  # same page, same selection: the later entry covers these captures too
        day = until.date()
        if entries and entries[-1].valid_until >= day:
            earlier = entries.pop()
            dropped.append(
                f"the history entry for {earlier.url} valid until {earlier.valid_until} (the next one ends the "
                "same UTC day; valid_until is a day)"
            )
        entries.append(HistoryEntry(translation.url, day, translation.rules))
    return entries, dropped


def _valid_until(entry: Any) -> datetime:
    value = entry.get("validUntil") if isinstance(entry, dict) else None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC) if moment else _no_day(value)
    except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:00-05:00 is past datetime's last day
        return _no_day(value)


def _no_day(value: Any) -> NoReturn:
    raise _Skip(f"a history entry has no readable validUntil ({_shown(value)})")


def _translate(entry: Any, proposals: Proposals) -> _Translation:
    """One OTA terms declaration (current or historical) in our terms; raises _Skip when not faithful."""
    if not isinstance(entry, dict):
        raise _Skip("the declaration is not an object")
    if "combine" in entry:
        pages = entry["combine"] if isinstance(entry["combine"], list) else []
        assembled = f"combine assembles {counted(len(pages), 'page')} into one document"
        raise _Skip(f"{assembled}; a document here is one page")
    if not isinstance(entry.get("fetch"), str):
        raise _Skip("no fetch URL")
    if (internal := proposals.refusal(entry["fetch"].strip())) is not None:
        # Declared origins may be reached on internal addresses by the live crawl (crawler/hosts.py): only a
        # person writing the configuration chooses one, never a third party's declaration (acceptance report 5).
        raise _Skip(
            f"its fetch URL is to an internal address ({internal}), which only a declaration written by hand may name"
        )
    select, ranges, others = _selectors(entry.get("select", []))
    if others:
        raise _Skip(f"select: {others} (a selector is a non-empty string)")
    if ranges:
        raise _Skip(f"select uses range selectors ({ranges}), which no CSS selector expresses")
    for selector in select:
        if reason := selector_error(selector):
            raise _Skip(f"select: {reason}")
    remove, remove_ranges, remove_others = _selectors(entry.get("remove", []))
    translation = _Translation(entry["fetch"].strip(), ExtractionRules(tuple(select), ()))
    if remove_others:
        translation.dropped.append(f"remove: {remove_others} (left out: the text keeps what was meant to be removed)")
    if remove_ranges:
        translation.dropped.append(f"remove range selectors ({remove_ranges}): the text keeps what they removed")
    kept = []
    for selector in remove:
        if reason := selector_error(selector):
            translation.dropped.append(f"remove: {reason}: the text keeps what it removed")
        else:
            kept.append(selector)
    translation.rules = ExtractionRules(tuple(select), tuple(kept))
    _options(entry, translation)
    return translation


def _options(entry: Mapping[str, Any], translation: _Translation) -> None:
    """``filter``, ``executeClientScripts`` and unknown keys."""
    filters = entry.get("filter")
    if filters:
        names = ", ".join(_filter_name(item) for item in (filters if isinstance(filters, list) else [filters]))
        translation.dropped.append(
            f"filter functions {names} (JavaScript in <Service>.filters.js): "
            "the text keeps what they removed or changed"
        )
    if entry.get("executeClientScripts") is True:
        if "validUntil" in entry:
            # Only archived captures use a history entry, and their bytes are replayed as served, never rendered.
            translation.notes.append(
                "Open Terms Archive rendered an earlier form of this page in a browser (executeClientScripts); "
                "archived captures are read as they were served"
            )
        elif "render" in document_keys():
            translation.render = "always"
        else:
            translation.dropped.append("executeClientScripts (this configuration has no `render` key)")
    for key in entry.keys() - _KNOWN_KEYS:
        translation.dropped.append(f"unknown key {key!r}")


def _filter_name(item: Any) -> str:
    """``cleanUrls``, or ``removeQueryParams(h, locale2)`` for a filter given with parameters."""
    if isinstance(item, dict):
        return ", ".join(
            f"{name}({', '.join(map(str, args if isinstance(args, list) else [args]))})" for name, args in item.items()
        )
    return str(item)


def _selectors(value: Any) -> tuple[list[str], str, str]:
    """Of a ``select``/``remove`` value (a string or a list): its CSS selectors, a description of its range
    selectors (objects) and of its items that are neither (``5, ["x"], null is``; empty when there are none)."""
    items = value if isinstance(value, list) else [value]
    selectors = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    ranges = [item for item in items if isinstance(item, dict)]
    described = "; ".join(", ".join(f"{key} {selector}" for key, selector in item.items()) for item in ranges)
    others = [item for item in items if not (isinstance(item, str) and item.strip()) and not isinstance(item, dict)]
    if not others:
        return selectors, described, ""
    return (
        selectors,
        described,
        _shown(*others) + (" is not a CSS selector" if len(others) == 1 else " are not CSS selectors"),
    )


def _shown(*values: Any) -> str:
    """JSON values as the declaration spells them (``5, ["x"], null``), cut to 120 characters for a message."""
    text = ", ".join(json.dumps(value, ensure_ascii=False) for value in values)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


def _check_loads(declaration: DocumentDeclaration) -> None:
    """What the real loader would refuse (a ``file:`` URL, ...) skips this document, not the whole service."""
    with TemporaryDirectory() as scratch:
        probe = Path(scratch) / f"{declaration.service_id}.toml"
        probe.write_text(service_toml(declaration.service_name, [DocumentDraft(declaration)]), encoding="utf-8")
        try:
            load_service(probe)
        except ConfigError as error:
            raise _Skip(f"{error.key}: {error.reason}") from None


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
