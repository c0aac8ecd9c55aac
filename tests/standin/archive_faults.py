"""Fault injection for the stand-in archive: what the real Wayback Machine does when it misbehaves.

Refusals (the next N requests of an endpoint answer 429/503/500, the archive's own, without ``Memento-Datetime``,
or get no answer: the connection reset, or held open until the client gives up — a timeout without a clock),
a delay per endpoint (timeouts), garbage rows, a failing CDX page, a page whose promised resume key is missing,
a CDX answer whose connection closes after N rows (with its whole Content-Length announced, or chunked without
the terminating chunk), a CDX answer trickled a byte at a time, a CDX answer announcing a size; a URL listed but
excluded from replay (the 200 "excluded" page, no ``Memento-Datetime``, as recorded for nationalpost.com in
2017); a capture replayed with other bytes than its CDX digest says; a capture replayed with a header line of a given
length (as an archive replays a site's long Content-Security-Policy); a capture whose connection is reset before
any answer; a URL whose replays the archive redirects round between timestamps (its own 302s, a set number of
times, or without end as Arquivo.pt's OpenWayback did in 2016, arquivo/pwa-technologies#189) before serving a
capture; requests of an endpoint held unanswered until the test releases them (it acts while a client is known to
be waiting, whatever the load); a search for one URL answered with another URL's rows.
:class:`ArchiveFaults` holds them; :class:`~standin.archive.StandinArchive` is one.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from policy_archive.records import format_wayback_timestamp, parse_wayback_timestamp
from standin.archive_answers import HANG, RESET, Answer, Framing
from standin.capture import CdxFields, surt
from standin.cli import WAIT_SECONDS

Endpoint = Literal["cdx", "replay"]
NoAnswer = Literal["reset", "hang"]

TOO_MANY_REQUESTS_PAGE = b"<html><head><title>Too Many Requests</title></head><body>Too Many Requests</body></html>"
UNAVAILABLE_PAGE = b"<html><head><title>Service Unavailable</title></head><body>Service Unavailable</body></html>"


@dataclass(frozen=True)
class Refusal:
    """The archive's own answer with ``status``, or (``status`` None) no answer at all, as ``no_answer`` says."""

    status: int | None
    retry_after: float | None = None
    no_answer: NoAnswer = "reset"


@dataclass
class Faults:
    refusals: dict[str, deque[Refusal]] = field(default_factory=lambda: {"cdx": deque(), "replay": deque()})
    delays: dict[str, float] = field(default_factory=lambda: {"cdx": 0.0, "replay": 0.0})
    garbage_rows: bool = False
    repeat_rows: bool = False
    failing_pages: dict[int, int] = field(default_factory=dict)
    pages_without_resume_key: set[int] = field(default_factory=set)
    resume_keys_ignored: bool = False
    endless_resume_keys: bool = False
    cut: tuple[int, Framing] | None = None
    framing: Framing = "length"
    trickle_seconds: float = 0.0
    announced_length: int | None = None
    replay_excluded: set[str] = field(default_factory=set)
    substitutes: dict[tuple[str, str], bytes] = field(default_factory=dict)
    resets: set[tuple[str, str]] = field(default_factory=set)
    endless: set[tuple[str, str]] = field(default_factory=set)  # (key, timestamp) replayed without end
    withheld: dict[tuple[str, str], int] = field(default_factory=dict)  # (key, timestamp) → status served instead
    elsewhere: dict[tuple[str, str], str] = field(default_factory=dict)  # (key, timestamp) → memento served instead
    lower_case_digests: bool = False
    cdx_fields: CdxFields = 7
    cdx_legend: bool = False
    transfer_gzip: bool = False
    dechunk_replays: bool = False
    replay_framing: Framing = "length"
    listed_instead: dict[str, str] = field(default_factory=dict)
    listed_statuses: dict[tuple[str, str], int] = field(default_factory=dict)  # (key, timestamp) → status listed
    long_headers: dict[tuple[str, str], int] = field(default_factory=dict)
    detours: dict[str, int | None] = field(default_factory=dict)
    detoured: dict[tuple[str, str], int] = field(default_factory=dict)  # (key, timestamp) → detours taken to it

    def listing_copy(self) -> Faults:
        """A copy a CDX answer can read outside the archive's lock."""
        return dataclasses.replace(
            self,
            failing_pages=dict(self.failing_pages),
            pages_without_resume_key=set(self.pages_without_resume_key),
            listed_statuses=dict(self.listed_statuses),
        )


@dataclass
class Gate:
    """Requests of an endpoint let through (``remaining`` more), then held until ``opened`` is set."""

    remaining: int
    opened: threading.Event = field(default_factory=threading.Event)


@dataclass
class Trigger:
    fragment: str
    action: Callable[[], object]
    remaining: int


def refusal_answer(refusal: Refusal) -> Answer:
    if refusal.status is None:
        return RESET if refusal.no_answer == "reset" else HANG
    page = TOO_MANY_REQUESTS_PAGE if refusal.status == 429 else UNAVAILABLE_PAGE
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if refusal.retry_after is not None:
        headers.append(("Retry-After", str(round(refusal.retry_after))))
    return Answer(refusal.status, page, tuple(headers))


class ArchiveFaults:
    """The faults to inject, set from tests (every method is thread-safe) and applied to each request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._stopping = threading.Event()
        self._held = threading.Semaphore(0)  # released once per request that starts an injected delay
        self._triggers: list[Trigger] = []
        self._gates: dict[str, Gate] = {}
        self.endless_bytes = 0  # body bytes written of the answers streamed without end (stream_endlessly)

    def refuse_next(
        self, count: int, status: int = 429, endpoint: Endpoint = "cdx", retry_after: float | None = None
    ) -> None:
        """The next ``count`` requests to ``endpoint`` get the archive's own ``status`` (429, 503, 500, ...)."""
        with self._lock:
            self._faults.refusals[endpoint].extend(Refusal(status, retry_after) for _ in range(count))

    def answer_nothing_next(self, count: int, how: NoAnswer, endpoint: Endpoint = "cdx") -> None:
        """The next ``count`` requests to ``endpoint`` (queued with :meth:`refuse_next`'s) get no answer: the
        connection is closed at once (``reset``), or held open until the client gives up and closes it (``hang``:
        the client's timeout fires, whatever the machine's load, and no clock of ours races it)."""
        with self._lock:
            self._faults.refusals[endpoint].extend(Refusal(None, no_answer=how) for _ in range(count))

    def delay(self, endpoint: Endpoint, seconds: float) -> None:
        """Every request to ``endpoint`` waits ``seconds`` before being answered (0 switches it off)."""
        with self._lock:
            self._faults.delays[endpoint] = seconds

    def when_asked(self, fragment: str, action: Callable[[], object], nth: int = 1) -> None:
        """Call ``action`` once, when the ``nth`` request whose path contains ``fragment`` arrives, before it is
        answered: a test interrupts a client at a given request, whatever the machine's load."""
        with self._lock:
            self._triggers.append(Trigger(fragment, action, nth))

    def hold(self, endpoint: Endpoint, after: int = 0) -> None:
        """Answer ``after`` more requests to ``endpoint``, then hold every later one unanswered until
        :meth:`release` (or the archive stops); :meth:`wait_for_held_request` returns once one is held."""
        with self._lock:
            self._gates[endpoint] = Gate(after)

    def release(self, endpoint: Endpoint) -> None:
        """Answer the requests :meth:`hold` keeps waiting, and hold no more."""
        with self._lock:
            gate = self._gates.pop(endpoint, None)
        if gate is not None:
            gate.opened.set()

    def wait_for_held_request(self, timeout: float = WAIT_SECONDS) -> None:
        """Block until a request is being held by :meth:`delay` or :meth:`hold` (so a client is known to be
        waiting on us)."""
        if not self._held.acquire(timeout=timeout):
            raise AssertionError(f"no request reached the injected delay within {timeout} s")

    def serve_garbage_rows(self, enabled: bool = True) -> None:
        with self._lock:
            self._faults.garbage_rows = enabled

    def repeat_rows(self, enabled: bool = True) -> None:
        """List every CDX row twice, as the real index sometimes does."""
        with self._lock:
            self._faults.repeat_rows = enabled

    def fail_page(self, page: int, status: int = 503) -> None:
        """Page ``page`` (0 = first) of every paged CDX listing answers ``status``."""
        with self._lock:
            self._faults.failing_pages[page] = status

    def ignore_resume_keys(self, ignored: bool = True) -> None:
        """Behave like a CDX server without resume keys: ``limit`` cuts the listing, silently."""
        with self._lock:
            self._faults.resume_keys_ignored = ignored

    def send_endless_resume_keys(self) -> None:
        """Behave like a hostile or broken CDX server that never ends a listing: every page, the last one too, ends
        with a new resume key, and a page asked by such a key lists the first ``limit`` rows again."""
        with self._lock:
            self._faults.endless_resume_keys = True

    def frame_cdx(self, framing: Framing) -> None:
        """Send every whole CDX answer with a Content-Length (``length``) or in chunks (``chunked``)."""
        with self._lock:
            self._faults.framing = framing

    def cut_cdx_after(self, rows: int, framing: Framing = "length") -> None:
        """Every CDX answer's connection closes after ``rows`` rows: with ``length`` the whole body's
        Content-Length was announced, with ``chunked`` the terminating chunk never comes."""
        with self._lock:
            self._faults.cut = (rows, framing)

    def trickle_cdx(self, seconds_per_byte: float) -> None:
        """Every CDX answer's body is sent one byte at a time, ``seconds_per_byte`` apart."""
        with self._lock:
            self._faults.trickle_seconds = seconds_per_byte

    def announce_cdx_length(self, length: int) -> None:
        """Every CDX answer claims this Content-Length, and the connection closes after the real body."""
        with self._lock:
            self._faults.announced_length = length

    def drop_resume_key(self, page: int) -> None:
        """Page ``page`` ends with the blank line that announces a resume key, but no key."""
        with self._lock:
            self._faults.pages_without_resume_key.add(page)

    def list_rows_of(self, asked: str, listed: str) -> None:
        """Answer a CDX search for ``asked`` with the rows of ``listed``: an archive that is not answering the
        query (a cdx_url naming another collection, or a proxy dropping the ``url`` parameter)."""
        with self._lock:
            self._faults.listed_instead[surt(asked)] = surt(listed)

    def list_status(self, url: str, timestamp: str, status: int) -> None:
        """List this capture with ``status`` while its replay serves the status it holds (an index naming a 200
        for a stored 429: the record's status read wrong, or an index made from another crawl's)."""
        with self._lock:
            self._faults.listed_statuses[(surt(url), timestamp)] = status

    def exclude_from_replay(self, url: str) -> None:
        """List the URL's captures, but answer their replay with the 200 "excluded" page (no Memento-Datetime)."""
        with self._lock:
            self._faults.replay_excluded.add(surt(url))

    def replay_again(self, url: str) -> None:
        """Undo :meth:`exclude_from_replay`: the URL's captures are replayed again (an outage or a proxy's passing
        fault over)."""
        with self._lock:
            self._faults.replay_excluded.discard(surt(url))

    def serve_other_bytes(self, url: str, timestamp: str, body: bytes | str) -> None:
        """Replay the capture with ``body`` (and a Memento-Datetime), while its CDX row keeps its own digest."""
        payload = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._faults.substitutes[(surt(url), timestamp)] = payload

    def serve_long_header(self, url: str, timestamp: str, length: int) -> None:
        """Replay the capture with one more header line, ``length`` bytes long (0: none)."""
        with self._lock:
            self._faults.long_headers[(surt(url), timestamp)] = length

    def stream_endlessly(self, url: str, timestamp: str) -> None:
        """Replay this capture as its status and headers, then its body repeated without end, chunked (no
        Content-Length), until the client hangs up; the body bytes written are counted in :attr:`endless_bytes`."""
        with self._lock:
            self._faults.endless.add((surt(url), timestamp))

    def count_endless(self, written: int) -> None:
        with self._lock:
            self.endless_bytes += written

    def reset_capture(self, url: str, timestamp: str, enabled: bool = True) -> None:
        """Close the connection without answering whenever this capture is replayed."""
        with self._lock:
            (self._faults.resets.add if enabled else self._faults.resets.discard)((surt(url), timestamp))

    def withhold_capture(self, url: str, timestamp: str, status: int | None) -> None:
        """Answer this capture's replay ``status`` (401, 403, 451: access control, a legal block) without
        Memento-Datetime, while the listing keeps it; None serves it again."""
        with self._lock:
            if status is None:
                self._faults.withheld.pop((surt(url), timestamp), None)
            else:
                self._faults.withheld[(surt(url), timestamp)] = status

    def replay_from(self, url: str, timestamp: str, served: str) -> None:
        """Answer this capture's replay with the archive's 302 (no Memento-Datetime) to the capture held at
        ``served``, while the listing keeps it: a nearest memento given in its place, as an archive does for a
        record it cannot load."""
        with self._lock:
            self._faults.elsewhere[(surt(url), timestamp)] = served

    def write_digests_in_lower_case(self, enabled: bool = True) -> None:
        """List every digest in lower-case base32 (which is case-insensitive, RFC 4648)."""
        with self._lock:
            self._faults.lower_case_digests = enabled

    def list_in_cdx_file_format(self, fields: CdxFields, *, legend: bool = False) -> None:
        """List rows as a classic CDX file holds them, 11 or 9 fields (7: the CDX server's own), after the file's
        legend line (`` CDX N b a m s k r M S V g``) with ``legend``: what a Wayback that lists from its CDX
        files answers."""
        with self._lock:
            self._faults.cdx_fields, self._faults.cdx_legend = fields, legend

    def frame_replays(self, framing: Framing) -> None:
        """Send every replay's body with a Content-Length (``length``) or in chunks without one (``chunked``)."""
        with self._lock:
            self._faults.replay_framing = framing

    def dechunk_replays(self, enabled: bool = True) -> None:
        """Serve a record kept chunked as the entity of its chunks, as pywb 2.10 does in every replay mode
        (``rewrite/content_rewriter.py``, read 2026-11-28), rather than its chunks as recorded."""
        with self._lock:
            self._faults.dechunk_replays = enabled

    def compress_transfers(self, enabled: bool = True) -> None:
        """Gzip every replay answer not already encoded, for a client taking gzip: what the Wayback Machine does
        (its recorded answers, tests/fixtures/archive-responses, as of 2026-11: ``Content-Encoding: gzip``, the
        decoded bytes the ones of the CDX digest)."""
        with self._lock:
            self._faults.transfer_gzip = enabled

    def redirect_around(self, url: str, times: int | None = None) -> None:
        """A replay of ``url`` at a timestamp it holds no capture at answers the archive's own 302 to ``url`` one
        second later, ``times`` times in a row (None: without end), before the usual 302 to the nearest capture."""
        with self._lock:
            self._faults.detours[surt(url)] = times

    def _detour(self, key: str, timestamp: str, held: bool) -> str | None:
        """The timestamp a replay of ``key`` at ``timestamp`` is redirected to by :meth:`redirect_around` (None:
        answered as usual); ``held``: a capture is there. Called with the lock held."""
        if held or key not in self._faults.detours:
            return None
        times = self._faults.detours[key]
        taken = self._faults.detoured.pop((key, timestamp), 0)
        if times is not None and taken >= times:
            return None
        later = format_wayback_timestamp(parse_wayback_timestamp(timestamp) + timedelta(seconds=1))
        self._faults.detoured[(key, later)] = taken + 1
        return later

    def _apply_faults(self, endpoint: Endpoint, raw_path: str) -> Answer | None:
        """Fire the triggers and wait the delay due before answering a request; the refusal it gets, if any."""
        with self._lock:
            delay = self._faults.delays[endpoint]
            refusals = self._faults.refusals[endpoint]
            refusal = refusals.popleft() if refusals else None
            for trigger in self._triggers:
                trigger.remaining -= trigger.fragment in raw_path
            fired = [trigger for trigger in self._triggers if trigger.remaining == 0]
            self._triggers = [trigger for trigger in self._triggers if trigger.remaining > 0]
            gate = self._gates.get(endpoint)
            if gate is not None and gate.remaining > 0:
                gate.remaining -= 1
                gate = None
        for trigger in fired:
            trigger.action()
        if gate is not None:
            self._held.release()
            while not (gate.opened.is_set() or self._stopping.is_set()):
                gate.opened.wait(0.05)  # also woken by stop(), which sets only _stopping
        if delay:
            self._held.release()
            self._stopping.wait(delay)
        return None if refusal is None else refusal_answer(refusal)
