"""The configuration's problems and the checks that find them, shared by ``settings.toml`` and the service files.

A check raises :class:`ConfigError` naming the file, the key and the reason; :class:`Problems` runs the checks of a
whole configuration, keeps every problem found and goes on with the next key, so that one run of ``validate`` names
everything to fix (audit F4, 2026-11-28).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from policy_archive.errors import ConfigurationError
from policy_archive.hostnames import UnusableHost, ascii_url
from policy_archive.text import (
    invisible_character,
    is_unsafe_character,
    lookalike_space,
    printable,
    quoted,
    unsafe_character,
)


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
FAILED: Any = object()


class Problems:
    """The problems found so far, in the order found: each check runs through :meth:`passes` or :meth:`value`, which
    keep its problems and let the loader go on to the next key, file by file (audit F4, 2026-11-28)."""

    def __init__(self) -> None:
        self.found: list[ConfigProblem] = []

    def add(self, file: Path | str, key: str, reason: str) -> None:
        """Keep a problem found without a check (a key missing, a table of the wrong kind)."""
        self.found.append(ConfigProblem(str(file), key, reason))

    def passes(self, check: Callable[..., object], *args: Any) -> bool:
        """Run ``check``; whether it found nothing (its problems are kept)."""
        return self.value(check, *args) is not FAILED

    def value(self, check: Callable[..., Any], *args: Any) -> Any:
        """What ``check`` returns, or :data:`FAILED` when it raised (its problems are kept)."""
        try:
            return check(*args)
        except ConfigError as error:
            self.found.extend(error.problems)
            return FAILED

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


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables; one problem for the whole file when it is not TOML, not UTF-8 or cannot be read."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "", f"not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        byte = error.object[error.start : error.start + 1].hex().upper()
        reason = f"not UTF-8 text (byte 0x{byte} at offset {error.start}): save it as UTF-8"
        raise ConfigError(path, "", reason) from None
    except ValueError as error:  # tomllib reads integers with int(), which refuses more than 4,300 digits (2026-11)
        said = str(error).split(";")[0]  # without Python's advice to programmers (sys.set_int_max_str_digits)
        raise ConfigError(path, "", f"a number in it cannot be read: {said}") from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot be read: {error.strerror}") from None


def check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: Mapping[str, Any]) -> None:
    """Every key of ``table`` (at ``where``) is one of ``allowed``; one problem per unknown key, naming those known."""
    expected = f"unknown key (expected one of: {', '.join(allowed)})"
    unknown = [
        ConfigProblem(str(path), f"{where}.{key}" if where else key, expected) for key in table if key not in allowed
    ]
    if unknown:
        raise ConfigError.of(unknown)


def check_type(path: Path, key: str, value: Any, expected: type | tuple[type, ...]) -> None:
    """``value`` is of the ``expected`` type (a boolean is never a number here)."""
    # bool is an int in Python; a number setting given `true` is still a mistake.
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(path, key, f"must be {_type_name(expected)}, not a boolean")
    if not isinstance(value, expected):
        raise ConfigError(path, key, f"must be {_type_name(expected)}, got {type(value).__name__}")


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def check_url(path: Path, key: str, value: Any, *, secret: bool = False) -> str:
    """Absolute http(s) URLs only: Scrapy would also read file: and s3: URLs, which must never be tracked.

    No user:password (it would be written into Git and WARC files), no whitespace or control characters
    (URLs are written into commit trailers), a valid port (not 0), a host that can be sent (an internationalised one in
    its IDNA 2008 form, within DNS's lengths: :func:`~policy_archive.hostnames.ascii_url`). A ``secret`` URL (the
    webhook's, the archive's endpoints: a token may be in its path or query) is named in the problem by its scheme
    and host only (:func:`shown_secret_url`): a problem line goes to the terminal and, under systemd, to the journal
    (issue 11, 2026-11-29)."""
    if not isinstance(value, str):
        raise ConfigError(path, key, "must be a URL string")
    shown = shown_secret_url(value) if secret else repr(value)
    text = value.strip()
    bad = next((at for at, ch in enumerate(text) if ch.isspace() or is_unsafe_character(ch)), None)
    if bad is not None:
        where = f" {_part_at(text, bad)}" if secret else ""
        raise ConfigError(path, key, f"URL contains whitespace or control characters{where}: {shown}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a port out of 0-65535 or not a number
    except ValueError as error:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        # Python's reason may quote the netloc (user and password included): a secret URL's is not repeated.
        said = f" ({error})" if not secret else " (its port is not a number in 0-65535)" if "Port" in str(error) else ""
        raise ConfigError(path, key, f"not a valid URL{said}: {shown}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(path, key, f"must be an absolute http or https URL, got {shown}")
    if parts.port == 0:  # TCP's reserved port: nothing is fetched from it (crawler/hosts.py port_zero)
        raise ConfigError(path, key, f"its port is 0, on which no server can listen: {shown}")
    if not parts.hostname:
        raise ConfigError(path, key, f"URL has no host: {shown}")
    if "@" in parts.netloc:
        raise ConfigError(path, key, "URL carries a user name or password (user:password@): they would be recorded")
    try:
        ascii_url(text)  # what is fetched: every download and listing sends the host in this form
    except UnusableHost as error:
        said = "its host is not a name that can be sent" if secret else str(error)
        raise ConfigError(path, key, f"{said}, so it cannot be fetched: {shown}") from None
    return text


# How a secret URL is named when neither its host nor its scheme can be shown.
_NOT_SHOWN = "(the URL is not shown: it may hold a secret token)"


def shown_secret_url(value: str) -> str:
    """How a problem names a URL that may hold a secret (a Slack-style webhook's token is its path; an archive's
    key may be in its query): ``https://hooks.slack.com/… (the rest not shown: it may hold a secret token)``, its
    scheme and host only, never its user name, password, port, path, query or fragment. When the host cannot be
    read (no scheme or host, a space, control or invisible character in it, or an ``@`` anywhere, which makes the
    host a guess between user name and path), nothing of the URL is shown, and the line says so."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
    except ValueError:  # an IPv6 host not closed, a netloc that NFKC turns into another
        return f"its host cannot be read {_NOT_SHOWN}"
    readable = host.isprintable() and not any(ch.isspace() for ch in host) and not invisible_character(host)
    if "@" in value or not parts.scheme.isascii() or not parts.scheme.isalpha():
        return _NOT_SHOWN
    if not host or not readable:
        return f"its host cannot be read {_NOT_SHOWN}"
    name = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{name}/… (the rest not shown: it may hold a secret token)"


def secret_url_hider(urls: Iterable[str]) -> Callable[[str], str]:
    """A function writing every URL under one of ``urls`` (the archive's endpoints, the webhook: same host and
    port, a path starting with theirs, any scheme) that appears in a text as :func:`shown_secret_url` names it:
    for the lines other libraries write (Scrapy's ``Crawled (200) <GET {replay_url}/…>`` under ``--verbose``),
    which cannot be asked to name a capture otherwise. A URL of another host is left as it is."""
    roots = sorted({parts.netloc + parts.path.rstrip("/") for parts in map(_split, urls) if parts and parts.netloc})
    if not roots:
        return lambda text: text
    alternatives = "|".join(re.escape(root) for root in sorted(roots, key=len, reverse=True))
    pattern = re.compile(rf"[a-z][a-z0-9+.-]*://(?:{alternatives})[^\s<>\"'`]*", re.IGNORECASE)
    return lambda text: pattern.sub(lambda found: shown_secret_url(found.group()), text)


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url.strip())
    except ValueError:
        return None


def _part_at(url: str, at: int) -> str:
    """Which part of ``url`` its character ``at`` is in, for a problem that cannot quote it: ``before its path``
    (in its user name, host or port) or ``in its path, query or fragment``."""
    authority = re.match(r"[^:/?#]*://[^/?#]*", url)
    return "before its path" if authority and at < authority.end() else "in its path, query or fragment"


def check_replay_url(path: Path, key: str, value: Any) -> str:
    """``[wayback] replay_url``: :func:`check_url` (a secret URL: an archive's key may be in it), and no query or
    fragment: a capture's URL is built by appending ``/{timestamp}id_/{original}`` to it, which would land inside
    the query or the fragment, and never reach the archive as a path (outside audit A, F2, 2026-11-29)."""
    text = check_url(path, key, value, secret=True)
    if "?" in text or "#" in text:
        reason = "capture URLs are built by appending /TIMESTAMPid_/URL to it, so it may have no query (?) or fragment"
        raise ConfigError(path, key, f"{reason} (#): {shown_secret_url(value)}")
    return text


def fragment_refusal(url: str, rendered: bool) -> str | None:
    """Why a document's URL (current or earlier) may not be declared with its fragment (``#…``), or None.

    A fragment is never sent to the server: a page fetched as served is the URL without it, while the URL with it
    would be written into every trailer and header as the one fetched (outside audit A, F2, 2026-11-29). A page
    rendered in the browser (``render = "always"``) is another matter: its scripts read the fragment, and a
    hash-routed page shows what it names (Open Terms Archive declares such pages, e.g. Alibaba.com's
    ``#/rule/detail?…`` and wire.com's ``#legal3``, with ``executeClientScripts``; checked 2026-11-29: a page
    rendered from ``…/p.html#legal3`` recorded the text its script chose for ``#legal3``)."""
    if "#" not in url or rendered:
        return None
    return (
        'URL has a fragment (#…), which is never sent to the server: remove it, or set render = "always" '
        f"if the page's scripts show what it names: {url!r}"
    )


# The zero width non-joiner and joiner, said by name when refused: where they stand is what matters.
_JOINER_NAMES = {"U+200C": "a zero width non-joiner", "U+200D": "a zero width joiner"}
# Where IDNA 2008 lets them stand (RFC 5892, ContextJ), which names follow.
_JOINER_RULE = "only after a virama, and a non-joiner also between two joining letters, as in domain names"


def check_text(path: Path | str, key: str, value: str) -> None:
    """A one-line value: no control characters (NUL, CR, LF, ESC ...), line separators or bidi controls, and no
    other invisible character (:func:`~policy_archive.text.invisible_character`: category Cf, U+200B, U+FEFF...,
    the default ignorables; a joiner where no script needs it), which would make a name look like another (outside
    audit A, F3, audit 31, F4, issue 11, 2026-11-29)."""
    if bad := unsafe_character(value):
        raise ConfigError(path, key, f"contains a control character ({bad}): {value!r}")
    if (bad := invisible_character(value)) in _JOINER_NAMES:
        joiner = _JOINER_NAMES[bad]
        raise ConfigError(path, key, f"contains {joiner} ({bad}) where no script needs one ({_JOINER_RULE}): {value!r}")
    if bad:
        raise ConfigError(path, key, f"contains an invisible format character ({bad}): {value!r}")


def check_name(path: Path | str, key: str, value: str) -> None:
    """A name people read (a service's ``name``, ``[wayback] archive_name``): :func:`check_text`, and no space but
    U+0020 (:func:`~policy_archive.text.lookalike_space`: U+00A0, U+200A, U+3000... would make it look like
    another name; issue 11, 2026-11-29)."""
    check_text(path, key, value)
    if bad := lookalike_space(value):
        reason = f"contains a space other than U+0020 ({bad}), with which it looks like another name"
        raise ConfigError(path, key, f"{reason}: write a plain space: {value!r}")


def check_service_name(path: Path | str, key: str, value: str) -> None:
    """A service's ``name``: :func:`check_name`, and its spaces single and inside it (:func:`spacing_problem`). A
    name is shown in commit subjects, ``log``, the report and an OTA export's folder: ``ACME  Corp`` and ``ACME
    Corp`` are two services that read as one (and Windows drops a folder name's last space). Refused, not tidied:
    the name a person wrote is the one recorded, or none (issue 11, 2026-11-29)."""
    check_name(path, key, value)
    if problem := spacing_problem(value):
        said = "with which it looks like another name: write one space between words and none at either end"
        raise ConfigError(path, key, f"{problem}, {said}: {quoted(value)}")


def spacing_problem(name: str) -> str | None:
    """How ``name``'s plain spaces make it look like another (``has a space at its start or end``, ``has two
    spaces in a row``), or None. The one rule of the loader and of ``import-ota``."""
    if name != name.strip(" "):
        return "has a space at its start or end"
    if "  " in name:
        return "has two spaces in a row"
    return None


def check_date(path: Path, key: str, value: Any) -> date:
    """A day: a TOML date or a ``YYYY-MM-DD`` string (a date with a time is refused)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(path, key, f"must be a date YYYY-MM-DD, got {value!r}")
