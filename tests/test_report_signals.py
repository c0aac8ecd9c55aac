"""SIGTERM or Ctrl-C (SIGINT) half-way through `report`: the real command line, held at a file it writes until the
test has signalled it (audit 11: the command ended with click's bare ``Aborted!``). It says in one line what was
stopped and what is left (exit 1, as a first stop signal ends every command): a first report leaves nothing, an
earlier report stays whole."""

from __future__ import annotations

import filecmp
import signal
import sys
from pathlib import Path

import pytest
from standin.cli import cli_command, run_cli
from test_export_signals import stopped

from policy_archive.pipeline.webreport.state import STATE_FILE


def same_files(left: Path, right: Path) -> list[str]:
    """What differs between two directories' trees (files only on one side, files of other bytes), recursively."""
    comparison = filecmp.dircmp(left, right)
    differ = [*comparison.left_only, *comparison.right_only, *comparison.diff_files]
    return differ + [f"{name}/{d}" for name in comparison.common_dirs for d in same_files(left / name, right / name)]


# Called once per file the report writes: each document's pages and feed first, then the site's own files (those of
# documents left unchanged are not written).
HOLD_DOCUMENT = "policy_archive.pipeline.webreport.document_files:write_if_changed"
HOLD_SITE = "policy_archive.pipeline.webreport.build:write_if_changed"


def held_report(
    config: Path, data: Path, tmp_path: Path, output: Path, nth: int, hold: str = HOLD_DOCUMENT
) -> tuple[list[str], Path, Path]:
    """``report --output OUTPUT`` held before its ``nth`` file (of a document, or the site's own with ``HOLD_SITE``),
    and the files it makes when held and waits for."""
    reached, go = tmp_path / "held-reached", tmp_path / "held-go"
    command = [sys.executable, "-m", "standin.held_call", str(reached), str(go), hold, str(nth), "--"]
    return [*command, *cli_command(config, data, "report", "--output", str(output))[3:]], reached, go


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_first_report_stopped_half_way_leaves_nothing_and_says_so(recorded, tmp_path, name):
    config, data = recorded
    output = tmp_path / "site"
    command, reached, go = held_report(config, data, tmp_path, output, nth=2)  # one file written already
    status, said = stopped(command, tmp_path, reached, go, getattr(signal, name))

    assert status == 1, said
    assert "Traceback" not in said and "Aborted!" not in said, said
    assert said.splitlines()[-1] == (
        f"policy-archive: report to {output} stopped by {name} before it was complete: nothing written "
        f"(no report left in {output})"
    )
    assert not output.exists()


def test_a_report_stopped_over_an_earlier_one_leaves_it_whole(recorded, tmp_path):
    config, data = recorded
    output, before = tmp_path / "site", tmp_path / "before"
    assert run_cli(config, data, "report", "--output", str(output)).returncode == 0
    assert run_cli(config, data, "report", "--output", str(before)).returncode == 0
    # Nothing changed since the earlier report: no document is written again, the first file is the site's own.
    command, reached, go = held_report(config, data, tmp_path, output, nth=1, hold=HOLD_SITE)
    status, said = stopped(command, tmp_path, reached, go, signal.SIGINT)

    assert status == 1, said
    assert said.splitlines()[-1] == (
        f"policy-archive: report to {output} stopped by SIGINT before it was complete: every file in {output} is "
        "whole, the earlier report's or this run's; the next report writes the rest"
    )
    comparison = filecmp.dircmp(before, output)
    assert comparison.left_only == comparison.right_only == comparison.diff_files == []


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_report_forced_into_ones_own_directory_and_stopped_is_completed_by_the_next_without_force(
    recorded, tmp_path, name
):
    """Until 2026-11-29 a `report --force` into a directory that was no report, stopped half-way, left it without
    the state file (written last), so the next report refused it again as someone's own. The state file is now
    written first: the next report completes it without --force, and nothing of the directory's own is removed."""
    config, data = recorded
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine\n")
    (home / "index.html").write_text("<p>my home page</p>\n")
    command, reached, go = held_report(config, data, tmp_path, home, nth=2)
    command.append("--force")
    status, said = stopped(command, tmp_path, reached, go, getattr(signal, name))

    assert status == 1, said
    assert said.splitlines()[-1] == (
        f"policy-archive: report to {home} stopped by {name} before it was complete: every file it wrote in {home} "
        f"is whole, and its state file ({STATE_FILE}) there makes the next report, without --force, write the rest"
    )
    assert (home / "notes.txt").read_text() == "mine\n"
    assert (home / STATE_FILE).is_file()
    again = run_cli(config, data, "report", "--output", str(home))
    assert again.returncode == 0, again.stderr
    assert "1 page written" in again.stderr
    assert "my home page" not in (home / "index.html").read_text(encoding="utf-8")
    assert (home / "notes.txt").read_text() == "mine\n"
    finished = tmp_path / "finished"
    assert run_cli(config, data, "report", "--output", str(finished)).returncode == 0
    assert same_files(finished, home) == ["notes.txt"]


def test_a_first_report_killed_outright_is_completed_by_the_next(recorded, tmp_path):
    """kill -9 leaves what a first report wrote (no handler runs): its state file, written before any page, makes
    the directory a report's, which the next run completes; before 2026-11-29 it was refused as someone's own."""
    config, data = recorded
    output = tmp_path / "site"
    command, reached, go = held_report(config, data, tmp_path, output, nth=2)
    status, said = stopped(command, tmp_path, reached, go, signal.SIGKILL)

    assert status != 0, said
    assert (output / STATE_FILE).is_file() and not (output / "index.html").exists()
    again = run_cli(config, data, "report", "--output", str(output))
    assert again.returncode == 0, again.stderr
    finished = tmp_path / "finished"
    assert run_cli(config, data, "report", "--output", str(finished)).returncode == 0
    assert same_files(finished, output) == []
