"""The shared archive rate limiter: slot spacing across limiters and processes, archive-wide pauses."""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import time
from pathlib import Path

import pytest

from policy_archive.config.bounds import SLOWEST_PER_MINUTE
from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.ratelimit import STATE_FILE_NAME, RateLimiter, archive_key, limiter_for


class FakeClock:
    """A wall clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_limiter(
    state: Path, clock: FakeClock, endpoint: str = "cdx", per_minute: float = 30, backoff: float = 60
) -> RateLimiter:
    return RateLimiter(state, "web.archive.org", endpoint, per_minute, backoff, clock=clock, sleep=clock.sleep)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / STATE_FILE_NAME


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_slots_are_spaced_by_the_rate(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, per_minute=30)
    assert [limiter.reserve() for _ in range(4)] == [0.0, 2.0, 4.0, 6.0]


def test_a_free_slot_in_the_past_does_not_allow_a_burst(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, per_minute=30)
    limiter.reserve()
    clock.now += 100
    assert [limiter.reserve() for _ in range(3)] == [0.0, 2.0, 4.0]


def test_two_limiters_on_one_file_share_one_budget(state: Path, clock: FakeClock) -> None:
    first, second = make_limiter(state, clock), make_limiter(state, clock)
    assert [first.reserve(), second.reserve(), first.reserve(), second.reserve()] == [0.0, 2.0, 4.0, 6.0]


def test_endpoints_have_separate_budgets(state: Path, clock: FakeClock) -> None:
    cdx = make_limiter(state, clock, "cdx", per_minute=30)
    replay = make_limiter(state, clock, "replay", per_minute=600)
    assert [cdx.reserve(), replay.reserve(), cdx.reserve(), replay.reserve()] == pytest.approx([0.0, 0.0, 2.0, 0.1])


def test_wait_sleeps_until_the_reserved_slot(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, per_minute=20)
    for _ in range(3):
        limiter.wait()
    assert clock.sleeps == [3.0, 3.0]


def test_unlimited_rate_never_waits(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, per_minute=math.inf)
    assert [limiter.reserve() for _ in range(100)] == [0.0] * 100


def test_a_penalty_pauses_every_endpoint_of_the_archive(state: Path, clock: FakeClock) -> None:
    cdx = make_limiter(state, clock, "cdx")
    replay = make_limiter(state, clock, "replay", per_minute=480)
    other_archive = RateLimiter(state, "archive.example", "replay", 480, 60, clock=clock, sleep=clock.sleep)
    assert cdx.penalize(cause="answered 429") == 60
    assert replay.reserve() == 60
    assert cdx.reserve() == 60
    assert other_archive.reserve() == 0
    assert replay.reserve() == pytest.approx(60.125)  # after the pause, slots are spaced again


def test_an_unlimited_limiter_still_obeys_a_pause(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, per_minute=math.inf)
    limiter.penalize(cause="answered 429")
    assert limiter.reserve() == 60


def test_retry_after_is_honoured_when_longer_than_the_backoff(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, backoff=60)
    assert limiter.penalize(retry_after=300, cause="answered 429") == 300
    assert limiter.reserve() == 300


def test_a_short_retry_after_does_not_shorten_the_backoff(state: Path, clock: FakeClock) -> None:
    assert make_limiter(state, clock, backoff=60).penalize(retry_after=5, cause="answered 429") == 60


def test_refusals_soon_after_a_pause_double_it(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, backoff=60)
    pauses = []
    for _ in range(4):
        pauses.append(limiter.penalize(cause="answered 429"))
        clock.now += pauses[-1] + 1  # the pause ends, the next request is refused again at once
    assert pauses == [60, 120, 240, 480]


def test_the_pause_returns_to_the_backoff_after_a_quiet_period(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, backoff=60)
    limiter.penalize(cause="answered 429")
    clock.now += 61
    assert limiter.penalize(cause="answered 429") == 120
    clock.now += 120 + 121  # the pause ended more than one pause-length ago
    assert limiter.penalize(cause="answered 429") == 60


def test_refusals_of_requests_sent_before_the_pause_do_not_double_it(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, backoff=60)
    assert limiter.penalize(cause="answered 429") == 60
    clock.now += 1
    assert [limiter.penalize(cause="answered 429") for _ in range(7)] == [59] * 7
    assert limiter.paused_for() == 59
    assert limiter.penalize(retry_after=120, cause="answered 429") == 120  # the archive explicitly asks for longer


def test_a_pause_declared_during_a_wait_is_obeyed(state: Path, clock: FakeClock) -> None:
    limiter = make_limiter(state, clock, per_minute=60)
    other_process = make_limiter(state, clock, "replay")
    limiter.wait()

    def sleep_while_another_process_is_refused(seconds: float) -> None:
        if not clock.sleeps:
            other_process.penalize(cause="answered 503")
        clock.sleep(seconds)

    limiter._sleep = sleep_while_another_process_is_refused
    limiter.wait()
    assert clock.now == pytest.approx(1_000_060.0)


def test_a_pause_is_logged_in_one_clear_line(state: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="policy_archive.crawler.ratelimit"):
        make_limiter(state, clock).penalize(cause="answered 429")
    assert caplog.messages == ["archive web.archive.org answered 429: pausing all requests for 60 s"]


def test_a_long_wait_for_the_rate_budget_is_said_in_one_line(
    state: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Audit 3 #12: a backfill waiting an hour for its next request said nothing."""
    limiter = make_limiter(state, clock, "replay", per_minute=SLOWEST_PER_MINUTE)
    with caplog.at_level(logging.WARNING, logger="policy_archive.crawler.ratelimit"):
        limiter.wait()  # the first request goes at once
        assert caplog.messages == []
        limiter.wait()
    assert clock.sleeps == [3600.0]
    assert caplog.messages == [
        "archive web.archive.org: the next capture request waits 1:00:00, until 14:46:40 UTC, for the rate budget"
        " ([wayback] replay_per_minute = 0.0166667: one request every 1:00:00)"
    ]


def test_requests_queued_at_once_say_their_wait_once(
    state: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Eight requests reserving their slots together wait 1, 2, ... minutes: one line, not seven; the next line
    comes once a minute has passed."""
    limiter = make_limiter(state, clock, "replay", per_minute=1)
    limiter._sleep = lambda seconds: None  # the requests wait side by side: the clock does not move
    with caplog.at_level(logging.WARNING, logger="policy_archive.crawler.ratelimit"):
        for _ in range(8):
            limiter.wait()
        assert len(caplog.messages) == 1 and "waits 0:01:00" in caplog.messages[0]
        clock.now += 60
        limiter.wait()
    assert len(caplog.messages) == 2 and "waits 0:07:00" in caplog.messages[1], caplog.messages


def test_short_waits_and_pauses_are_not_said_as_rate_budget_waits(
    state: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = make_limiter(state, clock, "cdx", per_minute=2, backoff=600)  # 30 s apart
    with caplog.at_level(logging.WARNING, logger="policy_archive.crawler.ratelimit"):
        limiter.wait()
        limiter.wait()
        limiter.penalize(cause="answered 429")
        limiter.wait()
    assert clock.sleeps == [30.0, 600.0]
    assert caplog.messages == ["archive web.archive.org answered 429: pausing all requests for 600 s"]


@pytest.mark.parametrize("per_minute", [0, -1, 0.001, 1e-300, math.nan])
def test_a_rate_slower_than_one_request_an_hour_is_refused(state: Path, clock: FakeClock, per_minute: float) -> None:
    with pytest.raises(ValueError, match="at least 0.0167"):
        make_limiter(state, clock, per_minute=per_minute)


def test_wait_async_sleeps_without_blocking_the_loop(state: Path) -> None:
    limiter = RateLimiter(state, "web.archive.org", "replay", per_minute=60_000 / 20, backoff_seconds=1)

    async def three_requests() -> float:
        started = time.monotonic()
        await asyncio.gather(*(limiter.wait_async() for _ in range(3)))
        return time.monotonic() - started

    assert 0.035 <= asyncio.run(three_requests()) < 10  # slots at 0, 20 and 40 ms (the bound: load)


def _reserve_slots(state: str, count: int, slots: multiprocessing.Queue) -> None:
    """Reserve ``count`` slots and report when each one is (the clock reading inside the reservation + delay)."""
    readings: list[float] = []

    def clock() -> float:
        readings.append(time.time())
        return readings[-1]

    limiter = RateLimiter(Path(state), "web.archive.org", "cdx", per_minute=60, backoff_seconds=1, clock=clock)
    for _ in range(count):
        delay = limiter.reserve()
        slots.put(readings[-1] + delay)


def test_two_processes_share_one_budget(state: Path) -> None:
    context = multiprocessing.get_context("fork")
    slots: multiprocessing.Queue = context.Queue()
    RateLimiter(state, "web.archive.org", "cdx", per_minute=60, backoff_seconds=1)  # create the file first
    workers = [context.Process(target=_reserve_slots, args=(str(state), 10, slots)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    reserved = sorted(slots.get(timeout=5) for _ in range(20))
    gaps = [later - earlier for earlier, later in zip(reserved, reserved[1:], strict=False)]
    assert gaps == pytest.approx([1.0] * 19, abs=1e-3)  # one slot a second, whichever process reserved it


def test_limiter_for_keys_both_endpoints_by_the_archive_host(tmp_path: Path) -> None:
    settings = WaybackSettings(
        cdx_url="http://127.0.0.1:8765/cdx/search/cdx",
        replay_url="http://127.0.0.1:8765/web",
        cdx_per_minute=12,
        replay_per_minute=300,
        backoff_seconds=30,
    )
    cdx = limiter_for(tmp_path / "data", settings, "cdx")
    replay = limiter_for(tmp_path / "data", settings, "replay")
    assert (cdx.archive, cdx.endpoint, cdx.interval) == ("127.0.0.1:8765", "cdx", 5.0)
    assert (replay.archive, replay.endpoint, replay.interval) == ("127.0.0.1:8765", "replay", 0.2)
    assert cdx.state_file == replay.state_file == tmp_path / "data" / STATE_FILE_NAME
    assert cdx.penalize(cause="answered 429") == 30
    assert replay.paused_for() > 29


def test_archive_key_is_the_lowercased_host() -> None:
    assert archive_key("https://Web.Archive.org/cdx/search/cdx") == "web.archive.org"
    assert archive_key("https://web.archive.org/web") == "web.archive.org"
