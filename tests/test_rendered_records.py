"""A rendered capture's two records: the ``response`` (the raw bytes, filed under the page's URL) and the ``resource``
of its rendered DOM, filed under ``urn:rendered:URL`` since 2026-11-28 (docs/decisions/0012, amendment of that day),
so that an index of our WARCs holds one row at the page's URL and second, the response's. The DOM is read back by
our own code through the response it is concurrent to, in both layouts: the one written now, and the one written
before (the DOM filed under the page's URL), which older data directories hold."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from policy_archive.archive.capture_headers import rendered_target
from policy_archive.archive.captures import CaptureStore
from policy_archive.archive.kept_captures import KeptCapture
from policy_archive.archive.warc_records import StoredCapture
from policy_archive.records import RENDERED_CONTENT_TYPE, Capture, Source, iso_z, payload_sha1

URL = "https://spa.example/privacy"
WHEN = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
SHELL = b"<html><body><div id='root'></div><script src='/app.js'></script></body></html>"
DOM = b"<html><body><div id='root'><h1>Privacy Policy</h1><p>Built by a script.</p></div></body></html>"
NOT_REQUESTED = ("https://tracker.example/a.js",)
LIMIT = 1 << 20


def rendered_capture() -> Capture:
    fetched = f"http://127.0.0.1:9/web/{WHEN:%Y%m%d%H%M%S}id_/{URL}"
    return Capture(
        document="spa/privacy-policy",
        source=Source.WAYBACK,
        url=URL,
        fetched_url=fetched,
        captured_at=WHEN,
        status=200,
        content_type="text/html",
        body=SHELL,
        payload_sha1=payload_sha1(SHELL),
        headers=(("Content-Type", "text/html"),),
        rendered=DOM,
        not_requested=NOT_REQUESTED,
    )


def records(path: Path) -> list[tuple[str, str | None, dict[str, str]]]:
    with path.open("rb") as handle:
        return [
            (record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), dict(record.rec_headers.headers))
            for record in ArchiveIterator(handle)
        ]


def test_the_rendered_dom_is_filed_under_a_name_of_its_own_and_one_row_is_at_the_pages_url_and_second(tmp_path):
    store = CaptureStore(tmp_path, max_page_bytes=LIMIT)
    stored = store.write(rendered_capture())
    store.close()
    (path,) = store.warc_files()
    (_, (response, target, response_headers), (resource, dom_target, dom_headers)) = records(path)
    assert (response, target) == ("response", URL)
    assert (resource, dom_target) == ("resource", f"urn:rendered:{URL}") == ("resource", rendered_target(URL))
    assert dom_headers["WARC-Concurrent-To"] == response_headers["WARC-Record-ID"]
    assert dom_headers["WARC-Date"] == response_headers["WARC-Date"] == iso_z(WHEN)

    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(path)], capture_output=True)
    assert check.returncode == 0, check.stdout  # every record's digests check out, the DOM's included

    # cdxj-indexer (the indexer of pywb's CDXJ collections) lists the page's URL and second once: the response,
    # with its status and the raw bytes' digest; the DOM under its own name.
    index = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split(" ", 2) for line in index.splitlines() if line.strip()]
    at_page = [row for row in rows if row[0] == "example,spa)/privacy" and row[1] == f"{WHEN:%Y%m%d%H%M%S}"]
    assert len(at_page) == 1 and '"status": "200"' in at_page[0][2], index
    assert f'"digest": "sha1:{payload_sha1(SHELL)}"' in at_page[0][2]
    assert any(row[0] == f"urn:rendered:{URL}" for row in rows), index

    # Read back through the response it is concurrent to, by place and in a scan of the files.
    again = CaptureStore(tmp_path, max_page_bytes=LIMIT)
    read = again.read(stored, rendered=True)
    assert (read.body, read.rendered, read.not_requested) == (SHELL, DOM, NOT_REQUESTED)
    (kept,) = [item for item in again.kept() if isinstance(item, KeptCapture)]
    assert (kept.capture.body, kept.capture.rendered, kept.capture.not_requested) == (SHELL, DOM, NOT_REQUESTED)
    assert kept.stored == stored


def old_record(
    writer: WARCWriter, kind: str, payload: bytes, headers: dict[str, str], **options: object
) -> ArcWarcRecord:
    """A record as ``CaptureStore`` wrote them before 2026-11-28: filed under the page's URL, at its second."""
    common = {"WARC-Date": iso_z(WHEN), "WARC-Policy-Archive-Document": "spa/privacy-policy"}
    return writer.create_warc_record(
        URL, kind, payload=io.BytesIO(payload), warc_headers_dict={**common, **headers}, **options
    )


def write_old_layout(path: Path) -> StoredCapture:
    """A rendered capture as files written before 2026-11-28 hold it: the ``resource`` of its DOM filed under the
    page's URL, at its second (what ``CaptureStore`` then wrote, header for header)."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "policy-archive/0.1.0"}))
        offset = handle.tell()
        http = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(SHELL)))], protocol="HTTP/1.1"
        )
        archived = {
            "WARC-Policy-Archive-Source": str(Source.WAYBACK),
            "WARC-Source-URI": f"http://127.0.0.1:9/web/{WHEN:%Y%m%d%H%M%S}id_/{URL}",
        }
        response = old_record(writer, "response", SHELL, archived, http_headers=http)
        writer.write_record(response)
        rendered = {
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            "WARC-Policy-Archive-Rendered": "the DOM in headless Chromium after the page's scripts ran",
            "WARC-Policy-Archive-Not-Requested": " ".join(NOT_REQUESTED),
        }
        writer.write_record(old_record(writer, "resource", DOM, rendered, warc_content_type=RENDERED_CONTENT_TYPE))
    return StoredCapture(path.name, offset)


def test_a_rendered_dom_filed_under_the_pages_url_before_2026_11_28_is_still_read(tmp_path):
    stored = write_old_layout(tmp_path / "captures-20261127T120000Z-1.warc.gz")
    store = CaptureStore(tmp_path, max_page_bytes=LIMIT)
    read = store.read(stored, rendered=True)
    assert (read.status, read.body, read.rendered, read.not_requested) == (200, SHELL, DOM, NOT_REQUESTED)
    assert store.read(stored).rendered is None  # the response alone, when the catalog says it was not rendered
    (kept,) = list(store.kept())
    assert isinstance(kept, KeptCapture) and kept.stored == stored
    assert (kept.capture.url, kept.capture.body, kept.capture.rendered) == (URL, SHELL, DOM)
    assert kept.capture.not_requested == NOT_REQUESTED

    # Beside a file of the new layout, each is read alike.
    store.write(rendered_capture())
    store.close()
    both = [item for item in CaptureStore(tmp_path, max_page_bytes=LIMIT).kept() if isinstance(item, KeptCapture)]
    assert [(item.capture.body, item.capture.rendered) for item in both] == [(SHELL, DOM), (SHELL, DOM)]
