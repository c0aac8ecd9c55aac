"""Every path a command writes to (``init DIR``, ``export --output``, ``report --output``, ``discover --output``,
``import-ota --output``): one it cannot write is a usage error, said in one line naming the path as given and why,
exit 2, nothing written (acceptance report 7, F9: ``init /proc/x`` printed the bare ``[Errno 2]`` line with exit 1,
and ``export --output /proc/self/mem`` named the export's own partial file)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from standin.cli import WAIT_SECONDS, cli_command, cli_environment, git, run_cli, run_import_ota, write_archive_settings

from policy_archive.archive.git_runs import ExportRepositoryError
from policy_archive.errors import DISK_FULL, OutputError, OutputFailure
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
    """A path refused half-way (only the writing can tell): the path as given, why, where, exit 2; the data
    directory's own errors pass on unchanged."""
    target = tmp_path / "history.jsonl"
    with pytest.raises(OutputError) as raised, writing_output(target, "--output"), whole_file(target) as partial:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(partial))
    assert str(raised.value) == (
        f"--output {target}: cannot be written: Read-only file system (a new file in {tmp_path})"
    )
    assert raised.value.exit_status == 2 and list(tmp_path.iterdir()) == []
    elsewhere = tmp_path / "data" / "catalog.sqlite3"
    for code in (errno.EROFS, errno.ENOSPC):
        with pytest.raises(OSError) as passed, writing_output(target, "--output"):
            raise OSError(code, os.strerror(code), str(elsewhere))
        assert not isinstance(passed.value, (OutputError, OutputFailure))


@pytest.mark.parametrize(
    "error",
    [
        "the partial file",
        "no file named",  # a write() into an open file: Python names none
        "SQLite",
        "Git",
    ],
)
def test_a_full_disk_while_writing_is_a_failure_naming_the_path_exit_1(tmp_path, error):
    """A full disk is the machine's failure, not a wrong path (DESIGN.md: exit 2 only for usage and configuration
    errors, nothing written): exit 1, as for the data directory, said naming the path as given."""
    target = tmp_path / "history.jsonl"
    with pytest.raises(OutputFailure) as raised, writing_output(target, "--output"), whole_file(target) as partial:
        raise {
            "the partial file": OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial)),
            "no file named": OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
            "SQLite": sqlite3.OperationalError("database or disk is full"),
            "Git": ExportRepositoryError(target, f"cannot be written: {DISK_FULL}; nothing of this export was kept",
                                         refused=False),
        }[error]  # fmt: skip
    where = f" (a new file in {tmp_path})" if error == "the partial file" else ""
    kept = "; nothing of this export was kept" if error == "Git" else ""
    assert str(raised.value) == (
        f"--output {target}: cannot be written: no space left on the device (the disk is full){where}{kept}"
    )
    assert raised.value.exit_status == 1 and list(tmp_path.iterdir()) == []


PUBLISHED = {
    "export jsonl": (["export", "--format", "jsonl"], "out.jsonl"),
    "export csv": (["export", "--format", "csv"], "out.csv"),
    "export sqlite": (["export", "--format", "sqlite"], "out.sqlite"),
    "export ota": (["export", "--format", "ota"], "ota"),
    "report": (["report"], "site"),
}


def run_in(folder: Path, config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``policy-archive ARGS`` run in ``folder`` (its relative paths are relative to it)."""
    command = cli_command(config.absolute(), data.absolute(), *args)
    environment = cli_environment()
    return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=folder, timeout=WAIT_SECONDS)


@pytest.mark.parametrize("command", list(PUBLISHED))
def test_export_and_report_make_no_folder_on_the_way_to_their_output(recorded, tmp_path, command):
    """A typo in a folder's name (``exprots/policies.csv``) is said, not made a new folder tree: the folder that
    holds the output must exist; report's DIR and ota's repository are made in it."""
    config, data = recorded
    args, name = PUBLISHED[command]
    given = tmp_path / "exprots" / "2026" / name
    refused = run_cli(config, data, *args, "--output", str(given))
    line = one_usage_line(refused, given)
    assert line == (
        f"policy-archive: --output {given}: the folder {given.parent} does not exist (no folder is made on the way:"
        " make it first)"
    )
    assert not (tmp_path / "exprots").exists()
    # Relative, it is named as given; once the folder exists, the output is written in it.
    (tmp_path / "exprots").mkdir()
    relative = Path("exprots") / "2026" / name
    refused = run_in(tmp_path, config, data, *args, "--output", str(relative))
    assert one_usage_line(refused, relative).endswith(f"the folder {relative.parent} does not exist (no folder is"
                                                      " made on the way: make it first)")  # fmt: skip
    (tmp_path / "exprots" / "2026").mkdir()
    written = run_in(tmp_path, config, data, *args, "--output", str(relative))
    assert written.returncode == 0, written.stderr
    assert (tmp_path / relative).is_dir() if name in ("ota", "site") else (tmp_path / relative).is_file()


def test_init_into_a_folder_made_on_the_way(tmp_path):
    """What may be made is made: folders on the way to DIR (a new configuration, as ``git init a/b``)."""
    target = tmp_path / "a" / "b" / "config"
    result = run_cli(target, tmp_path / "data", "init", str(target))
    assert result.returncode == 0, result.stderr
    assert (target / "settings.toml").is_file()


# --- a real full disk: a small tmpfs (root only), filled to leave less room than the output needs ------------

FULL_DISK_COMMANDS = {
    "export jsonl": (["export", "--format", "jsonl"], "out.jsonl"),
    "export csv": (["export", "--format", "csv"], "out.csv"),
    "export sqlite": (["export", "--format", "sqlite"], "out.sqlite"),
    "export ota": (["export", "--format", "ota"], "ota"),
    "report": (["report"], "report"),
}
ROOM_STEPS = 4  # runs with 0/4, 1/4, 2/4, 3/4 of the room the output takes: each stops at another point


def written(path: Path) -> dict[str, bytes]:
    """What an output is, to compare two: every file's bytes (a Git repository: its branch and checkout)."""
    if path.is_file():
        if path.suffix == ".sqlite":
            with contextlib.closing(sqlite3.connect(path)) as database:  # open, it would keep the tmpfs mounted
                return {
                    "versions": repr(database.execute("SELECT * FROM versions ORDER BY 1, 2, 3").fetchall()).encode()
                }
        return {path.name: path.read_bytes()}
    files = {
        str(file.relative_to(path)): file.read_bytes()
        for file in path.rglob("*")
        if file.is_file() and ".git" not in file.parts
    }
    if (path / ".git").exists():
        files["HEAD"] = git(path, "rev-parse", "main").encode()
        files["status"] = git(path, "status", "--porcelain").encode()
    return files


def room_taken(path: Path) -> int:
    """Bytes of the tmpfs pages ``path`` takes (each file rounded up to whole pages, as tmpfs counts them)."""
    files = [path] if path.is_file() else [file for file in path.rglob("*") if file.is_file()]
    return sum(-(-file.stat().st_size // 4096) * 4096 for file in files)


@pytest.mark.parametrize("command", list(FULL_DISK_COMMANDS))
def test_a_full_disk_is_exit_1_naming_the_output_and_leaves_nothing_a_rerun_takes_as_complete(
    recorded, tmp_path, small_filesystem, command
):
    """The disk fills while the output is written, at several points: one line naming ``--output PATH`` and the
    full disk (for ota also when Git does not say it: ``error: unable to write file ...``), exit 1; no partial
    file, no report without its documents, no repository made; once room is made, the same command gives the
    output a roomy disk gives."""
    config, data = recorded
    args, name = FULL_DISK_COMMANDS[command]
    expected_at = tmp_path / "roomy" / name
    expected_at.parent.mkdir()
    assert run_cli(config, data, *args, "--output", str(expected_at)).returncode == 0
    expected, needed = written(expected_at), room_taken(expected_at)
    point = small_filesystem(f"{needed + 512 * 1024}")
    target = point / name
    stopped = 0
    for step in range(ROOM_STEPS):
        filler = point / "filler"
        filler.write_bytes(b"")
        with filler.open("wb") as handle:  # fill the disk to the last byte, then free the room wanted
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
        with filler.open("r+b") as handle:
            handle.truncate(max(0, filler.stat().st_size - needed * step // ROOM_STEPS))
        result = run_cli(config, data, *args, "--output", str(target), "--quiet")
        if result.returncode == 0:  # the room left was enough after all (the last steps, for small outputs)
            assert written(target) == expected
        else:
            stopped += 1
            line = one_failure_line(result)
            said = f"policy-archive: --output {target}: cannot be written: {DISK_FULL}"
            # ota: a full disk found while Git wrote says that the repository was put back (here: not made).
            assert line in (said, f"{said}; nothing of this export was kept"), line
            assert not target.exists(), sorted(point.rglob("*"))
            assert [p.name for p in point.iterdir() if p.name.startswith(".")] == []  # no partial file beside it
        filler.unlink()
        rerun = run_cli(
            config, data, *args, "--output", str(target), "--quiet", *(["--force"] if target.is_file() else [])
        )
        assert rerun.returncode == 0 and rerun.stderr == "", rerun.stderr
        assert written(target) == expected
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    assert stopped >= 1


def one_failure_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    return line
