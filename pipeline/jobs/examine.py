"""Decide what one capture is: a text of the document (extracted), or no evidence of it (refused, with why).

Shared by backfill, track and reextract, so that the three can never disagree about a capture.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from policy_archive.archive.captures import StoredCapture
from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.sources.base import (
    ARCHIVE_LOCATION_NOT_URL,
    ARCHIVE_REDIRECTING,
    ARCHIVED_LOCATION_NOT_URL,
    LEAVES_ARCHIVE,
    NOT_ARCHIVED,
    REDIRECT_LOOP,
    TOO_MANY_REDIRECTS,
)
from policy_archive.crawler.sources.wayback import original_of
from policy_archive.pipeline.extraction.decode import ContentEncodingError
from policy_archive.pipeline.extraction.extract import ExtractionRefused, extract, extractor_label
from policy_archive.pipeline.extraction.refusals import JAVASCRIPT_SHELL
from policy_archive.pipeline.jobs.future_dates import IN_THE_FUTURE, in_the_future
from policy_archive.pipeline.jobs.provenance import archive_name, render
from policy_archive.pipeline.jobs.readings import reading_at
from policy_archive.pipeline.jobs.report import refusal_kind
from policy_archive.pipeline.jobs.served_bytes import (
    CHUNKS_UNDECLARED,
    DIGEST_MISMATCH,
    DIGEST_NOT_COMPARABLE,
    UNDECODABLE,
    digest_mismatch,
    digest_not_comparable,
    entity,
    undeclared_chunks,
)
from policy_archive.records import (
    RENDERED_CONTENT_TYPE,
    Capture,
    CaptureRef,
    DocumentDeclaration,
    ExtractedDocument,
    FetchRequest,
    Render,
    Source,
    Version,
    iso_z,
)
from policy_archive.text import plural, safe_url


@dataclass(frozen=True)
class Examination:
    """What examining one capture gave: its catalog outcome, the reason of a refusal, and the extracted document
    (kept on some refusals too, such as a date refused, so its text identity is known)."""

    outcome: Outcome
    reason: str | None = None
    document: ExtractedDocument | None = None
    # Refused for its text (extraction's verdict), which running the page's scripts may change; False when the
    # bytes themselves decide (digest, status, redirect, encoding), whatever a browser would make of them.
    text_refused: bool = False
    # The capture's note: why bytes were taken whose digest could not be checked
    # (:data:`.served_bytes.CHUNKS_JOINED`), or that their text was read from chunks no header declared
    # (:data:`.served_bytes.CHUNKS_UNDECLARED`, also on a refusal of that text).
    note: str | None = None
    # The reading that gave ``document`` (its ``Extractor:`` trailer: this extractor and the rules for the capture's
    # date), kept in the catalog with the text (``captures.extractor``).
    extractor: str | None = None

    @property
    def body_sha1(self) -> str | None:
        """The extracted body's :func:`text_identity`, None when nothing was extracted; the title does not count."""
        return text_identity(self.document.body) if self.document else None


def record_examined(catalog: Catalog, capture: Capture, stored: StoredCapture, examination: Examination) -> None:
    """Catalogue a kept capture with what extraction made of it."""
    document = examination.document
    catalog.record_fetch(
        capture,
        stored,
        examination.outcome,
        reason=examination.reason,
        title=document.title if document else None,
        body=document.body if document else None,
        body_sha1=examination.body_sha1,
        stated_date=document.stated_date if document else None,
        dropped=document.dropped if document else (),
        note=examination.note,
        extractor=examination.extractor,
    )


def text_identity(body: str) -> str:
    """The hex SHA-1 of ``body`` in UTF-8: what the catalog compares texts by (``body_sha1``), not the payload's
    base32 SHA-1 of the bytes."""
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


def redirected_home(declared_url: str, fetched_url: str) -> bool:
    """A policy URL that now lands on a site's home page is a removed page, not a new policy text."""
    declared = urlsplit(declared_url).path.strip("/")
    final = urlsplit(original_of(fetched_url)).path.strip("/")
    return bool(declared) and not final


# Bytes served for a listed capture but archived at another time: an archived redirect's target is served from its
# nearest memento, however far (the Wayback Machine and pywb alike, as of 2026-11), and a rarely captured target
# can be years away. Those bytes date the document's text only near the redirect: within TARGET_SPAN of it, and
# not beyond the captures listed around it (the history must keep the order of the captures that show it).
# 30 days: the recorded real chains took 40 minutes, 63 minutes and 6 days (README, Fidelity), and a frame is held
# to the same span (home_pages.FRAME_SPAN); docs/decisions/0008.
ELSEWHEN = "archived at another time"
TARGET_SPAN = timedelta(days=30)
ARCHIVED_STATUS = "archived status"
REDIRECTED_HOME = "redirected to a home page"
# Refusals of one replay of a capture, not of its bytes: the archive served something else for that row (other
# bytes, no memento, another status, a redirect). A capture listed with the same digest may replay fine, so it is
# fetched in turn, never refused with it (issue 10: a version was lost that way). Every other refusal is the
# text's own verdict (empty, not the document, a script shell, undecodable, a guard): the same bytes get the same
# one, so it holds for every capture listed with that digest (docs/decisions/0004).
REPLAY_REFUSALS = (
    DIGEST_MISMATCH,
    DIGEST_NOT_COMPARABLE,
    NOT_ARCHIVED,
    ARCHIVED_STATUS,
    REDIRECTED_HOME,
    LEAVES_ARCHIVE,
    REDIRECT_LOOP,
    TOO_MANY_REDIRECTS,
    ARCHIVE_REDIRECTING,
    ARCHIVED_LOCATION_NOT_URL,
    ARCHIVE_LOCATION_NOT_URL,
    ELSEWHEN,
    IN_THE_FUTURE,
)


def archived_in_the_future(capture: Capture, clock: datetime) -> str | None:
    """Why the bytes an archive served for a listed capture are no evidence of the document: their memento
    (``Memento-Datetime``), or that of an archived redirect on the way to them, is in the future of the run's
    ``clock`` (:func:`in_the_future`). None for a live capture: its time is our own clock's."""
    if capture.source is not Source.WAYBACK:
        return None
    for hop in capture.hops:
        if reason := in_the_future(hop.captured_at, clock, f"the archived redirect {safe_url(hop.url)} is dated"):
            return reason
    return in_the_future(capture.captured_at, clock, "the archive dates the bytes it served")


@dataclass(frozen=True, slots=True)
class Neighbours:
    """When the captures listed just before and just after one were taken (None at either end of the listing)."""

    previous: datetime | None
    following: datetime | None


def archived_elsewhen(capture: Capture, neighbours: Neighbours | None = None) -> str | None:
    """Why the bytes served for a listed capture, archived at another time than it (an archived redirect's
    target, the archive's nearest memento), are no evidence of the document's text (None when they are): archived
    more than :data:`TARGET_SPAN` from it, or beyond the captures listed around it (``neighbours``), where they
    would put a text out of the order the captures show."""
    listed = capture.listed
    if listed is None or capture.captured_at == listed.timestamp:
        return None
    served, gap = capture.captured_at, capture.captured_at - listed.timestamp
    if abs(gap) > TARGET_SPAN:
        why = f"more than {TARGET_SPAN.days} days from the capture listed"
    elif neighbours and neighbours.following is not None and served > neighbours.following:
        why = f"after the document's next capture ({iso_z(neighbours.following)})"
    elif neighbours and neighbours.previous is not None and served < neighbours.previous:
        why = f"before the document's previous capture ({iso_z(neighbours.previous)})"
    else:
        return None
    what = "the redirect's target" if capture.hops or (listed.status or 0) // 100 == 3 else "the capture served"
    when = f"{_duration(abs(gap))} {'later' if gap > timedelta(0) else 'earlier'} ({iso_z(served)})"
    return f"{ELSEWHEN}: {what} was archived only {when}, {why}"


def _duration(gap: timedelta) -> str:
    """``517 days``, ``6 hours``, ``40 minutes``, ``5 seconds``: the largest whole unit."""
    for unit, seconds in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if (count := int(gap.total_seconds() // seconds)) >= 1:
            return f"{count} {plural(count, unit)}"
    count = int(gap.total_seconds())
    return f"{count} {plural(count, 'second')}"


def holds_for_twins(reason: str | None) -> bool:
    """Whether a refusal (its catalog reason) holds for every capture listed with the same digest."""
    return not refusal_kind(reason).startswith(REPLAY_REFUSALS)


def reached_through(capture: Capture) -> str:
    """`` (URL at DATE, after N archived redirects)`` for a capture reached through archived redirects, whose
    status is its target's, not the listed URL's; empty for any other."""
    if not capture.hops:
        return ""
    count = len(capture.hops)
    return f" ({capture.url} at {iso_z(capture.captured_at)}, after {count} archived {plural(count, 'redirect')})"


def examine(
    declaration: DocumentDeclaration,
    capture: Capture,
    *,
    clock: datetime,
    check_digest: bool = True,
    neighbours: Neighbours | None = None,
    read_as_of: datetime | None = None,
) -> Examination:
    """Extract a capture with the declaration's rules for its date, or say why it is not the document.
    ``clock``: when the run began (an archive's date after it is refused, :func:`archived_in_the_future`);
    ``neighbours``: when the captures listed around it were taken, where the caller knows the listing;
    ``read_as_of``: the date whose rules (and declared URL) read it, when not the capture's own: a version's, for
    the bytes of the twin it is known through (:func:`as_twin`), whose record decides everything else. A twin
    across a ``history`` boundary has other rules than its version, whose commit names the version's
    (:func:`reading_at`; before 2026-11-29 it got the twin's text and `verify` agreed with it)."""
    url, rules = declaration.entry_at(read_as_of or capture.captured_at)
    if future := archived_in_the_future(capture, clock):
        return Examination(Outcome.REFUSED, future)
    # A 200 row served with another status (an archived 429, 503: the archive serving a stored error page) is
    # refused for its status, below: its digest cannot match the error page's bytes, and "digest-mismatch" would
    # hide what the archive holds (decision 0004). The other checks keep their order.
    if check_digest and capture.status == 200 and (mismatch := digest_mismatch(capture)):
        return Examination(Outcome.REFUSED, mismatch)
    # Unchecked digests (``check_digests = false``) are not noted: none is compared.
    note = digest_not_comparable(capture) if check_digest else None
    if capture.rendered is None and undeclared_chunks(capture) is not None:
        note = "; ".join(filter(None, (note, CHUNKS_UNDECLARED)))
    if elsewhen := archived_elsewhen(capture, neighbours):
        return Examination(Outcome.REFUSED, elsewhen)
    if capture.status != 200:
        word = ARCHIVED_STATUS if capture.source is Source.WAYBACK else "HTTP status"
        return Examination(Outcome.REFUSED, f"{word} {capture.status}{reached_through(capture)}")
    if redirected_home(url, capture.fetched_url):
        return Examination(Outcome.REFUSED, f"{REDIRECTED_HOME} ({original_of(capture.fetched_url)})")
    try:
        if capture.rendered is not None:
            payload, content_type = capture.rendered, RENDERED_CONTENT_TYPE
        else:
            payload = entity(capture)
            content_type = capture.content_type
        document = extract(
            payload,
            url,
            rules,
            content_type,
            captured=capture.captured_at.date(),
            document_type=declaration.document_id,
        )
    except ContentEncodingError as error:
        return Examination(Outcome.REFUSED, f"{UNDECODABLE}: {error}", note=note)
    except ExtractionRefused as refusal:
        if refusal.reason == JAVASCRIPT_SHELL and (served := not_a_web_page(capture)) is not None:
            # Read as HTML (servers mislabel pages), but a browser would download it, not display it: no rendering
            # can give its text, and the rendering's failure would say nothing of why.
            return Examination(Outcome.REFUSED, served, note=note)
        detail = f": {refusal.detail}" if refusal.detail else ""
        reason = f"{refusal.reason}{detail}{_not_requested(capture)}"
        # Its reading named, as a text's: another reading asks it again (``current_texts``).
        return Examination(Outcome.REFUSED, reason, text_refused=True, note=note, extractor=extractor_label(rules))
    return Examination(Outcome.EXTRACTED, document=document, note=note, extractor=extractor_label(rules))


def _not_requested(capture: Capture) -> str:
    """Why a rendered page may lack its text: the requests robots.txt kept the browser from sending."""
    if not capture.not_requested:
        return ""
    count = len(capture.not_requested)
    listed = ", ".join(capture.not_requested[:3]) + (", ..." if count > 3 else "")
    return f" (rendered without {count} request(s) the site's robots.txt disallows: {listed})"


# The content types extraction reads as HTML (a mislabelled page often is one: pipeline/extraction/extract.py
# HTML_TYPES) that a browser does not display but downloads (Chromium, checked 2026-11-29 with a page served as
# application/octet-stream: the rendering ended with no answer kept): such a capture is never rendered.
DOWNLOADED_TYPES = ("application/octet-stream",)
NOT_A_WEB_PAGE = "not a web page"


def not_a_web_page(capture: Capture) -> str | None:
    """Why ``capture`` cannot be rendered, when its content type is one a browser downloads instead of displaying
    (``not a web page: served as application/octet-stream, which a browser downloads instead of displaying; …``);
    None for any other (no content type: a browser sniffs it as a page)."""
    served = (capture.content_type or "").split(";", 1)[0].strip().lower()
    if served not in DOWNLOADED_TYPES:
        return None
    return (
        f"{NOT_A_WEB_PAGE}: served as {served}, which a browser downloads instead of displaying; read as HTML, it"
        " has no text without its scripts"
    )


def rendering_request(
    declaration: DocumentDeclaration, capture: Capture, examination: Examination
) -> FetchRequest | None:
    """The request to render ``capture`` in a browser (fetched again from where its bytes came), or None.

    ``auto``: a script shell. ``always``: any capture fetched over plain HTTP whose bytes are usable (its text
    extracted or refused; not its digest, status or redirect) — an archive capture is fetched that way first
    because the browser keeps only a decoded copy of what the archive served, whose digest would not be the CDX
    row's; the raw bytes recorded are the plain fetch's. None: rendered already, not wanted, or must not be."""
    if capture.rendered is not None or not_a_web_page(capture) is not None:
        return None
    mode = declaration.render_at(capture.captured_at)
    if mode is Render.AUTO:
        wanted = (examination.reason or "").startswith(JAVASCRIPT_SHELL)
    else:
        wanted = mode is Render.ALWAYS and (examination.outcome is Outcome.EXTRACTED or examination.text_refused)
    if not wanted:
        return None
    # The declared URL's fragment (render = "always" only: config/checks.py fragment_refusal), which a hash-routed
    # page's scripts read to choose what to show: an archive capture is replayed and listed without it (a
    # fragment never reaches a server), so the browser is given it back; a live URL keeps its own.
    declared, _ = declaration.entry_at(capture.captured_at)
    fragment = "".join(declared.partition("#")[1:]) if capture.source is Source.WAYBACK else ""
    return FetchRequest(
        capture.document, capture.fetched_url, capture.url, ref=capture.listed, render=True, fragment=fragment
    )


def as_twin(fetched: CaptureRow, listed: CaptureRef, snapshot_url: str) -> CaptureRow:
    """A listed capture never fetched, known through its twin ``fetched`` (same CDX digest, a 200: the archive
    says the bytes are identical): the twin's text at the listed capture's time and address, so that a version
    is dated at the first capture showing it (docs/decisions/0015). Its payload SHA-1 is the twin's, whose record
    holds the bytes (``verify`` finds the record by it): the listed digest may be written in lower case, or, with
    ``[wayback] check_digests = false``, name other bytes, and would then find none."""
    return dataclasses.replace(
        fetched,
        url=listed.url,
        captured_at=listed.timestamp,
        fetched_url=snapshot_url,
        memento_at=listed.timestamp,
        memento_url=listed.url,
        snapshot_url=snapshot_url,
    )


def make_version(
    declaration: DocumentDeclaration,
    row: CaptureRow,
    *,
    wayback: WaybackSettings,
    technical_upgrade: bool = False,
    committed_at: datetime | None = None,
) -> Version:
    """The version file and commit fields for an extracted capture row; ``wayback`` names the archive in the
    header (``[wayback] archive_name``: the file's header only, never the body that change detection compares)."""
    assert row.title is not None and row.body is not None, "only extracted captures become versions"
    # The URL comes from a redirect or an archive's listing: percent-encoded where it could break a line. The
    # catalog finds a version's capture again by this value (``VersionTable``): one computation for both.
    snapshot = row.version_snapshot_url
    document = ExtractedDocument(row.title, row.body)
    archive = archive_name(wayback, snapshot)
    content = render(declaration, row.source, row.bytes_url, row.bytes_at, snapshot, document, archive=archive)
    return Version(
        document=declaration.key,
        path=declaration.path,
        display_name=declaration.display_name,
        captured_at=row.bytes_at,
        source=row.source,
        snapshot_url=snapshot,
        payload_sha1=row.payload_sha1 or "",
        extractor=reading_at(declaration, row.bytes_at),
        content=content,
        body=row.body,
        technical_upgrade=technical_upgrade,
        committed_at=committed_at,
        stated_date=row.stated_date,
    )
