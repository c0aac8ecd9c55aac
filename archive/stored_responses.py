"""One kept capture read back by its place: its response record and the rendered DOM after it, whole or refused."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from policy_archive.archive.capture_headers import NOT_REQUESTED, renders
from policy_archive.archive.warc_records import (
    UNPARSABLE,
    BoundedRecords,
    OverPageLimit,
    ReadRecord,
    StoredCapture,
    damage_problem,
    payload_digest_matches,
    quiet_warcio,
)
from policy_archive.errors import StateError
from policy_archive.records import payload_sha1


class DamagedCapture(StateError):
    """A capture's record is in its WARC file but cannot be read back whole: bit rot, a file rewritten by another
    tool (recompressed: every offset moved), bytes overwritten. The bytes cannot be made again from here. With
    ``over_page_limit``, the record's payload is over ``[crawl] max_page_bytes`` (most often a page kept under a
    higher setting than the one now set): not damaged, only not read."""

    def __init__(self, stored: StoredCapture, problem: str, *, over_page_limit: bool = False) -> None:
        super().__init__(f"{stored.warc_file}:{stored.offset}: {problem}")
        self.stored = stored
        self.over_page_limit = over_page_limit


@dataclass(frozen=True)
class StoredResponse:
    """A kept response read back: HTTP status, headers and payload as served, and the rendered DOM if any."""

    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    rendered: bytes | None = None
    not_requested: tuple[str, ...] = ()
    # The response record's WARC headers (its WARC-Record-ID, WARC-Target-URI and WARC-Date: what a revisit names).
    warc_headers: tuple[tuple[str, str], ...] = ()


def read_response(path: Path, stored: StoredCapture, max_page_bytes: int, *, rendered: bool) -> StoredResponse:
    """The response at ``stored`` in the WARC file ``path`` (``CaptureStore.read``, which says what is raised)."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if stored.offset >= size:
            raise FileNotFoundError(f"the file ends at byte {size}")
        handle.seek(stored.offset)
        # Closed on leaving: warcio's iterator and its generator refer to each other, so without it each read
        # left its decompression buffers (~30 KB) to the cyclic garbage collector, piling up over a long scan.
        with closing(BoundedRecords(handle, max_page_bytes)) as records:
            return _response_at(records, stored, rendered=rendered)


@contextmanager
def _damage(stored: StoredCapture, what: str) -> Iterator[None]:
    """Turn warcio's and zlib's errors while reading ``what`` (of the record at ``stored``) into one
    :class:`DamagedCapture` (warcio's own message quotes the damaged bytes)."""
    try:
        with quiet_warcio():
            yield
    except UNPARSABLE as error:
        over_page_limit = isinstance(error, OverPageLimit)
        raise DamagedCapture(stored, damage_problem(error, what), over_page_limit=over_page_limit) from None


def _response_at(records: BoundedRecords, stored: StoredCapture, *, rendered: bool) -> StoredResponse:
    """The response record ``records`` starts with (at ``stored``), and with ``rendered`` the rendered DOM recorded
    right after it (``CaptureStore.read``)."""
    with _damage(stored, "the record"):
        record = records.next_record()
        if record is None:
            raise DamagedCapture(stored, "no whole WARC record there (the file is cut short or damaged)")
        # warcio also reads ARC records: random bytes can pass for one.
        if not record.warc or record.kind != "response":
            raise DamagedCapture(stored, "no WARC response record there (bytes damaged, or the file rewritten)")
        code = record.http_status
        status = int(code) if code and code.isdigit() else None
        # The payload as served: warcio's content_stream() would undo a recorded Content-Encoding, and then neither
        # the SHA-1 (the CDX digest, the commit's Payload-Sha1) nor the bytes would be the capture's.
        body = _intact_payload(records, record, stored, "the record")
    if not rendered:
        return StoredResponse(status, record.http_headers, body, warc_headers=record.warc_headers)
    with _damage(stored, "the rendered page recorded after it"):
        following = records.next_record()
        if following is None or not renders(following, record.header("WARC-Record-ID")):
            raise DamagedCapture(stored, "the rendered page recorded after it is not there")
        dom = _intact_payload(records, following, stored, "the rendered page recorded after it")
    not_requested = following.header(NOT_REQUESTED) or ""
    return StoredResponse(
        status, record.http_headers, body, dom, tuple(not_requested.split()), warc_headers=record.warc_headers
    )


def _intact_payload(records: BoundedRecords, record: ReadRecord, stored: StoredCapture, what: str) -> bytes:
    """The payload of ``record`` (the one ``records`` read last) as written (read to the store's limit,
    ``BoundedRecords.payload``: over it, the ``OverPageLimit`` becomes a :class:`DamagedCapture` in ``_damage``),
    or :class:`DamagedCapture` when it is not the one its digest names."""
    body = records.payload()
    if not payload_digest_matches(record, payload_sha1(body)):
        raise DamagedCapture(stored, f"the payload of {what} is not the one written (WARC-Payload-Digest differs)")
    return body
