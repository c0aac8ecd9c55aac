"""Hostile WARC records built as bytes: a gzip member that inflates to gigabytes (a payload of zeros, a header line
without a newline, header lines without end, blank lines without end), made in a blink and a few MB whatever size
it inflates to: one deflate block of 1 MiB, compressed once and repeated (a full flush makes each copy stand
alone), its CRC-32 computed on the way, so the member is valid gzip to its last byte."""

from __future__ import annotations

import struct
import uuid
import zlib

CHUNK = 1 << 20  # the inflated size of the repeated block
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no flags, no time, unknown OS (RFC 1952)


def _standalone(data: bytes) -> bytes:
    """``data`` as raw deflate blocks that refer to nothing before them and end on a byte boundary (not last)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def inflating_member(opening: bytes, pattern: bytes, size: int, closing: bytes = b"") -> bytes:
    """One gzip member inflating to ``opening``, ``size`` bytes of ``pattern`` repeated (a multiple of 1 MiB;
    ``pattern``'s length divides 1 MiB), then ``closing``."""
    assert size % CHUNK == 0 and CHUNK % len(pattern) == 0
    chunk = pattern * (CHUNK // len(pattern))
    crc = zlib.crc32(opening)
    for _ in range(size // CHUNK):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(closing, crc)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty last block
    deflated = _standalone(opening) + _standalone(chunk) * (size // CHUNK) + _standalone(closing) + last
    length = len(opening) + size + len(closing)
    return _GZIP_HEADER + deflated + struct.pack("<II", crc, length & 0xFFFFFFFF)


def warc_headers(document: str, url: str, length: int) -> bytes:
    """The WARC headers of a response record of ``document`` (as policy-archive files a live fetch), its block
    ``length`` bytes long."""
    return (
        "WARC/1.1\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\nWARC-Target-URI: {url}\r\n"
        "WARC-Date: 2021-03-04T05:06:07Z\r\nContent-Type: application/http; msgtype=response\r\n"
        f"WARC-Policy-Archive-Document: {document}\r\nWARC-Policy-Archive-Source: live\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def payload_bomb(document: str, url: str, size: int) -> bytes:
    """A response record of ``document`` whose payload is ``size`` zero bytes, as one gzip member."""
    http = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n".encode()
    return inflating_member(warc_headers(document, url, len(http) + size) + http, b"\0", size, b"\r\n\r\n")


def header_line_bomb(size: int) -> bytes:
    """A record whose third header line is ``size`` bytes without a newline (and the member ends there)."""
    return inflating_member(b"WARC/1.1\r\nWARC-Type: response\r\nX-Note: ", b"a", size)


def header_lines_bomb(size: int) -> bytes:
    """A record whose WARC headers are ``size`` bytes of short header lines, never ended by a blank one."""
    return inflating_member(b"WARC/1.1\r\nWARC-Type: response\r\n", b"X-A: b\r\n", size)


def blank_lines_bomb(document: str, url: str, size: int) -> bytes:
    """A whole, small response record followed, in its gzip member, by ``size`` bytes of blank lines."""
    body = b"<p>small</p>"
    http = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    record = warc_headers(document, url, len(http) + len(body)) + http + body
    return inflating_member(record, b"\r\n", size)
