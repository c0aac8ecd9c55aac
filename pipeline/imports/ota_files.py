"""Reading an Open Terms Archive collection: which declaration files, and each one's JSON read within bounds.

An OTA collection declares each service in ``declarations/<Service>.json`` and keeps the earlier declarations of
each terms type in ``<Service>.history.json``, as of OTA engine 2.x / 10.x (2026-11). A declaration is untrusted
input: a file larger than ``MAX_DECLARATION_BYTES`` or nested deeper than ``MAX_NESTING``, and anything that is not
a regular file itself (a symbolic link, a FIFO, a device, a folder), is :class:`Unreadable` (that service's
``FAILED`` line in ``import-ota``, never read whole, never waited on, never a traceback), and so is one Python's
JSON decoder refuses (not UTF-8, not JSON, an integer of more than 4,300 digits).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policy_archive.config.checks import ConfigError
from policy_archive.config.writer import slug_id

HISTORY_SUFFIX = ".history.json"
# Real declarations and their histories are a few kB (the largest in tests/fixtures/ota, taken from
# OpenTermsArchive/contrib-declarations: 1.1 kB) and nested 5 levels at most (terms → type → select → range
# object → selector): these bounds leave room for any of them and refuse a corrupted or hostile file before it is
# read whole (a file of 200,000 nested lists made json's decoder raise RecursionError).
MAX_DECLARATION_BYTES = 4 * 2**20
MAX_NESTING = 32


class Unreadable(Exception):
    """A declaration file that cannot be read as one (too large, too deep, not UTF-8 JSON); ``str()`` says why."""


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


def read_declaration(path: Path) -> Any:
    """The JSON value of a declaration file, read within ``MAX_DECLARATION_BYTES`` and ``MAX_NESTING`` (raises
    :class:`Unreadable`)."""
    try:
        data = _read_regular_file(path)
        if len(data) > MAX_DECLARATION_BYTES:
            raise Unreadable(f"{path.name} is larger than {MAX_DECLARATION_BYTES // 2**20} MiB (not a declaration)")
        value = json.loads(data.decode("utf-8"))
    except RecursionError:  # json's decoder recurses once per nested list or object
        raise Unreadable(f"{path.name} cannot be read: nested deeper than Python's JSON decoder goes") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Unreadable(f"{path.name} cannot be read: {error}") from None
    except ValueError as error:  # json reads integers with int(), which refuses more than 4,300 digits (2026-11)
        said = str(error).split(";")[0]  # without Python's advice to programmers (sys.set_int_max_str_digits)
        raise Unreadable(f"{path.name} cannot be read: {said}") from None
    if _nested_deeper(value, MAX_NESTING):
        raise Unreadable(f"{path.name} is nested deeper than {MAX_NESTING} levels (not a declaration)")
    try:  # JSON's \ud800 escapes decode to lone surrogates, which no service file (UTF-8 TOML) can hold
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise Unreadable(f"{path.name} cannot be read: it holds a lone surrogate ({error.reason})") from None
    return value


def _read_regular_file(path: Path) -> bytes:
    """The first ``MAX_DECLARATION_BYTES`` + 1 bytes of ``path``, which must be a regular file itself. Git keeps
    symbolic links, so a cloned collection may hold ``X.json -> /etc/passwd`` (a file outside it read as a
    declaration) or ``-> /dev/stdin``; a FIFO's open, or a terminal's read, waits for ever (audit 11: import-ota hung
    with no word). The last name is not followed (``O_NOFOLLOW``) and the open does not wait (``O_NONBLOCK``); the
    file's type is checked on what was opened, before anything is read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Unreadable(f"{path.name} is a symbolic link, not a declaration file (not followed)") from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise Unreadable(f"{path.name} is not a regular file (not read)")
    with os.fdopen(descriptor, "rb") as file:
        return file.read(MAX_DECLARATION_BYTES + 1)


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
