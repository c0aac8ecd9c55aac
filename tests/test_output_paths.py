"""Every path a command writes to (``init DIR``, ``export --output``, ``report --output``, ``discover --output``,
``import-ota --output``): one it cannot write is a usage error, said in one line naming the path as given and why,
exit 2, nothing written (acceptance report 7, F9: ``init /proc/x`` printed the bare ``[Errno 2]`` line with exit 1,
and ``export --output /proc/self/mem`` named the export's own partial file)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from standin.cli import run_cli, run_import_ota, write_archive_settings

from policy_archive.errors import OutputError
from policy_archive.files import whole_file
from policy_archive.pipeline.commands.common import writing_output

DECLARATIONS = Path(__file__).parent / "fixtures" / "ota" / "declarations"
# /proc takes no new file or folder, whoever asks: root passes ``access`` there and mkdir still fails, the case
# only the writing itself can tell (the others are told before any work).
UNDER_PROC = Path("/proc/policy-archive-no-such/out")


def commands(path: Path, declarations: Path) -> dict[str, list[str]]:
    return {
        "init": ["init", str(path)],
        "export jsonl": ["export", "--format", "jsonl", "--output", str(path)],
        "export sqlite": ["export", "--format", "sqlite", "--output", str(path), "--force"],
        "export ota": ["export", "--format", "ota", "--output", str(path)],
        "report": ["report", "--output", str(path)],
        "discover --output": ["discover", "example.org", "--output", str(path)],
        "import-ota --output": ["import-ota", str(declarations), "Lingualeo", "--output", str(path)],
    }


def one_usage_line(result, given: Path) -> str:
    (line,) = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert line.startswith("policy-archive: ") and str(given) in line
    assert "partial" not in line and "Errno" not in line and "configuration error" not in line
    return line


@pytest.mark.parametrize("where", ["under a file", "under /proc"])
@pytest.mark.parametrize(
    "command", ["init", "export jsonl", "export sqlite", "export ota", "report", "discover --output",
                "import-ota --output"],
)  # fmt: skip
def test_an_output_path_that_cannot_be_written_is_one_line_exit_2(recorded, tmp_path, command, where):
    config, data = recorded
    if command == "discover --output":  # an archive nobody answers at: the path is refused before any request
        config = write_archive_settings(tmp_path / "config", "http://127.0.0.1:9/cdx", "http://127.0.0.1:9/web")
    (tmp_path / "file").write_text("mine")
    given = tmp_path / "file" / "out" if where == "under a file" else UNDER_PROC
    before = sorted(tmp_path.rglob("*"))
    args = commands(given, DECLARATIONS)[command]
    if command.startswith("import-ota"):
        result = run_import_ota(config, data, *args[1:])
    else:
        result = run_cli(config, data, *args)
    line = one_usage_line(result, given)
    if where == "under a file":
        assert line.endswith(f"{tmp_path / 'file'} is not a directory"), line
    assert sorted(tmp_path.rglob("*")) == before and (tmp_path / "file").read_text() == "mine"


def test_an_existing_file_that_cannot_be_replaced_is_named_not_the_partial_file(recorded):
    config, data = recorded
    given = Path("/proc/self/mem")  # a regular file in a folder no new file can be made in
    for force in ((), ("--force",)):  # not "add --force": it would not help
        refused = run_cli(config, data, "export", "--format", "jsonl", "--output", str(given), *force)
        assert one_usage_line(refused, given).endswith("cannot write in /proc/self (read-only or not permitted)")


def test_an_error_while_writing_names_the_path_given_not_the_partial_file(tmp_path):
    """A full disk half-way (only the writing can tell): the path as given, why, where; the data directory's own
    errors pass on unchanged."""
    target = tmp_path / "history.jsonl"
    with pytest.raises(OutputError) as raised, writing_output(target, "--output"), whole_file(target) as partial:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial))
    assert str(raised.value) == (
        f"--output {target}: cannot be written: No space left on device (a new file in {tmp_path})"
    )
    assert raised.value.exit_status == 2 and list(tmp_path.iterdir()) == []
    elsewhere = tmp_path / "data" / "catalog.sqlite3"
    with pytest.raises(OSError) as passed, writing_output(target, "--output"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(elsewhere))
    assert not isinstance(passed.value, OutputError)


def test_init_into_a_folder_made_on_the_way(tmp_path):
    """What may be made is made: folders on the way to DIR."""
    target = tmp_path / "a" / "b" / "config"
    result = run_cli(target, tmp_path / "data", "init", str(target))
    assert result.returncode == 0, result.stderr
    assert (target / "settings.toml").is_file()
