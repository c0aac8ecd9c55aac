"""WARC records written, and read back whole, in order, going on past damage (what re-indexing a lost catalog
reads): the one module of ours that uses warcio (``RecordWriter`` writes, ``BoundedRecords`` and
``whole_records`` read, handing over :class:`ReadRecord` values, never warcio's objects; ``tests/test_layout.py``
holds warcio's imports to this module).

A kept WARC file holds one gzip member per record (warcio's convention, the one replay tools need to seek), so
damage stays local: bytes overwritten, or a member cut short with more members after it, spoil one record's
member and nothing after it. warcio's ``ArchiveIterator`` stops at the first member it cannot read (as of warcio
1.8.1); here the damaged record is handed over, with where it starts and what is wrong, and reading starts again
at the next gzip member that opens with a WARC record (RFC 1952: ``1f 8b 08``), so no intact record after it is
lost. The scan reads the file block by block and tries each candidate member on a few hundred bytes only: time
grows with the file's size, memory stays a block and a record, whatever bytes the file holds.

A record is never read whole on trust (the files may come from elsewhere: copied, damaged, written by another
tool). warcio 1.8.1 reads a header line to its newline however far that is, keeps every header line, and reads a
payload as far as its ``Content-Length`` says; a gzip member of a few MB can inflate to gigabytes. Here every
record is read through :class:`BoundedRecords`: a payload is read to ``max_payload`` bytes and one more, a
header block (the lines up to a blank one) to :data:`MAX_HEADER_BYTES` and :data:`MAX_HEADER_LINES`, blank
lines in a row to 64 KiB; past them the record is :class:`OverLimit`, skipped and named like a damaged one, and
nothing more of its member is inflated (reading resumes at the next member, found by scanning its compressed
bytes). Memory stays within a payload's limit (twice: read, then joined) and one inflated block (warcio reads
16 KiB of compressed bytes at a time: at most ~17 MB inflated, deflate's ratio being at most 1032 to 1).
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.records import payload_sha1

# A header block (a record's WARC headers, or its HTTP headers) read at most this far. Ours are a few KB (the
# widest, WARC-Policy-Archive-Not-Requested, lists the URLs a rendered page was not allowed to request); the HTTP
# headers kept are as fetched, and Twisted's HTTP client (Scrapy's) refuses a header line over 16 KiB
# (LineReceiver.MAX_LENGTH, as of Twisted 26.10).
MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_HEADER_LINES = 10_000
# Blank lines allowed in a row (warcio writes two after each payload; other tools may write a few more).
_BLANK_BYTES = 64 * 1024


class OverLimit(Exception):
    """A record past what is read of one (a gzip bomb, a header line without end, a page larger than any the
    settings let a fetch keep): it is not read further. The message completes "the record …"."""


class OverPageLimit(OverLimit):
    """A payload over ``[crawl] max_page_bytes``: most often a page kept before the setting was lowered, a
    record whole and readable with the setting raised again (not damage: no backup needed)."""


# What warcio 1.8.1 raises on a record it cannot parse or decompress: bytes that are not a WARC record
# (ArchiveLoadFailed), a gzip member damaged or cut short (zlib.error, EOFError), headers missing (AttributeError,
# ValueError); and what reading bounded raises (OverLimit).
UNPARSABLE = (ArchiveLoadFailed, EOFError, zlib.error, AttributeError, ValueError, OverLimit)
_GZIP_MEMBER = b"\x1f\x8b\x08"  # ID1, ID2 and CM = deflate: how every gzip member starts (RFC 1952)
_WARC_START = b"WARC/"  # the first bytes of every WARC record (WARC/1.0, WARC/1.1)
_SCAN_BLOCK = 1 << 20  # bytes read at a time while looking for the next member
# Bytes of a candidate member inflated to see whether it opens with a WARC record: a gzip header (10 bytes, more
# with optional fields) and a deflate block's code tables (up to ~100 bytes) come before the first byte out.
_PROBE_BYTES = 512


@dataclass(frozen=True)
class StoredCapture:
    """Where a capture's bytes are: a WARC file relative to the captures directory and the record's offset."""

    warc_file: str
    offset: int


@dataclass(frozen=True)
class DamagedRecord:
    """A record that cannot be read back as written, or is over the bounds of reading one (:class:`OverLimit`),
    where it starts and why (``problem``, plain words). With ``at_end``, nothing readable follows it in its file:
    most likely the record a run was writing when it was killed (nothing refers to it); otherwise the file is
    damaged in the middle (bit rot, bytes overwritten). A record over the bounds is never ``at_end``: it is
    whole, only not read (``over_limit``)."""

    stored: StoredCapture
    problem: str
    at_end: bool = False
    over_limit: bool = False


@dataclass(frozen=True)
class ReadRecord:
    """A record's headers as read: its type (``response``, ``resource``, ...), its WARC headers, and for a
    record with HTTP headers (a ``response``) its status code as written and those headers. ``warc`` False: not
    a WARC record (an ARC record: warcio reads those too, and random bytes can pass for one; or no version
    line)."""

    kind: str
    warc_headers: tuple[tuple[str, str], ...]
    http_status: str | None = None
    http_headers: tuple[tuple[str, str], ...] = ()
    warc: bool = True

    def header(self, name: str) -> str | None:
        """The first WARC header ``name`` (any case), or None."""
        return _first(self.warc_headers, name)

    def http_header(self, name: str) -> str | None:
        """The first HTTP header ``name`` (any case), or None."""
        return _first(self.http_headers, name)


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _read_record(record: Any) -> ReadRecord:
    """warcio's record as a :class:`ReadRecord` (its payload not read)."""
    http = record.http_headers
    return ReadRecord(
        kind=record.rec_type,
        warc_headers=tuple(record.rec_headers.headers),
        http_status=http.get_statuscode() if http else None,
        http_headers=tuple(http.headers) if http else (),
        # warcio 1.8.1 takes bytes with no version line (a file whose first gzip magic byte was overwritten, read
        # as uncompressed) for a WARC record without headers whose payload is the rest of the file.
        warc=record.format == "warc" and record.rec_headers.protocol.startswith("WARC/"),
    )


@dataclass(frozen=True)
class WholeRecord:
    """A record read whole: its headers and its payload as written."""

    offset: int
    record: ReadRecord
    payload: bytes


class _NotWarc(ArchiveLoadFailed):
    """warcio also reads ARC records: random bytes can pass for one."""


class _BoundedReader(DecompressingBufferedReader):
    """warcio's reader of a WARC file (it inflates each gzip member in turn), its lines bounded: a header line is
    read to what is left of :data:`MAX_HEADER_BYTES` for its block, not to its newline; a header block over
    :data:`MAX_HEADER_BYTES` or :data:`MAX_HEADER_LINES`, or a run of blank lines over :data:`_BLANK_BYTES` (warcio
    reads them one by one after a payload, a gzip member of blank lines would keep it reading for hours) is
    :class:`OverLimit`. Payloads are read by length, bounded by the caller (``BoundedRecords.payload``)."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self._block_bytes = 0  # the header block being read: the lines since the last blank one
        self._block_lines = 0
        self._blank_bytes = 0  # the blank lines since the last line that is not

    def readline(self, length: int | None = None) -> bytes:
        room = MAX_HEADER_BYTES - self._block_bytes + 1  # one byte more: a line that long is over the bound
        line = self._line(room if length is None else min(length, room))
        if line.rstrip():  # warcio ends a header block at a line that is blank once stripped on the right
            self._blank_bytes = 0
            self._block_bytes += len(line)
            self._block_lines += 1
            if self._block_bytes > MAX_HEADER_BYTES or self._block_lines > MAX_HEADER_LINES:
                raise OverLimit(
                    f"has a header block over {MAX_HEADER_BYTES:,} bytes or {MAX_HEADER_LINES:,} lines: not read"
                )
        else:
            self._block_bytes = self._block_lines = 0
            self._blank_bytes += len(line)
            if self._blank_bytes > _BLANK_BYTES:
                raise OverLimit(f"is followed by over {_BLANK_BYTES:,} bytes of blank lines: not read")
        return line

    def _line(self, most: int) -> bytes:
        """A line of at most ``most`` bytes. warcio 1.8.1's ``readline(length)`` takes the whole line read so far
        off ``length`` at each buffer it crosses, not the part just read: a long line spanning many buffers ends
        early, and the rest would be read as the next line. Asked again for what is left, it ends where it should."""
        pieces: list[bytes] = []
        while most > 0:
            piece: bytes = super().readline(most)
            pieces.append(piece)
            most -= len(piece)
            if not piece or piece.endswith(b"\n"):
                break
        return b"".join(pieces)


class BoundedRecords(ArchiveIterator):
    """warcio's iterator over the records of a WARC file open as ``handle`` (from its current position), reading
    through :class:`_BoundedReader`: :meth:`next_record` reads the next record's headers, :meth:`payload` its
    payload to ``max_payload`` bytes ([crawl] max_page_bytes: no response a fetch keeps is larger). Close it
    after use (``contextlib.closing``)."""

    def __init__(self, handle: BinaryIO, max_payload: int) -> None:
        super().__init__(handle)
        self.max_payload = max_payload
        # Replaced before the first record is read (warcio's iteration starts at the first next()): the reader
        # warcio made has read nothing yet.
        self.reader = _BoundedReader(self.fh)
        self._current: Any = None  # warcio's record last read, its payload stream not yet read

    def next_record(self) -> ReadRecord | None:
        """The next record's headers, or None at the end of the file; raises one of :data:`UNPARSABLE`."""
        self._current = next(self, None)
        return None if self._current is None else _read_record(self._current)

    def payload(self) -> bytes:
        """The payload of the record :meth:`next_record` read last, as stored, read to ``max_payload`` bytes and
        one more: a larger one is :class:`OverPageLimit`, never read whole."""
        payload: bytes = self._current.raw_stream.read(self.max_payload + 1)
        if len(payload) > self.max_payload:
            raise OverPageLimit(
                f"has a payload over the limit of {self.max_payload:,} bytes (setting [crawl] max_page_bytes): "
                "not read (raise the setting to read it)"
            )
        return payload


def _ascii_header(header: tuple[str, str]) -> tuple[str, str]:
    """``header`` with a value that is not ASCII percent-encoded whole, as warcio does (RFC 8187) for a value
    without ``;``. warcio 1.8 encodes one with ``;`` only in its ``name="value"`` parts and then fails with
    UnicodeEncodeError on what is left (Hypothesis found ``Location: ;\\x80=0``), so no value reaches it unencoded."""
    name, value = header
    return (name, value) if value.isascii() else (name, quote(value))


class RecordWriter:
    """warcio's writer of a WARC file open as ``handle``, one gzip member per record (what replay tools need to
    seek, and what keeps damage local: the module's docstring)."""

    def __init__(self, handle: BinaryIO, warc_version: str) -> None:
        self._writer = WARCWriter(handle, gzip=True, warc_version=warc_version)

    def warcinfo(self, filename: str, info: dict[str, str]) -> None:
        """Write the ``warcinfo`` record a file opens with."""
        self._writer.write_record(self._writer.create_warcinfo_record(filename, info))

    def response(
        self,
        target: str,
        status_line: str,
        http_headers: list[tuple[str, str]],
        payload: bytes,
        warc_headers: dict[str, str],
    ) -> str:
        """Write a ``response`` record: an HTTP/1.1 status line (``200 OK``) and headers, then ``payload`` as
        served. Returns its ``WARC-Record-ID`` (what a record concurrent to it names)."""
        http = StatusAndHeaders(status_line, [_ascii_header(header) for header in http_headers], protocol="HTTP/1.1")
        record = self._writer.create_warc_record(
            target, "response", payload=io.BytesIO(payload), http_headers=http, warc_headers_dict=warc_headers
        )
        self._writer.write_record(record)
        record_id: str = record.rec_headers.get_header("WARC-Record-ID")
        return record_id

    def revisit(
        self,
        target: str,
        payload_digest: str,
        refers_to: tuple[str, str, str],
        status_line: str,
        http_headers: list[tuple[str, str]],
        warc_headers: dict[str, str],
    ) -> None:
        """Write a ``revisit`` record of the identical-payload-digest profile (WARC 1.1, 6.7.2): ``target`` with
        the payload of the record ``refers_to`` (its target URI, WARC-Date and WARC-Record-ID), whose digest is
        ``payload_digest`` (``sha1:BASE32``); the block holds only the HTTP status line and headers."""
        refers_uri, refers_date, refers_id = refers_to
        http = StatusAndHeaders(status_line, [_ascii_header(header) for header in http_headers], protocol="HTTP/1.1")
        record = self._writer.create_revisit_record(
            target, payload_digest, refers_uri, refers_date, http_headers=http, warc_headers_dict=warc_headers
        )
        record.rec_headers.add_header("WARC-Refers-To", refers_id)
        self._writer.write_record(record)

    def resource(self, target: str, content_type: str, payload: bytes, warc_headers: dict[str, str]) -> None:
        """Write a ``resource`` record: ``payload`` of ``content_type``, no HTTP headers."""
        record = self._writer.create_warc_record(
            target,
            "resource",
            payload=io.BytesIO(payload),
            warc_content_type=content_type,
            warc_headers_dict=warc_headers,
        )
        self._writer.write_record(record)


def damage_problem(error: BaseException, what: str) -> str:
    """What an error raised while reading ``what`` (a record) says about the bytes, in plain words."""
    if isinstance(error, OverLimit):
        return f"{what} {error}"
    if isinstance(error, _NotWarc):
        return f"{what} is not a WARC record (bytes damaged, or the file rewritten by another tool)"
    if isinstance(error, ArchiveLoadFailed):
        return f"{what} cannot be parsed (bytes damaged, or the file rewritten by another tool)"
    if isinstance(error, EOFError | zlib.error):
        return f"the compressed data of {what} is damaged or cut short"
    return f"the headers of {what} cannot be read"


def payload_digest_matches(record: ReadRecord, sha1: str) -> bool:
    """The record's ``WARC-Payload-Digest``, when it has one, is ``sha1`` (base32, as warcio writes it)."""
    return record.header("WARC-Payload-Digest") in (None, f"sha1:{sha1}")


def whole_records(handle: BinaryIO, name: str, max_payload: int, *, ours: str) -> Iterator[WholeRecord | DamagedRecord]:
    """Every record of the WARC file open as ``handle`` (named ``name``), in order, payloads read to
    ``max_payload`` bytes; each damaged stretch, and each record over the bounds, as one ``DamagedRecord`` (where
    it starts) and reading resumed at the next member opening with a record. ``ours``: the WARC header that marks
    the records we wrote, whose payload digest is checked (:func:`_read_whole`)."""
    size = os.fstat(handle.fileno()).st_size
    position: int | None = 0
    damaged: list[DamagedRecord] = []
    resyncing = False  # started at a member found by scanning: a failure there is the same damaged stretch
    while position is not None:
        handle.seek(position)
        records = BoundedRecords(handle, max_payload)
        last = position - 1  # where the last record read whole from here starts
        try:
            for whole in _read_whole(records, ours):
                resyncing, last = False, whole.offset
                yield from damaged
                damaged = []
                yield whole
            if not 0 <= records.offset < size:
                break
            # warcio takes a member whose headers end too soon for the end of the file, and stops quietly.
            raise _Unreadable(records.offset, damage_problem(EOFError(), "the record"))
        except _Unreadable as error:
            # warcio's offset is where the failing record starts, unless the failing member holds several records (a
            # file recompressed as one gzip stream): then it means nothing, and that member started at ``last``.
            start = error.start if last < error.start < size else max(last, position)
            record = DamagedRecord(StoredCapture(name, start), error.problem, over_limit=error.over_limit)
            if error.over_limit:  # a record after the damage before it: that damage is not at the file's end
                yield from damaged
                damaged = []
                yield record
            elif not resyncing:
                damaged.append(record)
            position = next_member(handle, start + 1)
            resyncing = not error.over_limit  # the member found next is the next record's, not more damage
    for record in damaged:  # nothing readable after them
        yield DamagedRecord(record.stored, record.problem, at_end=True)


class _Unreadable(Exception):
    """The record starting at ``start`` cannot be read whole; after it, warcio's position means nothing."""

    def __init__(self, start: int, problem: str, *, over_limit: bool = False) -> None:
        super().__init__(problem)
        self.start = start
        self.problem = problem
        self.over_limit = over_limit


def _read_whole(records: BoundedRecords, ours: str) -> Iterator[WholeRecord]:
    """The iterator's records, each read to its member's end (a CRC or length check failing there included) and,
    when we wrote it (it has the header ``ours``), checked against its payload digest before it is handed over;
    the first that cannot be is ``_Unreadable``. Another tool's record is not checked: its payload digest follows
    that tool's conventions (a revisit's names the original's payload, by definition; Heritrix's is over the
    chunks as received; Browsertrix-crawler's is SHA-256), and no record of it is read as a capture
    (acceptance report 7, F12).
    warcio 1.8.1 does not raise on a member whose compressed data fails part way: it prints zlib's message and
    takes what it inflated so far for the whole member. A record read to its end has reached its member's end
    (zlib's ``eof``: the gzip trailer read and checked) and left warcio's error count alone, or it is damaged."""
    while True:
        start, errors = records.offset, records.err_count
        try:
            with quiet_warcio():
                record = records.next_record()
                if record is None:
                    return
                if not record.warc:
                    raise _NotWarc("not a WARC record")
                payload = records.payload()
                records.get_record_offset()  # reads the member to its end
        except UNPARSABLE as error:
            over_limit = isinstance(error, OverLimit)
            raise _Unreadable(start, damage_problem(error, "the record"), over_limit=over_limit) from None
        decompressor = records.reader.decompressor
        if records.err_count != errors or (decompressor is not None and not decompressor.eof):
            raise _Unreadable(start, damage_problem(zlib.error(), "the record"))
        # Our revisit records (a capture never fetched, known through its twin: archive/captures.py) name the payload
        # of the record they refer to, and hold none.
        ours_with_payload = record.header(ours) is not None and record.kind != "revisit"
        if ours_with_payload and not payload_digest_matches(record, payload_sha1(payload)):
            raise _Unreadable(start, "the payload of the record is not the one written (WARC-Payload-Digest differs)")
        yield WholeRecord(start, record, payload)


@contextmanager
def quiet_warcio() -> Iterator[None]:
    """warcio 1.8.1 writes straight to ``sys.stderr`` while reading damaged bytes: zlib's message when a member's
    compressed data fails part way, a warning of several lines when a record is not followed by a blank line
    ("perhaps Content-Length is invalid"). Every message of ours is one line; the readers say what it means."""
    with redirect_stderr(io.StringIO()):
        yield


def next_member(handle: BinaryIO, start: int) -> int | None:
    """The offset of the first gzip member at or after ``start`` that opens with a WARC record, or None."""
    size = os.fstat(handle.fileno()).st_size
    position = start
    while position + len(_GZIP_MEMBER) <= size:
        handle.seek(position)
        block = handle.read(_SCAN_BLOCK)
        found = block.find(_GZIP_MEMBER)
        while found != -1:
            if _opens_warc_record(handle, position + found):
                return position + found
            found = block.find(_GZIP_MEMBER, found + 1)
        position += len(block) - (len(_GZIP_MEMBER) - 1)  # a magic number split across two blocks is found
    return None


def _opens_warc_record(handle: BinaryIO, offset: int) -> bool:
    """The gzip member at ``offset`` inflates to bytes starting ``WARC/`` (looking at its first bytes only)."""
    handle.seek(offset)
    try:
        start = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(handle.read(_PROBE_BYTES), len(_WARC_START))
    except zlib.error:
        return False
    return start == _WARC_START
