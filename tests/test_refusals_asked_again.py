"""Refusals made on the archive's own answer (not-archived: a replay without Memento-Datetime, ...) are asked again
when the archive configuration changes, and when `backfill --retry-refused` says so; final ones never are (outside
audit 31, F3: a `replay_url` mistake made every replay a 404, and the history stayed lost once it was fixed).

The real CLI runs against the stand-in archive (tests/standin/archive.py), as in test_backfill_accounting.py.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import git, run_cli
from test_backfill_accounting import replays_of
from test_backfill_resilience import START, V1, V2, page, ts
from test_fidelity import DOC, URL, catalog_rows, configured

from policy_archive.pipeline.commands.collect import backfill

MOMENTS = [ts(START + timedelta(days=10 * n)) for n in range(6)]
# What a backfill from nothing records from the history below (V1 from the first capture, V2 from the fourth).
DATES = ["2014-02-03T04:05:06+00:00", "2014-03-05T04:05:06+00:00"]


def two_versions(archive: StandinArchive) -> None:
    for n, moment in enumerate(MOMENTS):
        archive.add_capture(URL, moment, page(V1 if n < 3 else V2, moment))


def set_replay_url(config: Path, replay_url: str) -> None:
    settings = config / "settings.toml"
    lines = settings.read_text().splitlines(keepends=True)
    settings.write_text("".join(f'replay_url = "{replay_url}"\n' if x.startswith("replay_url") else x for x in lines))


def dates(data: Path) -> list[str]:
    return git(data / "versions", "log", "--reverse", "--format=%aI", "main").splitlines()


def replays(archive: StandinArchive) -> int:
    return archive.counts()["replay"]


NOT_ARCHIVED_ALONE = "{} not-archived refused on the archive's answer alone"


def test_refusals_made_under_another_replay_url_are_asked_again_once(standin_archive, tmp_path):
    """A replay_url naming a path the archive does not serve: every replay a 404 without Memento-Datetime, every
    capture refused not-archived, and the FAILED line names the way out. Once replay_url is fixed, the next plain
    backfill asks them again and records what a backfill from nothing records; the one after asks nothing."""
    two_versions(standin_archive)
    config, data = configured(standin_archive, tmp_path)
    wrong = f"{standin_archive.base_url}/elsewhere"
    set_replay_url(config, wrong)

    first = run_cli(config, data, "backfill", DOC)
    assert first.returncode == 1, first.stderr
    failed = f"FAILED {DOC}: no version: 6 captures listed, all refused (6 not-archived)"
    assert failed in first.stderr.splitlines(), first.stderr
    assert f"{DOC}: {NOT_ARCHIVED_ALONE.format(6)}: backfill --retry-refused asks them again" in first.stderr
    rows = catalog_rows(data)
    assert {(r["outcome"], r["replay_url"]) for r in rows} == {("refused", wrong)}, "each refusal names its archive"

    set_replay_url(config, standin_archive.replay_url)
    standin_archive.clear_log()
    fixed = run_cli(config, data, "backfill", DOC)
    assert fixed.returncode == 0, fixed.stderr
    assert dates(data) == DATES
    # Each replay_url by scheme and host only: its path may hold the archive's token (issue 11).
    shown = "http://127.0.0.1/… (the rest not shown: it may hold a secret token)"
    assert f"{DOC}: 6 captures refused on the archive's answer to an earlier replay_url ({shown}), now {shown}: " in (
        fixed.stderr
    )
    assert "/elsewhere" not in fixed.stderr
    assert all(r["outcome"] != "refused" for r in catalog_rows(data))

    standin_archive.clear_log()
    again = run_cli(config, data, "backfill", DOC)
    assert again.returncode == 0, again.stderr
    assert replays(standin_archive) == 0, "asked again once, not on every run"
    assert dates(data) == DATES


def test_a_passing_refusal_is_asked_again_when_told_and_only_then(standin_archive, tmp_path):
    """The archive answers without Memento-Datetime for a while (an outage, a proxy), under the same configuration:
    a plain backfill never asks again (the archive is spared), `--retry-refused` does, through the replay pacing."""
    two_versions(standin_archive)
    standin_archive.exclude_from_replay(URL)
    config, data = configured(standin_archive, tmp_path)
    assert run_cli(config, data, "backfill", DOC).returncode == 1
    standin_archive.replay_again(URL)

    standin_archive.clear_log()
    plain = run_cli(config, data, "backfill", DOC, "--strategy", "all", "--verify-spans")
    assert plain.returncode == 1
    assert replays(standin_archive) == 0, "a refusal under the same replay_url is not asked again unasked"
    assert f"FAILED {DOC}: no version: 6 captures listed, all refused (6 not-archived)\n" in plain.stderr
    assert f"{DOC}: {NOT_ARCHIVED_ALONE.format(6)}: backfill --retry-refused asks them again" in plain.stderr
    status = run_cli(config, data, "status").stdout
    assert "refused captures: 6 not-archived (backfill --retry-refused asks them again)" in status, status

    window = run_cli(config, data, "backfill", DOC, "--until", "2014-02-13", "--retry-refused")
    assert window.returncode == 0, window.stderr
    assert f"{DOC}: 2 captures refused on the archive's answer: candidates again (--retry-refused)" in window.stderr
    outside = catalog_rows(data)[2:]
    assert all(r["outcome"] == "refused" and r["reason"] for r in outside), "left with their reasons, not listed"

    told = run_cli(config, data, "backfill", DOC, "--retry-refused")
    assert told.returncode == 0, told.stderr
    assert f"{DOC}: 4 captures refused on the archive's answer: candidates again (--retry-refused)" in told.stderr
    assert dates(data) == DATES
    assert "replay request" in told.stderr, "counted among the paced replay requests"


def test_a_reason_asks_again_its_own_refusals_only_and_final_ones_never(standin_archive, tmp_path):
    """`--retry-refused=not-archived` asks again the captures refused so; a digest mismatch (the bytes served say
    so) is final: never asked again, and naming it is a usage error that writes nothing."""
    forged, *others = MOMENTS
    two_versions(standin_archive)
    standin_archive.serve_other_bytes(URL, forged, page(V1, "another site's policy"))
    config, data = configured(standin_archive, tmp_path)
    assert run_cli(config, data, "backfill", DOC, "--until", "2014-02-03").returncode == 1  # the forged one alone
    standin_archive.exclude_from_replay(URL)
    assert run_cli(config, data, "backfill", DOC, "--strategy", "all").returncode == 1
    standin_archive.replay_again(URL)
    reasons = [r["reason"].split(":")[0] for r in catalog_rows(data)]
    assert reasons == ["digest-mismatch"] + ["not-archived"] * len(others)

    standin_archive.clear_log()
    final = run_cli(config, data, "backfill", DOC, "--retry-refused=digest-mismatch")
    assert final.returncode == 2
    assert "'digest-mismatch' is no refusal asked again" in final.stderr and "final" in final.stderr
    assert replays(standin_archive) == 0

    doc_first = run_cli(config, data, "backfill", "--retry-refused", DOC)
    assert doc_first.returncode == 2 and "a DOC goes before --retry-refused" in doc_first.stderr

    told = run_cli(config, data, "backfill", DOC, "--strategy", "all", "--retry-refused=not-archived")
    assert told.returncode == 0, told.stderr
    assert replays_of(standin_archive, forged) == 0, "a final refusal is never asked again"
    assert all(replays_of(standin_archive, moment) == 1 for moment in others)
    assert [r["outcome"] for r in catalog_rows(data)][0] == "refused"
    assert dates(data) == ["2014-02-13T04:05:06+00:00", "2014-03-05T04:05:06+00:00"]


def test_refusals_of_a_catalog_from_before_are_asked_again_when_told(standin_archive, tmp_path):
    """A catalog made before the replay_url column: opening it adds the column, its refusals name no archive, so a
    plain backfill leaves them (which archive refused them is not known) and `--retry-refused` asks them again."""
    two_versions(standin_archive)
    standin_archive.exclude_from_replay(URL)
    config, data = configured(standin_archive, tmp_path)
    assert run_cli(config, data, "backfill", DOC).returncode == 1
    standin_archive.replay_again(URL)
    with sqlite3.connect(data / "catalog.sqlite3") as connection:
        connection.execute("ALTER TABLE captures DROP COLUMN replay_url")  # as a release before 2026-11-29 left it
    connection.close()

    standin_archive.clear_log()
    plain = run_cli(config, data, "backfill", DOC)
    assert plain.returncode == 1 and replays(standin_archive) == 0
    assert {r["replay_url"] for r in catalog_rows(data)} == {None}, "the column is back, the archive not known"

    told = run_cli(config, data, "backfill", DOC, "--retry-refused")
    assert told.returncode == 0, told.stderr
    assert dates(data) == DATES


def test_the_help_names_every_refusal_asked_again():
    from policy_archive.crawler.sources.base import ASKED_AGAIN

    option = next(param for param in backfill.params if param.name == "retry_refused")
    assert all(kind in (option.help or "") for kind in ASKED_AGAIN)
