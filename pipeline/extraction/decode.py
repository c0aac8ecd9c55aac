"""Decode raw HTML bytes as browsers do: byte-order mark, HTTP charset, ``<meta>``, then detection.

The declared part is ``w3lib.encoding.html_to_unicode`` (Scrapy's own): it follows the WHATWG order (a BOM
wins over the HTTP header and ``<meta>``) and maps labels as browsers do (ISO-8859-1 and US-ASCII mean
windows-1252); a ``<meta>`` naming UTF-16, which WHATWG's prescan reads as UTF-8, or ``x-user-defined``, which it
reads as windows-1252, is corrected here, and an HTTP charset naming ``x-user-defined`` is read as that <meta> is.
Only undeclared pages reach our detection, which is where legacy pages need care.
"""

from __future__ import annotations

import codecs
import re
import zlib
from typing import Any

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

# Detection results we trust for undeclared pages: scripts that no Western code page can hold.
NON_LATIN = {
    "shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc_kr",
    "cp949", "koi8_r", "koi8_u", "cp1251", "iso8859_5", "cp1253", "iso8859_7", "cp1255", "iso8859_8",
    "cp1256", "iso8859_6", "tis_620", "cp874",
}  # fmt: skip
# Central European single-byte code pages: charset-normalizer also offers them for French or German text in
# ISO-8859-1 (measured 2026-11, charset-normalizer 3.5: a French Latin-1 page comes out as cp1257 or cp1250,
# so "à" read as "ŕ"), so they are trusted only when it also recognises a language written in them.
CENTRAL_EUROPEAN = {"cp1250", "iso8859_2", "cp1257", "iso8859_4", "iso8859_13", "iso8859_10", "mac_latin2"}
CENTRAL_EUROPEAN_LANGUAGES = {
    "Polish", "Czech", "Slovak", "Hungarian", "Slovene", "Croatian", "Romanian", "Lithuanian", "Latvian",
    "Estonian",
}  # fmt: skip
DETECTION_SAMPLE = 20000
# What w3lib names a <meta> declaration of UTF-16 (``html_body_declared_encoding``, w3lib 2.5).
META_UTF16 = {"utf-16", "utf-16-le", "utf-16-be"}
# The one label of WHATWG's x-user-defined encoding (Encoding Standard, 2026): ASCII, any case, a whole label.
X_USER_DEFINED = re.compile(rb"(?<![\w-])x-user-defined(?![\w-])", re.IGNORECASE)
X_USER_DEFINED_TEXT = re.compile(X_USER_DEFINED.pattern.decode(), re.IGNORECASE | re.ASCII)
WINDOWS_1252 = "text/html; charset=windows-1252"
# How far w3lib 2.5's ``html_body_declared_encoding`` looks for a <meta>.
META_SCAN_BYTES = 4096


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode like a browser: byte-order mark, HTTP charset, ``<meta>`` declaration, then detection."""
    if not read_bom(body)[0] and not http_content_type_encoding(content_type):
        if _header_names_x_user_defined(content_type):
            # Read as the <meta>'s is (below): windows-1252, and the <meta> not looked at (an HTTP charset wins
            # over it). w3lib 2.5 ignored the label, so the <meta> or detection decided (before revision 15).
            return html_to_unicode(WINDOWS_1252, body, auto_detect_fun=_detected_encoding)[1]
        declared = html_body_declared_encoding(body)
        if declared in META_UTF16:
            # WHATWG's prescan takes a <meta> naming UTF-16 as UTF-8 (the <meta> was read as ASCII bytes, so the
            # page is not UTF-16); w3lib 2.5 decodes it as UTF-16 and the text is lost (audit 2026-11-28).
            content_type = "text/html; charset=utf-8"
        elif declared is None and _meta_names_x_user_defined(body):
            content_type = WINDOWS_1252
    _, text = html_to_unicode(content_type, body, auto_detect_fun=_detected_encoding)
    return text


def _meta_names_x_user_defined(body: bytes) -> bool:
    """Whether the <meta> the prescan settles on names ``x-user-defined``. WHATWG's prescan reads that as
    windows-1252 (Encoding Standard and HTML, "prescan a byte stream", 2026); w3lib 2.5 knows no such label, so
    the page went to our detection: UTF-8 when its bytes decode so, or a guessed code page (audit 2026-11-28). The
    label is put in windows-1252's place and w3lib asked again, so it is its scan (comments, quoted values, the
    first declaring <meta>) that decides, not a second one of ours."""
    chunk = body[:META_SCAN_BYTES]
    if not X_USER_DEFINED.search(chunk):  # nearly every page: one scan of 4 KB
        return False
    return html_body_declared_encoding(X_USER_DEFINED.sub(b"windows-1252", chunk)) == "cp1252"


def _header_names_x_user_defined(content_type: str | None) -> bool:
    """Whether the HTTP ``Content-Type`` header's charset is ``x-user-defined`` (any case, quoted or not): read
    like the <meta> naming it, as windows-1252 (decision 0002, revision 15). Strictly, WHATWG takes a transport-layer
    x-user-defined as that encoding (bytes 0x80–0xFF as the private-use characters U+F780–U+F7FF, unreadable text);
    the label meant "the reader's own code page" to the servers that sent it (Internet Explorer's), which for the
    pages we archive is windows-1252, and the <meta> case already reads it so. The label is put in windows-1252's
    place and w3lib asked again, so it is its reading of the header (quoted values, the first charset) that decides."""
    if not content_type or not X_USER_DEFINED_TEXT.search(content_type):
        return False
    return http_content_type_encoding(X_USER_DEFINED_TEXT.sub("windows-1252", content_type)) == "cp1252"


def _detected_encoding(body: bytes) -> str:
    """An undeclared page: UTF-8 when it decodes as such, else the detected non-Latin or legacy Western code page."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:DETECTION_SAMPLE]).best()
    guess = codecs.lookup(best.encoding).name if best else None
    if guess in NON_LATIN:
        return guess
    if guess in CENTRAL_EUROPEAN and best is not None and best.language in CENTRAL_EUROPEAN_LANGUAGES:
        return guess
    # Undeclared legacy Western pages: windows-1252 (superset of ISO-8859-1's printable range), as browsers do.
    return "cp1252"


# A decoded payload larger than this is refused: a few KB of gzip can expand to gigabytes (a "zip bomb").
MAX_DECODED_BYTES = 64 * 2**20
GZIP_MAGIC = b"\x1f\x8b"
# Brotli output taken at most this much at a time (its decoder grows one buffer per step).
BROTLI_STEP = 2**20


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
        except ImportError as error:  # declared, but a packager may leave it out
            raise ContentEncodingError("brotli-encoded payload, but the brotli package is missing") from error
        return _unbrotli(brotli, body)
    raise ContentEncodingError(f"unknown Content-Encoding {coding!r}")


def _inflate(body: bytes, wbits: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        decoded = decompressor.decompress(body, MAX_DECODED_BYTES + 1)
    except zlib.error as error:
        raise ContentEncodingError(f"corrupt compressed payload: {error}") from error
    return _within_limit(decoded)


def _unbrotli(brotli: Any, body: bytes) -> bytes:
    """Brotli decoded in bounded steps: its output is never let grow past the bound, so a bomb of a few hundred
    bytes that decodes to gigabytes costs no more memory than a page at the bound (``brotli.decompress`` decodes
    it all first: 4.2 GB peak for 386 KB decoding to 2 GiB, measured 2026-11 with brotli 1.2.1)."""
    decompressor = brotli.Decompressor()
    pieces: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            # brotli >= 1.2 (pyproject): the output of one call stops near ``output_buffer_limit``; further
            # calls take empty input until the decompressor can accept more (its docstring's contract).
            piece = decompressor.process(data, output_buffer_limit=min(BROTLI_STEP, MAX_DECODED_BYTES + 1 - size))
            data = b""
            size += len(piece)
            pieces.append(piece)
            if size > MAX_DECODED_BYTES:
                raise ContentEncodingError(f"decoded payload over {MAX_DECODED_BYTES} bytes")
            if decompressor.is_finished() or not piece:
                break
    except brotli.error as error:
        raise ContentEncodingError(f"corrupt brotli payload: {error}") from error
    if not decompressor.is_finished():
        raise ContentEncodingError("corrupt brotli payload: cut short")
    return b"".join(pieces)


def _within_limit(decoded: bytes) -> bytes:
    if len(decoded) > MAX_DECODED_BYTES:
        raise ContentEncodingError(f"decoded payload over {MAX_DECODED_BYTES} bytes")
    return decoded
