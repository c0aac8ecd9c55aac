"""``discover`` and home-page captures the archive's access rules block (pywb's ``"access": "block"``; a replay of one
answers 451): never asked for, as backfill never asks for them, said among the captures that could not be read
with why, the search going on around them, and judged again from the listing by every run (never kept in the state
file). The real pywb's listing of such rows: tests/test_pywb.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.hosts import LITERALS_ONLY
from policy_archive.crawler.sources import archive_source
from policy_archive.pipeline.jobs.home_pages import Sighting
from policy_archive.pipeline.jobs.home_plan import DiscoveryPlan
from policy_archive.pipeline.jobs.home_search import SearchState
from policy_archive.pipeline.jobs.listing_rows import NOT_ASKED_BLOCKED, access_refusal, refusal_before_fetch
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.records import CaptureRef

HOME = "https://www.blocked.example/"
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def rows(blocked: set[int], count: int = 12) -> list[CaptureRef]:
    """``count`` home-page rows, one a year from 2010; those numbered in ``blocked`` listed as blocked."""
    return [
        CaptureRef(HOME, datetime(2010 + n, 1, 1, tzinfo=UTC), 200, "text/html", None, blocked=n in blocked)
        for n in range(count)
    ]


def plan_of(refs: list[CaptureRef], state_file: Path) -> DiscoveryPlan:
    source = archive_source(WaybackSettings(cdx_url="http://127.0.0.1:9/cdx/search/cdx"))
    state = SearchState(refs, state_file, "privacy-policy")
    return DiscoveryPlan(state, source, "blocked.example/privacy-policy", Progress("discover", quiet=True),
                         LITERALS_ONLY, NOW)  # fmt: skip


def test_the_backfill_and_discover_refuse_a_blocked_row_by_one_rule() -> None:
    ref = rows({0}, 1)[0]
    assert access_refusal(ref) == NOT_ASKED_BLOCKED == "listed as blocked by the archive's access rules: not asked for"
    assert refusal_before_fetch(ref, NOW) == f"{NOT_ASKED_BLOCKED} (every backfill reads the listing again)"
    assert access_refusal(rows(set(), 1)[0]) is None


def test_a_blocked_home_page_is_not_asked_for_and_its_neighbour_is_read_instead(tmp_path: Path) -> None:
    """The first and the fourth captures blocked (one capture a year: every one is on the grid): neither is asked
    for; each is known unreadable, with why, without a replay request; the others are asked in their place, as many
    as the crawl sends at once."""
    refs = rows({0, 3})
    plan = plan_of(refs, tmp_path / "state.json")

    asked = [request.ref for request in plan.start()]

    assert asked and not any(ref is not None and ref.blocked for ref in asked)
    assert asked == [ref for ref in refs if not ref.blocked][: len(asked)], "the first ones not blocked, in order"
    known = plan.state.known
    assert known[0] == Sighting(refs[0].timestamp, unreadable=NOT_ASKED_BLOCKED)
    assert known[3] == Sighting(refs[3].timestamp, unreadable=NOT_ASKED_BLOCKED)
    assert plan.state.fetched == 0, "no replay request counted"
    saved = json.loads((tmp_path / "state.json").read_text()) if (tmp_path / "state.json").exists() else {}
    assert "blocked" not in json.dumps(saved), "judged again from the listing by the next run"


def test_every_home_page_blocked_asks_nothing_and_says_each(tmp_path: Path) -> None:
    refs = rows(set(range(12)))
    plan = plan_of(refs, tmp_path / "state.json")

    assert list(plan.start()) == []

    assert plan.finished
    assert plan.state.fetched == 0
    assert [sighting.unreadable for sighting in plan.state.sightings()] == [NOT_ASKED_BLOCKED] * len(refs)
