"""What the stand-in archive holds: a capture, keyed and digested as the Wayback Machine's CDX index does."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from email.utils import format_datetime
from functools import cached_property
from typing import Literal
from urllib.parse import quote_from_bytes, unquote, unquote_to_bytes, urljoin, urlsplit

from policy_archive.records import parse_wayback_timestamp

# How the replay writes an archived redirect's Location: rewritten into its capture URL (absolute, path-based or
# scheme-less, as the Wayback Machine does), or "as-sent", as the site sent it (as pywb 2.10's id_ replay does).
RedirectForm = Literal["absolute", "path", "schemeless", "as-sent"]


def payload_digest(body: bytes) -> str:
    """Base32 SHA-1 of the payload: the ``digest`` of a CDX row."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def surt(url: str) -> str:
    """The CDX ``urlkey`` of a URL: ``https://www.ACRCloud.com:443/p?b=2&a=1`` → ``com,acrcloud)/p?a=1&b=2``.

    Like the archive's canonicaliser (policy_archive/urlkey.py says which): scheme, ``www.`` prefix, default port
    and fragment dropped, everything lowercased, query arguments sorted; so http/https and www/non-www captures of
    a page share one key. An international host is keyed in its IDNA form by Python's codec, IDNA 2003, as the
    ``surt`` package and archive-commons do (``straße.example`` → ``example,strasse)``: a capture made of
    ``xn--strae-oqa.example`` is filed under that name); a path is keyed escaped once, so ``/erklärung`` and
    ``/erkl%C3%A4rung`` share a key.
    """
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url.strip())
    host = unquote(parts.hostname or "")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # kept as written, as the canonicaliser keeps a name IDNA refuses
    host = re.sub(r"^www\d*\.", "", host.lower())
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    path = _escaped_once(parts.path or "/").lower()
    query = "&".join(sorted(parts.query.lower().split("&"))) if parts.query else ""
    return ",".join(reversed(host.split("."))) + port + ")" + path + (f"?{query}" if query else "")


def _escaped_once(path: str) -> str:
    """``path`` with its percent-escapes decoded until none is left, then every byte outside printable ASCII (and
    ``%`` and ``#``) escaped: the canonicaliser's escapeOnce."""
    data = path.encode("utf-8", "surrogateescape")
    while (decoded := unquote_to_bytes(data)) != data:
        data = decoded
    return quote_from_bytes(data, safe="!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~")


def http_date(timestamp: str) -> str:
    """``Tue, 31 Dec 1996 23:58:47 GMT``: the form of ``Memento-Datetime``."""
    return format_datetime(parse_wayback_timestamp(timestamp), usegmt=True)


CdxFields = Literal[7, 9, 11]
ChunkDigest = Literal["chunks", "entity"]
CHUNK = 100  # bytes a chunk of a recorded chunked payload holds (the last fewer)


@dataclass(frozen=True)
class StandinCapture:
    """One capture held by the stand-in archive.

    ``location`` makes it an archived redirect (with a 3xx ``status``): where the original site pointed,
    absolute or relative to ``url``. ``redirect_form`` is how the archive writes the replay ``Location``.
    ``status=None`` is a revisit record (identical payload seen again): ``-`` in the CDX status column.
    ``content_encoding`` is the site's Content-Encoding: ``body`` is then the encoded payload (as archived and
    replayed in ``id_`` mode to a client taking that coding, and as the digest is computed over; decoded for any
    other, as pywb 2.10 does: ``archive_replay``).
    ``chunked`` makes it a record kept ``Transfer-Encoding: chunked`` as Heritrix writes one: ``recorded`` (``body``
    in chunks of :data:`CHUNK` bytes, size lines in lower-case hex, the first with a chunk extension) is the payload,
    and the digest listed is over those chunks (``"chunks"``, Heritrix's way) or over ``body`` (``"entity"``).
    """

    url: str
    timestamp: str
    body: bytes = b""
    status: int | None = 200
    mimetype: str = "text/html"
    location: str | None = None
    redirect_form: RedirectForm = "absolute"
    content_encoding: str | None = None
    chunked: ChunkDigest | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{14}", self.timestamp):
            raise ValueError(f"timestamp must have 14 digits: {self.timestamp!r}")
        parse_wayback_timestamp(self.timestamp)  # a real date, or ValueError
        if self.location is not None and not 300 <= (self.status or 0) < 400:
            raise ValueError(f"a capture with a location must have a 3xx status, not {self.status}")

    @cached_property
    def urlkey(self) -> str:
        return surt(self.url)

    @cached_property
    def digest(self) -> str:
        return payload_digest(self.recorded if self.chunked == "chunks" else self.body)

    @cached_property
    def recorded(self) -> bytes:
        """The payload as the crawler recorded it: ``body`` itself, or its chunks for a ``chunked`` record."""
        if self.chunked is None:
            return self.body
        pieces = [self.body[at : at + CHUNK] for at in range(0, len(self.body), CHUNK)]
        chunks = [
            b"%x%s\r\n%s\r\n" % (len(piece), b";src=crawl" if not at else b"", piece) for at, piece in enumerate(pieces)
        ]
        return b"".join(chunks) + b"0\r\n\r\n"

    @property
    def target(self) -> str | None:
        """Where the redirect leads; None for no redirect, or one whose Location is no URL (``http://[::1/x``)."""
        if self.location is None:
            return None
        try:
            return urljoin(self.url, self.location)
        except ValueError:
            return None

    @cached_property
    def self_redirect(self) -> bool:
        """An archived redirect to a URL of its own key (``http://x.test/`` → ``https://www.x.test/``, the
        commonest real pair since sites moved to https): the real archives never replay it (``archive_replay``)."""
        target = self.target
        return target is not None and surt(target) == self.urlkey

    def cdx_row(self, *, lower_case: bool = False, fields: CdxFields = 7, offset: int = 0) -> str:
        """The CDX server's 7-field row, or a classic CDX file's 11-field (``N b a m s k r M S V g``) or 9-field
        (``N b a m s k r V g``) row: no redirect or meta tags (``-``), ``offset`` in a file of the stand-in's."""
        status = "-" if self.status is None else str(self.status)
        digest = self.digest.lower() if lower_case else self.digest
        head = f"{self.urlkey} {self.timestamp} {self.url} {self.mimetype} {status} {digest}"
        if fields == 11:
            return f"{head} - - {len(self.body)} {offset} standin.warc.gz"
        if fields == 9:
            return f"{head} - {offset} standin.warc.gz"
        return f"{head} {len(self.body)}"
