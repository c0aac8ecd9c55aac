"""Backfill's progress line: how many captures it will examine once the listings are read (`--strategy all`,
`--verify-spans`), with share and time left; only a bound while bisect searches (audit finding 8).

The fetch plan is driven in-process with answers the crawler would give (no reactor), and the progress line
written on every answer (interval 0), as a log shows one every few seconds; the real command's last line too.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from standin.archive import StandinArchive
from standin.cli import run_cli
from test_backfill_e2e import URL, acrcloud_history, write_config

from policy_archive.config.settings import load_config
from policy_archive.crawler.sources import archive_source
from policy_archive.digests import PayloadDigest
from policy_archive.pipeline.jobs.backfill_plan import DocumentPlan
from policy_archive.pipeline.jobs.progress import Progress
from policy_archive.pipeline.jobs.spider_plan import BackfillPlan
from policy_archive.pipeline.jobs.strategy import StrategyName
from policy_archive.pipeline.jobs.workspace import open_workspace
from policy_archive.records import CaptureRef, FetchFailure

DOC = "acrcloud/privacy-policy"
START = datetime(2017, 1, 3, tzinfo=UTC)


def listed(count: int) -> list[CaptureRef]:
    """Weekly captures whose bytes all differ, with no lengths listed."""
    return [
        CaptureRef(URL, START + timedelta(days=7 * i), 200, "text/html", PayloadDigest.parse(f"DIGEST{i}"), None)
        for i in range(count)
    ]


def lines_while_failing(tmp_path, strategy: StrategyName, count: int, *, answers: int) -> list[str]:
    """The progress lines of a backfill of ``count`` listed captures whose first ``answers`` fetches fail (a
    failure is examined like any answer, and the search goes on around it)."""
    # No archive is asked: the answers are made here (the address is a closed port).
    directory = write_config(tmp_path / "config", None, cdx_url="http://127.0.0.1:9/cdx")
    config = load_config(str(directory), str(tmp_path / "data"))
    stream = io.StringIO()
    progress = Progress("backfill", stream=stream, interval=0)
    progress.expect(None, "captures examined", one="capture examined")
    with open_workspace(config, "backfill") as workspace:
        refs = listed(count)
        workspace.catalog.add_listed(DOC, refs)
        source = archive_source(config.settings.wayback)
        plan = DocumentPlan(config.documents[0], refs, strategy, source, ())
        fetching = BackfillPlan(workspace, {DOC: plan}, progress)
        progress.estimate(fetching.left)
        requests = list(fetching.start())
        for _ in range(answers):
            requests += fetching.handle(FetchFailure(requests.pop(0), "the connection was refused"))
    return [line.split(", ")[0] for line in stream.getvalue().splitlines()]


def test_all_shows_how_many_captures_are_left(tmp_path):
    assert lines_while_failing(tmp_path, StrategyName.ALL, 4, answers=3) == [
        "backfill: 1/4 captures examined (25 %)",
        "backfill: 2/4 captures examined (50 %)",
        "backfill: 3/4 captures examined (75 %)",
    ]


def test_bisect_shows_only_a_bound_while_it_searches(tmp_path):
    assert lines_while_failing(tmp_path, StrategyName.BISECT, 40, answers=2) == [
        "backfill: 1 capture examined of at most 40",
        "backfill: 2 captures examined of at most 40",
    ]


@pytest.mark.parametrize(
    ("options", "final"),
    [
        (("--strategy", "all"), r"backfill: (\d+)/\1 captures examined \(100 %\), "),
        ((), r"backfill: (\d+)/\1 captures examined \(100 %\), "),  # bisect's search over: nothing left, exactly
        (("--verify-spans",), r"backfill: (\d+)/\1 captures examined \(100 %\), "),
    ],
)
def test_the_last_line_says_every_capture_to_examine_was(tmp_path, options, final):
    with StandinArchive().start() as archive:
        acrcloud_history(archive)
        config = write_config(tmp_path / "config", archive)
        result = run_cli(config, tmp_path / "data", "backfill", *options)
    assert result.returncode == 0, result.stderr
    last = next(line for line in reversed(result.stderr.splitlines()) if line.startswith("backfill: "))
    assert re.match(final, last), result.stderr


# A line of `backfill --verbose` while bisect searches (captures refused counted once one is).
SEARCHING = re.compile(
    r"backfill: (?P<done>\d+) captures? examined of at most (?P<most>\d+), (?P<listed>\d+) captures listed, "
    r"(?P<fetched>\d+) fetched, (?:\d+ refused, )?(?P<requests>\d+) replay requests?, (?P<spans>\d+) spans? to "
    r"search, (?:(?P<fewest>\d+) to )?(?P<left>\d+) left(?:, [\d.]+/(?:s|min|h))?(?:, ETA at least (?P<least>[\d:]+))?"
)
# A line once how many captures are left is known (`--strategy all`; bisect's search over).
KNOWN = re.compile(
    r"backfill: (?P<done>\d+)/(?P<total>\d+) captures examined \(\d+ %\), \d+ captures listed, \d+ fetched, "
    r"(?:\d+ refused, )?(?:.* versions? recorded .*, )?(?P<requests>\d+) replay requests?, [\d.]+/(?:s|min|h)"
    r"(?:, ETA \d+:\d\d:\d\d)?"
)


def verbose_backfill(tmp_path, *options: str) -> tuple[list[str], int]:
    """The progress lines of `backfill --verbose` (a line at every step) on the stand-in archive at 120 replay
    requests a minute, and how many replay requests the archive answered."""
    with StandinArchive().start() as archive:
        acrcloud_history(archive)
        config = write_config(tmp_path / "config", archive)
        settings = config / "settings.toml"
        settings.write_text(settings.read_text().replace("replay_per_minute = 60000", "replay_per_minute = 120"))
        result = run_cli(config, tmp_path / "data", "--verbose", "backfill", *options)
        replays = archive.counts()["replay"]
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("backfill: ")], replays


def test_while_bisect_searches_each_line_says_what_is_sure_of_the_work_left(tmp_path):
    """No estimate of the time left while the search decides what to fetch, only bounds: the spans still
    searched, the captures left between those chosen and every capture not seen, and the least time those chosen
    take at the configured rate (one request each); the requests are the archive's count."""
    lines, replays = verbose_backfill(tmp_path)
    bounded = [line for line in lines if " of at most " in line]
    searching = [SEARCHING.fullmatch(line) for line in bounded]
    assert len(searching) >= 3 and all(searching), bounded
    examined = []
    for match in searching:
        assert match is not None
        done, most, left, spans = (int(match[name]) for name in ("done", "most", "left", "spans"))
        examined.append(done)
        fewest = int(match["fewest"] or left)
        assert done + left == most and 1 <= fewest <= left and spans >= 1, match[0]
        assert int(match["requests"]) >= int(match["fetched"]) == done, match[0]
        least = round(fewest / 2)  # 120 requests a minute: two a second at most
        assert match["least"] == (str(timedelta(seconds=least)) if least >= 1 else None), match[0]
    final = KNOWN.fullmatch(lines[-1])
    assert final is not None, lines[-1]
    assert examined == sorted(examined) and examined[-1] < int(final["total"]), examined
    assert final["done"] == final["total"] and "ETA" not in lines[-1], lines[-1]
    assert int(final["requests"]) == replays, (lines[-1], replays)


def test_a_known_total_shows_a_time_left_and_counts_each_redirect_followed(tmp_path):
    """`--strategy all`: every line knows the captures left and gives a time left; the archived redirect
    followed (a capture of two requests) is counted among the requests, as the archive counted it."""
    lines, replays = verbose_backfill(tmp_path, "--strategy", "all")
    known = [match for line in lines if (match := KNOWN.fullmatch(line))]
    assert known and all("of at most" not in line for line in lines), lines
    assert all("ETA" in match[0] for match in known if match["done"] != match["total"]), lines
    final = known[-1]
    assert final["done"] == final["total"] and int(final["requests"]) == replays > int(final["done"]), lines[-1]
