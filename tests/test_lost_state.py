"""Lost or missing state, through the real command line: Git objects deleted from the versions repository, a
catalog set aside (rebuilt from the WARC files), a data directory that is not there. Each is repaired when that
is safe, or refused in one line naming the command that repairs it; nothing already downloaded is fetched again."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from review_data import recorded_history
from standin.cli import git, run_cli
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


# --- Git objects lost: reading refused in one line, `repair` rebuilds the history from the kept captures ----

DOCUMENT = "acrcloud/privacy-policy"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return recorded_history(tmp_path_factory.mktemp("recorded"))


@pytest.fixture
def history(recorded, tmp_path) -> tuple[Path, Path]:
    """A copy of a backfilled history (two versions, their captures in a WARC file) that a test may damage."""
    config, data = recorded
    shutil.copytree(data, tmp_path / "data")
    return config, tmp_path / "data"


def delete_all_objects(versions: Path) -> None:
    objects = versions / ".git" / "objects"
    for folder in objects.glob("??"):
        shutil.rmtree(folder)
    for pack in (objects / "pack").iterdir():
        pack.unlink()


def commits_of_main(versions: Path) -> list[str]:
    return git(versions, "log", "--format=%H %aI %s", "main").splitlines()


READERS = [
    ["log", DOCUMENT],
    ["show", DOCUMENT],
    ["diff", DOCUMENT],
    ["verify"],
    ["export", "--format", "jsonl", "--output", "{out}"],
]


def test_lost_git_objects_are_one_line_naming_repair_for_readers_and_writers(history):
    config, data = history
    delete_all_objects(data / "versions")
    out = data.parent / "out.jsonl"
    for command in [*READERS, ["reextract"], ["track"]]:
        arguments = [argument.format(out=out) for argument in command]
        line = assert_one_line(run_cli(config, data, *arguments), 1, "missing", "`policy-archive repair`")
        assert "refs/heads/main names" in line, line
    assert not out.exists()


@pytest.mark.parametrize("lost", ["every object", "one blob"])
def test_repair_rebuilds_a_history_whose_git_objects_were_lost_from_the_captures(history, lost):
    config, data = history
    versions = data / "versions"
    before = commits_of_main(versions)
    head = git(versions, "rev-parse", "main").strip()
    if lost == "every object":
        delete_all_objects(versions)
    else:  # the latest text only: main and the ledger still name commits that exist
        blob = git(versions, "rev-parse", f"main:a/{DOCUMENT}.md").strip()
        (versions / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
        assert_one_line(run_cli(config, data, "show", DOCUMENT), 1, "missing", "`policy-archive repair`")

    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0 and "Traceback" not in repaired.stderr, repaired.stderr
    notes = [line for line in repaired.stderr.splitlines() if line.startswith("repaired: ")]
    assert f"refs/heads/main named {head}" in notes[0] or f"refs/heads/main at {head}" in notes[0], notes
    assert notes[-1] == "repaired: history rebuilt from the stored captures: 2 versions of 1 document", notes
    assert "nothing to repair" not in repaired.stderr

    assert commits_of_main(versions) == before  # deterministic: the same captures give the same commits
    assert run_cli(config, data, "verify").stdout.strip() == "2/2 versions verified"
    assert run_cli(config, data, "show", DOCUMENT).returncode == 0
    subprocess.run(["git", "-C", str(versions), "fsck", "--strict"], check=True, capture_output=True)
    assert "nothing to repair" in run_cli(config, data, "repair").stderr
