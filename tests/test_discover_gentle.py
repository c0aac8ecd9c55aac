"""`discover` is as gentle with the archive as backfill: a 429 pauses every request to it (the shared limiter), the
same request is asked again a bounded number of times, and only then is the domain reported as not read, with
why — never as "no link found", never with eras settled from what the archive refused to serve. The settings
make the pause 0 s (standin.cli.write_archive_settings), so nothing here depends on timing."""

from __future__ import annotations

import json
import re
import tomllib
import urllib.error
import urllib.request

import pytest
from standin.archive import StandinArchive
from standin.moving_site import build
from test_discover import run_discover, write_settings
from test_discover_list import cdx_asked_for, eras_declared, failed_lines, truth_of

from policy_archive.crawler.middlewares import MAX_ARCHIVE_PAUSES
from policy_archive.crawler.settings import ARCHIVE_CONCURRENCY
from policy_archive.crawler.sources.base import LISTING_ATTEMPTS

STEP_DAYS = 45  # ~100 home-page captures over 12 years: three eras, a quick search
ASKED_PER_CAPTURE = MAX_ARCHIVE_PAUSES + 1  # a replay refused is asked again after each pause, then given up


def declared(stdout: str) -> list[tuple[str, str]]:
    """(url, valid_until) of each history entry of a printed declaration, then (url, "") for its current URL."""
    document = tomllib.loads(stdout)["documents"]["privacy-policy"]
    return [(entry["url"], entry["valid_until"]) for entry in document.get("history", [])] + [(document["url"], "")]


def stop_refusing(archive: StandinArchive) -> None:
    """Take the refusals still queued, through the archive's own door: the archive serves again."""
    while True:
        try:
            urllib.request.urlopen(f"{archive.replay_url}/20100101000000id_/http://drain.example/", timeout=5)
        except urllib.error.HTTPError as answer:
            if answer.code != 429:
                return
        else:
            return


LISTING_REFUSALS = [(429, "Too Many Requests"), (503, "Service Unavailable")]


@pytest.mark.parametrize(("status", "reason"), LISTING_REFUSALS)
def test_a_listing_refused_for_now_is_asked_again_after_the_pause_and_the_declaration_is_right(
    tmp_path, standin_archive, status, reason
):
    truth = build(standin_archive, step_days=STEP_DAYS)
    config = write_settings(tmp_path / "config", standin_archive)
    standin_archive.refuse_next(LISTING_ATTEMPTS - 1, status=status, endpoint="cdx")
    result = run_discover(config, tmp_path / "data", "discover", "example.org", timeout=300)
    assert result.returncode == 0, result.stderr
    assert declared(result.stdout) == truth_of(truth)
    assert cdx_asked_for(standin_archive, "example.org") == LISTING_ATTEMPTS
    assert "FAILED" not in result.stderr


@pytest.mark.parametrize(("status", "reason"), LISTING_REFUSALS)
def test_a_listing_refused_every_time_fails_the_domain_in_one_line_and_the_next_run_reads_it(
    tmp_path, standin_archive, status, reason
):
    truth = build(standin_archive, step_days=STEP_DAYS)
    config = write_settings(tmp_path / "config", standin_archive)
    standin_archive.refuse_next(LISTING_ATTEMPTS, status=status, endpoint="cdx")
    refused = run_discover(config, tmp_path / "data", "discover", "example.org", timeout=300)
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout == "" and "Traceback" not in refused.stderr
    (line,) = failed_lines(refused.stderr)
    assert line.startswith("FAILED example.org: archive listing failed: cannot list the captures of ")
    assert f"answered {status} {reason}" in line and re.search(
        rf"\(asked {LISTING_ATTEMPTS} times; gave up: a run started within \d+ s", line
    )
    assert cdx_asked_for(standin_archive, "example.org") == LISTING_ATTEMPTS
    assert standin_archive.counts()["replay"] == 0

    again = run_discover(config, tmp_path / "data", "discover", "example.org", timeout=300)
    assert again.returncode == 0, again.stderr
    assert declared(again.stdout) == truth_of(truth)


def test_replays_refused_with_429_are_asked_again_after_the_pause_and_the_declaration_is_right(
    tmp_path, standin_archive
):
    truth = build(standin_archive, step_days=STEP_DAYS)
    config = write_settings(tmp_path / "config", standin_archive)
    standin_archive.refuse_next(MAX_ARCHIVE_PAUSES, status=429, endpoint="replay")
    result = run_discover(config, tmp_path / "data", "discover", "example.org", timeout=300)
    assert result.returncode == 0, result.stderr
    assert declared(result.stdout) == truth_of(truth)
    assert "not fetched" not in result.stderr
    refused = [request for request in standin_archive.requests if request.status == 429]
    assert len(refused) == MAX_ARCHIVE_PAUSES
    # Each refused capture was asked again (and served): none was searched around.
    served = {request.path for request in standin_archive.requests if request.status != 429}
    assert {request.path for request in refused} <= served


def replays_of(archive: StandinArchive, domain: str) -> list[str]:
    return [request.path for request in archive.requests if request.endpoint == "replay" and domain in request.path]


def stamp(iso: str) -> str:
    """``20100101093000`` of ``2010-01-01T09:30:00Z``: how a replay path names the capture."""
    return "".join(character for character in iso if character.isdigit())


def test_an_archive_that_keeps_refusing_replays_stops_each_domain_and_a_rerun_continues(tmp_path, standin_archive):
    archive = standin_archive
    truth = build(archive, step_days=STEP_DAYS, domain="moving.example")
    other = build(archive, step_days=STEP_DAYS, domain="other.example")
    config = write_settings(tmp_path / "config", archive)
    data = tmp_path / "data"
    # From the 7th replay request on, the archive refuses every replay: moving.example's search is under way.
    archive.when_asked("id_/", lambda: archive.refuse_next(10_000, status=429, endpoint="replay"), nth=6)
    command = ("discover", "moving.example", "other.example", "--write")
    first = run_discover(config, data, *command, timeout=300)

    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr
    assert "no privacy-policy link found" not in first.stderr  # a refusal is never "no link"
    failed = failed_lines(first.stderr)
    assert [line.split(":", 1)[0] for line in failed] == ["FAILED moving.example", "FAILED other.example"]
    for line in failed:  # the list went on to other.example, refused as well
        assert ": the archive kept answering 429 after every pause (capture 20" in line, line
        assert line.endswith("read and kept, run again later to continue"), line
    assert first.stderr.splitlines()[-1] == "2 domains: 0 declarations written, 0 unsure, 2 failed"
    assert not any((config / "services").iterdir())
    # Once a capture was given up, the domain's search asked for nothing new: only the captures already in
    # flight (at most the crawl's concurrency) were asked again, each at most as often as the pauses allow.
    for domain, answered in (("moving.example", 6), ("other.example", 0)):
        asked = replays_of(archive, domain)
        assert len(set(asked)) <= answered + ARCHIVE_CONCURRENCY, (domain, len(set(asked)))
        assert len(asked) <= answered + ARCHIVE_CONCURRENCY * ASKED_PER_CAPTURE, (domain, len(asked))
    # What moving.example showed before the refusals is kept; no refusal is kept as a reading.
    state = json.loads((data / "discovery" / "moving.example.privacy-policy.json").read_text())
    kept = state["sightings"]
    assert kept and all("429" not in (sighting["unreadable"] or "") for sighting in kept)

    stop_refusing(archive)
    archive.clear_log()
    second = run_discover(config, data, *command, timeout=300)
    assert second.returncode == 0, second.stderr
    assert eras_declared(config / "services" / "moving.example.toml") == truth_of(truth)
    assert eras_declared(config / "services" / "other.example.toml") == truth_of(other)
    asked_again = replays_of(archive, "moving.example")
    assert not [path for path in asked_again for sighting in kept if f"/{stamp(sighting['timestamp'])}id_/" in path]
