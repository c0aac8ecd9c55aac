"""Load and validate the configuration (the contract of DESIGN.md): ``settings.toml`` here, with the types it
gives, and every ``services/*.toml`` (``config.declarations``).

Every problem is reported, each naming the file, the key and the reason: :func:`load_config` checks every file and
every key before it raises one :class:`ConfigError` carrying them all (``problems``), so that one run of
``validate`` names everything to fix (audit F4, 2026-11-28). A file that cannot be read as TOML is one problem; the
other files are still checked. Nothing is written before the whole configuration has been validated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from policy_archive.config.bounds import NUMBER_RANGES, backoff_for_archive, check_number
from policy_archive.config.checks import (
    FAILED,
    ConfigError,
    Problems,
    check_keys,
    check_name,
    check_replay_url,
    check_text,
    check_type,
    check_url,
    read_toml,
)
from policy_archive.config.cron import validate_cron
from policy_archive.config.declarations import page_key, service_documents
from policy_archive.records import DocumentDeclaration

CONFIG_ENV = "POLICY_ARCHIVE_CONFIG"
DATA_ENV = "POLICY_ARCHIVE_DATA"
PROJECT_URL = "https://github.com/policy-archive/policy-archive"
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
    # A listing of one URL, all its pages together: an archive that keeps sending a new resume key (or pywb paging on
    # by time) would otherwise be followed for ever, every row kept in memory (outside audit A, F1, 2026-11-29:
    # 1.76 M rows, 594 MB and growing after 300 s). As of 2026-11 the Wayback Machine's busiest URLs (the home pages
    # of the largest sites) have a few million captures, a policy page far fewer (tens of thousands at most): 5 M is
    # above any real listing, and at the ~300 bytes a listed row costs (that audit's figure) bounds memory near 1.5 GB
    # and the listing to 200 pages of 25,000 rows. Each page counts as a full page, so that pages of one row each
    # cannot go on for ever either.
    max_listing_rows: int = 5_000_000
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
# The query keys each API's listing sets itself (crawler/sources/wayback.py, pywb.py; tests/test_config.py checks
# these against the queries they send). A cdx_url carrying one sends it twice: a second url= made the archive answer
# for the configured URL, and the run-time error named matchType=exact, already there (outside audit A, 2026-11-29).
# The Internet Archive's listing sends no fl or output, so there a cdx_url's own are kept (README, "Other archives").
QUERY_KEYS_SET = {
    "wayback": ("url", "from", "to", "limit", "showResumeKey", "resumeKey"),
    "pywb": ("url", "from", "to", "output", "fl", "limit"),
}


def pywb_endpoint(cdx_url: str) -> bool:
    """pywb's default CDX endpoint is ``/COLL/cdx``; the Internet Archive's is ``/cdx/search/cdx`` (how ``api =
    "auto"`` tells them apart)."""
    path = urlsplit(cdx_url).path.rstrip("/")
    return path.endswith("/cdx") and not path.endswith("/cdx/search/cdx")


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
        the same archive key (:func:`~policy_archive.config.declarations.page_key`: scheme, letter case, a default
        port, a fragment, ``www.``, the order of query arguments do not count). Not an error — a person may mean
        it, as a service's terms and privacy policy on one page — but each is fetched and recorded separately, so
        ``validate`` warns of it (outside audit, 2026-11-28)."""
        pages: dict[str, list[DocumentDeclaration]] = {}
        for document in self.documents:
            pages.setdefault(page_key(document.url), []).append(document)
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
    problems = Problems()
    settings = _settings(root / "settings.toml", data_override, problems)
    services = root / "services"
    documents: list[DocumentDeclaration] = []
    for path in sorted(services.glob("*.toml")) if services.is_dir() else []:
        documents.extend(service_documents(path, problems))
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
        "max_listing_rows": int,
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


# Settings sent as they are in HTTP headers or written into logs: one line of safe characters. (`schedule.track` is
# checked by its own rule, crontab's: ASCII only, with a tab allowed between its fields, as crontab(5) allows.)
_TEXT_SETTINGS = ("crawl.user_agent", "archive.data_dir", "wayback.archive_name")


def _load_settings(path: Path, data_override: str | Path | None) -> Settings:
    problems = Problems()
    settings = _settings(path, data_override, problems)
    problems.raise_found()
    assert settings is not None  # no problem found: the settings were built
    return settings


def _settings(path: Path, data_override: str | Path | None, problems: Problems) -> Settings | None:
    """``settings.toml`` validated, every problem kept in ``problems``; None when there was one. A key whose type
    is wrong is not checked further (its range, its text), so that each key is named once, for its first fault."""
    before = len(problems.found)
    raw = problems.value(read_toml, path) if path.exists() else {}
    if raw is FAILED:
        return None
    problems.passes(check_keys, path, "", raw, _SETTINGS_SCHEMA)
    # The keys that passed every check so far, table by table: the later checks read only these.
    good: dict[str, dict[str, Any]] = {}
    for table, keys in _SETTINGS_SCHEMA.items():
        section = raw.get(table, {})
        good[table] = {}
        if not isinstance(section, dict):
            problems.add(path, table, "must be a table")
            continue
        problems.passes(check_keys, path, table, section, keys)
        for key, expected in keys.items():
            if key in section and problems.passes(check_type, path, f"{table}.{key}", section[key], expected):
                good[table][key] = section[key]

    def check(key: str, rule: Callable[..., Any], *args: Any) -> None:
        table, name = key.split(".")
        if name in good[table]:
            value = problems.value(rule, path, key, good[table][name], *args)
            if value is FAILED:
                del good[table][name]

    for key, (lowest, inclusive, highest) in NUMBER_RANGES.items():
        check(key, check_number, lowest, inclusive, highest)
    for key in _TEXT_SETTINGS:
        check(key, check_name if key == "wayback.archive_name" else check_text)
    # Both may hold a secret token (a webhook's path, an archive's query): named by scheme and host only (issue 11).
    for key in ("wayback.cdx_url", "schedule.webhook_url"):
        check(key, _secret_url)
    check("wayback.replay_url", check_replay_url)
    check("wayback.archive_name", _archive_name)
    check("wayback.api", _check_api)
    check("wayback.cdx_url", _query_not_set_by_us, good["wayback"].get("api", WaybackSettings.api))
    check("schedule.track", _check_cron)
    wayback = good["wayback"]
    if "backoff_seconds" in wayback and (host := _internet_archive_host(raw.get("wayback", {}), wayback)):
        check("wayback.backoff_seconds", backoff_for_archive, host)
    if "archive_name" in wayback:
        wayback["archive_name"] = _archive_name(path, "wayback.archive_name", wayback["archive_name"])
    archive = raw.get("archive")
    refused = isinstance(archive, dict) and "data_dir" in archive and "data_dir" not in good["archive"]
    data_dir = FAILED
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


def _secret_url(path: Path, key: str, value: Any) -> str:
    return check_url(path, key, value, secret=True)


def _query_not_set_by_us(path: Path, key: str, value: str, api: str) -> None:
    """A ``cdx_url`` whose query holds none of the keys the listing of its API adds itself (:data:`QUERY_KEYS_SET`),
    named without the URL (it may hold a token)."""
    if api not in QUERY_KEYS_SET:  # "auto", or a value refused already
        api = "pywb" if pywb_endpoint(value) else "wayback"
    keys = dict.fromkeys(name for name, _ in parse_qsl(urlsplit(value).query, keep_blank_values=True))
    if duplicated := [name for name in keys if name in QUERY_KEYS_SET[api]]:
        listed = ", ".join(f"{name}=" for name in QUERY_KEYS_SET[api])
        raise ConfigError(
            path,
            key,
            f"its query must not carry {', '.join(f'{name}=' for name in duplicated)}: policy-archive adds "
            f"{listed} itself to each listing ({api} API), so the archive would get {duplicated[0]}= twice",
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
    check_text(where, key, value)
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


def is_internet_archive(url: str) -> bool:
    """Whether ``url``'s host is the Internet Archive's: ``archive.org`` or a name under it (``web.archive.org``)."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    return host == "archive.org" or host.endswith(".archive.org")


def _internet_archive_host(written: Any, good: Mapping[str, Any]) -> str | None:
    """The host of the archive endpoint (``cdx_url``, ``replay_url``: either, as written or by default) that is the
    Internet Archive's, or None. An endpoint refused already is not judged (its problem is named)."""
    defaults = WaybackSettings()
    for key in ("cdx_url", "replay_url"):
        if isinstance(written, dict) and key in written and key not in good:
            continue
        url = good.get(key, getattr(defaults, key))
        if is_internet_archive(url):
            return urlsplit(url).hostname
    return None


def _check_cron(path: Path, key: str, expression: str) -> None:
    reason = validate_cron(expression)
    if reason:
        raise ConfigError(path, key, reason)


def parse_date_option(value: str, option: str) -> date:
    """Parse a ``--since``/``--until``/``--at`` option value (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError("command line", option, f"must be a date YYYY-MM-DD, got {value!r}") from None
