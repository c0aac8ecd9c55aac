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

HOLD = "policy_archive.pipeline.webreport.build:write_if_changed"  # called once per file the report writes


def held_report(config: Path, data: Path, tmp_path: Path, output: Path, nth: int) -> tuple[list[str], Path, Path]:
    """``report --output OUTPUT`` held before its ``nth`` file, and the files it makes when held and waits for."""
    reached, go = tmp_path / "held-reached", tmp_path / "held-go"
    command = [sys.executable, "-m", "standin.held_call", str(reached), str(go), HOLD, str(nth), "--"]
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
    command, reached, go = held_report(config, data, tmp_path, output, nth=1)
    status, said = stopped(command, tmp_path, reached, go, signal.SIGINT)

    assert status == 1, said
    assert said.splitlines()[-1] == (
        f"policy-archive: report to {output} stopped by SIGINT before it was complete: every file in {output} is "
        "whole, the earlier report's or this run's; the next report writes the rest"
    )
    comparison = filecmp.dircmp(before, output)
    assert comparison.left_only == comparison.right_only == comparison.diff_files == []
