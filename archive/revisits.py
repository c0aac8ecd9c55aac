"""Twin revisit records: a listed capture never fetched that dates a version, kept as a revisit of its fetched twin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from policy_archive.archive.capture_headers import DOCUMENT, LISTED, SOURCE, ref_of
from policy_archive.archive.stored_responses import StoredResponse
from policy_archive.archive.warc_records import ReadRecord, RecordWriter, StoredCapture
from policy_archive.records import CaptureRef, Source, iso_z, payload_sha1

# On our revisit records: why the record holds no bytes of its own (docs/decisions/0004, amendment of 2026-11-28).
_TWIN = "WARC-Policy-Archive-Twin"
TWIN_WORDS = (
    "not fetched: the archive lists this capture with the payload digest of the record referred to, which was"
    " fetched; it dates a version"
)


@dataclass(frozen=True)
class KeptRevisit:
    """A revisit record of ours read back: a listed capture never fetched, known through the twin it refers to
    (same listed digest), kept because it dates a version (``CaptureStore.write_revisit``): its CDX row, so that a
    lost catalog lists it again and a rebuild dates the version at it as the backfill did."""

    document: str
    listed: CaptureRef
    stored: StoredCapture


def write_twin_revisit(
    writer: RecordWriter, document: str, twin: CaptureRef, snapshot_url: str, response: StoredResponse
) -> None:
    """Write the ``revisit`` record of ``twin`` (``CaptureStore.write_revisit``), ``response`` being the fetched
    record it refers to, read back."""
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
    writer.revisit(
        twin.url,
        f"sha1:{payload_sha1(response.body)}",
        refers_to,
        f"{response.status} {phrase}".strip(),
        list(response.headers),
        {
            "WARC-Date": iso_z(twin.timestamp),
            DOCUMENT: document,
            SOURCE: str(Source.WAYBACK),
            LISTED: json.dumps(row, ensure_ascii=True, separators=(",", ":")),
            _TWIN: TWIN_WORDS,
        },
    )


def kept_revisit(record: ReadRecord, stored: StoredCapture) -> KeptRevisit | None:
    """``record`` (at ``stored``) as a revisit record of ours, or None when it is not one (no listing)."""
    if record.kind != "revisit" or (listing := record.header(LISTED)) is None:
        return None
    return KeptRevisit(record.header(DOCUMENT) or "", ref_of(json.loads(listing)), stored)
