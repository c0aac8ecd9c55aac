"""Every record of a WARC file read whole, in order, going on past damage: what re-indexing a lost catalog reads.

A kept WARC file holds one gzip member per record (warcio's convention, the one replay tools need to seek), so
damage stays local: bytes overwritten, or a member cut short with more members after it, spoil one record's
member and nothing after it. warcio's ``ArchiveIterator`` stops at the first member it cannot read (as of warcio
1.8.1); here the damaged record is handed over, with where it starts and what is wrong, and reading starts again
at the next gzip member that opens with a WARC record (RFC 1952: ``1f 8b 08``), so no intact record after it is
lost. The scan reads the file block by block and tries each candidate member on a few hundred bytes only: time
grows with the file's size, memory stays a block and a record, whatever bytes the file holds.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from policy_archive.records import payload_sha1

# What warcio 1.8.1 raises on a record it cannot parse or decompress: bytes that are not a WARC record
# (ArchiveLoadFailed), a gzip member damaged or cut short (zlib.error, EOFError), headers missing (AttributeError,
# ValueError).
UNPARSABLE = (ArchiveLoadFailed, EOFError, zlib.error, AttributeError, ValueError)
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
    """A record that cannot be read back as written, where it starts and why (``problem``, plain words). With
    ``at_end``, nothing readable follows it in its file: most likely the record a run was writing when it was
    killed (nothing refers to it); otherwise the file is damaged in the middle (bit rot, bytes overwritten)."""

    stored: StoredCapture
    problem: str
    at_end: bool = False


@dataclass(frozen=True)
class WholeRecord:
    """A record read whole: warcio's record (its payload stream already read) and its payload as written."""

    offset: int
    record: Any
    payload: bytes


class _NotWarc(ArchiveLoadFailed):
    """warcio also reads ARC records: random bytes can pass for one."""


def damage_problem(error: BaseException, what: str) -> str:
    """What an error raised while reading ``what`` (a record) says about the bytes, in plain words."""
    if isinstance(error, _NotWarc):
        return f"{what} is not a WARC record (bytes damaged, or the file rewritten by another tool)"
    if isinstance(error, ArchiveLoadFailed):
        return f"{what} cannot be parsed (bytes damaged, or the file rewritten by another tool)"
    if isinstance(error, EOFError | zlib.error):
        return f"the compressed data of {what} is damaged or cut short"
    return f"the headers of {what} cannot be read"


def payload_digest_matches(record: Any, sha1: str) -> bool:
    """The record's ``WARC-Payload-Digest``, when it has one, is ``sha1`` (base32, as warcio writes it)."""
    return record.rec_headers.get_header("WARC-Payload-Digest") in (None, f"sha1:{sha1}")


def whole_records(handle: BinaryIO, name: str) -> Iterator[WholeRecord | DamagedRecord]:
    """Every record of the WARC file open as ``handle`` (named ``name``), in order; each damaged stretch as one
    ``DamagedRecord`` (where it starts) and reading resumed at the next member opening with a record."""
    size = os.fstat(handle.fileno()).st_size
    position: int | None = 0
    damaged: list[DamagedRecord] = []
    resyncing = False  # started at a member found by scanning: a failure there is the same damaged stretch
    while position is not None:
        handle.seek(position)
        records = ArchiveIterator(handle)
        last = position - 1  # where the last record read whole from here starts
        try:
            for whole in _read_whole(records):
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
            if not resyncing:
                damaged.append(DamagedRecord(StoredCapture(name, start), error.problem))
            position = next_member(handle, start + 1)
            resyncing = True
    for record in damaged:  # nothing readable after them
        yield DamagedRecord(record.stored, record.problem, at_end=True)


class _Unreadable(Exception):
    """The record starting at ``start`` cannot be read whole; after it, warcio's position means nothing."""

    def __init__(self, start: int, problem: str) -> None:
        super().__init__(problem)
        self.start = start
        self.problem = problem


def _read_whole(records: ArchiveIterator) -> Iterator[WholeRecord]:
    """The iterator's records, each read to its member's end (a CRC or length check failing there included) and
    checked against its payload digest before it is handed over; the first that cannot be is ``_Unreadable``.
    warcio 1.8.1 does not raise on a member whose compressed data fails part way: it prints zlib's message and
    takes what it inflated so far for the whole member. A record read to its end has reached its member's end
    (zlib's ``eof``: the gzip trailer read and checked) and left warcio's error count alone, or it is damaged."""
    while True:
        start, errors = records.offset, records.err_count
        try:
            with quiet_warcio():
                record = next(records, None)
                if record is None:
                    return
                if record.format != "warc":
                    raise _NotWarc("not a WARC record")
                payload = record.raw_stream.read()
                records.get_record_offset()  # reads the member to its end
        except UNPARSABLE as error:
            raise _Unreadable(start, damage_problem(error, "the record")) from None
        decompressor = records.reader.decompressor
        if records.err_count != errors or (decompressor is not None and not decompressor.eof):
            raise _Unreadable(start, damage_problem(zlib.error(), "the record"))
        if not payload_digest_matches(record, payload_sha1(payload)):
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
