"""Several rows listed at one URL and second: which one an archive's one answer there is, and why the others are
refused (docs/decisions/0004, amendment of 2026-11-28).

A listing may hold several rows of one URL at one second (two crawls merged; a response and the resource record
of its rendered DOM in a pywb collection made from our WARCs of before 2026-11-28, or another tool's), while a
replay URL names a URL and a second, so an archive serves one capture for them (pywb the first its index sorts,
the Wayback Machine one of its choosing) and the catalog keeps one row. The bytes served say which row they
answer: the one whose digest names them. Backfill's :class:`~policy_archive.pipeline.jobs.backfill_plan.DocumentPlan`
asks for each second once and settles all its rows with these rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.digests import PayloadDigest
from policy_archive.pipeline.jobs.served_bytes import DIGEST_MISMATCH, DIGEST_NOT_COMPARABLE, as_archived
from policy_archive.records import Capture, CaptureRef

# Why a row listed at a URL and second is refused when the archive served another row listed there.
ANOTHER_AT_THIS_SECOND = "another capture at this second"


def another_at_this_second(answered: CaptureRef, ref: CaptureRef, served: bool, verdict: str | None) -> str:
    """The reason of ``ref``, a row the archive cannot serve: its one answer at ``ref``'s URL and second was
    examined as ``answered``'s (``served``: whose digest names the bytes; ``verdict``: its refusal, if any)."""
    listed = f"this row is listed with digest {ref.digest}, status {ref.status if ref.status is not None else 'none'}"
    if served:
        what = f"the archive serves the capture listed there with digest {answered.digest}"
    else:
        examined = f"examined as the row listed with digest {answered.digest}"
        what = f"the archive's one answer there, {examined}, was refused ({verdict or 'no reason'})"
    return f"{ANOTHER_AT_THIS_SECOND}: {what} (one capture per URL and second); {listed}"


def bytes_listed(ref: CaptureRef) -> tuple[int | None, PayloadDigest | None]:
    """What a row says of its bytes: two rows at one second saying the same are the same capture listed twice."""
    return ref.status, ref.digest


def served_row(capture: Capture, rows: Sequence[CaptureRef]) -> Capture:
    """``capture`` (the archive's answer for the row it was asked for, ``rows[0]``; the others are listed at its
    URL and second) as the answer of the first of ``rows`` whose digest names the bytes served, with the payload
    kept as that row's digest names it (:func:`as_archived`); the row asked for when none does."""
    for ref in rows:
        answer = as_archived(dataclasses.replace(capture, listed=ref))
        if ref.digest is not None and ref.digest.names(answer.body) and not answer.hops:
            return answer
    return as_archived(capture)


def answered_row(rows: Sequence[CaptureRef], row: CaptureRow) -> int | None:
    """Which of ``rows`` (listed at one URL and second) the catalog's ``row`` there answers, by position: the one
    whose digest names the bytes kept, else the one whose digest the row keeps; None when nothing is known of the
    second yet, or when what is known may be another row's verdict: a digest refusal at a second listed with other
    bytes too, from a release before 2026-11-28 (it examined each row of the second against the one replay and
    kept the last verdict), unless no row listed there names the bytes kept."""
    if len(rows) == 1:
        return 0
    if row.outcome in (Outcome.LISTED, Outcome.FAILED):
        return None
    positions = range(len(rows))
    kept = [i for i in positions if _names_sha1(rows[i].digest, row.payload_sha1)]
    by_text = [i for i in positions if row.digest is not None and rows[i].digest == row.digest]
    if row.reason is not None and row.reason.startswith((DIGEST_MISMATCH, DIGEST_NOT_COMPARABLE)):
        if kept or not all(ref.digest is None or ref.digest.base32_sha1 for ref in rows):
            return None  # the bytes kept are (or may be) another row's: examined again
        return by_text[0] if by_text else 0
    return (kept or by_text or [0])[0]


def _names_sha1(digest: PayloadDigest | None, payload_sha1: str | None) -> bool:
    """Whether a listed digest is the base32 SHA-1 ``payload_sha1`` (the catalog's record of the bytes kept)."""
    return (
        digest is not None
        and payload_sha1 is not None
        and digest.base32_sha1
        and digest.value.strip().upper() == payload_sha1
    )
