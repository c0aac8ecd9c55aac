"""Lost or missing state, through the real command line: Git objects deleted from the versions repository, a
catalog set aside (rebuilt from the WARC files), a data directory that is not there. Each is repaired when that
is safe, or refused in one line naming the command that repairs it; nothing already downloaded is fetched again."""

from __future__ import annotations

import pytest
from standin.cli import run_cli
from test_hostile import assert_one_line, write_config

GOOD_DOCUMENT = '[documents.privacy-policy]\nurl = "https://acme.example/privacy"\n'


@pytest.mark.parametrize("command", ["reextract", "repair"])
def test_a_command_on_collected_data_refuses_a_data_directory_holding_none_and_creates_nothing(tmp_path, command):
    config = write_config(tmp_path / "config", {"acme": 'name = "ACME"\n' + GOOD_DOCUMENT})
    missing = tmp_path / "nothing-here"
    assert_one_line(run_cli(config, missing, command), 2, f"no data in {missing}", "backfill")
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line(run_cli(config, empty, command), 2, f"no data in {empty}")
    assert list(empty.iterdir()) == []
