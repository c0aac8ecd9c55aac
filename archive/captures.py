"""Raw capture store: every downloaded response is kept as a WARC ``response`` record (warcio).

Keeping the bytes means extraction can be re-run after an extractor upgrade or a selector fix, and every version
stays traceable to exactly what the archive or the site served. One WARC file per process run keeps writers from
interleaving; a record is flushed and fsynced before the catalog refers to it, so a kill leaves at worst an
unreferenced record at the end of a file, never a catalog row pointing at missing bytes.

The records follow the convention of archives that copy from another archive (pywb's recorder, as of 2026-11):
a memento is filed under the site's own URL (``WARC-Target-URI``) at its ``Memento-Datetime`` (``WARC-Date``),
with the archive URL it was copied from in ``WARC-Source-URI`` and the time of copying in
``WARC-Creation-Date``; so replay tools (pywb, ReplayWeb.page) index it as the site's page at that time. Every
archived redirect followed is a record of its own; each file opens with a ``warcinfo`` record naming the tool.
A capture's own record also carries the catalog row it answers (``WARC-Policy-Archive-Listed``), so that a lost
catalog is rebuilt from the files (``CaptureStore.kept``; files written before then: the first hop or the record).
Files written before 2026-11-27 filed records under the ``id_`` URL at the CDX row's time: they are still read
(by offset), only not indexed by the site's URL.

A page rendered in a headless browser keeps both: the ``response`` record holds the raw bytes the server sent,
and a ``resource`` record right after it (same target and date, ``WARC-Concurrent-To`` the response) holds the
rendered DOM that was extracted, as UTF-8 HTML; its ``WARC-Policy-Archive-Not-Requested`` header lists (space
separated) the page's requests the browser did not send because the site's robots.txt disallows them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

from policy_archive.archive.warc_records import (
    UNPARSABLE,
    BoundedRecords,
    DamagedRecord,
    OverPageLimit,
    ReadRecord,
    RecordWriter,
    StoredCapture,
    damage_problem,
    payload_digest_matches,
    quiet_warcio,
    whole_records,
)
from policy_archive.digests import PayloadDigest
from policy_archive.errors import StateError
from policy_archive.framing import recorded_chunks
from policy_archive.records import (
    RENDERED_CONTENT_TYPE,
    Capture,
    CaptureRef,
    Source,
    file_stamp,
    iso_z,
    parse_iso_z,
    payload_sha1,
)

WARC_VERSION = "1.1"
# Framing headers describe the transfer, not the payload: the body kept is de-chunked and its length is ours; but
# for a payload kept chunked as a crawler recorded it (its CDX digest is over the chunks: policy_archive/framing.py),
# whose record says ``Transfer-Encoding: chunked`` as the crawler's did, so that a replay tool de-chunks it.
# Content-Encoding stays: the payload is kept exactly as served (its SHA-1 is the CDX digest).
_TRANSFER_HEADERS = ("content-length", "transfer-encoding")
_NOT_REQUESTED = "WARC-Policy-Archive-Not-Requested"
_DOCUMENT = "WARC-Policy-Archive-Document"
_SOURCE = "WARC-Policy-Archive-Source"
# On a capture's own record (not on the redirect hops before it), as one line of ASCII JSON: the catalog row
# it answers (the CDX row, or the live fetch), the number of hop records just before it that led to it, and
# its snapshot URL; so that a lost catalog is rebuilt from the WARC files exactly (files of 2026-11-27 on).
_LISTED = "WARC-Policy-Archive-Listed"
# On our revisit records: why the record holds no bytes of its own (docs/decisions/0004, amendment of 2026-11-28).
_TWIN = "WARC-Policy-Archive-Twin"
TWIN_WORDS = (
    "not fetched: the archive lists this capture with the payload digest of the record referred to, which was"
    " fetched; it dates a version"
)
_REDIRECT_STATUSES = range(300, 400)
# An archive's id_ URL: capture records were filed under it before 2026-11-27.
_ID_URL = re.compile(r"/\d{1,14}id_/(?P<original>.+)$")


@dataclass(frozen=True)
class KeptCapture:
    """A capture read back from the WARC files as the crawler handed it over, and where its record is."""

    capture: Capture
    stored: StoredCapture


@dataclass(frozen=True)
class KeptRevisit:
    """A revisit record of ours read back: a listed capture never fetched, known through the twin it refers to
    (same listed digest), kept because it dates a version (``CaptureStore.write_revisit``): its CDX row, so that a
    lost catalog lists it again and a rebuild dates the version at it as the backfill did."""

    document: str
    listed: CaptureRef
    stored: StoredCapture


@dataclass(frozen=True)
class LeftOut:
    """A record another tool wrote (a WARC file copied into the captures directory: no
    ``WARC-Policy-Archive-Document``), where it is and its ``WARC-Type``: not a policy-archive record, left out
    of the captures (never called damaged: its digest follows its own tool's conventions)."""

    stored: StoredCapture
    kind: str


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


def _version_of(distribution: str) -> str:
    try:
        return f"{distribution}/{version(distribution)}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return distribution


def software() -> str:
    """``policy-archive/0.1.0 (warcio/1.8.1)``: the tools named in each file's warcinfo record."""
    return f"{_version_of('policy-archive')} ({_version_of('warcio')})"


class CaptureStore:
    """The WARC files of a data directory: captures written one file per run, read back by place or all in order.
    Reading is bounded by ``max_page_bytes`` (the setting a fetch keeps pages within): a record whose payload is
    larger, or whose headers are beyond any record's, is not read (``warc_records``)."""

    def __init__(self, directory: Path, *, max_page_bytes: int):
        self.directory = directory
        self.max_page_bytes = max_page_bytes
        self._handle: BinaryIO | None = None
        self._writer: RecordWriter | None = None
        self._name = ""

    def write(self, capture: Capture) -> StoredCapture:
        """Keep a capture (after the archived redirects that led to it); returns where its own record is."""
        handle, writer = self._open()
        for hop in capture.hops:
            self._write_response(writer, hop)
        offset = handle.tell()
        record_id = self._write_response(writer, capture, listed=_listed_header(capture))
        if capture.rendered is not None:
            self._write_rendered(writer, capture, record_id)
        handle.flush()
        os.fsync(handle.fileno())
        return StoredCapture(self._name, offset)

    def write_revisit(
        self, document: str, twin: CaptureRef, snapshot_url: str, fetched: StoredCapture
    ) -> StoredCapture:
        """Keep a listed capture never fetched that dates a version, known through ``fetched`` (its twin: the
        same listed digest): a ``revisit`` record of the identical-payload-digest profile, filed under the twin's
        URL at its listed time and referring to the fetched record (target URI, date, record id), with that record's
        HTTP status line and headers and the twin's CDX row (``WARC-Policy-Archive-Listed``); so that a lost catalog
        lists it again (``kept``), a rebuild dates the version at it, and a replay tool serves the payload at its
        time. Returns where it is. Raises what :meth:`read` raises for the fetched record."""
        response = self.read(fetched)
        headers = dict((name.lower(), value) for name, value in reversed(response.warc_headers))
        refers_to = (
            headers.get("warc-target-uri", ""),
            headers.get("warc-date", ""),
            headers.get("warc-record-id", ""),
        )
        phrase = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        row: dict[str, Any] = {"url": twin.url, "timestamp": iso_z(twin.timestamp), "hops": 0}
        row["snapshot_url"] = snapshot_url
        digest = None if twin.digest is None else str(twin.digest)
        row.update(status=twin.status, mimetype=twin.mimetype, digest=digest, length=twin.length)
        handle, writer = self._open()
        offset = handle.tell()
        writer.revisit(
            twin.url,
            f"sha1:{payload_sha1(response.body)}",
            refers_to,
            f"{response.status} {phrase}".strip(),
            list(response.headers),
            {
                "WARC-Date": iso_z(twin.timestamp),
                _DOCUMENT: document,
                _SOURCE: str(Source.WAYBACK),
                _LISTED: json.dumps(row, ensure_ascii=True, separators=(",", ":")),
                _TWIN: TWIN_WORDS,
            },
        )
        handle.flush()
        os.fsync(handle.fileno())
        return StoredCapture(self._name, offset)

    def read(self, stored: StoredCapture, *, rendered: bool = False) -> StoredResponse:
        """The response at ``stored``; with ``rendered`` (its catalog row says the page was rendered), also the
        rendered DOM recorded right after it. Only the records asked for are read, so damage in a neighbouring
        record never keeps an intact capture from being read. A file that is not there, or ends before
        ``stored``, is ``FileNotFoundError``; a record there that cannot be read back whole is
        :class:`DamagedCapture`."""
        path = self._resolve(stored.warc_file)
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if stored.offset >= size:
                raise FileNotFoundError(f"the file ends at byte {size}")
            handle.seek(stored.offset)
            # Closed on leaving: warcio's iterator and its generator refer to each other, so without it each read
            # left its decompression buffers (~30 KB) to the cyclic garbage collector, piling up over a long scan.
            with closing(BoundedRecords(handle, self.max_page_bytes)) as records:
                return _response_at(records, stored, rendered=rendered)

    def close(self) -> None:
        """Close the WARC file this store is writing, if any; the next :meth:`write` starts a new file."""
        if self._handle:
            self._handle.close()
            self._handle = None
            self._writer = None

    def kept(self) -> Iterator[KeptCapture | KeptRevisit | DamagedRecord | LeftOut]:
        """Every capture kept in this directory's WARC files, oldest file first, each with its redirect hops and
        rendered DOM, read one record at a time (bounded memory whatever the store's size): what a lost catalog
        is rebuilt from. Records written by other tools (no ``WARC-Policy-Archive-Document``; warcinfo records
        aside) are handed over as ``LeftOut``, never as captures; a record cut short is handed over as a
        ``DamagedRecord``, never as a capture."""
        for path in self.warc_files():
            yield from _kept_in(path, self.max_page_bytes)

    def warc_files(self) -> list[Path]:
        """This store's WARC files, oldest first (their names start with the UTC time they were opened)."""
        return sorted(self.directory.glob("*.warc.gz"))

    @staticmethod
    def _write_response(writer: RecordWriter, capture: Capture, *, listed: str | None = None) -> str:
        """Write a capture's ``response`` record; returns its ``WARC-Record-ID``."""
        phrase = HTTPStatus(capture.status).phrase if capture.status in HTTPStatus._value2member_map_ else ""
        framing = ("Transfer-Encoding", "chunked")
        if recorded_chunks(capture.body, capture.headers) is None:
            framing = ("Content-Length", str(len(capture.body)))
        http_headers = [(name, value) for name, value in capture.headers if name.lower() not in _TRANSFER_HEADERS]
        http_headers.append(framing)
        return writer.response(
            _target(capture),
            f"{capture.status} {phrase}".strip(),
            http_headers,
            capture.body,
            _response_headers(capture, listed),
        )

    @staticmethod
    def _write_rendered(writer: RecordWriter, capture: Capture, response_id: str) -> None:
        """Write a rendered capture's DOM as a ``resource`` record concurrent to its response ``response_id``."""
        assert capture.rendered is not None
        # A browser sends URLs percent-encoded: none holds a space.
        omitted = {_NOT_REQUESTED: " ".join(capture.not_requested)} if capture.not_requested else {}
        writer.resource(
            _target(capture),
            RENDERED_CONTENT_TYPE,
            capture.rendered,
            {
                "WARC-Date": iso_z(capture.captured_at),
                "WARC-Concurrent-To": response_id,
                _DOCUMENT: capture.document,
                "WARC-Policy-Archive-Rendered": "the DOM in headless Chromium after the page's scripts ran",
                **omitted,
            },
        )

    def _open(self) -> tuple[BinaryIO, RecordWriter]:
        if self._handle is None or self._writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = file_stamp(datetime.now(UTC))
            self._name = f"captures-{stamp}-{os.getpid()}.warc.gz"
            self._handle = (self.directory / self._name).open("ab")
            self._writer = RecordWriter(self._handle, WARC_VERSION)
            info = {
                "software": software(),
                "format": f"WARC File Format {WARC_VERSION}",
                "description": "Raw captures kept by policy-archive: archive mementos and live fetches.",
            }
            self._writer.warcinfo(self._name, info)
        return self._handle, self._writer

    def _resolve(self, name: str) -> Path:
        # Catalog rows name a file in this directory only: refuse anything that could point elsewhere.
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"invalid WARC file name in catalog: {name!r}")
        return self.directory / name


def _target(capture: Capture) -> str:
    """A capture's ``WARC-Target-URI``: a memento is filed under the site's URL; a live fetch under where its
    bytes came from, after the site's redirects."""
    return capture.url if capture.source is Source.WAYBACK else capture.fetched_url


def _response_headers(capture: Capture, listed: str | None) -> dict[str, str]:
    """The WARC headers of a capture's ``response`` record (with the catalog row it answers when ``listed``)."""
    headers = {"WARC-Date": iso_z(capture.captured_at), _DOCUMENT: capture.document, _SOURCE: str(capture.source)}
    if listed is not None:
        headers[_LISTED] = listed
    if capture.source is Source.WAYBACK:
        headers["WARC-Source-URI"] = capture.fetched_url
        if capture.fetched_at is not None:
            headers["WARC-Creation-Date"] = iso_z(capture.fetched_at)
    return headers


def _listed_header(capture: Capture) -> str:
    url, at = capture.listing_key
    row: dict[str, Any] = {"url": url, "timestamp": iso_z(at), "hops": len(capture.hops)}
    if capture.listed is not None:
        listed = capture.listed
        digest = None if listed.digest is None else str(listed.digest)
        row.update(status=listed.status, mimetype=listed.mimetype, digest=digest, length=listed.length)
    if capture.snapshot_url is not None:
        row["snapshot_url"] = capture.snapshot_url
    return json.dumps(row, ensure_ascii=True, separators=(",", ":"))


def _kept_in(path: Path, max_payload: int) -> Iterator[KeptCapture | KeptRevisit | DamagedRecord | LeftOut]:
    """The captures of one WARC file, and its damaged records (reading goes on after each, ``whole_records``);
    a rendered DOM (``resource`` record concurrent to the response just read) is joined to its capture, archived
    redirects (3xx wayback records carrying no listing) to the capture they led to."""
    hops: list[Capture] = []
    pending: tuple[KeptCapture, str | None] | None = None  # read, not yet handed over: its rendered DOM may follow
    with path.open("rb") as handle:
        for whole in whole_records(handle, path.name, max_payload, ours=_DOCUMENT):
            if isinstance(whole, DamagedRecord):
                # A capture read just before keeps what it has (a rendered DOM after it would be in the damage),
                # and hops read before it may have led to a capture the damage swallowed: they lead nowhere known.
                if pending is not None:
                    yield pending[0]
                    pending = None
                hops = []
                yield whole
                continue
            record = whole.record
            if pending is not None and record.header("WARC-Concurrent-To") == pending[1]:
                not_requested = tuple((record.header(_NOT_REQUESTED) or "").split())
                rendered = replace(pending[0].capture, rendered=whole.payload, not_requested=not_requested)
                pending = (KeptCapture(rendered, pending[0].stored), pending[1])
                continue
            if pending is not None:
                yield pending[0]
                pending = None
            if record.header(_DOCUMENT) is None and record.kind != "warcinfo":
                yield LeftOut(StoredCapture(path.name, whole.offset), record.kind)
                continue
            if record.kind == "revisit" and (listing := record.header(_LISTED)) is not None:
                revisit = json.loads(listing)
                stored = StoredCapture(path.name, whole.offset)
                yield KeptRevisit(record.header(_DOCUMENT) or "", _ref_of(revisit), stored)
                continue
            if record.kind != "response" or record.header(_SOURCE) not in set(Source):
                continue
            capture, listed = _capture_of(record, whole.payload)
            if listed is None and capture.source is Source.WAYBACK and capture.status in _REDIRECT_STATUSES:
                hops.append(capture)
                continue
            led_here = _hops_to(capture, hops, listed)
            hops = []
            pending = (
                KeptCapture(_with_listing(capture, listed, led_here), StoredCapture(path.name, whole.offset)),
                record.header("WARC-Record-ID"),
            )
    if pending is not None:
        yield pending[0]


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
        response_id = record.header("WARC-Record-ID")
        if following is None or following.header("WARC-Concurrent-To") != response_id:
            raise DamagedCapture(stored, "the rendered page recorded after it is not there")
        dom = _intact_payload(records, following, stored, "the rendered page recorded after it")
    not_requested = following.header(_NOT_REQUESTED) or ""
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


def _capture_of(record: ReadRecord, body: bytes) -> tuple[Capture, dict[str, Any] | None]:
    """A response record (its payload ``body``, as served: see ``read``) as a capture (its listing not yet
    filled in), and its listing header if any."""
    source = Source(record.header(_SOURCE))
    target = record.header("WARC-Target-URI") or ""
    status = record.http_status or ""
    fetched_url = record.header("WARC-Source-URI") or target
    if source is Source.WAYBACK and (old := _ID_URL.search(target)):  # filed under the id_ URL
        target = old.group("original")
    created = record.header("WARC-Creation-Date")
    listed = record.header(_LISTED)
    capture = Capture(
        document=record.header(_DOCUMENT) or "",
        source=source,
        url=target,
        fetched_url=fetched_url,
        captured_at=parse_iso_z(record.header("WARC-Date") or ""),
        status=int(status) if status.isdigit() else 0,
        content_type=record.http_header("Content-Type"),
        body=body,
        payload_sha1=payload_sha1(body),
        headers=record.http_headers,
        fetched_at=parse_iso_z(created) if created else None,
    )
    return capture, json.loads(listed) if listed else None


def _hops_to(capture: Capture, hops: list[Capture], listed: dict[str, Any] | None) -> tuple[Capture, ...]:
    """The hop records just read that led to ``capture``: as many as its listing says; for files without
    listings, the chain of the same document's redirects whose last ``Location`` names the capture's URL (a
    failed fetch's hops are kept too, and must not be taken for this capture's)."""
    if listed is not None:
        count = int(listed.get("hops", 0))
        return tuple(hops[len(hops) - count :]) if count else ()
    chain: list[Capture] = []
    for hop in reversed(hops):
        target = chain[0].url if chain else capture.url
        if hop.document != capture.document or not _leads_to(hop.header("Location") or "", target):
            break
        chain.insert(0, hop)
    return tuple(chain)


def _leads_to(location: str, url: str) -> bool:
    """A redirect's ``Location`` (an archive URL, an absolute or a relative site URL) names ``url``."""
    wanted = url.split("://", 1)[-1]
    given = location.split("://")[-1]
    return bool(given) and wanted.endswith(given)


def _with_listing(capture: Capture, listed: dict[str, Any] | None, hops: tuple[Capture, ...]) -> Capture:
    """The capture with the catalog row it answers: from its listing header, else (files before 2026-11-27)
    the first archived redirect that led to it, or itself."""
    redirects = tuple(hop.fetched_url for hop in hops)
    if capture.source is Source.LIVE:
        url = listed["url"] if listed else capture.url
        return replace(capture, url=url, redirects=redirects)
    if listed is not None:
        ref = _ref_of(listed)
        snapshot = listed.get("snapshot_url", capture.fetched_url)
    else:
        first = hops[0] if hops else capture
        ref = CaptureRef(
            first.url, first.captured_at, first.status, first.content_type, PayloadDigest.parse(first.payload_sha1)
        )
        snapshot = capture.fetched_url
    return replace(capture, listed=ref, snapshot_url=snapshot, hops=hops, redirects=redirects)


def _ref_of(listed: dict[str, Any]) -> CaptureRef:
    """The CDX row a ``WARC-Policy-Archive-Listed`` header names."""
    return CaptureRef(
        listed["url"],
        parse_iso_z(listed["timestamp"]),
        listed.get("status"),
        listed.get("mimetype"),
        PayloadDigest.parse(listed["digest"]) if listed.get("digest") else None,
        listed.get("length"),
    )
