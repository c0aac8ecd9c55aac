"""`status` says plainly how each of the last runs ended: a run with no exit status is still running only while the
writer noted in the data directory's lock file is alive and runs that command; otherwise it never finished
(killed), and for a `track` the line says whether it kept captures not recorded yet and what records them. An older
`track` whose captures wait is shown too. A real catalog, lock file and CLI; the path with a real SIGKILL and kept
captures is in tests/test_track_e2e.py."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.cli import run_cli

from policy_archive.archive.catalog import Catalog
from policy_archive.archive.catalog.runs import DID_NOT_FINISH
from policy_archive.archive.lock import DataDirectoryLock, LockHolder, process_start, running_writer

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
KILLED = "never finished (killed, or the machine stopped)"


def write_config(root: Path) -> Path:
    config = root / "config"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text("")
    (config / "services" / "acme.toml").write_text(
        'name = "ACME"\n[documents.privacy-policy]\nurl = "https://acme.example/p"\n'
    )
    return config


def run_status_lines(config: Path, data: Path) -> list[str]:
    """The run lines of `status` (after its first line, before the table's header)."""
    shown = run_cli(config, data, "status")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    return lines[1 : next(n for n, line in enumerate(lines) if line.startswith("document "))]


def at(minute: int) -> datetime:
    return START + timedelta(minutes=minute)


def stamp(minute: int) -> str:
    return at(minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_a_track(data: Path) -> None:
    """A `track` run started at minute 0 and never finished (the catalog's record only)."""
    catalog = Catalog(data / "catalog.sqlite3")
    try:
        catalog.start_run("track", at(0))
    finally:
        catalog.close()


def test_killed_runs_are_said_never_finished_with_what_to_do(tmp_path: Path) -> None:
    config, data = write_config(tmp_path), tmp_path / "data"
    catalog = Catalog(data / "catalog.sqlite3")
    try:
        old_track = catalog.start_run("track", at(0))  # killed long ago: shown though older than the last three
        catalog.finish_run(catalog.start_run("track", at(1)), at(1), 0, "0 versions recorded, 0 documents failed")
        catalog.start_run("backfill", at(2))  # killed
        failed = catalog.start_run("track", at(3))  # raised before its report
        catalog.finish_run(failed, at(3), 1, DID_NOT_FINISH)
        catalog.start_run("track", at(4))  # killed, the newest
    finally:
        catalog.close()
    assert old_track
    nothing = "it kept no capture: nothing to record"
    assert run_status_lines(config, data) == [
        f"run track {stamp(4)} → {KILLED}; {nothing}",
        f"run track {stamp(3)} → exit 1: {DID_NOT_FINISH}; {nothing}",
        f"run backfill {stamp(2)} → {KILLED}: run it again to finish its work",
        f"run track {stamp(0)} → {KILLED}; {nothing}",
    ]


def test_the_newest_run_is_still_running_only_while_its_writer_holds_the_lock(tmp_path: Path) -> None:
    config, data = write_config(tmp_path), tmp_path / "data"
    start_a_track(data)
    with DataDirectoryLock(data, command="track"):  # this process: alive
        assert run_status_lines(config, data) == [f"run track {stamp(0)} → still running (PID {os.getpid()})"]
    # Released: nothing noted.
    assert run_status_lines(config, data)[0].endswith(KILLED + "; it kept no capture: nothing to record")
    # Another command holds it (a `repair` recording the killed run's captures): the run is not running.
    with DataDirectoryLock(data, command="repair"):
        assert run_status_lines(config, data)[0].startswith(f"run track {stamp(0)} → {KILLED}")


def test_a_note_whose_process_number_was_reused_is_not_a_running_one(tmp_path: Path) -> None:
    """A writer killed with -9 leaves its note, and its number may be given to another process since: that process
    started at another time, so the run is not running (this test's own process stands for the newcomer)."""
    config, data = write_config(tmp_path), tmp_path / "data"
    start_a_track(data)
    with DataDirectoryLock(data, command="track"):
        note = (data / ".lock").read_text()
    assert note == f"{os.getpid()}\ntrack\n{process_start(os.getpid())}\n"
    (data / ".lock").write_text(note.replace(f"\n{process_start(os.getpid())}\n", "\n1\n"))
    assert running_writer(data) is None
    assert run_status_lines(config, data)[0].startswith(f"run track {stamp(0)} → {KILLED}")
    (data / ".lock").write_text(note)  # the same start time: this process is the writer
    assert running_writer(data) == LockHolder(os.getpid(), "track", process_start(os.getpid()))


def test_a_note_left_by_a_killed_writer_is_not_a_running_one(tmp_path: Path) -> None:
    """kill -9 leaves the holder's note in the lock file (the kernel releases the lock itself): the process it
    names is gone, so its run never finished."""
    config, data = write_config(tmp_path), tmp_path / "data"
    start_a_track(data)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (data / ".lock").write_text(f"{gone.stdout.strip()}\ntrack\n")
    assert running_writer(data) is None
    assert run_status_lines(config, data)[0].startswith(f"run track {stamp(0)} → {KILLED}")
