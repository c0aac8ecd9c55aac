"""The guards' refusals (a text far shorter than the previous version) are made when the versions are made, from the
history around a text: every backfill judges them again, as a backfill from nothing and `reextract --rebuild` do,
and a plain `reextract`, which decides extraction only, keeps them (docs/decisions/0004, amendment of 2026-11-28
(guards)).

Before 2026-11-28 a text the guards refused stayed unknown to every later backfill (a refused capture showed
nothing), so a text refused once was refused again at each later capture taken alone, where a backfill from nothing
records it once captured on a second day; and a plain `reextract` made the refused capture extracted, after which
the next backfill did record it. The history depended on whether a `reextract` had run in between.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_backfill_accounting import replays_of
from test_backfill_resilience import START, V1, V2, V3, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured
from test_redirect_dates import rebuilt_as_backfilled, refusals, versions_of

BLOATED = V2 + [f"Appendix line {n}: " + "lorem ipsum dolor sit amet " * 20 for n in range(200)]
FIELDS = ("date", "unchanged_since", "snapshot_url", "subject", "note")
# The third capture only: V3, far shorter than the bloated version before it, is seen on one day.
UNTIL_THE_THIRD = "2014-03-04"


def refused_once(reason: str | None) -> bool:
    """The guards' words for a text far shorter than the previous version, seen on one day (its share of the
    previous length depends on the seed text)."""
    return (reason or "").startswith("far shorter than the previous version (") and (reason or "").endswith(
        " of its length); recorded once captured on 2 different days"
    )


def bloated_then_shorter(archive: StandinArchive) -> None:
    """V1, a bloated V2, then V3 (far shorter) twice, 10 days apart (test_fidelity's length-drop history)."""
    for n, text in enumerate([V1, BLOATED, V3, V3]):
        archive.add_capture(URL, ts(START + timedelta(days=10 * n)), page(text, str(n)))


def backfilled(config, data, strategy: str, *until: str) -> list[dict]:
    until_args = ["--until", *until] if until else []
    result = run_cli(config, data, "backfill", DOC, "--strategy", strategy, *until_args)
    assert result.returncode == 0, result.stderr
    return versions_of(config, data)


def shown(versions: list[dict]) -> list[list[str]]:
    return [[version[field] for field in FIELDS] for version in versions]


def texts_refused(data) -> dict[str, str]:
    return {row["captured_at"]: row["body_sha1"] for row in catalog_rows(data) if row["outcome"] == "refused"}


def test_plain_reextract_keeps_a_guard_refusal_with_its_text(standin_archive, tmp_path):
    """Before 2026-11-28 `reextract` made the refused capture extracted: `status` no longer named the refusal,
    and the next backfill recorded the text. Now the refusal, its reason and its text stay; no commit; a backfill
    of the same period and a rebuild decide the same."""
    bloated_then_shorter(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    versions = backfilled(config, data, "all", UNTIL_THE_THIRD)
    refused = refusals(data)
    assert [(when, url) for when, url, _ in refused] == [("2014-02-23T04:05:06Z", URL)]
    assert refused_once(refused[0][2])
    texts = texts_refused(data)
    assert all(texts.values()), "a capture the guards refused keeps its text"
    commits = git(data / "versions", "rev-list", "--all")

    reextracted = run_cli(config, data, "reextract")
    assert reextracted.returncode == 0, reextracted.stderr
    assert refusals(data) == refused
    assert texts_refused(data) == texts
    assert git(data / "versions", "rev-list", "--all") == commits
    assert "refused captures: 1 far shorter than the previous version" in run_cli(config, data, "status").stdout
    checked = run_cli(config, data, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    assert shown(backfilled(config, data, "all", UNTIL_THE_THIRD)) == shown(versions)
    assert refusals(data) == refused
    rebuilt_as_backfilled(tmp_path, versions, refused)


@pytest.mark.parametrize("strategy", ["bisect", "all"])
@pytest.mark.parametrize("reextract_between", [False, True])
def test_a_text_refused_once_is_recorded_when_a_later_backfill_finds_it_on_a_second_day(
    standin_archive, tmp_path, strategy, reextract_between
):
    """A backfill up to the third capture refuses V3 (seen on one day); a backfill of the whole listing then finds
    it on a second day and records it, dated at its first capture, as a backfill from nothing does, whether or not
    a plain `reextract` ran in between. Before 2026-11-28 the first capture stayed refused and unknown, the second,
    alone, was refused too, and V3 was never recorded (unless a `reextract` had run in between)."""
    bloated_then_shorter(standin_archive)
    fresh = backfilled(*configured(standin_archive, tmp_path / "fresh"), strategy)
    assert len(fresh) == 3 and fresh[-1]["date"] == "2014-02-23T04:05:06Z"
    assert "captured on 2 different days" in fresh[-1]["note"]

    config, data = configured(standin_archive, tmp_path)
    assert len(backfilled(config, data, strategy, UNTIL_THE_THIRD)) == 2
    assert [refused_once(reason) for _, _, reason in refusals(data)] == [True]
    if reextract_between:
        assert run_cli(config, data, "reextract").returncode == 0
    assert shown(backfilled(config, data, strategy)) == shown(fresh)
    assert refusals(data) == [], "the guards' refusal lifted: the text is a version"
    rebuilt_as_backfilled(tmp_path, fresh, [])


def test_a_guard_refusal_passed_to_a_twin_is_judged_again_with_its_text(standin_archive, tmp_path):
    """A text far shorter than the previous version, captured twice on one day (one fetch, its twin listed before it
    known at no cost): refused, the twin too (test_backfill_accounting). A rerun refuses both again, as before; once
    the text is captured on another day, it is recorded at the twin, its first capture, as from nothing, and the
    twin is never fetched."""
    short = ts(START + timedelta(days=10))
    standin_archive.add_capture(URL, ts(START), page(BLOATED, "a"))
    standin_archive.add_capture(URL, short, page(V1, "b"))
    standin_archive.add_capture(URL, ts(START + timedelta(days=10, hours=1)), page(V1, "b"))
    standin_archive.add_capture(URL, ts(START + timedelta(days=20)), page(V1, "c"))
    until = (START + timedelta(days=15)).date().isoformat()
    config, data = configured(standin_archive, tmp_path)
    backfilled(config, data, "bisect", until)
    refused = refusals(data)
    twin_prefix = "same bytes as the capture of 20140213050506: "
    assert refused[0][2].startswith(twin_prefix) and refused_once(refused[0][2].removeprefix(twin_prefix))
    assert refused_once(refused[1][2])

    backfilled(config, data, "bisect", until)
    assert refusals(data) == refused
    recorded = backfilled(config, data, "bisect")
    assert refusals(data) == []
    assert recorded[-1]["date"] == "2014-02-13T04:05:06Z"
    assert replays_of(standin_archive, short) == 0, "known through its twin, in every run"
    fresh = backfilled(*configured(standin_archive, tmp_path / "fresh"), "bisect")
    assert shown(recorded) == shown(fresh)
