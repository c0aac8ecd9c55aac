"""Backfill's fetch plan for each document: its candidate captures and what is known of them (``DocumentPlan``).
The plan handed to the archive spider, routing each result to its document, is ``spider_plan``'s; the job around
them (listing, recording, the run's report) is ``backfill``; which of several rows listed at one URL and second a
replay answers is ``same_second``'s."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime

from policy_archive.archive.catalog.rows import CaptureRow, Outcome
from policy_archive.crawler.sources import ArchiveSource
from policy_archive.listed import ListedRows, second_key_of, status_of, timestamp_of
from policy_archive.pipeline.jobs.dated_in_order import shows_its_text
from policy_archive.pipeline.jobs.examine import Neighbours, holds_for_twins
from policy_archive.pipeline.jobs.knowledge import Known
from policy_archive.pipeline.jobs.listing_index import ListingIndex, listed_with, same_bytes
from policy_archive.pipeline.jobs.listing_rows import NeighbourRows
from policy_archive.pipeline.jobs.readings import Readings
from policy_archive.pipeline.jobs.report import borrowed_from
from policy_archive.pipeline.jobs.same_second import another_at_this_second, answered_row, bytes_listed, served_row
from policy_archive.pipeline.jobs.served_bytes import DIGEST_MISMATCH
from policy_archive.pipeline.jobs.strategy import StrategyName, ToFetch, dating_probes, to_fetch, wanted
from policy_archive.records import (
    Capture,
    CaptureRef,
    DocumentDeclaration,
    FetchRequest,
)

# Refusals "archived at another time" or "blocked by the archive's access rules" named one by one on stderr for a
# document; more are summed up in one line: a URL archived daily as a redirect for years, or a pywb collection whose
# access rules block the URL, could otherwise print hundreds. Other replay refusals are each named (each says which
# URL the archive failed to serve at which time, for the user to check).
NAMED_REFUSALS = 3


# A catalog row as the plan learns from it, given the captures listed around it (None: it tells nothing this run).
ReadRow = Callable[[CaptureRow, Neighbours | None], CaptureRow | None]


def _as_kept(row: CaptureRow, neighbours: Neighbours | None) -> CaptureRow:
    """A catalog row as it is kept (a plan made with no workspace, in tests)."""
    return row


def _listed_as(row: CaptureRow, length: int | None) -> CaptureRef:
    """The CDX row a catalog row keeps (which keeps no ``length``: the one given)."""
    return CaptureRef(row.url, row.captured_at, row.status, row.mimetype, row.digest, length)


def compared_as_sha1(row: CaptureRow) -> bool:
    """A capture refused before 2026-11-28 because its listed digest, not a base32 SHA-1 (a ``sha256:`` row of a
    Browsertrix-crawler collection, a SHA-1 in hex), was compared as text with its bytes' base32 SHA-1: the
    refusal said nothing of the bytes, so the capture is examined again, as if never fetched (acceptance report 7,
    F2). Today's refusals name the bytes' digest in the listed one's algorithm and form, never so."""
    old_words = f"{DIGEST_MISMATCH}: the archive served bytes with SHA-1 {row.payload_sha1} for a capture"
    return (
        row.digest is not None
        and not row.digest.base32_sha1
        and row.payload_sha1 is not None
        and (row.reason or "").startswith(old_words)
    )


class DocumentPlan:
    """One document's candidate captures and what is known of them; asks the strategy what to fetch next."""

    def __init__(
        self,
        declaration: DocumentDeclaration,
        refs: Sequence[CaptureRef],
        strategy: StrategyName,
        source: ArchiveSource,
        rows: Iterable[CaptureRow],
        verify: bool = False,
        undated: Callable[[DocumentPlan], Collection[int]] | None = None,
        read_as_now: ReadRow | None = None,
    ):
        self.declaration = declaration
        # A listing held by column stays so (``policy_archive.listed``: a long listing's memory).
        self.refs = refs if isinstance(refs, ListedRows) else list(refs)
        self.strategy = strategy
        self.source = source
        self.verify = verify
        # Which captures known to show a text cannot date it, once the search is done (backfill's dry run of
        # the versions' dating, from the catalog): ``bisect`` then probes the captures after them.
        self.undated = undated
        # The catalog rows the decisions read, with the catalog's state they were read in (``change_dating._rows``).
        self.dating_rows: tuple[tuple[int, int], dict[tuple[str, datetime], CaptureRow]] | None = None
        self.listing, self.shared_second = self._indexed()
        self.around, telling = self._rows_read(rows)
        # Identical bytes give identical text. Only for 200s: two redirect captures with the same bytes may point
        # at different pages. What one replay did (a refusal in REPLAY_REFUSALS, a failure) is not shared.
        self.same_bytes = same_bytes(self.refs)
        # By column (``knowledge.Known``): a listing of one text known through one replay is known at every row.
        self.known = Known(len(self.refs))
        self.in_flight: set[int] = set()
        # Captures that could not be fetched this run (catalogued failed, so a rerun retries them), with why.
        # The search goes on around them as if they showed nothing.
        self.unfetched: dict[int, str] = {}
        # Those among them that needed rendering with no browser to do it, with what to install.
        self.needs_browser: dict[int, str] = {}
        # Those among them a rerun gets the same answer for (too large, a header too long): FetchFailure.lasting.
        self.as_served: set[int] = set()
        # Twins are known through each other only when read alike (:meth:`learn`).
        self.reading = Readings(declaration)
        self._learn_rows(telling, read_as_now or _as_kept)

    def _indexed(self) -> tuple[ListingIndex, set[int]]:
        """The listing indexed, and the candidates listed at a URL and second with other bytes than a row beside
        them. Several rows listed at one URL and second are one capture for an archive and the catalog: one replay
        answers them all (``settle``; pipeline.jobs.same_second), found by bisection, not a record per row. Which of
        those with other bytes the archive serves is known only once the second is fetched, so none of them is known
        through a twin before."""
        listing = ListingIndex(self.refs)
        shared = {
            i
            for group in listing.shared_seconds()
            if len({bytes_listed(self.refs[j]) for j in group}) > 1
            for i in group
        }
        return listing, shared

    def _rows_read(self, rows: Iterable[CaptureRow]) -> tuple[NeighbourRows, list[CaptureRow]]:
        """The catalog's rows read once, one at a time, keeping what the plan uses of them: a long listing's rows
        held at once took most of the peak memory of its backfill (2026-11-29). The row the catalog keeps at each
        URL and second: its second bounds the others' dates as that row says, as reextract and verify, which know
        that row only, judge (``listing_rows.second_neighbours``); kept here only where it lists other than the
        first candidate there, which bounds them when none is kept. Returned with the rows that may tell what a
        capture showed: a capture listed and never fetched, or one that failed, tells nothing
        (``answered_row``, :meth:`_learn_rows`)."""
        kept: dict[tuple[str, datetime], CaptureRef] = {}
        telling: list[CaptureRow] = []
        for row in rows:
            group = self.listing.group(row.url, row.captured_at)
            if not group:
                continue
            first = self.refs[group[0]]
            if (listed_as := _listed_as(row, first.length)) != first:  # the length is no part of the bounds
                kept[(row.url, row.captured_at)] = listed_as
            if row.outcome not in (Outcome.LISTED, Outcome.FAILED):
                telling.append(row)
        return NeighbourRows(self.listing, kept), telling

    def _learn_rows(self, telling: Iterable[CaptureRow], read_as_now: ReadRow) -> None:
        """What each row that tells (:meth:`_rows_read`) says its capture showed, and the rows listed at its second,
        each row as ``read_as_now`` gives it: a text another reading gave is read again
        (:class:`~.current_texts.ReadAsNow`), so that no text of other rules is compared; one that cannot be is
        taken as showing nothing."""
        for kept in telling:
            twin_at = borrowed_from(kept.reason) if kept.stored is None and not shows_its_text(kept) else None
            if twin_at is not None and self.listing.group(kept.url, twin_at):
                # A refusal passed on from a twin this listing holds: the twin's own row tells it, read as now (a
                # text refusal of another reading is read again, and may now give a text), and only to its twins
                # read alike. Learned from this row, it stayed the old reading's verdict (2026-11-29).
                continue
            group = self.listing.group(kept.url, kept.captured_at)
            listed = [self.refs[i] for i in group]
            if (answered := answered_row(listed, kept)) is None:
                continue
            row = read_as_now(kept, self.neighbours(group[answered]))
            for i in group:
                if row is None or bytes_listed(self.refs[i]) != bytes_listed(listed[answered]):
                    self.learn(i, None, for_twins=False)  # unreadable, or the archive serves another capture here
                elif shows_its_text(row):
                    self.learn(i, row.body_sha1, rendered=row.rendered)
                elif row.outcome is Outcome.REFUSED and not compared_as_sha1(row):
                    self.learn(i, None, for_twins=holds_for_twins(row.reason))

    def second_of(self, index: int) -> list[int]:
        """Every candidate listed at the URL and second of the one at ``index`` (itself included)."""
        return self.listing.second_of(index)

    def position(self, ref: CaptureRef) -> int:
        """Where the candidate ``ref`` is in :attr:`refs` (KeyError: it is none)."""
        return self.listing.position(ref)

    def answering(self, capture: Capture) -> Capture:
        """``capture`` (the archive's answer for the row it was asked for) as the answer of the row listed at its
        URL and second whose digest names the bytes served: an archive serves one capture per URL and second, so
        when the listing holds several, the bytes say which one was served. The payload is kept as that row's
        digest names it (:func:`~policy_archive.pipeline.jobs.same_second.served_row`). The row asked for when none
        names them, or when it does."""
        assert capture.listed is not None
        asked = self.position(capture.listed)
        others = [i for i in self.second_of(asked) if i != asked]
        return served_row(capture, [self.refs[i] for i in [asked, *others]])

    def settle(self, index: int, served: bool, verdict: str | None) -> list[tuple[CaptureRef, str]]:
        """The other rows listed at the second of the capture at ``index``, once the archive's answer was
        examined as its (``served``: its digest names the bytes; ``verdict``: the refusal, None when extracted):
        those listed with its bytes show what it showed; the others are captures the archive cannot serve at
        their URL and second, refused with why. Returns those refused."""
        answered = self.refs[index]
        refused = []
        for i in self.second_of(index):
            self.in_flight.discard(i)
            if i == index:
                continue
            ref = self.refs[i]
            if bytes_listed(ref) == bytes_listed(answered):
                self.known[i] = self.known.get(index)
                continue
            self.known[i] = None
            refused.append((ref, another_at_this_second(answered, ref, served, verdict)))
        return refused

    def learn(self, index: int, text: str | None, *, rendered: bool = False, for_twins: bool = True) -> Sequence[int]:
        """Remember what a capture showed; return the positions of the other captures this also tells about (same
        bytes: a listing of one text's every row).

        ``for_twins`` False: what this replay showed says nothing about the twins (``REPLAY_REFUSALS``). A
        rendered capture tells nothing about its twins either: a script shell's bytes stay the same while the
        text its scripts fetch changes."""
        self.in_flight.discard(index)
        self.known[index] = text
        shared = status_of(self.refs, index) == 200 and for_twins and not rendered
        group = listed_with(self.same_bytes, self.refs, index) if shared else ()
        # Identical bytes give an identical text only when read with the same rules: across a ``history`` boundary
        # a twin's text is another (a new selector reads other parts of the same page), and knowing it by this one
        # hid the change the boundary makes, or dated it at a later capture fetched (2026-11-29). A twin read
        # otherwise stays unknown: the strategy fetches one of its reading, which tells its twins of that reading.
        if group and self.declaration.history:
            reading = self.reading(timestamp_of(self.refs, index))
            group = array("q", (i for i in group if self.reading(timestamp_of(self.refs, i)) == reading))
        # By column (8 bytes each): every other row of a listing of one text is a twin.
        twins = array("q", (i for i in group if i not in self.known and i not in self.shared_second))
        for other in twins:
            self.known[other] = text  # known at no cost
        return twins

    def neighbours(self, index: int) -> Neighbours | None:
        """When the nearest non-redirect captures listed before and after candidate ``index``'s second were taken
        (computed once from the listing and the catalog's row of each second, :func:`listing_neighbours`): the
        bounds a text served for it may be dated within; None when its second's kept row is no candidate."""
        return self.around[index]

    def skip(self, index: int, reason: str, needs_browser: str | None = None, *, lasting: bool = False) -> None:
        """A capture that could not be fetched: searched around this run, retried by the next one.
        ``needs_browser``: it needed rendering and no browser could be started (what to install); ``lasting``:
        running again alone gets the same answer (:attr:`.FetchFailure.lasting`)."""
        self.in_flight.discard(index)
        self.known[index] = None
        self.unfetched[index] = reason
        if needs_browser:
            self.needs_browser[index] = needs_browser
        if lasting:
            self.as_served.add(index)

    def next_requests(self) -> list[FetchRequest]:
        """The plain fetches to send now for what the strategy wants, marked in flight: at most one per URL and
        second, and none for a second already being fetched, since one answer settles every row listed there. Empty
        when the strategy is waiting on answers or needs nothing more (see :attr:`complete`)."""
        # One request per URL and second: its answer settles every row listed there (``settle``).
        busy = {second_key_of(self.refs, i) for i in self.in_flight}
        chosen = []
        for i in self._wanted():
            second = second_key_of(self.refs, i)
            if i not in self.in_flight and second not in busy:
                busy.add(second)
                chosen.append(i)
        self.in_flight.update(chosen)
        return [self._request(self.refs[i]) for i in chosen]

    @property
    def complete(self) -> bool:
        """Whether the strategy needs nothing more and every capture it asked for was answered. A request still
        in flight when the crawl ended (stopped by a signal) leaves the plan incomplete: ``bisect`` asks for
        nothing more in a span while its probe is pending, so its wishes alone would call it complete."""
        return not self.in_flight and not self._wanted()

    def unexamined(self) -> int:
        """How many candidate captures nothing is known of: not fetched, no twin fetched, not refused."""
        return len(self.refs) - len(self.known)

    def _wanted(self) -> list[int]:
        chosen = wanted(self.strategy, self.refs, self.known, verify=self.verify, pending=self.in_flight)
        if chosen or self.in_flight or self.strategy is not StrategyName.BISECT or self.undated is None:
            return chosen
        # The search is over and nothing is on its way: a text refused for its date at every capture the search
        # fetched may be dated by one it left unfetched, as ``all`` would date it (docs/decisions/0008).
        return dating_probes(self.refs, self.known, self.undated(self))

    def to_fetch(self) -> ToFetch:
        """How many captures the strategy still fetches for this document, those in flight included, for the progress
        line: exact, or only bounds while ``bisect`` searches (:class:`ToFetch`)."""
        return to_fetch(self.strategy, self.refs, self.known, verify=self.verify, pending=self.in_flight)

    def _request(self, ref: CaptureRef) -> FetchRequest:
        """Always a plain fetch first, even for ``render = "always"``: the raw bytes kept (and checked against
        the CDX digest) are then the archive's own; the rendering follows (``rendering_request``)."""
        capture = self.source.capture_url(ref.timestamp, ref.url)
        return FetchRequest(self.declaration.key, capture, ref.url, ref)
