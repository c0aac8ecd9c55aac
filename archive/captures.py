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
and a ``resource`` record right after it (same date, ``WARC-Concurrent-To`` the response) holds the rendered DOM
that was extracted, as UTF-8 HTML; its ``WARC-Policy-Archive-Not-Requested`` header lists (space separated) the
page's requests the browser did not send because the site's robots.txt disallows them. The DOM's record is filed
under a name of its own, ``urn:rendered:`` and the response's target URI (as Browsertrix-crawler files a page's
text under ``urn:text:URL``), never under the page's URL: replay tools index every record by its target URI, and
pywb 2.10, given two records of one URL and second, served the DOM for them (it lists a resource without a
status, which sorts first), so the raw response could not be replayed (docs/decisions/0012, amendment of
2026-11-28). Files written before 2026-11-28 file the DOM under the page's URL: they are read the same way, the
DOM being the record concurrent to the response just read, whatever its target URI (``capture_headers.renders``).

This module writes; reading is in its neighbours, which ``CaptureStore`` fronts: ``stored_responses`` (one capture
by its place), ``kept_captures`` (every capture in order, for a rebuild), ``revisits`` (twin revisit records) and
``capture_headers`` (the headers of ours all of them share).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import BinaryIO

from policy_archive.archive.capture_headers import (
    DOCUMENT,
    LISTED,
    NOT_REQUESTED,
    SOURCE,
    listed_header,
    rendered_target,
)
from policy_archive.archive.kept_captures import KeptCapture, LeftOut, kept_in
from policy_archive.archive.revisits import KeptRevisit, write_twin_revisit
from policy_archive.archive.stored_responses import StoredResponse, read_response
from policy_archive.archive.warc_records import DamagedRecord, RecordWriter, StoredCapture
from policy_archive.framing import recorded_chunks
from policy_archive.records import RENDERED_CONTENT_TYPE, Capture, CaptureRef, Source, file_stamp, iso_z

WARC_VERSION = "1.1"
# Framing headers describe the transfer, not the payload: the body kept is de-chunked and its length is ours; but
# for a payload kept chunked as a crawler recorded it (its CDX digest is over the chunks: policy_archive/framing.py),
# whose record says ``Transfer-Encoding: chunked`` as the crawler's did, so that a replay tool de-chunks it.
# Content-Encoding stays: the payload is kept exactly as served (its SHA-1 is the CDX digest).
_TRANSFER_HEADERS = ("content-length", "transfer-encoding")


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
        record_id = self._write_response(writer, capture, listed=listed_header(capture))
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
        handle, writer = self._open()
        offset = handle.tell()
        write_twin_revisit(writer, document, twin, snapshot_url, response)
        handle.flush()
        os.fsync(handle.fileno())
        return StoredCapture(self._name, offset)

    def read(self, stored: StoredCapture, *, rendered: bool = False) -> StoredResponse:
        """The response at ``stored``; with ``rendered`` (its catalog row says the page was rendered), also the
        rendered DOM recorded right after it. Only the records asked for are read, so damage in a neighbouring
        record never keeps an intact capture from being read. A file that is not there, or ends before
        ``stored``, is ``FileNotFoundError``; a record there that cannot be read back whole is
        :class:`DamagedCapture`."""
        return read_response(self._resolve(stored.warc_file), stored, self.max_page_bytes, rendered=rendered)

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
            yield from kept_in(path, self.max_page_bytes)

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
        omitted = {NOT_REQUESTED: " ".join(capture.not_requested)} if capture.not_requested else {}
        writer.resource(
            rendered_target(_target(capture)),
            RENDERED_CONTENT_TYPE,
            capture.rendered,
            {
                "WARC-Date": iso_z(capture.captured_at),
                "WARC-Concurrent-To": response_id,
                DOCUMENT: capture.document,
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
    headers = {"WARC-Date": iso_z(capture.captured_at), DOCUMENT: capture.document, SOURCE: str(capture.source)}
    if listed is not None:
        headers[LISTED] = listed
    if capture.source is Source.WAYBACK:
        headers["WARC-Source-URI"] = capture.fetched_url
        if capture.fetched_at is not None:
            headers["WARC-Creation-Date"] = iso_z(capture.fetched_at)
    return headers
