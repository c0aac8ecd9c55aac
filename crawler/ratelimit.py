"""Rate limits shared by everything that talks to one web archive, across the processes of one data directory.

One :class:`RateLimiter` guards one endpoint (CDX listing or ``id_`` replay) of one archive. Its state
lives in a small SQLite file (``DATA_DIR/ratelimit.sqlite3``) so that two backfills, or a backfill and the
scheduler, share one budget: each request reserves the next free slot in a ``BEGIN IMMEDIATE`` transaction,
slots are spaced ``60 / per_minute`` seconds apart, and a 429/503 from any endpoint (or from the CDX listing a
500, 502 or 504, a timeout, or a connection refused or reset) pauses *every* endpoint of that archive. As of
2026-11 the Internet Archive firewalls an IP for an hour (doubling) when 429s are ignored for a minute, so a
pause is never shortened and repeated refusals soon after a pause double it. The doubling is bounded over a run by
the listing itself, not here: 3 connections refused in a row (or hosts not found) end the run's listing
(``crawler.reach.UNREACHABLE_AFTER``), where until 2026-11-29 each document paused again, an hour at most.

Times are wall-clock seconds (``time.time``), not ``time.monotonic``: the state file outlives processes and
reboots, and every process must read the same clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from policy_archive.config.bounds import SLOWEST_PER_MINUTE
from policy_archive.config.settings import WaybackSettings

log = logging.getLogger(__name__)

STATE_FILE_NAME = "ratelimit.sqlite3"
# A pause never grows beyond this: the archive's own firewall block is an hour (as of 2026-11), and waiting
# longer than that between attempts only delays the run without being any kinder to the archive.
MAX_PAUSE_SECONDS = 3600.0
UNLIMITED = math.inf
# A wait for the rate budget this long or longer is said in one line on stderr, as a pause is, at most once in as
# long per limiter (the requests queued at once wait in a row). At the default rates no request waits more than a
# few seconds; a wait of a minute reads as a stalled run unless it is said.
WAIT_SAID_SECONDS = 60.0
# What each endpoint's requests are called in that line.
_REQUESTS = {"cdx": "listing", "replay": "capture"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slot (
    archive TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    next_free REAL NOT NULL,
    PRIMARY KEY (archive, endpoint)
);
CREATE TABLE IF NOT EXISTS pause (
    archive TEXT PRIMARY KEY,
    paused_until REAL NOT NULL,
    pause_seconds REAL NOT NULL
);
"""


@dataclass(frozen=True)
class _Reservation:
    """A slot reserved at ``now``; ``budget`` is how much of the wait for it is the rate's spacing, not a pause."""

    now: float
    slot: float
    budget: float = 0.0

    @property
    def delay(self) -> float:
        return max(0.0, self.slot - self.now)


class RateLimiter:
    """Spaces requests to one endpoint of one archive and pauses the whole archive after a refusal.

    ``per_minute=math.inf`` (:data:`UNLIMITED`) switches the spacing off (benchmarks with the limiter off);
    pauses after a 429/503 still apply. ``clock`` and ``sleep`` are injectable so tests need not wait.
    """

    def __init__(
        self,
        state_file: Path,
        archive: str,
        endpoint: str,
        per_minute: float,
        backoff_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not per_minute >= SLOWEST_PER_MINUTE:
            raise ValueError(f"per_minute must be at least {SLOWEST_PER_MINUTE:.3g} (one an hour), got {per_minute}")
        if backoff_seconds < 0:
            raise ValueError(f"backoff_seconds must not be negative, got {backoff_seconds}")
        self.state_file = Path(state_file)
        self.archive = archive
        self.endpoint = endpoint
        self.per_minute = per_minute
        self.backoff_seconds = backoff_seconds
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._quiet_until = -math.inf  # no wait is said before this time (WAIT_SAID_SECONDS)
        self.sent = 0  # requests this limiter let through (wait, wait_async): what a progress line counts
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self._create_schema()

    def __repr__(self) -> str:
        return f"RateLimiter({self.archive} {self.endpoint}, {self.per_minute}/min)"

    # --- slots -------------------------------------------------------------------------------------------

    def reserve(self) -> float:
        """Reserve the next slot; return the seconds to wait before sending (0 when the slot is now)."""
        return self._reserve().delay

    def wait(self) -> None:
        """Block until this process may send one request."""
        while True:
            reservation = self._reserve()
            self._say_wait(reservation)
            if reservation.delay:
                self._sleep(reservation.delay)
            if not self._pause_began_after(reservation):
                self.sent += 1
                return

    async def wait_async(self) -> None:
        """:meth:`wait` for coroutines (Scrapy on the asyncio reactor): sleeps without blocking the loop.

        The SQLite transactions themselves run on the loop; each takes well under a millisecond.
        """
        while True:
            reservation = self._reserve()
            self._say_wait(reservation)
            if reservation.delay:
                await asyncio.sleep(reservation.delay)
            if not self._pause_began_after(reservation):
                self.sent += 1
                return

    def _reserve(self) -> _Reservation:
        with self._transaction() as connection:
            now = self._clock()
            # A wall clock set backwards could leave stored times far ahead; no pause or queue is longer than this.
            paused_until = min(self._paused_until(connection), now + MAX_PAUSE_SECONDS)
            row = connection.execute(
                "SELECT next_free FROM slot WHERE archive = ? AND endpoint = ?", (self.archive, self.endpoint)
            ).fetchone()
            next_free = min(row[0], now + MAX_PAUSE_SECONDS) if row else now
            slot = max(now, next_free, paused_until)
            budget = max(0.0, next_free - max(now, paused_until))
            if self.interval > 0:
                connection.execute(
                    "INSERT INTO slot (archive, endpoint, next_free) VALUES (?, ?, ?)"
                    " ON CONFLICT (archive, endpoint) DO UPDATE SET next_free = excluded.next_free",
                    (self.archive, self.endpoint, slot + self.interval),
                )
            return _Reservation(now=now, slot=slot, budget=budget)

    def _say_wait(self, reservation: _Reservation) -> None:
        """One line for a long wait for the rate budget: how long, until when, and the setting that decides it
        (a pause has said its own line when it began, in :meth:`penalize`)."""
        if reservation.budget < WAIT_SAID_SECONDS or reservation.now < self._quiet_until:
            return
        self._quiet_until = reservation.now + WAIT_SAID_SECONDS
        until = datetime.fromtimestamp(reservation.slot, UTC)
        log.warning(
            "archive %s: the next %s request waits %s, until %s UTC, for the rate budget"
            " ([wayback] %s_per_minute = %g: one request every %s)",
            *(self.archive, _REQUESTS.get(self.endpoint, self.endpoint), _duration(reservation.delay)),
            *(f"{until:%H:%M:%S}", self.endpoint, self.per_minute, _duration(self.interval)),
        )

    def _pause_began_after(self, reservation: _Reservation) -> bool:
        """True when a pause was declared after ``reservation`` was made and covers its slot.

        The slot was reserved before the refusal was seen; sending at it would ignore the pause, so the
        caller reserves again (the new slot comes after the pause, spaced like every other).
        """
        with self._transaction() as connection:
            return self._paused_until(connection) > reservation.slot

    # --- pauses ------------------------------------------------------------------------------------------

    def penalize(self, retry_after: float | None = None, *, cause: str) -> float:
        """The archive refused or failed for now (``cause``, a verb phrase for the log: ``answered 429``): pause
        every endpoint of this archive; return the pause in seconds.

        The pause is ``max(backoff_seconds, retry_after)``, doubled when a refusal comes soon after the last
        pause ended (within as long as that pause lasted). A refusal that arrives *while* paused answers a
        request sent before the pause began (nothing is sent during one), so it does not double the pause:
        otherwise eight concurrent requests refused together would make it 2**8 times longer.
        """
        asked = max(self.backoff_seconds, retry_after or 0.0)
        with self._transaction() as connection:
            now = self._clock()
            query = "SELECT paused_until, pause_seconds FROM pause WHERE archive = ?"
            row = connection.execute(query, (self.archive,)).fetchone()
            paused_until, last_pause = row if row else (0.0, 0.0)
            pause = _next_pause(now, paused_until, last_pause, asked, retry_after)
            if pause is None:
                remaining = paused_until - now
                log.info("archive %s %s while paused: %.0f s left", self.archive, cause, remaining)
                return remaining
            connection.execute(
                "INSERT INTO pause (archive, paused_until, pause_seconds) VALUES (?, ?, ?)"
                " ON CONFLICT (archive) DO UPDATE SET paused_until = excluded.paused_until,"
                " pause_seconds = excluded.pause_seconds",
                (self.archive, now + pause, pause),
            )
        log.warning("archive %s %s: pausing all requests for %.0f s", self.archive, cause, pause)
        return pause

    def paused_for(self) -> float:
        """Seconds left in the archive's current pause (0 when not paused)."""
        with self._transaction() as connection:
            return max(0.0, self._paused_until(connection) - self._clock())

    def _paused_until(self, connection: sqlite3.Connection) -> float:
        row = connection.execute("SELECT paused_until FROM pause WHERE archive = ?", (self.archive,)).fetchone()
        return row[0] if row else 0.0

    # --- storage -----------------------------------------------------------------------------------------

    def _create_schema(self) -> None:
        connection = sqlite3.connect(self.state_file, timeout=30, isolation_level=None)
        try:
            # WAL: readers never block the writer that is reserving a slot; the mode is stored in the file.
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(_SCHEMA)
        finally:
            connection.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short ``BEGIN IMMEDIATE`` transaction on a fresh connection.

        A connection per call is safe after ``fork`` and from any thread (Scrapy's reactor, worker threads);
        it costs well under a millisecond, nothing at 600 requests a minute.
        """
        connection = sqlite3.connect(self.state_file, timeout=30, isolation_level=None)
        try:
            # The state is a courtesy budget, not a record: losing the last writes on power loss is harmless,
            # so skip the fsync on every commit.
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()


def _next_pause(
    now: float, paused_until: float, last_pause: float, asked: float, retry_after: float | None
) -> float | None:
    """The new pause in seconds, or None when the current pause stands as it is."""
    if now < paused_until:  # only an explicit Retry-After beyond the current pause lengthens it
        longer = retry_after is not None and now + retry_after > paused_until
        return min(asked, MAX_PAUSE_SECONDS) if longer else None
    if now < paused_until + last_pause:  # refused again soon after the last pause: the archive is still unhappy
        return min(max(asked, 2 * last_pause), MAX_PAUSE_SECONDS)
    return min(asked, MAX_PAUSE_SECONDS)


def _duration(seconds: float) -> str:
    """``0:59:58``."""
    return str(timedelta(seconds=round(seconds)))


def parse_retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header as seconds from now (delta-seconds or HTTP-date form), or None.

    The one parser for the CDX listing and the Scrapy middlewares; as of 2026-11 the Internet Archive sends
    no Retry-After at all, live sites and other archives sometimes do.
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses naive
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def archive_key(endpoint_url: str) -> str:
    """``web.archive.org``: the host (with its port, if any) that identifies an archive."""
    parts = urlsplit(endpoint_url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def limiter_for(data_dir: Path, settings: WaybackSettings, endpoint: Literal["cdx", "replay"]) -> RateLimiter:
    """The shared limiter of one endpoint of the configured archive, stored in ``data_dir``."""
    if endpoint == "cdx":
        url, per_minute = settings.cdx_url, settings.cdx_per_minute
    else:
        url, per_minute = settings.replay_url, settings.replay_per_minute
    return RateLimiter(
        state_file=Path(data_dir) / STATE_FILE_NAME,
        archive=archive_key(url),
        endpoint=endpoint,
        per_minute=per_minute,
        backoff_seconds=settings.backoff_seconds,
    )
