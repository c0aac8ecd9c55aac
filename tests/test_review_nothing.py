"""`log`, `show` and `diff` when there is nothing to give: `show` and `diff` asked for a version the document
does not have fail that document (the contract's `FAILED SERVICE/DOC: reason`, exit 1); `log` lists the versions
there are, and none is a complete answer (exit 0, `[]` with --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_data import copy_of, recorded_history
from standin.cli import run_cli
from test_hostile import GOOD_DOCUMENT, write_config
from test_lock import hold_lock, release

DOC = "acrcloud/privacy-policy"  # versions of 2017-01-03 and 2018-05-28
NEVER_COLLECTED = "acrcloud/terms-of-service"  # declared after the backfill: no version
BEFORE_FIRST = f"FAILED {DOC}: no version on or before 2016-01-01 (the first is from 2017-01-03)"
NONE_YET = f"FAILED {NEVER_COLLECTED}: no recorded version yet"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    config, data = copy_of(recorded_history(tmp_path_factory.mktemp("recorded")), tmp_path_factory.mktemp("copy"))
    service = config / "services" / "acrcloud.toml"
    service.write_text(service.read_text() + '[documents.terms-of-service]\nurl = "https://www.acrcloud.com/terms"\n')
    return config, data


@pytest.mark.parametrize(
    ("arguments", "failed"),
    [
        (["show", DOC, "--at", "2016-01-01"], BEFORE_FIRST),
        (["diff", DOC, "--from", "2016-01-01", "--to", "2018-06-01"], BEFORE_FIRST),
        (["diff", DOC, "--to", "2016-01-01"], BEFORE_FIRST),
        (["show", NEVER_COLLECTED], NONE_YET),
        (["diff", NEVER_COLLECTED], NONE_YET),
    ],
)
def test_show_and_diff_of_a_version_the_document_lacks_name_it_as_failed(recorded, arguments, failed):
    result = run_cli(*recorded, *arguments)
    assert (result.returncode, result.stderr, result.stdout) == (1, failed + "\n", "")


@pytest.mark.parametrize(
    ("arguments", "printed"),
    [
        ([NEVER_COLLECTED], f"({NEVER_COLLECTED} has no recorded version yet)\n"),
        ([NEVER_COLLECTED, "--json"], "[]\n"),
    ],
)
def test_log_of_a_document_with_no_version_lists_none_and_succeeds(recorded, arguments, printed):
    result = run_cli(*recorded, "log", *arguments)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", printed)


def test_log_of_a_service_lists_each_document_with_or_without_versions(recorded):
    text = run_cli(*recorded, "log", "acrcloud")
    assert text.returncode == 0 and text.stderr == "", text.stderr
    assert text.stdout.endswith(f"\n\n{NEVER_COLLECTED}\n({NEVER_COLLECTED} has no recorded version yet)\n")
    as_json = run_cli(*recorded, "log", "acrcloud", "--json")
    assert as_json.returncode == 0 and {row["document"] for row in json.loads(as_json.stdout)} == {DOC}


def test_reads_during_the_first_writer_say_no_version_yet_and_what_runs(tmp_path):
    """Check of 2026-11-29: during the first backfill of a new data directory (its lock file alone there), `log`
    and `show` exited 2, `no data in DIR: nothing to log (run policy-archive backfill or track first)`, a usage
    error, while a backfill was running. They answer as for a document with no version yet, saying what runs."""
    config = write_config(tmp_path / "config", {"acme": 'name = "ACME"\n' + GOOD_DOCUMENT})
    data = tmp_path / "data"
    data.mkdir()
    holder = hold_lock(data)
    try:
        running = f"no recorded version yet: backfill acrcloud (PID {holder.pid}) is running"
        for command in (["show", "acme/privacy-policy"], ["diff", "acme/privacy-policy"]):
            result = run_cli(config, data, *command)
            assert (result.returncode, result.stderr, result.stdout) == (
                1,
                f"FAILED acme/privacy-policy: {running}\n",
                "",
            ), command
        result = run_cli(config, data, "log", "acme/privacy-policy")
        assert (result.returncode, result.stderr, result.stdout) == (0, "", f"(acme/privacy-policy has {running})\n")
        result = run_cli(config, data, "log", "acme", "--json")
        assert (result.returncode, result.stderr, result.stdout) == (0, "", "[]\n")
    finally:
        release(holder)
    # The writer gone and nothing kept: a data directory with no data, a usage error as before.
    result = run_cli(config, data, "log", "acme/privacy-policy")
    assert result.returncode == 2 and "no data in" in result.stderr, result.stderr
