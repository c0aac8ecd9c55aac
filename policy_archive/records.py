"""Typed, frozen records passed between the stages (config → crawler → archive → extract → versions).

Every datetime here is timezone-aware UTC; every status that may be unknown is ``int | None``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from policy_archive.digests import PayloadDigest

ID_RULE = "[a-z0-9][a-z0-9.-]*"
ID_PATTERN = re.compile(ID_RULE)
ID_MAX_LENGTH = 100  # ids become file names and path parts; long enough for any real id


def is_valid_id(text: str) -> bool:
    """A service or document id: the whole text matches ``ID_RULE`` (``re.match`` with ``$`` would let a
    trailing newline through), so no id can leave its directory or break a line."""
    return len(text) <= ID_MAX_LENGTH and ID_PATTERN.fullmatch(text) is not None


RENDERED_CONTENT_TYPE = "text/html; charset=utf-8"  # how a rendered DOM is serialised, stored and extracted
WAYBACK_TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
# The port of an http(s) URL that names none (RFC 9110 §4.2): a URL naming it is the same address.
DEFAULT_PORTS = {"http": 80, "https": 443}


def utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_wayback_timestamp(text: str) -> datetime:
    """Parse a 14-digit (or shorter, left-aligned) Wayback timestamp such as ``20180629162426``."""
    if not text.isdigit() or not 4 <= len(text) <= 14:
        raise ValueError(f"not a Wayback timestamp: {text!r}")
    padded = text + "0101000000"[len(text) - 4 :] if len(text) < 14 else text
    return datetime.strptime(padded, WAYBACK_TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def format_wayback_timestamp(moment: datetime) -> str:
    """``20180629162426``: ``moment`` in UTC as a 14-digit Wayback timestamp (a naive datetime is taken as UTC); the
    inverse of :func:`parse_wayback_timestamp` for whole seconds."""
    return utc(moment).strftime(WAYBACK_TIMESTAMP_FORMAT)


def payload_sha1(body: bytes) -> str:
    """Base32 SHA-1 of a payload: the form of CDX digests, so live and archive captures compare."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def iso_z(moment: datetime) -> str:
    """``2018-06-29T16:24:26Z``: the form used in commit trailers and the catalog."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_stamp(moment: datetime) -> str:
    """``20261127T131500Z``: a UTC time in a file's name (sorts in time order; no ``:``, which some systems refuse)."""
    return utc(moment).strftime("%Y%m%dT%H%M%SZ")


def parse_iso_z(text: str) -> datetime:
    """``2018-06-29T16:24:26Z`` (the form :func:`iso_z` writes) as an aware UTC datetime."""
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


class Source(StrEnum):
    """Where a capture came from: an archive's replay (``wayback``, for any Wayback-compatible archive) or the live site
    (``live``); the value is what the catalog stores."""

    WAYBACK = "wayback"
    LIVE = "live"


class Render(StrEnum):
    """When a document is fetched in a headless browser: ``auto`` only when the plain answer is a script shell."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


# Kept lower case inside a title, as English titles (and Open Terms Archive's terms types) write them.
SMALL_TITLE_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})


def title_from_id(identifier: str) -> str:
    """``conditions-of-use`` → ``Conditions of Use``: each word capitalised but the small ones after the first."""
    words = [word for word in identifier.replace(".", " ").split("-") if word]
    return " ".join(w if i and w in SMALL_TITLE_WORDS else w.capitalize() for i, w in enumerate(words))


@dataclass(frozen=True)
class ExtractionRules:
    """Where the document body is on a page: CSS selectors to keep (empty: let the extractor decide) and drop."""

    select: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """12 hex digits naming these rules, recorded with each version so that ``verify`` can tell a version
        made under other rules (a declaration edited since) from a version that is not what it claims."""
        canonical = json.dumps({"select": self.select, "remove": self.remove}, separators=(",", ":"))
        return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class HistoryEntry:
    """An earlier location or layout of a document, used for captures up to ``valid_until`` (inclusive)."""

    url: str
    valid_until: date
    rules: ExtractionRules = ExtractionRules()
    render: Render = Render.AUTO


# The commands that write declarations whose URLs a tool took from others' pages or files (``written_by``).
TOOL_WRITERS = ("discover", "import-ota")


@dataclass(frozen=True)
class DocumentDeclaration:
    """One tracked document of one service, as declared in ``config/services/<service>.toml``."""

    service_id: str
    service_name: str
    document_id: str
    url: str
    rules: ExtractionRules = ExtractionRules()
    history: tuple[HistoryEntry, ...] = ()
    render: Render = Render.AUTO
    # The command that wrote the declaration from pages or files other people control (one of TOOL_WRITERS), or
    # None for a person's: only a person's URLs may lead live fetches to internal addresses (Config.declared_origins).
    written_by: str | None = None

    @property
    def key(self) -> str:
        """``acrcloud/privacy-policy``: the name used on the command line and in the catalog."""
        return f"{self.service_id}/{self.document_id}"

    @property
    def path(self) -> str:
        """``a/acrcloud/privacy-policy.md``: the file in the versions repository (see DESIGN.md, Git at scale)."""
        return f"{self.service_id[0]}/{self.service_id}/{self.document_id}.md"

    @property
    def document_title(self) -> str:
        """``Privacy Policy`` from ``privacy-policy``, ``Terms of Service`` from ``terms-of-service``."""
        return title_from_id(self.document_id)

    @property
    def display_name(self) -> str:
        """``ACRCloud Privacy Policy``: used in commit subjects."""
        return f"{self.service_name} {self.document_title}"

    def entry_at(self, moment: datetime) -> tuple[str, ExtractionRules]:
        """URL and extraction rules that apply to a capture taken at ``moment``."""
        day = utc(moment).date()
        for entry in self.history:
            if day <= entry.valid_until:
                return entry.url, entry.rules
        return self.url, self.rules

    def render_at(self, moment: datetime) -> Render:
        """Whether a capture taken at ``moment`` is rendered in a browser (see :class:`Render`)."""
        day = utc(moment).date()
        return next((entry.render for entry in self.history if day <= entry.valid_until), self.render)

    def urls(self) -> tuple[str, ...]:
        """Every URL the document lived at, oldest first, without repeats."""
        ordered = [entry.url for entry in self.history] + [self.url]
        return tuple(dict.fromkeys(ordered))


def document_of(path: str) -> str:
    """``acrcloud/privacy-policy`` from ``a/acrcloud/privacy-policy.md``: the inverse of
    :attr:`DocumentDeclaration.path`."""
    return path.split("/", 1)[1].removesuffix(".md")


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """One row of a CDX listing: a capture that exists in the archive (not yet fetched). ``digest``: the payload
    digest the row lists, in the algorithm it names (``policy_archive.digests``)."""

    url: str
    timestamp: datetime
    status: int | None
    mimetype: str | None
    digest: PayloadDigest | None
    length: int | None = None
    # The archive lists the capture but its access rules refuse to serve it (pywb's ``"access": "block"``, an
    # embargo's too: its replay answers 451): refused from the listing, never asked for (outside audit 5, item 1).
    blocked: bool = False

    @property
    def wayback_timestamp(self) -> str:
        """The listed capture time as a 14-digit Wayback timestamp, as archive URLs and CDX queries name it."""
        return format_wayback_timestamp(self.timestamp)


def at_second(refs: Sequence[CaptureRef]) -> dict[tuple[str, datetime], list[int]]:
    """The positions in ``refs`` of the rows listed at each URL and second, in listing order. A replay URL names a
    URL and a second, so an archive serves one capture for them (pywb the first its index sorts, the Wayback
    Machine one of its choosing; docs/decisions/0004, amendment of 2026-11-28), however many rows a listing holds
    there: two crawls merged into one index, a response and the ``resource`` record of its rendered DOM in a pywb
    collection made from WARCs another tool wrote, or ours written before 2026-11-28 (which filed the DOM under the
    page's URL: docs/decisions/0012). Whatever looks a capture up by its URL and second looks up these groups."""
    groups: dict[tuple[str, datetime], list[int]] = {}
    for i, ref in enumerate(refs):
        groups.setdefault((ref.url, ref.timestamp), []).append(i)
    return groups


@dataclass(frozen=True)
class Capture:
    """The raw bytes of one document at one moment, from the archive's ``id_`` replay or the live site.

    For an archive capture, ``captured_at`` is the ``Memento-Datetime`` of the response these bytes came in
    and ``url`` the site's URL they were archived from: after archived redirects, the target's memento, not the
    CDX row (``listed``) that led there. ``body`` is the payload as served (``Content-Encoding`` not undone:
    its SHA-1 is what a CDX digest and a WARC payload digest are computed over), but for a coding the archive
    applied for the transfer only, or chunks it passed on whose entity the digest names
    (``pipeline.jobs.served_bytes.as_archived``); chunks kept as recorded are joined when read
    (``policy_archive.framing``). ``hops`` are the archived redirects followed on the way, each a capture of its
    own.
    """

    document: str
    source: Source
    url: str
    fetched_url: str
    captured_at: datetime
    status: int
    content_type: str | None
    body: bytes
    payload_sha1: str
    headers: tuple[tuple[str, str], ...] = ()
    redirects: tuple[str, ...] = ()
    # The DOM after running the page's scripts in a headless browser, serialised as HTML (``body`` stays the
    # raw bytes the server sent): what extraction reads when present.
    rendered: bytes | None = None
    # Requests of the rendered page not sent because its site's robots.txt disallows them (scripts, data): the
    # DOM is what a visitor respecting robots.txt sees; a page whose text they would have built is refused.
    not_requested: tuple[str, ...] = ()
    listed: CaptureRef | None = None
    fetched_at: datetime | None = None
    snapshot_url: str | None = None
    hops: tuple[Capture, ...] = ()
    # How many times the request was sent, this one included (a live page: Scrapy's retries, a Retry-After's
    # asking again): a page answering a server error says it was asked 3 times, as a failed download does.
    asked: int = 1

    @property
    def listing_key(self) -> tuple[str, datetime]:
        """(URL, time) of the catalog row this capture answers: its CDX row, or itself for a live fetch."""
        if self.listed is not None:
            return self.listed.url, self.listed.timestamp
        return self.url, self.captured_at

    def header(self, name: str) -> str | None:
        """The first value of an HTTP response header, case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class Dropped:
    """Text that extraction removed from inside the located content, or left beside it, for a reviewer to check.

    ``reason``: ``navigation``, ``footer``, ``dialog``, ``furniture``, ``cookie-notice``, ``hidden``,
    ``control``, ``other-document`` (the page held several documents and one was kept), ``too-deep`` (the HTML
    parser stopped at its depth limit and never read the rest of the page) or ``outside-content`` (text the
    locator left beside the block it located as the content); ``words``: how many words went;
    ``sample``: the first words of what went.
    """

    reason: str
    words: int
    sample: str


@dataclass(frozen=True)
class ExtractedDocument:
    """What extraction made of one capture: a title, a normalised Markdown body, the date the text states
    for itself ("Last updated: May 25, 2018"), if any, and what was dropped from inside the located content
    (not part of the text's identity: two captures with the same body are the same version)."""

    title: str
    body: str
    stated_date: date | None = None
    dropped: tuple[Dropped, ...] = ()


@dataclass(frozen=True)
class Version:
    """One text of one document, as it should appear in the versions repository.

    ``content`` is the whole file (provenance header, title, body); change detection compares ``body`` only.
    A technical upgrade (re-extraction of a stored capture) is committed at ``committed_at`` — when it was
    made — while ``captured_at`` stays the time of the capture it was made from.
    """

    document: str
    path: str
    display_name: str
    captured_at: datetime
    source: Source
    snapshot_url: str
    payload_sha1: str
    extractor: str
    content: str
    body: str
    technical_upgrade: bool = False
    committed_at: datetime | None = None
    stated_date: date | None = None  # the date the text states for itself, if any

    @property
    def commit_time(self) -> datetime:
        """The commit's author and committer date, which orders the branch."""
        return self.committed_at or self.captured_at


@dataclass(frozen=True)
class RecordedVersion:
    """A version that made it into the repository, with the commit that holds it."""

    version: Version
    commit: str


@dataclass(frozen=True)
class FetchRequest:
    """What the crawler should download for one document: an ``id_`` replay URL or a live URL."""

    document: str
    url: str
    original_url: str
    ref: CaptureRef | None = None
    headers: tuple[tuple[str, str], ...] = ()
    render: bool = False  # fetch in the headless browser and keep the rendered DOM next to the raw bytes
    # An archive capture rendered for a declared URL with a fragment (``#terms``; render = "always" only): the
    # page is opened with it, for its scripts to read (``location.hash``), while ``url`` (the ``id_`` replay) is
    # asked without it: a fragment is never sent to a server. Empty otherwise (a live URL keeps its own in ``url``).
    fragment: str = ""


@dataclass(frozen=True)
class FetchFailure:
    """A download that produced no usable capture (network error, archive error, redirect loop, ...)."""

    request: FetchRequest
    reason: str
    status: int | None = None
    not_modified: bool = False
    # The archive answered, and its answer is that there is no capture here (not-archived, a redirect leaving
    # the archive or looping), or a live request was refused by our own rules (robots.txt, an internal address, the
    # redirect limit): a refusal, never retried. Otherwise a failure, which a later run retries.
    refused: bool = False
    hops: tuple[Capture, ...] = ()
    # The page needed rendering and no browser could be started: the reason says how to install one.
    needs_browser: bool = False
    # Running again alone gets the same answer (crawler/failures.py ``lasting``: an answer, a rendering's answers
    # or its DOM over max_page_bytes, a header line or block over what the client reads): said and counted as such
    # wherever the reason is, even after other words (a script shell's refusal before its rendering's failure).
    lasting: bool = False
