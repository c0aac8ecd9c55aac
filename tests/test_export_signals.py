"""SIGTERM or Ctrl-C (SIGINT) half-way through `export`: the real command line, held between two versions (the
second version's row is being made, the first one written) until the test has signalled it.

Until 2026-11-29 a Ctrl-C ended a jsonl, csv or sqlite export with click's bare ``Aborted!`` and a SIGTERM killed it
(exit 143, its temporary file left beside the target). Now each says in one line what was stopped and that
nothing was written (exit 1, as a first stop signal ends every command: policy_archive/stop_signals.py), and the
target is as it was: absent, or the earlier export there intact; no temporary file is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from standin.cli import cli_command, git, names_environment, run_cli, running

from policy_archive.files import left_by_the_dead, partial_name, process_start
from policy_archive.pipeline.exports._output import leftovers_removed

HOLD = "policy_archive.pipeline.exports._rows:export_row"  # called once per version, as its row is made


def held_export(config: Path, data: Path, tmp_path: Path, hold: str, *args: str) -> tuple[list[str], Path, Path]:
    """The command line of ``export ARGS`` held before the second call of ``hold``, and the files it makes when
    held (``reached``) and waits for (``go``)."""
    reached, go = tmp_path / "held-reached", tmp_path / "held-go"
    command = [sys.executable, "-m", "standin.held_call", str(reached), str(go), hold, "2", "--"]
    return [*command, *cli_command(config, data, "export", *args)[3:]], reached, go


def partial_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".partial-" in path.name)


def stopped(
    command: list[str], tmp_path: Path, reached: Path, go: Path, signum: int, partial_in: Path | None = None
) -> tuple[int, str]:
    """Run ``command``, wait until it is held (and its temporary file is in ``partial_in``), send ``signum``,
    then release the hold (a signal only noted where it came lets the command go on to where it is acted on); its
    exit status and output."""
    try:
        with running(command, tmp_path / "log", env=names_environment(), terminal_sigint=True) as run:
            run.wait_for(reached.exists, "the export held between two versions")
            if partial_in is not None:
                run.wait_for(lambda: partial_files(partial_in) != [], "the export's temporary file")
            run.send_signal(signum)
            go.touch()
            status = run.ended()
    finally:
        go.touch()  # a hold not signalled (a failed test) ends
    return status, run.output()


@pytest.mark.parametrize(
    ("form", "name"),
    [("jsonl", "SIGINT"), ("csv", "SIGTERM"), ("sqlite", "SIGINT"), ("sqlite", "SIGTERM")],
)
def test_a_stop_signal_half_way_writes_no_file(recorded, tmp_path, form, name):
    config, data = recorded
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / f"history.{form}"
    command, reached, go = held_export(config, data, tmp_path, HOLD, "--format", form, "--output", str(output))
    status, said = stopped(command, tmp_path, reached, go, getattr(signal, name), partial_in=folder)

    assert status == 1, said
    assert "Traceback" not in said and "Aborted!" not in said, said
    assert said.splitlines()[-1] == (
        f"policy-archive: export to {output} stopped by {name} before it was complete: nothing written "
        f"(no {output} made)"
    )
    assert list(folder.iterdir()) == [], "no file, no temporary file left"


@pytest.mark.parametrize(("form", "name"), [("csv", "SIGINT"), ("jsonl", "SIGTERM")])
def test_a_stop_signal_half_way_leaves_the_earlier_export_intact(recorded, tmp_path, form, name):
    config, data = recorded
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / f"history.{form}"
    earlier = run_cli(config, data, "export", "--format", form, "--output", str(output))
    assert earlier.returncode == 0, earlier.stderr
    before = output.read_bytes()
    args = ("--format", form, "--output", str(output), "--force")
    command, reached, go = held_export(config, data, tmp_path, HOLD, *args)
    status, said = stopped(command, tmp_path, reached, go, getattr(signal, name), partial_in=folder)

    assert status == 1, said
    assert "Traceback" not in said and "Aborted!" not in said, said
    assert said.splitlines()[-1] == (
        f"policy-archive: export to {output} stopped by {name} before it was complete: "
        f"nothing written (the earlier {output} left as it was)"
    )
    assert output.read_bytes() == before
    assert [path.name for path in folder.iterdir()] == [output.name]


def test_a_stop_signal_half_way_into_a_pipe_says_it_got_the_beginning_only(recorded, tmp_path):
    config, data = recorded
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = tmp_path / "received"
    with received.open("wb") as sink:
        reader = subprocess.Popen(["cat", str(pipe)], stdout=sink)
        try:
            command, reached, go = held_export(config, data, tmp_path, HOLD, "--format", "jsonl", "--output", str(pipe))
            status, said = stopped(command, tmp_path, reached, go, signal.SIGINT)
            reader.wait(timeout=120)
        finally:
            reader.kill()
    assert status == 1, said
    assert "Traceback" not in said and "Aborted!" not in said, said
    assert said.splitlines()[-1] == (
        f"policy-archive: export to {pipe} stopped by SIGINT before it was complete: what {pipe} received is the "
        "beginning of the export only (its last row may be cut)"
    )
    assert len(received.read_text().splitlines()) == 1, "the first version's row, not the second"


def test_a_stop_signal_before_the_export_writes_writes_nothing(recorded, tmp_path):
    """A signal while the command starts (held before it reads its configuration) is acted on once the export
    would begin: nothing is read or written."""
    config, data = recorded
    output = tmp_path / "history.csv"
    hold = "policy_archive.pipeline.commands.publish:check_output"
    command, reached, go = held_export(config, data, tmp_path, hold, "--format", "csv", "--output", str(output))
    command[command.index(hold) + 1] = "1"
    status, said = stopped(command, tmp_path, reached, go, signal.SIGTERM)
    assert status == 1, said
    assert said.splitlines()[-1] == (
        f"policy-archive: export to {output} stopped by SIGTERM before it was complete: nothing written "
        f"(no {output} made)"
    )
    assert not output.exists() and partial_files(tmp_path) == []


def fast_imports_into(directory: Path) -> list[int]:
    """The process ids of the `git fast-import` writing into ``directory`` now."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"fast-import" in arguments and os.fsencode(directory) in arguments:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("target", ["new", "empty repository"])
def test_a_stop_signal_while_an_ota_export_is_fed_to_git_writes_nothing(recorded, tmp_path, target):
    """The OTA export feeds Git each version as it reads it (one text in memory, not all of them): held while it
    reads the second, Git has begun the first. SIGINT then drops what Git was given (its branch never moved, its
    new files removed; a repository the export made is removed whole) and says nothing was exported."""
    config, data = recorded
    export = tmp_path / "export"
    if target == "empty repository":
        export.mkdir()
        git(export, "init", "-q", "-b", "main")
        before = sorted(path.relative_to(export) for path in export.rglob("*"))
    hold = "policy_archive.pipeline.exports.ota:strip_header"  # once per version read
    command, reached, go = held_export(config, data, tmp_path, hold, "--format", "ota", "--output", str(export))
    try:
        with running(command, tmp_path / "log", env=names_environment(), terminal_sigint=True) as run:
            run.wait_for(reached.exists, "the export held reading its second version")
            run.wait_for(lambda: fast_imports_into(export) != [], "git fast-import started for the first")
            run.send_signal(signal.SIGINT)
            status = run.ended()
    finally:
        go.touch()
    said = run.output()

    assert status == 1, said
    assert "Traceback" not in said and "Aborted!" not in said, said
    assert said.splitlines()[-1] == "policy-archive: stopped by SIGINT before anything was written: nothing exported"
    assert fast_imports_into(export) == []
    if target == "new":
        assert not export.exists(), "the repository this export made is removed"
    else:
        assert git(export, "for-each-ref") == ""
        assert sorted(path.relative_to(export) for path in export.rglob("*")) == before, "no pack, no crash report"


def test_a_stop_signal_once_an_ota_export_made_its_repository_removes_it(recorded, tmp_path):
    """Held once the new repository is made (`git init`) and before the export reads its versions: SIGTERM leaves
    the directory as the export found it (missing), not an empty repository."""
    config, data = recorded
    export = tmp_path / "export"
    hold = "policy_archive.pipeline.exports.ota:Plan"  # made once the repository is opened (here: made)
    command, reached, go = held_export(config, data, tmp_path, hold, "--format", "ota", "--output", str(export))
    command[command.index(hold) + 1] = "1"
    status, said = stopped(command, tmp_path, reached, go, signal.SIGTERM)
    assert status == 1, said
    assert said.splitlines()[-1] == "policy-archive: stopped by SIGTERM before anything was written: nothing exported"
    assert not export.exists()


@pytest.mark.parametrize("form", ["jsonl", "csv", "sqlite"])
def test_the_partial_file_of_an_export_killed_outright_is_removed_by_the_next_export_there(recorded, tmp_path, form):
    """A SIGKILL runs nothing of the export's: its partial file stayed beside the output forever (until
    2026-11-29). The next export to that file removes it, saying so in one line; a partial file whose writer still
    runs (here this test's process, its number and start time in the name) and one of another file stay. A process
    that now has the killed writer's number is told apart by its start time: a name with this process's number and
    another start time is a dead writer's."""
    config, data = recorded
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / f"history.{form}"
    command, reached, go = held_export(config, data, tmp_path, HOLD, "--format", form, "--output", str(output))
    status, said = stopped(command, tmp_path, reached, go, signal.SIGKILL, partial_in=folder)
    assert status == -signal.SIGKILL, said
    (killed,) = partial_files(folder)
    assert killed.startswith(f".{output.name}.partial-"), killed
    running_writer = folder / partial_name(output.name)
    running_writer.write_bytes(b"being written")
    reused = folder / f".{output.name}.partial-{os.getpid()}-1"  # this number, another start time: not this process
    reused.write_bytes(b"left")
    other_file = folder / f".notes.{form}.partial-{killed.rsplit('-', 2)[1]}"
    other_file.write_bytes(b"another output's")

    again = run_cli(config, data, "export", "--format", form, "--output", str(output))
    assert again.returncode == 0, again.stderr
    removed = sorted([killed, reused.name])
    assert f"removed 2 partial files left beside {output} by an export killed earlier: {', '.join(removed)}" in (
        again.stderr.splitlines()
    ), again.stderr
    assert partial_files(folder) == sorted([other_file.name, running_writer.name])
    assert output.is_file()
    later = run_cli(config, data, "export", "--format", form, "--output", str(output), "--force")
    assert later.returncode == 0 and "removed" not in later.stderr, later.stderr


def test_a_partial_file_is_a_dead_writers_when_its_number_is_free_or_started_at_another_time(tmp_path):
    target = tmp_path / "history.csv"
    started = process_start(os.getpid())
    assert partial_name(target.name) == f".history.csv.partial-{os.getpid()}-{started}"
    # A number no process can be given while the test runs: above the kernel's pid_max (the highest number + 1
    # is the very next one Linux hands out before it wraps, a fork under load away from being taken).
    free = int(Path("/proc/sys/kernel/pid_max").read_text(encoding="utf-8")) + 1
    names = {
        f".history.csv.partial-{free}": True,  # no such process (a name written before start times were)
        f".history.csv.partial-{free}-{started}": True,
        f".history.csv.partial-{os.getpid()}-1": True,  # the number reused by this process
        f".history.csv.partial-{os.getpid()}-{started}": False,  # a writer that still runs
        f".history.csv.partial-{os.getpid()}": False,  # running, no start time to tell: left alone
        f".history.csv.partial-{2**80}": True,  # no process can have that number
        f".notes.csv.partial-{free}": False,  # another file's
        f".history.csv.partial-{free}.x": False,  # not a partial file's name
        f".history.csv.partial-{free}-{started}-journal": True,  # SQLite's journal of a killed writer
        f".history.csv.partial-{os.getpid()}-{started}-journal": False,  # a running writer's journal
    }
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert left_by_the_dead(target) == sorted(tmp_path / name for name, dead in names.items() if dead)
    assert left_by_the_dead(tmp_path / "missing" / "history.csv") == []


def test_a_dead_writers_partial_file_that_cannot_be_removed_is_left_and_not_counted(tmp_path, monkeypatch):
    """Another user's partial file in a shared folder (root, running the tests, could remove it: the refusal is
    made here): the export goes on, saying only what it removed."""
    target = tmp_path / "history.csv"
    free = int(Path("/proc/sys/kernel/pid_max").read_text(encoding="utf-8")) + 1
    theirs, removable = tmp_path / f".history.csv.partial-{free}-1", tmp_path / f".history.csv.partial-{free}-2"
    for path in (theirs, removable):
        path.write_bytes(b"")
    unlink = Path.unlink

    def refused_for_theirs(path: Path, missing_ok: bool = False) -> None:
        if path == theirs:
            raise PermissionError(13, "Permission denied", str(path))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refused_for_theirs)
    said = leftovers_removed(target)
    assert said is not None and "removed 1 partial file" in said and removable.name in said
    assert theirs.exists() and not removable.exists()
