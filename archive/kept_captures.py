"""Captures read back from a WARC file in order, hops and rendered DOM joined: what a lost catalog is rebuilt from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from policy_archive.archive.capture_headers import DOCUMENT, LISTED, NOT_REQUESTED, SOURCE, ref_of, renders
from policy_archive.archive.revisits import KeptRevisit, kept_revisit
from policy_archive.archive.warc_records import DamagedRecord, ReadRecord, StoredCapture, whole_records
from policy_archive.digests import PayloadDigest
from policy_archive.records import Capture, CaptureRef, Source, parse_iso_z, payload_sha1

_REDIRECT_STATUSES = range(300, 400)
# An archive's id_ URL: capture records were filed under it before 2026-11-27.
_ID_URL = re.compile(r"/\d{1,14}id_/(?P<original>.+)$")


@dataclass(frozen=True)
class KeptCapture:
    """A capture read back from the WARC files as the crawler handed it over, and where its record is."""

    capture: Capture
    stored: StoredCapture


@dataclass(frozen=True)
class LeftOut:
    """A record another tool wrote (a WARC file copied into the captures directory: no
    ``WARC-Policy-Archive-Document``), where it is and its ``WARC-Type``: not a policy-archive record, left out
    of the captures (never called damaged: its digest follows its own tool's conventions)."""

    stored: StoredCapture
    kind: str


def kept_in(path: Path, max_payload: int) -> Iterator[KeptCapture | KeptRevisit | DamagedRecord | LeftOut]:
    """The captures of one WARC file, and its damaged records (reading goes on after each, ``whole_records``);
    a rendered DOM (``resource`` record concurrent to the response just read, whatever its target URI:
    ``capture_headers.renders``) is joined to its capture, archived redirects (3xx wayback records carrying no
    listing) to the capture they led to."""
    hops: list[Capture] = []
    pending: tuple[KeptCapture, str | None] | None = None  # read, not yet handed over: its rendered DOM may follow
    with path.open("rb") as handle:
        for whole in whole_records(handle, path.name, max_payload, ours=DOCUMENT):
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
            if pending is not None and renders(record, pending[1]):
                not_requested = tuple((record.header(NOT_REQUESTED) or "").split())
                rendered = replace(pending[0].capture, rendered=whole.payload, not_requested=not_requested)
                pending = (KeptCapture(rendered, pending[0].stored), pending[1])
                continue
            if pending is not None:
                yield pending[0]
                pending = None
            if record.header(DOCUMENT) is None and record.kind != "warcinfo":
                yield LeftOut(StoredCapture(path.name, whole.offset), record.kind)
                continue
            if (revisit := kept_revisit(record, StoredCapture(path.name, whole.offset))) is not None:
                yield revisit
                continue
            if record.kind != "response" or record.header(SOURCE) not in set(Source):
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


def _capture_of(record: ReadRecord, body: bytes) -> tuple[Capture, dict[str, Any] | None]:
    """A response record (its payload ``body``, as served: see ``read``) as a capture (its listing not yet
    filled in), and its listing header if any."""
    source = Source(record.header(SOURCE))
    target = record.header("WARC-Target-URI") or ""
    status = record.http_status or ""
    fetched_url = record.header("WARC-Source-URI") or target
    if source is Source.WAYBACK and (old := _ID_URL.search(target)):  # filed under the id_ URL
        target = old.group("original")
    created = record.header("WARC-Creation-Date")
    listed = record.header(LISTED)
    capture = Capture(
        document=record.header(DOCUMENT) or "",
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
        ref = ref_of(listed)
        snapshot = listed.get("snapshot_url", capture.fetched_url)
    else:
        first = hops[0] if hops else capture
        ref = CaptureRef(
            first.url, first.captured_at, first.status, first.content_type, PayloadDigest.parse(first.payload_sha1)
        )
        snapshot = capture.fetched_url
    return replace(capture, listed=ref, snapshot_url=snapshot, hops=hops, redirects=redirects)
