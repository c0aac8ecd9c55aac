"""The WARC headers policy-archive adds to its capture records, and the catalog row a capture's record carries."""

from __future__ import annotations

import json
from typing import Any

from policy_archive.archive.warc_records import ReadRecord
from policy_archive.digests import PayloadDigest
from policy_archive.records import Capture, CaptureRef, iso_z, parse_iso_z

NOT_REQUESTED = "WARC-Policy-Archive-Not-Requested"
DOCUMENT = "WARC-Policy-Archive-Document"
SOURCE = "WARC-Policy-Archive-Source"
# On a capture's own record (not on the redirect hops before it), as one line of ASCII JSON: the catalog row
# it answers (the CDX row, or the live fetch), the number of hop records just before it that led to it, and
# its snapshot URL; so that a lost catalog is rebuilt from the WARC files exactly (files of 2026-11-27 on).
LISTED = "WARC-Policy-Archive-Listed"
# The rendered DOM's WARC-Target-URI is this prefix and the response's target URI (files of 2026-11-28 on).
RENDERED_URN = "urn:rendered:"


def rendered_target(target: str) -> str:
    """The ``WARC-Target-URI`` of the rendered DOM of a response filed under ``target``: ``urn:rendered:TARGET``,
    a name no replay tool takes for the page's URL (pywb and cdxj-indexer index it as it is, so a collection
    finds the DOM by it: ``/COLL/cdx?url=urn:rendered:URL``, checked with pywb 2.10 and cdxj-indexer 1.5,
    2026-11-28; docs/decisions/0012)."""
    return f"{RENDERED_URN}{target}"


def renders(record: ReadRecord, response_id: str | None) -> bool:
    """``record`` is the rendered DOM of the response ``response_id`` (the record just before it): a ``resource``
    record concurrent to it. Its target URI is not looked at, so both layouts read alike: ``urn:rendered:URL``
    (files of 2026-11-28 on) and the page's URL itself (files written before)."""
    return response_id is not None and record.kind == "resource" and record.header("WARC-Concurrent-To") == response_id


def listed_header(capture: Capture) -> str:
    """The ``WARC-Policy-Archive-Listed`` value of a capture's own record: the catalog row it answers."""
    url, at = capture.listing_key
    row: dict[str, Any] = {"url": url, "timestamp": iso_z(at), "hops": len(capture.hops)}
    if capture.listed is not None:
        listed = capture.listed
        digest = None if listed.digest is None else str(listed.digest)
        row.update(status=listed.status, mimetype=listed.mimetype, digest=digest, length=listed.length)
    if capture.snapshot_url is not None:
        row["snapshot_url"] = capture.snapshot_url
    return json.dumps(row, ensure_ascii=True, separators=(",", ":"))


def ref_of(listed: dict[str, Any]) -> CaptureRef:
    """The CDX row a ``WARC-Policy-Archive-Listed`` header names."""
    return CaptureRef(
        listed["url"],
        parse_iso_z(listed["timestamp"]),
        listed.get("status"),
        listed.get("mimetype"),
        PayloadDigest.parse(listed["digest"]) if listed.get("digest") else None,
        listed.get("length"),
    )
