"""HTTP/1.1's chunked transfer coding (RFC 9112 §7.1) in a payload kept as a crawler recorded it.

Heritrix and other crawlers write a response that came ``Transfer-Encoding: chunked`` with its chunks as they came
(size lines and all), and the digest their index lists is, depending on the crawler, over those bytes or over the
de-chunked entity. An archive replaying such a record may pass the chunks on as the payload, or de-chunk them
(pywb 2.10 always does, and names the recorded coding ``X-Archive-Orig-Transfer-Encoding: chunked``): so the bytes a
replay gives may be either. Here, for the whole project: whether a kept payload is chunked as recorded, and its
entity. Strict: a body is chunked only if it is whole chunks and nothing after them, so an ordinary page (which
never starts with a hex size line) is never read as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The header naming the coding on a kept record (as the crawler recorded it), and the one an archive writes for
# the coding it undid in a replay (pywb 2.10, the Wayback Machine: the site's headers, prefixed).
CHUNKED_HEADERS = ("transfer-encoding", "x-archive-orig-transfer-encoding")
# A size line: hex digits, then optional chunk extensions (``;name=value``), which say nothing of the payload.
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?")
# Trailer fields after the last chunk are bounded like header lines elsewhere: a body is not a header block.
_MAX_TRAILER_LINES = 100


def dechunked(body: bytes) -> bytes | None:
    """The entity a complete chunked ``body`` carries, or None when ``body`` is not exactly whole chunks, a last
    (zero-size) chunk, optional trailer fields and the blank line that ends them."""
    parts: list[bytes] = []
    at = 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            return None
        size_line = _SIZE_LINE.fullmatch(body, at, end)
        if size_line is None:
            return None
        size = int(size_line.group(1), 16)
        at = end + 2
        if size == 0:
            return b"".join(parts) if _trailers_end(body, at) else None
        if at + size + 2 > len(body) or body[at + size : at + size + 2] != b"\r\n":
            return None
        parts.append(body[at : at + size])
        at += size + 2


def _trailers_end(body: bytes, at: int) -> bool:
    """Whether ``body`` from ``at`` is trailer field lines, then the blank line, then nothing."""
    for _ in range(_MAX_TRAILER_LINES + 1):
        end = body.find(b"\r\n", at)
        if end < 0:
            return False
        if end == at:
            return end + 2 == len(body)
        if b":" not in body[at:end]:
            return False
        at = end + 2
    return False


def says_chunked(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a header names the chunked coding: the recorded ``Transfer-Encoding``, or an archive's copy of it."""
    return any(
        name.lower() in CHUNKED_HEADERS and "chunked" in value.lower().replace(" ", "").split(",")
        for name, value in headers
    )


def joined_by_the_archive(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether an archive says the record it replayed was chunked (``X-Archive-Orig-Transfer-Encoding``). Not the
    answer's own ``Transfer-Encoding``: pywb 2.10 sends every ``id_`` replay chunked, whatever it holds."""
    return says_chunked((name, value) for name, value in headers if name.lower() == CHUNKED_HEADERS[1])


def recorded_chunks(body: bytes, headers: Iterable[tuple[str, str]]) -> bytes | None:
    """The entity of a payload kept chunked as recorded (a header names the coding and the bytes are whole
    chunks), or None for any other payload: one merely sent chunked was de-chunked by the client that read it."""
    return dechunked(body) if says_chunked(headers) else None
