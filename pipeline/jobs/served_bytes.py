"""The bytes an archive served for a listed capture: whether they are the ones its listing's digest names, and
what the archive did for the transfer (chunks joined, a ``Content-Encoding`` applied) undone, so that the payload
kept is the capture's as archived and its text is read from its entity.

:mod:`.examine` decides with these what a capture is; backfill keeps the payload :func:`as_archived` gives, and
home-page discovery reads links from :func:`entity` (docs/decisions/0004).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from policy_archive.framing import dechunked, joined_by_the_archive, recorded_chunks, says_chunked
from policy_archive.pipeline.extraction.decode import ContentEncodingError, undo_content_encoding
from policy_archive.records import Capture, iso_z, payload_sha1

DIGEST_MISMATCH = "digest-mismatch"
# A listed digest no bytes can be checked against (an algorithm not computed here, a value that is no digest):
# never called a mismatch; refused like one, since nothing shows the bytes served are the capture listed, and
# like one it is a refusal of the replay, not of the bytes (docs/decisions/0004, amendment of 2026-11-28).
DIGEST_NOT_COMPARABLE = "digest-not-comparable"

# A capture recorded chunked whose listed digest is over the chunks as recorded (Heritrix writes
# WARC-Payload-Digest so, and pywb lists it), replayed de-chunked by the archive (pywb 2.10 in every mode, as of
# 2026-11): the chunk sizes the site sent are not in the entity served, so no one can re-make the bytes the digest
# names. Taken, kept as served, only when dated by the archive's own Memento-Datetime at the listed time
# (:func:`digest_not_comparable`); the capture's note says so (docs/decisions/0004, amendment of 2026-11-28).
CHUNKS_JOINED = (
    "digest not checkable: the archive joined a capture recorded chunked (the listed digest is of the chunks,"
    " the bytes kept are their entity); dated by its Memento-Datetime"
)
# A payload that is whole HTTP chunks, from its first byte to the last (zero-size) chunk and the blank line after
# its trailers, while no header names the coding (neither the recorded ``Transfer-Encoding`` nor an archive's
# ``X-Archive-Orig-Transfer-Encoding``): a record kept chunked whose headers were lost or dropped on the way
# (a replay passing the chunks on without the header, a proxy chunking twice). Its text is read from their entity,
# never with the size lines in it, and the bytes are kept as served (the digest, if any, names them); the capture's
# note says so, since nothing declared it (docs/decisions/0004, amendment of 2026-11-28, later still). The parse is
# strict (``policy_archive.framing.dechunked``): a page merely starting with hex digits is not chunks.
CHUNKS_UNDECLARED = (
    "chunks undeclared: the payload is whole HTTP chunks (size lines up to a last 0-size chunk) though no header"
    " names the coding; the text was read from their entity, the bytes kept as served"
)
# The notes an examination gives (the start of a capture's note; a guard's may follow).
EXAMINATION_NOTES = (CHUNKS_JOINED, CHUNKS_UNDECLARED)
UNDECODABLE = "undecodable"  # a payload whose Content-Encoding cannot be undone


def digest_mismatch(capture: Capture) -> str | None:
    """Why a 200 capture's bytes are not shown to be the ones its CDX row lists (None when they are, or when the
    archive joined chunks the digest is over: :func:`digest_not_comparable`): other bytes (``digest-mismatch``),
    or a digest that cannot be compared with any (``digest-not-comparable``: an algorithm we do not compute, a
    value that is no digest), never taken for other bytes. The digest is compared in the algorithm the row names
    (policy_archive/digests.py; hex and base32 case-folded: an index may write base32 in lower case, acceptance
    report 6). An archive's own transfer coding is undone first (:func:`as_archived`)."""
    listed = capture.listed
    if listed is None or listed.status != 200 or listed.digest is None:
        return None
    digest = listed.digest
    named = digest.names(capture.body)
    if named or digest_not_comparable(capture):
        return None
    if named is None:
        return (
            f"{DIGEST_NOT_COMPARABLE}: its listing gives the digest as {digest}, and {digest.why_not_comparable}:"
            " the bytes served cannot be checked (setting [wayback] check_digests)"
        )
    unknowable = ""
    if _chunks_joined(capture):
        # The digest cannot be checked, and the bytes are not dated by the archive at the listed time (a redirect
        # followed, or a nearest memento served in its place): nothing says they are the capture listed.
        unknowable = (
            "; the archive de-chunked a capture recorded chunked, and a digest of the chunks as recorded cannot be"
            f" checked on what it served, dated {iso_z(capture.captured_at)} by its Memento-Datetime, not at the"
            " capture listed"
        )
    return (
        f"{DIGEST_MISMATCH}: the archive served bytes with {digest.algorithm_name} {digest.of(capture.body)} for a"
        f" capture its listing gives as {digest}{unknowable} (setting [wayback] check_digests)"
    )


def _chunks_joined(capture: Capture) -> bool:
    """Whether the archive says it de-chunked the record it replayed and the bytes served are not chunks."""
    return joined_by_the_archive(capture.headers) and recorded_chunks(capture.body, capture.headers) is None


def digest_not_comparable(capture: Capture) -> str | None:
    """The note of a capture whose listed digest cannot be checked on what was served (None for any other): the
    archive says it de-chunked a record kept chunked (``X-Archive-Orig-Transfer-Encoding: chunked``), the bytes
    served are not chunks and not the digest's, and the replay's ``Memento-Datetime`` is the listed capture's
    time exactly, with no redirect followed: the archive itself dates the bytes as that capture. Any other date
    (a nearest memento, a redirect's target) leaves the digest the only word, and a mismatch is refused.
    Whether the bytes are refused for another reason (status, text) is :func:`.examine.examine`'s to say."""
    listed = capture.listed
    if listed is None or listed.status != 200 or listed.digest is None or capture.hops:
        return None
    # A digest compared and not matching (one that cannot be compared stays ``digest-not-comparable``, refused).
    if listed.digest.names(capture.body) is not False or capture.captured_at != listed.timestamp:
        return None
    return CHUNKS_JOINED if _chunks_joined(capture) else None


def _split_note(note: str) -> tuple[str | None, str | None]:
    """A capture's note as (its examination's part, the rest): the examination's notes come first, each whole
    (:data:`EXAMINATION_NOTES`; one holds a "; " itself, so they are matched, not split)."""
    own: list[str] = []
    rest = note
    while known := next((known for known in EXAMINATION_NOTES if rest.startswith(known)), None):
        own.append(known)
        rest = rest[len(known) :].removeprefix("; ")
    return "; ".join(own) or None, rest or None


def joined_notes(own: str | None, other: str | None) -> str | None:
    """A capture's note: its examination's own (:data:`EXAMINATION_NOTES`) first, then a guard's (``other``, which
    may be a note written before, whose examination part is dropped: the examination says it again)."""
    if other is not None:
        other = _split_note(other)[1]
    return "; ".join(note for note in (own, other) if note) or None


def own_note(note: str | None) -> str | None:
    """The examination's part of a capture's note (:data:`EXAMINATION_NOTES`), or None."""
    return None if note is None else _split_note(note)[0]


def undeclared_chunks(capture: Capture) -> bytes | None:
    """The entity of a payload that is whole chunks though no header names the coding (:data:`CHUNKS_UNDECLARED`),
    or None: a declared coding is :func:`~policy_archive.framing.recorded_chunks`'s, and any other payload is not
    chunks (the strict parse: every size line, every chunk's length and CRLF, the last chunk, nothing after)."""
    return None if says_chunked(capture.headers) else dechunked(capture.body)


def entity(capture: Capture) -> bytes:
    """A capture's payload with its chunks joined (recorded so, or whole chunks undeclared) and its
    ``Content-Encoding`` undone, what its text and links are read from (:class:`ContentEncodingError` when it
    cannot be); the payload is kept as archived (:func:`as_archived`)."""
    payload = recorded_chunks(capture.body, capture.headers)
    if payload is None:
        payload = undeclared_chunks(capture)
    return undo_content_encoding(capture.body if payload is None else payload, capture.header("Content-Encoding"))


def as_archived(capture: Capture) -> Capture:
    """The capture with what the archive did for the transfer undone, the rest as served: its payload kept as the
    bytes its CDX row's digest names when the bytes as served are not those but their de-chunked entity, their
    decoded ``Content-Encoding`` (then without that header), or both, are. The digest names the payload as
    archived, so the WARC record, its SHA-1 and the version's ``Payload-Sha1`` stay those of the capture, whatever
    the transfer. Decided by the digest alone: a SHA-1 equal to the listed one proves the bytes are the archived
    payload, and none other is ever kept in their place.

    Replays are asked for with every coding extraction undoes (crawler/settings.py), since pywb 2.10 serves a
    payload recorded compressed as recorded (the bytes its digest names) only to a client taking that coding, and
    decodes it for any other (acceptance report 6, F-b1). The Wayback Machine, asked so, compresses the transfer
    of what it holds uncompressed, as its recorded answers show (tests/fixtures/archive-responses; their cassettes
    in edgi-govdata-archiving/wayback @ db10610, as of 2026-11): every recorded request took ``gzip, deflate``;
    every 200 ``id_`` answer came ``Content-Encoding: gzip`` without ``X-Archive-Orig-Content-Encoding``; nasa.gov
    of 1996 (``X-Archive-Orig-Content-Length: 6639``, served in 2026) decodes to the bytes of its CDX digest, and
    one fws.gov capture recorded in 2020 and in 2023 came in two different gzip streams of the same bytes.

    A record kept chunked (Heritrix writes a ``Transfer-Encoding: chunked`` response with its chunks) is listed
    with a digest over the chunks or over the entity, by crawler; an archive passing the chunks on as the payload
    serves the former, so the entity is kept when the digest names it, and the chunks as served when it names them
    (the WARC record then says ``Transfer-Encoding: chunked``, as the crawler's did: archive/captures.py). A
    capture reached through archived redirects is kept as served: the digest listed is its redirect's."""
    listed = capture.listed
    if listed is None or listed.digest is None or capture.hops:
        return capture
    if listed.digest.names(capture.body) is not False:  # the bytes served, or no telling
        return capture
    for body, headers in _transfer_undone(capture):
        if listed.digest.names(body):
            return dataclasses.replace(capture, body=body, payload_sha1=payload_sha1(body), headers=headers)
    return capture


def _transfer_undone(capture: Capture) -> Iterator[tuple[bytes, tuple[tuple[str, str], ...]]]:
    """What the bytes as served may be the transfer of, most likely first: their de-chunked entity, their decoded
    ``Content-Encoding``, the decoded entity (each computed only if the one before did not carry the digest)."""
    entity_bytes = dechunked(capture.body)
    if entity_bytes is not None:
        yield entity_bytes, capture.headers
    if not capture.header("Content-Encoding"):
        return
    without = tuple((name, value) for name, value in capture.headers if name.lower() != "content-encoding")
    for encoded in (capture.body, entity_bytes):
        if encoded is None:
            continue
        try:
            yield undo_content_encoding(encoded, capture.header("Content-Encoding")), without
        except ContentEncodingError:  # extraction says why
            continue
