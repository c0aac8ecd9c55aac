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
Files written before 2026-11-27 filed records under the ``id_`` URL at the CDX row's time: they are still read
(by offset), only not indexed by the site's URL.

A page rendered in a headless browser keeps both: the ``response`` record holds the raw bytes the server sent,
and a ``resource`` record right after it (same target and date, ``WARC-Concurrent-To`` the response) holds the
rendered DOM that was extracted, as UTF-8 HTML; its ``WARC-Policy-Archive-Not-Requested`` header lists (space
separated) the page's requests the browser did not send because the site's robots.txt disallows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.records import RENDERED_CONTENT_TYPE, Capture, Source, file_stamp, iso_z

WARC_VERSION = "1.1"
# Framing headers describe the transfer, not the payload: the body kept is de-chunked and its length is ours.
# Content-Encoding stays: the payload is kept exactly as served (its SHA-1 is the CDX digest).
_TRANSFER_HEADERS = ("content-length", "transfer-encoding")
_NOT_REQUESTED = "WARC-Policy-Archive-Not-Requested"


@dataclass(frozen=True)
class StoredCapture:
    """Where a capture's bytes are: a WARC file relative to the captures directory and the record's offset."""

    warc_file: str
    offset: int


@dataclass(frozen=True)
class StoredResponse:
    """A kept response read back: HTTP status, headers and payload as served, and the rendered DOM if any."""

    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    rendered: bytes | None = None
    not_requested: tuple[str, ...] = ()


def _version_of(distribution: str) -> str:
    try:
        return f"{distribution}/{version(distribution)}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return distribution


def software() -> str:
    """``policy-archive/0.1.0 (warcio/1.8.1)``: the tools named in each file's warcinfo record."""
    return f"{_version_of('policy-archive')} ({_version_of('warcio')})"


class CaptureStore:
    def __init__(self, directory: Path):
        self.directory = directory
        self._handle: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""

    def write(self, capture: Capture) -> StoredCapture:
        """Keep a capture (after the archived redirects that led to it); returns where its own record is."""
        handle, writer = self._open()
        for hop in capture.hops:
            writer.write_record(self._record(writer, hop))
        offset = handle.tell()
        record = self._record(writer, capture)
        writer.write_record(record)
        if capture.rendered is not None:
            writer.write_record(self._rendered_record(writer, capture, record))
        handle.flush()
        os.fsync(handle.fileno())
        return StoredCapture(self._name, offset)

    def read(self, stored: StoredCapture) -> StoredResponse:
        """The response at ``stored``, with the rendered DOM recorded right after it, if any."""
        path = self._resolve(stored.warc_file)
        with path.open("rb") as handle:
            handle.seek(stored.offset)
            records = ArchiveIterator(handle)
            record = next(records, None)
            if record is None:
                raise FileNotFoundError(f"no WARC record at {stored.warc_file}:{stored.offset}")
            http = record.http_headers
            status = int(http.get_statuscode()) if http and http.get_statuscode().isdigit() else None
            headers = tuple(http.headers) if http else ()
            # The payload as served: warcio's content_stream() would undo a recorded Content-Encoding, and then
            # neither the SHA-1 (the CDX digest, the commit's Payload-Sha1) nor the bytes would be the capture's.
            body = record.raw_stream.read()
            response_id = record.rec_headers.get_header("WARC-Record-ID")
            following = next(records, None)
            if following is not None and following.rec_headers.get_header("WARC-Concurrent-To") == response_id:
                not_requested = following.rec_headers.get_header(_NOT_REQUESTED) or ""
                return StoredResponse(
                    status, headers, body, following.content_stream().read(), tuple(not_requested.split())
                )
            return StoredResponse(status, headers, body)

    def close(self) -> None:
        if self._handle:
            self._handle.close()
            self._handle = None
            self._writer = None

    @staticmethod
    def _record(writer: WARCWriter, capture: Capture):  # type: ignore[no-untyped-def]
        phrase = HTTPStatus(capture.status).phrase if capture.status in HTTPStatus._value2member_map_ else ""
        headers = StatusAndHeaders(
            f"{capture.status} {phrase}".strip(),
            [(name, value) for name, value in capture.headers if name.lower() not in _TRANSFER_HEADERS]
            + [("Content-Length", str(len(capture.body)))],
            protocol="HTTP/1.1",
        )
        warc_headers = {
            "WARC-Date": iso_z(capture.captured_at),
            "WARC-Policy-Archive-Document": capture.document,
            "WARC-Policy-Archive-Source": str(capture.source),
        }
        if capture.source is Source.WAYBACK:
            target = capture.url
            warc_headers["WARC-Source-URI"] = capture.fetched_url
            if capture.fetched_at is not None:
                warc_headers["WARC-Creation-Date"] = iso_z(capture.fetched_at)
        else:
            target = capture.fetched_url  # where the bytes came from, after the site's redirects
        return writer.create_warc_record(
            target, "response", payload=BytesIO(capture.body), http_headers=headers, warc_headers_dict=warc_headers
        )

    @staticmethod
    def _rendered_record(writer: WARCWriter, capture: Capture, response):  # type: ignore[no-untyped-def]
        assert capture.rendered is not None
        # A browser sends URLs percent-encoded: none holds a space.
        omitted = {_NOT_REQUESTED: " ".join(capture.not_requested)} if capture.not_requested else {}
        return writer.create_warc_record(
            response.rec_headers.get_header("WARC-Target-URI"),
            "resource",
            payload=BytesIO(capture.rendered),
            warc_content_type=RENDERED_CONTENT_TYPE,
            warc_headers_dict={
                "WARC-Date": response.rec_headers.get_header("WARC-Date"),
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
                "WARC-Policy-Archive-Document": capture.document,
                "WARC-Policy-Archive-Rendered": "the DOM in headless Chromium after the page's scripts ran",
                **omitted,
            },
        )

    def _open(self) -> tuple[BinaryIO, WARCWriter]:
        if self._handle is None or self._writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = file_stamp(datetime.now(UTC))
            self._name = f"captures-{stamp}-{os.getpid()}.warc.gz"
            self._handle = (self.directory / self._name).open("ab")
            self._writer = WARCWriter(self._handle, gzip=True, warc_version=WARC_VERSION)
            info = {
                "software": software(),
                "format": f"WARC File Format {WARC_VERSION}",
                "description": "Raw captures kept by policy-archive: archive mementos and live fetches.",
            }
            self._writer.write_record(self._writer.create_warcinfo_record(self._name, info))
        return self._handle, self._writer

    def _resolve(self, name: str) -> Path:
        # Catalog rows name a file in this directory only: refuse anything that could point elsewhere.
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"invalid WARC file name in catalog: {name!r}")
        return self.directory / name
