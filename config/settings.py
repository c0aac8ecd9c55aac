"""Load and validate ``settings.toml`` and ``services/*.toml`` (the configuration contract of DESIGN.md).

Every problem is reported, each naming the file, the key and the reason: :func:`load_config` checks every file and
every key before it raises one :class:`ConfigError` carrying them all (``problems``), so that one run of
``validate`` names everything to fix (audit F4, 2026-11-28). A file that cannot be read as TOML is one problem; the
other files are still checked. Nothing is written before the whole configuration has been validated.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
from cssselect import ExpressionError, SelectorError
from lxml.cssselect import CSSSelector

from policy_archive.config.cron import validate_cron
from policy_archive.errors import ConfigurationError
from policy_archive.records import (
    ID_MAX_LENGTH,
    ID_PATTERN,
    ID_RULE,
    TOOL_WRITERS,
    DocumentDeclaration,
    ExtractionRules,
    HistoryEntry,
    Render,
    is_valid_id,
)
from policy_archive.text import printable, unsafe_character
from policy_archive.urlkey import match_key

CONFIG_ENV = "POLICY_ARCHIVE_CONFIG"
DATA_ENV = "POLICY_ARCHIVE_DATA"
PROJECT_URL = "https://github.com/policy-archive/policy-archive"
# A service name is part of every commit subject, log line and report title: bounded, so that a file cannot put
# kilobytes into each, and long enough for a company's full legal name (acceptance report 3 imported one of 306
# characters from an OTA declaration; the 200 characters allowed before refused it).
NAME_MAX_LENGTH = 1_000
# How the provenance header of an archive capture names the archive: "original snapshot on {archive_name}". The
# default is DESIGN.md's seed form, byte for byte; a national or pywb archive sets its own (F5, acceptance report 7).
DEFAULT_ARCHIVE_NAME = "the Wayback Machine"
# The name is written into the header line of every version file from the archive: bounded so that a typing
# mistake cannot put a paragraph there, long enough for "the Bibliothèque nationale de France's web archive".
ARCHIVE_NAME_MAX_LENGTH = 200


def package_version() -> str:
    """The installed policy-archive's version (the default user agent names it); ``0+unknown`` when run from a source
    tree that was never installed."""
    try:
        return version("policy-archive")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


@dataclass(frozen=True)
class ConfigProblem:
    """One problem of the configuration: ``file``, ``key`` (empty for the whole file) and ``reason``; ``str()`` is
    its one line, ``FILE: KEY: REASON``."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        message = f"{self.file}: {self.key}: {self.reason}" if self.key else f"{self.file}: {self.reason}"
        return printable(message)


class ConfigError(ConfigurationError):
    """The configuration's problems, at least one: ``problems`` in the order they are to be read (file, then key);
    ``file``, ``key`` and ``reason`` are the first's. ``str()`` is the first problem's line when it is the only
    one, else every line joined by ``"; "`` (the command line prints one line each)."""

    def __init__(self, file: Path | str, key: str, reason: str, *, more: Iterable[ConfigProblem] = ()):
        self.file, self.key, self.reason = str(file), key, reason
        self.problems: tuple[ConfigProblem, ...] = (ConfigProblem(self.file, key, reason), *more)
        super().__init__("; ".join(str(problem) for problem in self.problems))

    @classmethod
    def of(cls, problems: Sequence[ConfigProblem]) -> ConfigError:
        """One error carrying ``problems`` (not empty), in the order given."""
        first, *rest = problems
        return cls(first.file, first.key, first.reason, more=rest)


# A check that failed, where a value was expected (None is a valid value: no ``written_by``).
_BAD: Any = object()


class _Problems:
    """The problems found so far, in the order found: each check runs through :meth:`passes` or :meth:`value`, which
    keep its problems and let the loader go on to the next key, file by file (audit F4, 2026-11-28)."""

    def __init__(self) -> None:
        self.found: list[ConfigProblem] = []

    def add(self, file: Path | str, key: str, reason: str) -> None:
        self.found.append(ConfigProblem(str(file), key, reason))

    def passes(self, check: Callable[..., object], *args: Any) -> bool:
        """Run ``check``; whether it found nothing (its problems are kept)."""
        return self.value(check, *args) is not _BAD

    def value(self, check: Callable[..., Any], *args: Any) -> Any:
        """What ``check`` returns, or :data:`_BAD` when it raised (its problems are kept)."""
        try:
            return check(*args)
        except ConfigError as error:
            self.found.extend(error.problems)
            return _BAD

    def raise_found(self) -> None:
        """Raise every problem found as one :class:`ConfigError`, ordered by file (in the order the files were
        checked: the directory, ``settings.toml``, the services by name) and then by key; nothing if none."""
        if not self.found:
            return
        rank: dict[str, int] = {}
        for problem in self.found:
            rank.setdefault(problem.file, len(rank))
        raise ConfigError.of(sorted(self.found, key=lambda problem: (rank[problem.file], _key_order(problem.key))))


def _key_order(key: str) -> tuple[tuple[int, str, int], ...]:
    """``documents.a.history[10]`` after ``documents.a.history[2]``: the numbers of a key compared as numbers."""
    return tuple((0, part, 0) if not part.isdigit() else (1, "", int(part)) for part in re.split(r"\[(\d+)\]", key))


@dataclass(frozen=True)
class WaybackSettings:
    """The ``[wayback]`` table: where the archive's CDX and replay endpoints are, how fast they may be asked (requests
    per minute), the one request deadline (seconds) and whether replayed bytes must match their listed digest."""

    cdx_url: str = "https://web.archive.org/cdx/search/cdx"
    replay_url: str = "https://web.archive.org/web"
    # As of 2026-11 the Internet Archive allows ~30 CDX/timemap requests and ~600 replay requests per minute
    # per IP, and firewalls an IP for an hour when 429s are ignored: the defaults stay at 80 % of that.
    cdx_per_minute: float = 24
    replay_per_minute: float = 480
    backoff_seconds: float = 60
    # A deadline for a whole answer (a CDX page), not for each read: every request's, the live sites' too (track,
    # discover --live); the one timeout of the crawls, kept here where the configuration contract put it.
    timeout_seconds: float = 60
    # One CDX answer is read whole into memory: a bound keeps a hostile or broken server from filling it.
    max_listing_bytes: int = 100 * 1024 * 1024
    # A replayed 200 capture must have the SHA-1 its CDX row lists (as of 2026-11 the Wayback Machine serves id_
    # bytes as stored, so they match); false accepts archives that re-encode what they replay.
    check_digests: bool = True
    # Which CDX API cdx_url speaks (one of ARCHIVE_APIS): "auto" reads a path ending in /COLL/cdx as pywb's.
    api: str = "auto"
    # The archive's name in the provenance header of its captures (pipeline/jobs/provenance.py); not a trailer:
    # `Source: wayback` means any Wayback-compatible archive, and `Snapshot-Url` says which.
    archive_name: str = DEFAULT_ARCHIVE_NAME


# "wayback": the Internet Archive's CDX server (and archives copying it); "pywb": pywb 2.x's CDX server API.
# The names of crawler.sources' archive sources, which config cannot import (imports run one way).
ARCHIVE_APIS = ("auto", "wayback", "pywb")


@dataclass(frozen=True)
class CrawlSettings:
    """The ``[crawl]`` table: how fetches name themselves and behave (user agent, robots.txt, page size cap in bytes,
    render deadline in seconds, private addresses)."""

    user_agent: str = f"policy-archive/{package_version()} (+{PROJECT_URL})"
    obey_robots: bool = True
    max_page_bytes: int = 20 * 1024 * 1024
    # How long a page rendered in the headless browser may take to settle (network idle, text shown, DOM quiet)
    # before its DOM is taken as it is.
    render_timeout_seconds: float = 20
    # Live fetches never connect to loopback, private, link-local... addresses, except the origins written in
    # the configuration (crawler/addresses.py); true lifts the rule for intranet use.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class ScheduleSettings:
    """The ``[schedule]`` table: when ``schedule`` runs ``track`` (a 5-field crontab expression, UTC) and the webhook a
    run's changes are posted to, if any."""

    track: str = "0 */12 * * *"
    webhook_url: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything ``settings.toml`` holds, validated; ``data_dir`` is already resolved from ``--data``, the environment
    or ``[archive] data_dir``."""

    data_dir: Path
    wayback: WaybackSettings = WaybackSettings()
    crawl: CrawlSettings = CrawlSettings()
    schedule: ScheduleSettings = ScheduleSettings()


@dataclass(frozen=True)
class Config:
    """A validated configuration: its directory, its settings and every document declared in ``services/*.toml`` (sorted
    by file name)."""

    directory: Path
    settings: Settings
    documents: tuple[DocumentDeclaration, ...]

    def declared_origins(self) -> tuple[str, ...]:
        """Every URL the operator wrote (documents, their history, the archive endpoints): live fetches may
        reach their origins even on internal addresses, which they chose.

        Not the URLs of a document a tool wrote (``written_by``: ``discover --write``, ``import-ota``): a tool took
        them from pages and files other people control, whose names those people may point inside at any time
        (acceptance report 6, F-a1); they become the operator's when a person deletes the ``written_by`` line."""
        wayback = self.settings.wayback
        urls = [url for document in self.documents if document.written_by is None for url in document.urls()]
        return tuple(dict.fromkeys([*urls, wayback.cdx_url, wayback.replay_url]))

    def same_pages(self) -> list[tuple[DocumentDeclaration, ...]]:
        """The documents (two or more each, in the configuration's order) whose URLs are one page written differently:
        the same archive key (:func:`~policy_archive.urlkey.match_key`: scheme, letter case, a default port, a
        fragment, ``www.``, the order of query arguments do not count). Not an error — a person may mean it, as a
        service's terms and privacy policy on one page — but each is fetched and recorded separately, so
        ``validate`` warns of it (outside audit, 2026-11-28)."""
        pages: dict[str, list[DocumentDeclaration]] = {}
        for document in self.documents:
            pages.setdefault(match_key(document.url), []).append(document)
        return [tuple(same) for same in pages.values() if len(same) > 1]

    def select(self, names: Iterable[str]) -> tuple[DocumentDeclaration, ...]:
        """Documents named ``SERVICE/DOCUMENT`` or ``SERVICE``; no names means every document."""
        names = list(names)
        if not names:
            return self.documents
        chosen: dict[str, DocumentDeclaration] = {}
        for name in names:
            matches = [d for d in self.documents if name in (d.key, d.service_id)]
            if not matches:
                known = ", ".join(sorted({d.service_id for d in self.documents})) or "none"
                raise ConfigError(self.directory, name, f"no such document or service (services: {known})")
            chosen.update((d.key, d) for d in matches)
        return tuple(chosen.values())


def config_directory(option: str | Path | None) -> Path:
    """The configuration directory: ``option`` (``--config``), else ``$POLICY_ARCHIVE_CONFIG``, else ``config`` relative
    to the working directory; not checked to exist."""
    return Path(option or os.environ.get(CONFIG_ENV) or "config")


def load_config(directory: str | Path | None = None, data_override: str | Path | None = None) -> Config:
    """Read and validate the whole configuration; raise one :class:`ConfigError` naming every problem of every file
    (``settings.toml`` and ``services/*.toml`` alike)."""
    root = config_directory(directory)
    if root.exists() and not root.is_dir():
        raise ConfigError(
            root,
            "",
            f"not a directory: --config names the directory holding settings.toml and services/ (here {root.parent})",
        )
    if not root.is_dir():
        raise ConfigError(
            root, "", "configuration directory not found (use --config DIR, or create one with `policy-archive init`)"
        )
    problems = _Problems()
    settings = _settings(root / "settings.toml", data_override, problems)
    services = root / "services"
    documents: list[DocumentDeclaration] = []
    for path in sorted(services.glob("*.toml")) if services.is_dir() else []:
        documents.extend(_service(path, problems))
    problems.raise_found()
    assert settings is not None  # no problem found: the settings were built
    return Config(directory=root, settings=settings, documents=tuple(documents))


def load_settings(directory: str | Path | None = None) -> Settings:
    """``settings.toml`` alone, validated as :func:`load_config` validates it: for a command that writes service
    files rather than reading them (``import-ota``)."""
    return _load_settings(config_directory(directory) / "settings.toml", None)


# --- settings.toml ---------------------------------------------------------------------------------------

_SETTINGS_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "archive": {"data_dir": str},
    "wayback": {
        "cdx_url": str,
        "replay_url": str,
        "cdx_per_minute": (int, float),
        "replay_per_minute": (int, float),
        "backoff_seconds": (int, float),
        "timeout_seconds": (int, float),
        "max_listing_bytes": int,
        "check_digests": bool,
        "api": str,
        "archive_name": str,
    },
    "crawl": {
        "user_agent": str,
        "obey_robots": bool,
        "max_page_bytes": int,
        "render_timeout_seconds": (int, float),
        "allow_private_addresses": bool,
    },
    "schedule": {"track": str, "webhook_url": str},
}


# Numbers and their ranges: (lowest, lowest allowed itself?, highest). A NaN passes every comparison and
# switched the rate limiter off, an infinity crashed the first wait: every number must be finite and in range.
# The highest timeout and backoff is a day: a longer wait is a typing mistake, and Twisted's timers overflow.
_DAY_SECONDS = 86400.0
# The slowest rate a request budget may be set to: one request an hour. The rate limiter never queues a request
# further ahead than an hour (crawler/ratelimit.py MAX_PAUSE_SECONDS, so that a clock set backwards cannot stall a
# run), so a slower rate would be announced but not kept; and one an hour already makes a backfill of 100
# captures last four days. A positive rate below it (0.001, 1e-300) is a typing mistake.
SLOWEST_PER_MINUTE = 1 / 60
_NUMBER_RANGES: dict[str, tuple[float, bool, float]] = {
    "wayback.cdx_per_minute": (SLOWEST_PER_MINUTE, True, math.inf),
    "wayback.replay_per_minute": (SLOWEST_PER_MINUTE, True, math.inf),
    "wayback.backoff_seconds": (0, True, _DAY_SECONDS),
    "wayback.timeout_seconds": (0, False, _DAY_SECONDS),
    "wayback.max_listing_bytes": (0, False, math.inf),
    "crawl.max_page_bytes": (0, False, math.inf),
    "crawl.render_timeout_seconds": (0, False, _DAY_SECONDS),
}
# What a lowest bound means, said after it when a number is below it.
_LOWEST_MEANS = {
    "wayback.cdx_per_minute": "one request an hour, the slowest rate the rate limiter keeps",
    "wayback.replay_per_minute": "one request an hour, the slowest rate the rate limiter keeps",
}
# Settings sent as they are in HTTP headers or written into logs: one line of safe characters.
_TEXT_SETTINGS = ("crawl.user_agent", "schedule.track", "archive.data_dir", "wayback.archive_name")


def _load_settings(path: Path, data_override: str | Path | None) -> Settings:
    problems = _Problems()
    settings = _settings(path, data_override, problems)
    problems.raise_found()
    assert settings is not None  # no problem found: the settings were built
    return settings


def _settings(path: Path, data_override: str | Path | None, problems: _Problems) -> Settings | None:
    """``settings.toml`` validated, every problem kept in ``problems``; None when there was one. A key whose type
    is wrong is not checked further (its range, its text), so that each key is named once, for its first fault."""
    before = len(problems.found)
    raw = problems.value(_read_toml, path) if path.exists() else {}
    if raw is _BAD:
        return None
    problems.passes(_check_keys, path, "", raw, _SETTINGS_SCHEMA)
    # The keys that passed every check so far, table by table: the later checks read only these.
    good: dict[str, dict[str, Any]] = {}
    for table, keys in _SETTINGS_SCHEMA.items():
        section = raw.get(table, {})
        good[table] = {}
        if not isinstance(section, dict):
            problems.add(path, table, "must be a table")
            continue
        problems.passes(_check_keys, path, table, section, keys)
        for key, expected in keys.items():
            if key in section and problems.passes(_check_type, path, f"{table}.{key}", section[key], expected):
                good[table][key] = section[key]

    def check(key: str, rule: Callable[..., Any], *args: Any) -> None:
        table, name = key.split(".")
        if name in good[table]:
            value = problems.value(rule, path, key, good[table][name], *args)
            if value is _BAD:
                del good[table][name]

    for key, (lowest, inclusive, highest) in _NUMBER_RANGES.items():
        check(key, _check_number, lowest, inclusive, highest)
    for key in _TEXT_SETTINGS:
        check(key, _check_text)
    for key in ("wayback.cdx_url", "wayback.replay_url", "schedule.webhook_url"):
        check(key, _check_url)
    check("wayback.archive_name", _archive_name)
    check("wayback.api", _check_api)
    check("schedule.track", _check_cron)
    wayback = good["wayback"]
    if "archive_name" in wayback:
        wayback["archive_name"] = _archive_name(path, "wayback.archive_name", wayback["archive_name"])
    archive = raw.get("archive")
    refused = isinstance(archive, dict) and "data_dir" in archive and "data_dir" not in good["archive"]
    data_dir = _BAD
    if not refused or data_override or os.environ.get(DATA_ENV):  # else archive.data_dir is named already
        data_dir = problems.value(_data_dir, path, good["archive"], data_override)
    if len(problems.found) > before:
        return None
    return Settings(
        data_dir=data_dir,
        wayback=WaybackSettings(**wayback),
        crawl=CrawlSettings(**good["crawl"]),
        schedule=ScheduleSettings(**good["schedule"]),
    )


def _check_api(path: Path, key: str, value: str) -> None:
    if value not in ARCHIVE_APIS:
        choices = ", ".join(f'"{api}"' for api in ARCHIVE_APIS)
        raise ConfigError(path, key, f"must be one of {choices}, got {value!r}")


def _archive_name(path: Path, key: str, value: str) -> str:
    """``[wayback] archive_name`` without its outer spaces: one line (checked with the other text settings, so a
    line break can never reach a file), not empty, at most :data:`ARCHIVE_NAME_MAX_LENGTH` characters."""
    name = value.strip()
    if not name:
        raise ConfigError(path, key, f'must name the archive (default "{DEFAULT_ARCHIVE_NAME}")')
    if len(name) > ARCHIVE_NAME_MAX_LENGTH:
        raise ConfigError(path, key, f"longer than {ARCHIVE_NAME_MAX_LENGTH} characters")
    return name


def _data_dir(path: Path, archive: Mapping[str, Any], data_override: str | Path | None) -> Path:
    """The data directory, from --data, the environment or ``archive.data_dir`` (in that order of precedence).

    It must be a directory or not exist yet; checked here so that no command starts writing into a file's
    place (FileExistsError, NotADirectoryError half-way through)."""
    if data_override:
        where, key, value = "command line", "--data", str(data_override)
    elif os.environ.get(DATA_ENV):
        where, key, value = "environment", DATA_ENV, os.environ[DATA_ENV]
    else:
        where, key, value = str(path), "archive.data_dir", archive.get("data_dir", "data")
    _check_text(where, key, value)
    directory = Path(value)
    for candidate in (directory, *directory.parents):
        try:
            if not candidate.exists():
                continue
        except OSError as error:
            raise ConfigError(where, key, f"{candidate} cannot be read: {error.strerror}") from None
        if not candidate.is_dir():
            raise ConfigError(where, key, f"{candidate} is a file, not a directory")
        break
    return directory


def _check_number(path: Path | str, key: str, value: float, lowest: float, inclusive: bool, highest: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(path, key, f"must be a finite number, got {value}")
    if value < lowest or (value == lowest and not inclusive):
        means = f" ({_LOWEST_MEANS[key]})" if key in _LOWEST_MEANS else ""
        bound = f"{'at least' if inclusive else 'greater than'} {lowest:.3g}{means}"
        raise ConfigError(path, key, f"must be {bound}, got {value}")
    if value > highest:
        raise ConfigError(path, key, f"must be at most {highest:.15g}, got {value:.15g}")


def _check_cron(path: Path, key: str, expression: str) -> None:
    reason = validate_cron(expression)
    if reason:
        raise ConfigError(path, key, reason)


# --- services/<id>.toml ----------------------------------------------------------------------------------

_DOCUMENT_KEYS = {"url": str, "select": list, "remove": list, "history": list, "render": str, "written_by": str}
_HISTORY_KEYS = {"url": str, "select": list, "remove": list, "valid_until": (str, date), "render": str}


def document_keys() -> frozenset[str]:
    """The keys a ``[documents.<id>]`` table may hold (importers translate other tools' options into these)."""
    return frozenset(_DOCUMENT_KEYS)


def load_service(path: Path) -> list[DocumentDeclaration]:
    """Validate one service file and return its documents; one :class:`ConfigError` names every problem of it."""
    problems = _Problems()
    documents = _service(path, problems)
    problems.raise_found()
    return documents


def _service(path: Path, problems: _Problems) -> list[DocumentDeclaration]:
    """One service file's documents, every problem of it kept in ``problems`` (the documents of a file with
    problems are not all returned: the caller raises them before using any)."""
    service_id = path.stem
    problems.passes(_check_id, path, "", service_id, f"service id {service_id!r}", "(rename the file)")
    raw = problems.value(_read_toml, path)
    if raw is _BAD:
        return []
    problems.passes(_check_keys, path, "", raw, {"name": str, "documents": dict})
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(path, "name", "required: the service's display name")
        name = ""
    elif problems.passes(_check_text, path, "name", name) and len(name) > NAME_MAX_LENGTH:
        problems.add(path, "name", f"longer than {NAME_MAX_LENGTH:,} characters")
    documents = raw.get("documents")
    if not isinstance(documents, dict) or not documents:
        problems.add(path, "documents", "required: at least one [documents.<type>] table")
        return []
    name = name.strip()
    declared = (_document(path, service_id, name, doc_id, table, problems) for doc_id, table in documents.items())
    return [declaration for declaration in declared if declaration is not None]


def _check_id(path: Path, key: str, text: str, what: str, hint: str) -> None:
    """An id (a service file's name, a document's table name): its length said when the length is what fails
    (audit F5, 2026-11-28: a 101-character id was said not to match the pattern it matches)."""
    if is_valid_id(text):
        return
    if len(text) > ID_MAX_LENGTH and ID_PATTERN.fullmatch(text):
        rename = " (rename the file)" if not key else ""
        raise ConfigError(path, key, f"{what} is {len(text)} characters long: at most {ID_MAX_LENGTH}{rename}")
    raise ConfigError(path, key, f"{what} must match {ID_RULE} {hint}")


def _document(
    path: Path, service_id: str, name: str, doc_id: str, table: Any, problems: _Problems
) -> DocumentDeclaration | None:
    """One ``[documents.<id>]`` table, each of its keys checked; None when it has a problem (kept in ``problems``)."""
    where = f"documents.{doc_id}"
    before = len(problems.found)
    problems.passes(_check_id, path, where, doc_id, "document id", "(e.g. privacy-policy)")
    if not isinstance(table, dict):
        problems.add(path, where, "must be a table")
        return None
    problems.passes(_check_keys, path, where, table, _DOCUMENT_KEYS)
    url = _BAD
    if "url" not in table:
        problems.add(path, f"{where}.url", "required")
    else:
        url = problems.value(_check_url, path, f"{where}.url", table["url"])
    history = table.get("history", [])
    entries: tuple[HistoryEntry, ...] = ()
    if not isinstance(history, list):
        problems.add(path, f"{where}.history", "must be an array of tables ([[...history]])")
    else:
        checked = [_history_entry(path, f"{where}.history[{i}]", entry, problems) for i, entry in enumerate(history)]
        entries = tuple(entry for entry in checked if entry is not None)
        if len(entries) == len(checked) and any(
            later.valid_until <= earlier.valid_until for earlier, later in zip(entries, entries[1:], strict=False)
        ):
            problems.add(path, f"{where}.history", "entries must be oldest first (valid_until increasing)")
    rules = _rules(path, where, table, problems)
    render = problems.value(_render, path, where, table)
    written_by = problems.value(_written_by, path, where, table)
    if len(problems.found) > before:
        return None
    return DocumentDeclaration(
        service_id=service_id,
        service_name=name,
        document_id=doc_id,
        url=url,
        rules=rules,
        history=entries,
        render=render,
        written_by=written_by,
    )


def _written_by(path: Path, where: str, table: Mapping[str, Any]) -> str | None:
    value = table.get("written_by")
    if value is not None and value not in TOOL_WRITERS:
        choices = ", ".join(f'"{writer}"' for writer in TOOL_WRITERS)
        reason = f"must be one of {choices} (delete the line to declare the URLs yourself), got {value!r}"
        raise ConfigError(path, f"{where}.written_by", reason)
    return value


def _history_entry(path: Path, where: str, entry: Any, problems: _Problems) -> HistoryEntry | None:
    """One ``[[...history]]`` entry, each of its keys checked; None when it has a problem (kept in ``problems``)."""
    if not isinstance(entry, dict):
        problems.add(path, where, "must be a table")
        return None
    before = len(problems.found)
    problems.passes(_check_keys, path, where, entry, _HISTORY_KEYS)
    checked = {}
    for key, check in (("url", _check_url), ("valid_until", _check_date)):
        if key not in entry:
            problems.add(path, f"{where}.{key}", "required")
        else:
            checked[key] = problems.value(check, path, f"{where}.{key}", entry[key])
    rules = _rules(path, where, entry, problems)
    render = problems.value(_render, path, where, entry)
    if len(problems.found) > before:
        return None
    return HistoryEntry(url=checked["url"], valid_until=checked["valid_until"], rules=rules, render=render)


def _render(path: Path, where: str, table: Mapping[str, Any]) -> Render:
    value = table.get("render", Render.AUTO.value)
    try:
        return Render(value)
    except ValueError:
        choices = ", ".join(f'"{mode.value}"' for mode in Render)
        raise ConfigError(path, f"{where}.render", f"must be one of {choices}, got {value!r}") from None


def _rules(path: Path, where: str, table: Mapping[str, Any], problems: _Problems) -> ExtractionRules:
    """``select`` and ``remove``, each checked (a problem is kept in ``problems``, the rules are then empty)."""
    select = problems.value(_selectors, path, f"{where}.select", table.get("select", []))
    remove = problems.value(_selectors, path, f"{where}.remove", table.get("remove", []))
    if select is _BAD or remove is _BAD:
        return ExtractionRules()
    return ExtractionRules(select=select, remove=remove)


def _selectors(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ConfigError(path, key, "must be a list of CSS selectors (non-empty strings)")
    reasons = [reason for selector in value if (reason := selector_error(selector))]
    if reasons:
        raise ConfigError.of([ConfigProblem(str(path), key, reason) for reason in reasons])
    return tuple(value)


# --- shared checks ---------------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "", f"not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        byte = error.object[error.start : error.start + 1].hex().upper()
        reason = f"not UTF-8 text (byte 0x{byte} at offset {error.start}): save it as UTF-8"
        raise ConfigError(path, "", reason) from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot be read: {error.strerror}") from None


def _check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: Mapping[str, Any]) -> None:
    expected = f"unknown key (expected one of: {', '.join(allowed)})"
    unknown = [
        ConfigProblem(str(path), f"{where}.{key}" if where else key, expected) for key in table if key not in allowed
    ]
    if unknown:
        raise ConfigError.of(unknown)


def _check_type(path: Path, key: str, value: Any, expected: type | tuple[type, ...]) -> None:
    # bool is an int in Python; a number setting given `true` is still a mistake.
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(path, key, f"must be {_type_name(expected)}, not a boolean")
    if not isinstance(value, expected):
        raise ConfigError(path, key, f"must be {_type_name(expected)}, got {type(value).__name__}")


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def _check_url(path: Path, key: str, value: Any) -> str:
    """Absolute http(s) URLs only: Scrapy would also read file: and s3: URLs, which must never be tracked.

    No user:password (it would be written into Git and WARC files), no whitespace or control characters
    (URLs are written into commit trailers), a valid port."""
    if not isinstance(value, str):
        raise ConfigError(path, key, "must be a URL string")
    text = value.strip()
    if any(ch.isspace() for ch in text) or unsafe_character(text):
        raise ConfigError(path, key, f"URL contains whitespace or control characters: {value!r}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a port out of 0-65535 or not a number
    except ValueError as error:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        raise ConfigError(path, key, f"not a valid URL ({error}): {value!r}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(path, key, f"must be an absolute http or https URL, got {value!r}")
    if not parts.hostname:
        raise ConfigError(path, key, f"URL has no host: {value!r}")
    if "@" in parts.netloc:
        raise ConfigError(path, key, "URL carries a user name or password (user:password@): they would be recorded")
    return text


def _check_text(path: Path | str, key: str, value: str) -> None:
    """A one-line value: no control characters (NUL, CR, LF, ESC ...), line separators or bidi controls."""
    if bad := unsafe_character(value):
        raise ConfigError(path, key, f"contains a control character ({bad}): {value!r}")


def _check_date(path: Path, key: str, value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(path, key, f"must be a date YYYY-MM-DD, got {value!r}")


def selector_error(selector: str) -> str | None:
    """``None`` if ``selector`` is a CSS selector lxml can apply, else a human-readable reason."""
    try:
        CSSSelector(selector)
    except ExpressionError as error:
        # Valid CSS that cssselect parses but cannot turn into XPath (as of cssselect 1.6, 2026-11: a type-less
        # ":nth-of-type()"/":first-of-type", pseudo-elements): not the selector's fault, so not "invalid".
        return f"CSS selector {selector!r} is not supported by the selector engine (cssselect): {error}"
    except SelectorError as error:
        return f"invalid CSS selector {selector!r}: {error}"
    except lxml.etree.XPathError as error:
        return f"CSS selector {selector!r} cannot be applied: {error}"
    return None


def check_number_option(value: float, option: str, lowest: float, highest: float) -> float:
    """Check a number given on the command line as numbers in settings are checked: finite, ``lowest`` to
    ``highest`` inclusive (a NaN passes every comparison, an infinity or a huge number overflows the library
    it is handed to)."""
    _check_number("command line", option, value, lowest, True, highest)
    return value


def parse_date_option(value: str, option: str) -> date:
    """Parse a ``--since``/``--until``/``--at`` option value (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError("command line", option, f"must be a date YYYY-MM-DD, got {value!r}") from None
