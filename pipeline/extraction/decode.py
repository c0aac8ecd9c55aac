"""Decode raw HTML bytes as browsers do: HTTP charset, byte-order mark, ``<meta>``, then detection."""

from __future__ import annotations

import codecs
import re
import zlib

from charset_normalizer import from_bytes

CHARSET_PARAM = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# WHATWG Encoding Standard: these labels mean windows-1252, which browsers have always used for them.
WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819"}
# Detection results we trust for undeclared pages; single-byte Western guesses are resolved as windows-1252.
MULTIBYTE_OR_NON_LATIN = {
    "shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc_kr",
    "cp949", "koi8_r", "koi8_u", "cp1251", "iso8859_5", "cp1253", "iso8859_7", "cp1255", "iso8859_8",
    "cp1256", "iso8859_6", "tis_620", "cp874", "cp1250", "iso8859_2",
}  # fmt: skip


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode like a browser: HTTP charset, byte-order mark, ``<meta>`` declaration, then detection."""
    for encoding in (_declared_http_charset(content_type), _bom_encoding(body), _meta_charset(body)):
        if encoding:
            return body.decode(encoding, errors="replace").lstrip("\ufeff")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode(_detected_encoding(body), errors="replace")


def _known_encoding(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _declared_http_charset(content_type: str | None) -> str | None:
    match = HTTP_CHARSET.search(content_type or "")
    return _known_encoding(match.group(1)) if match else None


def _bom_encoding(body: bytes) -> str | None:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return encoding
    return None


def _meta_charset(body: bytes) -> str | None:
    match = CHARSET_PARAM.search(body[:4096])
    return _known_encoding(match.group(1).decode("ascii")) if match else None


def _detected_encoding(body: bytes) -> str:
    best = from_bytes(body[:20000]).best()
    guess = _known_encoding(best.encoding) if best else None
    if guess in MULTIBYTE_OR_NON_LATIN:
        return guess
    # Undeclared legacy Western pages: windows-1252 (superset of ISO-8859-1's printable range).
    return "cp1252"


# A decoded payload larger than this is refused: a few KB of gzip can expand to gigabytes (a "zip bomb").
MAX_DECODED_BYTES = 64 * 2**20
GZIP_MAGIC = b"\x1f\x8b"


class ContentEncodingError(ValueError):
    """A payload whose Content-Encoding cannot be undone (unknown coding, corrupt data, too large)."""


def undo_content_encoding(body: bytes, content_encoding: str | None) -> bytes:
    """The payload with its ``Content-Encoding`` undone (codings are applied in order, so undone in reverse).

    Raw captures keep the payload as served (its SHA-1 is the CDX digest); this gives extraction the entity.
    Payloads that are not actually encoded as declared (the Wayback Machine has served already-decoded bodies
    under a gzip header) are taken as they are.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        body = _undo(body, coding)
    return body


def _undo(body: bytes, coding: str) -> bytes:
    if coding == "identity":
        return body
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS) if body.startswith(GZIP_MAGIC) else body
    if coding == "deflate":
        # Servers send zlib-wrapped or raw deflate under this name; browsers accept both.
        try:
            return _inflate(body, zlib.MAX_WBITS)
        except ContentEncodingError:
            return _inflate(body, -zlib.MAX_WBITS)
    if coding == "br":
        try:
            import brotli
        except ImportError as error:  # an optional dependency of Scrapy's
            raise ContentEncodingError("brotli-encoded payload, but the brotli package is missing") from error
        try:
            decoded = brotli.decompress(body)
        except brotli.error as error:
            raise ContentEncodingError(f"corrupt brotli payload: {error}") from error
        return _within_limit(decoded)
    raise ContentEncodingError(f"unknown Content-Encoding {coding!r}")


def _inflate(body: bytes, wbits: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        decoded = decompressor.decompress(body, MAX_DECODED_BYTES + 1)
    except zlib.error as error:
        raise ContentEncodingError(f"corrupt compressed payload: {error}") from error
    return _within_limit(decoded)


def _within_limit(decoded: bytes) -> bytes:
    if len(decoded) > MAX_DECODED_BYTES:
        raise ContentEncodingError(f"decoded payload over {MAX_DECODED_BYTES} bytes")
    return decoded
