"""The stand-in archive's raw replay, ``GET /web/<timestamp>id_/<original>``, answering like the Wayback Machine.

The exact capture → its raw bytes, ``Memento-Datetime`` and ``Link``; an inexact timestamp → 302 to the nearest
capture's ``id_`` URL, without ``Memento-Datetime``; an archived redirect → its 3xx *with* ``Memento-Datetime`` and
a ``Location`` to the ``id_`` URL of the target at the redirect's own timestamp (absolute, path-based or
scheme-less, as the real archive writes them), or the ``Location`` as the site sent it (``redirect_form="as-sent"``,
as pywb 2.10 replays it); an archived 404 or 429 → that status with ``Memento-Datetime``; no capture → a 404
Wayback page without it; a blocked URL → a 200 "excluded" page without it (as recorded in 2020). A record kept
chunked (``StandinCapture.chunked``, as Heritrix writes one) → its chunks as the payload, or (``dechunk_replays``)
their entity, as pywb 2.10 serves it; either with ``X-Archive-Orig-Transfer-Encoding: chunked``.

A *self-redirect* — an archived redirect to a URL of its own key, ``http://x.test/`` → ``https://www.x.test/`` — is
never replayed: replaying it would send the client back to the same key, and the real archives skip it for the
nearest other capture. The Wayback Machine answers a 302 without ``Memento-Datetime`` to that capture's ``id_`` URL
(recorded 2020-09-21: ``20200201020357id_/http://epa.gov/climatechange`` → ``20200201023757id_/https://www.epa.gov/
climatechange``, tests/fixtures/archive-responses); pywb 2.10 serves that capture at once
(``ResponseLoader.raise_on_self_redirect``: checked 2026-11-28 against pywb 2.10.0, tests/test_pywb.py). The
stand-in answers as the Wayback Machine does. A key whose captures are all self-redirects replays them as they are
(a 3xx with ``Memento-Datetime``, leading back to itself), as OpenWayback did (Arquivo.pt, 2016: a self-302 without
end, arquivo/pwa-technologies#189) and UKWA's pywb (2018: a 301 with Memento-Datetime to its own URL,
ukwa/ukwa-pywb#21). pywb 2.10 answers such a key 400 "Self Redirect" without ``Memento-Datetime`` instead (checked
2026-11-28, tests/test_pywb.py); how the Wayback Machine answers one is not among the recorded answers (as of
2026-11). backfill refuses every such capture either way, in words (tests/test_redirect_chains.py).
"""

from __future__ import annotations

import bisect
import dataclasses
import gzip
import re
import zlib
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from policy_archive.records import parse_wayback_timestamp
from standin.archive_answers import Answer, html_answer, text_answer
from standin.capture import StandinCapture, http_date

REPLAY_PREFIX = "/web"
NOT_ARCHIVED_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>"
    b"<p>Hrm.</p><p>The Wayback Machine has not archived that URL.</p></body></html>"
)
EXCLUDED_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>"
    b"<p>This URL has been excluded from the Wayback Machine.</p></body></html>"
)
_REPLAY_PATH = re.compile(r"^/web/(?P<timestamp>\d{4,14})(?P<mode>[a-z]{2}_)?/(?P<original>.+)$", re.DOTALL)


@dataclass(frozen=True)
class ReplayRequest:
    timestamp: str
    original: str


def replay_request(raw_path: str) -> ReplayRequest | Answer:
    """What a replay path asks for, or the error answer to a path the stand-in does not serve."""
    match = _REPLAY_PATH.match(raw_path)
    if match is None:
        return text_answer(400, "expected /web/<timestamp>id_/<original url>\n")
    if match["mode"] != "id_":
        return text_answer(501, "the stand-in archive serves only id_ (raw) replay\n")
    return ReplayRequest(match["timestamp"], _original_url(match["original"]))


def replay(
    captures: list[StandinCapture],
    requested: str,
    substitute: bytes | None,
    base: str,
    accept_encoding: str = "",
    *,
    dechunk: bool = False,
) -> Answer:
    """The answer to a replay of ``requested`` among a URL's ``captures`` (in time order), served from ``base``
    to a client sending ``accept_encoding``; ``substitute`` replaces the exact capture's bytes. A record kept
    chunked is served as its recorded chunks, or (``dechunk``) as their entity."""
    if not captures:
        return html_answer(404, NOT_ARCHIVED_PAGE)
    index = bisect.bisect_left(captures, requested, key=_timestamp_of)
    exact = captures[index] if index < len(captures) and captures[index].timestamp == requested else None
    if exact is None or exact.self_redirect:
        nearest = _nearest([held for held in captures if not held.self_redirect] or captures, requested)
        if nearest.timestamp != requested:
            return archive_redirect(base, nearest.timestamp, nearest.url)
        exact, index = nearest, captures.index(nearest)
    if substitute is not None:
        exact = dataclasses.replace(exact, body=substitute)
    return _memento(exact, index, captures, base, accept_encoding, dechunk)


def gzipped_for_transfer(answer: Answer) -> Answer:
    """A capture's answer (one with ``Memento-Datetime`` and a body) gzipped for the transfer, unless encoded
    already: the Wayback Machine's answer to a client taking gzip (``ArchiveFaults.compress_transfers``)."""
    names = {name.lower() for name, _ in answer.headers}
    if "memento-datetime" not in names or "content-encoding" in names or not answer.body:
        return answer
    headers = (*answer.headers, ("Content-Encoding", "gzip"))
    return dataclasses.replace(answer, body=gzip.compress(answer.body), headers=headers)


def archive_redirect(base: str, timestamp: str, original: str) -> Answer:
    """The archive's own 302 (no ``Memento-Datetime``) to the ``id_`` replay of ``original`` at ``timestamp``."""
    location = f"{base}{REPLAY_PREFIX}/{timestamp}id_/{original}"
    return Answer(302, b"", (("Content-Type", "text/plain; charset=utf-8"), ("Location", location)))


def _timestamp_of(capture: StandinCapture) -> str:
    return capture.timestamp


def _memento(
    capture: StandinCapture,
    index: int,
    captures: list[StandinCapture],
    base: str,
    accept_encoding: str,
    dechunk: bool = False,
) -> Answer:
    # A revisit is replayed as the response it repeats (the real archive resolves it): an HTML page here.
    media_type = "text/html" if capture.mimetype == "warc/revisit" else capture.mimetype
    headers = [
        ("Content-Type", media_type),
        ("Memento-Datetime", http_date(capture.timestamp)),
        ("Link", _link_header(index, captures, base)),
    ]
    if capture.location is not None:
        headers.append(("Location", _redirect_location(capture, base)))
    body = capture.body
    if capture.content_encoding and capture.content_encoding in accept_encoding:
        headers.append(("Content-Encoding", capture.content_encoding))
    elif capture.content_encoding:
        # As pywb 2.10 answers a client not taking the recorded coding (rewrite/content_rewriter.py, read 2026-11:
        # the recorded Content-Encoding looked for in the request's Accept-Encoding as a substring): decoded, the
        # recorded header kept under the archive's prefix (acceptance report 6, F-b1).
        headers.append(("X-Archive-Orig-Content-Encoding", capture.content_encoding))
        body = _decoded(body, capture.content_encoding)
    if capture.chunked is not None:
        # The record's Transfer-Encoding under the archive's prefix, as pywb 2.10 writes it; its chunks passed on as
        # the payload (an archive serving the record's payload as it is), or joined (pywb 2.10: every replay mode).
        headers.append(("X-Archive-Orig-Transfer-Encoding", "chunked"))
        if not dechunk:
            body = capture.recorded if body == capture.body else body
    return Answer(capture.status or 200, body, tuple(headers))


def _decoded(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "deflate":
        return zlib.decompress(body)
    raise ValueError(f"the stand-in archive cannot decode {coding!r}")


def _redirect_location(capture: StandinCapture, base: str) -> str:
    if capture.redirect_form == "as-sent" or capture.target is None:
        return capture.location or ""
    path = f"{REPLAY_PREFIX}/{capture.timestamp}id_/{capture.target}"
    if capture.redirect_form == "path":
        return urlsplit(base).path + path  # under the archive's path prefix, if it serves under one
    if capture.redirect_form == "schemeless":
        return "//" + urlsplit(base).netloc + urlsplit(base).path + path
    return base + path


def _link_header(index: int, captures: list[StandinCapture], base: str) -> str:
    capture = captures[index]
    neighbours = [("first memento", captures[0])]
    if index > 0:
        neighbours.append(("prev memento", captures[index - 1]))
    neighbours.append(("memento", capture))
    if index < len(captures) - 1:
        neighbours.append(("next memento", captures[index + 1]))
    neighbours.append(("last memento", captures[-1]))
    links = [
        f'<{capture.url}>; rel="original"',
        f'<{base}{REPLAY_PREFIX}/timemap/link/{capture.url}>; rel="timemap"; type="application/link-format"',
        f'<{base}{REPLAY_PREFIX}/{capture.url}>; rel="timegate"',
    ]
    links += [
        f'<{base}{REPLAY_PREFIX}/{held.timestamp}/{held.url}>; rel="{rel}"; datetime="{http_date(held.timestamp)}"'
        for rel, held in neighbours
    ]
    return ", ".join(links)


def _nearest(captures: list[StandinCapture], requested: str) -> StandinCapture:
    """The capture closest in time to a (possibly partial, left-aligned) timestamp; the earlier one on a tie."""
    wanted = parse_wayback_timestamp(requested)
    return min(captures, key=lambda held: abs((parse_wayback_timestamp(held.timestamp) - wanted).total_seconds()))


def _original_url(text: str) -> str:
    """The archived URL of a replay path, however the client wrote it.

    Accepts ``https%3A//host/...`` (the seeds' links), ``https:/host`` (clients that collapse ``//`` in paths)
    and scheme-less ``host/path``.
    """
    if re.match(r"^https?%3a", text, re.IGNORECASE):
        text = unquote(text)
    text = re.sub(r"^(https?):/+", r"\1://", text, flags=re.IGNORECASE)
    return text if "://" in text else "http://" + text
