"""The rows of a CDX answer read, in every dialect (:func:`read_page`); the request and its answer are
crawler/sources/cdx.py's. Split from it on 2026-11-29.

Every dialect is read, whatever was asked for: 7-field text (the Internet Archive's default), JSON arrays (its
``output=json``), CDXJ ``urlkey timestamp {json}`` (pywb's default), JSON lines (pywb's ``output=json``), and the
classic CDX files' 11-field (``CDX N b a m s k r M S V g``) and 9-field (``CDX N b a m s k r V g``) rows, with or
without their legend line; a row without a usable timestamp or original URL, with a status or length no capture
has, or in none of these forms, makes the listing fail.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from policy_archive.digests import PayloadDigest
from policy_archive.records import CaptureRef, parse_wayback_timestamp
from policy_archive.text import plural

TEXT_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# The classic CDX file formats, by their legend letters (the Internet Archive's CDX format, archive.org/web/
# researcher/cdx_legend.php, and webarchive-commons' CDXFormat, as of 2026-11): N massaged URL, b date, a original
# URL, m mimetype, s status, k digest, r redirect, M meta tags, S compressed record size, V offset, g file name.
# An index made by a crawler's tools (Heritrix's, OpenWayback's, pywb's `cdx-indexer` without `-j`) is written in
# one of these, and some Wayback-compatible archives list from such files as they are.
CDX_LETTERS = {
    "N": "urlkey",
    "b": "timestamp",
    "a": "original",
    "m": "mimetype",
    "s": "statuscode",
    "k": "digest",
    "r": "redirect",
    "M": "metatags",
    "S": "length",
    "V": "offset",
    "g": "filename",
}
CDX11_LEGEND = "N b a m s k r M S V g"
CDX9_LEGEND = "N b a m s k r V g"
# Text rows by their number of space-separated fields; the 7 are the Internet Archive's CDX server's own default.
TEXT_ROWS: dict[int, tuple[str, ...]] = {
    len(TEXT_FIELDS): TEXT_FIELDS,
    9: tuple(CDX_LETTERS[letter] for letter in CDX9_LEGEND.split()),
    11: tuple(CDX_LETTERS[letter] for letter in CDX11_LEGEND.split()),
}
# pywb names its JSON fields differently from the Internet Archive's columns (pywb 2.x, as of 2026-11).
_PYWB_NAMES = {"url": "original", "mime": "mimetype", "status": "statuscode"}
_TIMESTAMP = re.compile(r"[0-9]{14}")
# ASCII digits only: ``\d`` also matches other scripts' digits, which ``int()`` reads too.
_NUMBER_OR_DASH = re.compile(r"[0-9]+|-")
# A listed status is an HTTP status code, three digits (RFC 9110 §15). Only 100–599 are defined, but servers send
# the rest of the three digits and an archive lists what it was sent: LinkedIn answers crawlers 999 (2017 to 2026,
# as link checkers' issues record), and one such capture must not make a whole listing fail. Any other number is
# no status: the row is unusable (review and outside audit 31, F1, 2026-11-29: an 11-digit status was read, then
# ended the run with an OverflowError, too big for the 32-bit column policy_archive/listed.py keeps statuses in).
LISTED_STATUSES = range(100, 1000)
# A listed length is the size of the capture's (compressed) WARC record, or ``-`` when the archive does not know it
# (the Wayback Machine's rows for some revisits, 2026-11): at most 18 digits, which the signed 64-bit column
# listed.py keeps lengths in holds (an exabyte; WARC files are customarily cut at 1 GB, ISO 28500 annex C).
MAX_LISTED_LENGTH = 10**18 - 1


@dataclass(frozen=True)
class CdxPage:
    """One answer's rows, in the archive's order, and the resume key it ended with (Internet Archive paging)."""

    refs: tuple[CaptureRef, ...]
    resume_key: str | None


class RowError(Exception):
    """Why an answer is not a complete listing; ``str()`` is the reason, without the document's URL."""


def read_page(text: str, *, resume_keys: bool) -> CdxPage:
    """The rows of one answer in whichever dialect it is written, and its resume key if it has one."""
    if text.lstrip().startswith("["):
        return _read_json_array(text)
    if text and not text.endswith("\n"):
        raise RowError(f"the answer was cut inside a row: {text.rsplit(chr(10), 1)[-1][:120]!r}")
    lines = [line.rstrip("\r") for line in text.split("\n")][:-1]
    names = None
    if lines and _is_legend(lines[0]):
        names, lines = _legend_names(lines[0]), lines[1:]
    resume_key = None
    if "" in lines:
        blank = lines.index("")
        if not resume_keys:
            raise RowError("a blank line among the rows")
        if blank == len(lines) - 1:
            raise RowError("a page announced a resume key but ended without it")
        if blank != len(lines) - 2 or " " in lines[-1].strip():
            raise RowError("a blank line in the middle of the rows")
        resume_key = lines[-1].strip()
        lines = lines[:blank]
    return CdxPage(tuple(_ref(_line_fields(line, names), line) for line in lines), resume_key)


def _is_legend(line: str) -> bool:
    """A classic CDX file's first line, `` CDX N b a m s k r M S V g`` (the leading space is usual, not required)."""
    return line.lstrip(" ").startswith("CDX ")


def _legend_names(line: str) -> tuple[str, ...]:
    """The field names a legend line gives, in order. A letter of the legend this reader has no use for (the older
    formats' ``A`` canonical URL, ``e`` IP, ``c`` old checksum, …) names a column that is skipped: columns are
    placed by the legend, so skipping one cannot shift another. A legend without ``b`` and ``a`` is an error."""
    letters = line.split()[1:]
    if len(set(letters)) != len(letters) or "b" not in letters or "a" not in letters:
        raise RowError(f"unreadable CDX legend (no b date, no a original URL, or a letter twice): {line[:120]!r}")
    return tuple(CDX_LETTERS.get(letter, f"legend {letter}") for letter in letters)


def _line_fields(line: str, names: tuple[str, ...] | None = None) -> Mapping[str, object]:
    """The named fields of one text line: JSON lines, CDXJ, or space-separated columns (named by the page's
    legend line when it had one, else by their number: 7, 9 or 11)."""
    if line.startswith("{"):
        return _json_object(line, line)
    parts = line.split(" ", 2)
    if names is None and len(parts) == 3 and parts[2].startswith("{"):
        return {"urlkey": parts[0], "timestamp": parts[1], **_json_object(parts[2], line)}
    fields = line.split(" ")
    if names is not None:
        if len(fields) != len(names):
            wanted = f"the legend's {len(names)}"
            raise RowError(f"unreadable row ({_fields(len(fields), wanted)}): {line[:120]!r}")
        return dict(zip(names, fields, strict=True))
    if len(fields) not in TEXT_ROWS:
        counts = ", ".join(str(count) for count in sorted(TEXT_ROWS)[:-1]) + f" or {max(TEXT_ROWS)}"
        raise RowError(f"unreadable row ({_fields(len(fields), counts)}): {line[:120]!r}")
    return dict(zip(TEXT_ROWS[len(fields)], fields, strict=True))


def _fields(found: int, wanted: int | str) -> str:
    """``6 fields instead of 7``."""
    return f"{found} {plural(found, 'field')} instead of {wanted}"


def _json_object(text: str, line: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        raise RowError(f"unreadable row (broken JSON): {line[:120]!r}") from None
    if not isinstance(value, dict):
        raise RowError(f"unreadable row (not a JSON object): {line[:120]!r}")
    return {_PYWB_NAMES.get(name, name): field for name, field in value.items()}


def _read_json_array(text: str) -> CdxPage:
    """The Internet Archive's ``output=json``: a header row of names, the rows, then ``[]`` and ``[key]``."""
    try:
        table = json.loads(text)
    except ValueError:
        raise RowError("the JSON answer is cut short or broken") from None
    if not isinstance(table, list) or not all(isinstance(row, list) for row in table):
        raise RowError("the JSON answer is not a list of rows")
    if not table:
        return CdxPage((), None)
    names, rows, resume_key = table[0], table[1:], None
    if [] in rows:
        blank = rows.index([])
        if blank != len(rows) - 2 or len(rows[-1]) != 1:
            raise RowError("the JSON answer has an empty row that is not followed by a resume key")
        resume_key, rows = str(rows[-1][0]), rows[:blank]
    refs = []
    for row in rows:
        if len(row) != len(names):
            raise RowError(f"unreadable row ({_fields(len(row), len(names))}): {str(row)[:120]!r}")
        refs.append(_ref(dict(zip(names, row, strict=True)), json.dumps(row)))
    return CdxPage(tuple(refs), resume_key)


def _ref(fields: Mapping[str, object], row: str) -> CaptureRef:
    """A checked :class:`CaptureRef`: a real 14-digit timestamp and an absolute http(s) original URL."""
    timestamp = str(fields.get("timestamp", ""))
    original = str(fields.get("original", ""))
    problem = _row_problem(timestamp, original, fields)
    if problem:
        raise RowError(f"unusable row ({problem}): {row[:120]!r}")
    mimetype = _optional(fields.get("mimetype"))
    # One string for each URL and type a listing repeats (a listing of one URL names it on every row): a long
    # listing held as many copies as rows (2026-11-29).
    return CaptureRef(
        url=sys.intern(original),
        timestamp=parse_wayback_timestamp(timestamp),
        status=_optional_int(fields.get("statuscode")),
        mimetype=None if mimetype is None else sys.intern(mimetype),
        digest=_digest(fields.get("digest")),
        length=_optional_int(fields.get("length")),
        blocked=_blocked(fields.get("access")),
    )


def _blocked(access: object) -> bool:
    """Whether a row's ``access`` field says the archive will not serve the capture. pywb 2.x (read in 2.10's
    ``warcserver/access_checker.py`` and ``handlers.py``, 2026-11) writes ``allow``, ``block`` (an access rule or
    an embargo: its replay answers 451) or ``exclude`` (such rows are not listed at all), and serves a capture only
    when it is ``allow``; a row without the field (any other archive, an older pywb) is served as listed."""
    return access not in (None, "", "-", "allow")


def _row_problem(timestamp: str, original: str, fields: Mapping[str, object]) -> str | None:
    if not _TIMESTAMP.fullmatch(timestamp):
        return "timestamp is not 14 digits"
    try:
        parse_wayback_timestamp(timestamp)
    except ValueError:
        return "timestamp is not a date"
    parts = urlsplit(original)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"original URL {original!r} is not an http(s) URL"
    for name in ("statuscode", "length"):
        if not _NUMBER_OR_DASH.fullmatch(str(fields.get(name, "-"))):
            return f"{name} is not a number"
    status, length = str(fields.get("statuscode", "-")), str(fields.get("length", "-"))
    if not _within(status, LISTED_STATUSES.start, LISTED_STATUSES.stop - 1):
        return f"statuscode {_shown(status)} is no HTTP status (100 to 999)"
    if not _within(length, 0, MAX_LISTED_LENGTH):
        return f"length {_shown(length)} has more than {len(str(MAX_LISTED_LENGTH))} digits"
    return None


def _within(number: str, least: int, most: int) -> bool:
    """Whether ``number`` (digits, or ``-`` for none) is from ``least`` to ``most``; its digits are counted before
    it is read, as Python refuses to read an int of more than 4,300 digits (a ValueError of its own)."""
    if number == "-":
        return True
    return len(number.lstrip("0")) <= len(str(most)) and least <= int(number) <= most


def _shown(number: str) -> str:
    """A number as a reason quotes it: its first 24 digits, and how many more."""
    return number if len(number) <= 24 else f"{number[:24]}… ({len(number):,} digits)"


def _optional(value: object) -> str | None:
    return None if value in (None, "", "-") else str(value)


def _optional_int(value: object) -> int | None:
    text = _optional(value)
    return None if text is None else _number(text)


@functools.lru_cache(maxsize=4096)
def _number(text: str) -> int:
    """One int object for each status and length read recently: a listing repeats them (one text's records differ
    by a few bytes), and a million rows held a million equal lengths (2026-11-29)."""
    return int(text)


def _digest(value: object) -> PayloadDigest | None:
    """A bare base32 SHA-1 as the Internet Archive writes it; pywb's CDXJ labels any other algorithm
    (``sha256:…`` from Browsertrix-crawler's WARCs), and may label a SHA-1 ``sha1:``."""
    text = _optional(value)
    return None if text is None else PayloadDigest.parse(text)
