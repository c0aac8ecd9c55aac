"""Raw capture store: every downloaded response is kept as a WARC ``response`` record (warcio).

Keeping the bytes means extraction can be re-run after an extractor upgrade or a selector fix, and every version
stays traceable to exactly what the archive or the site served. One WARC file per process run keeps writers from
interleaving; a record is flushed and fsynced before the catalog refers to it, so a kill leaves at worst an
unreferenced record at the end of a file, never a catalog row pointing at missing bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.records import Capture, iso_z


@dataclass(frozen=True)
class StoredCapture:
    """Where a capture's bytes are: a WARC file relative to the captures directory and the record's offset."""

    warc_file: str
    offset: int


class CaptureStore:
    def __init__(self, directory: Path):
        self.directory = directory
        self._handle: BinaryIO | None = None
        self._name = ""

    def write(self, capture: Capture) -> StoredCapture:
        handle = self._open()
        offset = handle.tell()
        writer = WARCWriter(handle, gzip=True)
        headers = StatusAndHeaders(
            f"{capture.status} -",
            [(name, value) for name, value in capture.headers if name.lower() != "content-length"]
            + [("Content-Length", str(len(capture.body)))],
            protocol="HTTP/1.1",
        )
        record = writer.create_warc_record(
            capture.fetched_url,
            "response",
            payload=BytesIO(capture.body),
            http_headers=headers,
            warc_headers_dict={
                "WARC-Date": iso_z(capture.captured_at),
                "WARC-Payload-Digest": f"sha1:{capture.payload_sha1}",
                "WARC-Policy-Archive-Document": capture.document,
                "WARC-Policy-Archive-Source": str(capture.source),
                "WARC-Policy-Archive-Original-Url": capture.url,
            },
        )
        writer.write_record(record)
        handle.flush()
        os.fsync(handle.fileno())
        return StoredCapture(self._name, offset)

    def read_body(self, stored: StoredCapture) -> bytes:
        path = self._resolve(stored.warc_file)
        with path.open("rb") as handle:
            handle.seek(stored.offset)
            for record in ArchiveIterator(handle):
                return record.content_stream().read()
        raise FileNotFoundError(f"no WARC record at {stored.warc_file}:{stored.offset}")

    def close(self) -> None:
        if self._handle:
            self._handle.close()
            self._handle = None

    def _open(self) -> BinaryIO:
        if self._handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            self._name = f"captures-{stamp}-{os.getpid()}.warc.gz"
            self._handle = (self.directory / self._name).open("ab")
        return self._handle

    def _resolve(self, name: str) -> Path:
        # Catalog rows name a file in this directory only: refuse anything that could point elsewhere.
        if Path(name).name != name or name.startswith("."):
            raise ValueError(f"invalid WARC file name in catalog: {name!r}")
        return self.directory / name
