"""How a run counts requests failing before any answer (crawler/reach.py): a listing's one after the other; a
crawl's replays, in flight together, by the askings of one replay with no answer between."""

from __future__ import annotations

from policy_archive.crawler.reach import UNREACHABLE_AFTER, Reachability


def asked(reach: Reachability, attempts: int, since: tuple[int, int] | None = None) -> tuple[bool, tuple[int, int]]:
    """One replay's ``attempts``-th asking refused: whether the archive is now unreachable, and its run's start."""
    since = reach.since(since, attempts)
    return reach.replay_failed(attempts - since[1] + 1), since


def test_listing_requests_failing_in_a_row_make_the_archive_unreachable_and_an_answer_starts_again() -> None:
    reach = Reachability()
    assert [reach.failed() for _ in range(UNREACHABLE_AFTER - 1)] == [False] * (UNREACHABLE_AFTER - 1)
    reach.answered()
    assert [reach.failed() for _ in range(UNREACHABLE_AFTER)] == [False] * (UNREACHABLE_AFTER - 1) + [True]


def test_replays_refused_at_the_same_moment_count_once() -> None:
    """Eight replays on the wire when a server restarts are all refused at once: one failure, not eight, so a restart
    of a second costs each of them one wait, never the run."""
    reach = Reachability()
    assert not any(asked(reach, 1)[0] for _ in range(8))
    assert reach.failures_in_a_row == 1


def test_one_replay_refused_at_each_of_its_askings_with_no_answer_between_makes_it_unreachable() -> None:
    reach = Reachability()
    since = None
    said = []
    for attempt in range(1, UNREACHABLE_AFTER + 1):
        unreachable, since = asked(reach, attempt, since)
        said.append(unreachable)
    assert said == [False] * (UNREACHABLE_AFTER - 1) + [True]


def test_an_answer_between_a_replays_askings_starts_its_count_again() -> None:
    """Another capture answered meanwhile (a 429 too): the archive is there; this replay's refusals so far are not
    the archive's, and its next one is the first in a row."""
    reach = Reachability()
    _, since = asked(reach, 1)
    reach.answered()
    unreachable, since = asked(reach, 2, since)
    assert not unreachable and reach.failures_in_a_row == 1
    assert not asked(reach, 3, since)[0]


def test_replays_not_asked_again_count_one_after_the_other() -> None:
    """A replay's host not found (not asked again) counts one more in a row, as a listing's does."""
    reach = Reachability()
    assert [reach.replay_failed(None) for _ in range(UNREACHABLE_AFTER)] == [False] * (UNREACHABLE_AFTER - 1) + [True]
