"""The data directory lock between processes: waiting, --no-wait, release on death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from standin.cli import WAIT_SECONDS, run_cli, wait_for
from test_hostile import GOOD_DOCUMENT, assert_one_line, write_config

from policy_archive.archive.lock import DataDirectoryLock, LockBusy, LockHolder, ScheduleBusy, ScheduleLock

# Holds the lock until its stdin is closed (the test releases it), or for a bound of seconds a working test never
# reaches: a test waits on what the holder and the lock say, not on how long it holds.
HOLDER = (
    "import select, sys; from pathlib import Path; from policy_archive.archive.lock import DataDirectoryLock\n"
    "with DataDirectoryLock(Path(sys.argv[1]), command='backfill acrcloud'):\n"
    "    print('locked', flush=True)\n"
    "    select.select([sys.stdin], [], [], float(sys.argv[2]))\n"
)


def hold_lock(directory: Path, seconds: float = WAIT_SECONDS) -> subprocess.Popen[str]:
    """Start another process holding the lock; return once it has it. It lets go once :func:`release` is called."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def release(holder: subprocess.Popen[str]) -> None:
    """Let the holder go (it ends, releasing the lock) and reap it."""
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=WAIT_SECONDS)


def test_no_wait_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    # The holder holds the lock until released: a call that waited for it would get it only after the holder's
    # bound, and not raise. No clock of ours: a loaded machine only makes the call slower.
    holder = hold_lock(tmp_path)
    try:
        with pytest.raises(LockBusy) as raised:
            DataDirectoryLock(tmp_path, command="track", wait=False).acquire()
        assert raised.value.holder.pid == holder.pid
        assert raised.value.holder.command == "backfill acrcloud"
        assert f"{holder.pid} running backfill acrcloud" in str(raised.value)
    finally:
        holder.kill()
        holder.wait()


def test_second_writer_waits_with_one_message_until_the_holder_finishes(tmp_path: Path) -> None:
    # The holder lets go only once the second writer has said it waits (before 2026-11-28 it held 3 s, and a
    # second writer starting later than that on a loaded machine found the lock free and said nothing).
    holder = hold_lock(tmp_path)
    messages: list[str] = []
    inside: list[LockHolder] = []

    def second_writer() -> None:
        with DataDirectoryLock(tmp_path, command="track", report=messages.append) as lock:
            inside.append(lock.holder())

    writer = threading.Thread(target=second_writer)
    writer.start()
    try:
        wait_for(lambda: bool(messages), WAIT_SECONDS, "the second writer to say it waits")
        assert inside == [], "the second writer got the lock while it was held"
    finally:
        release(holder)
        writer.join(WAIT_SECONDS)
    assert not writer.is_alive(), "the second writer still waits after the holder ended"
    assert [(entry.pid, entry.command) for entry in inside] == [(os.getpid(), "track")]
    assert messages == [f"waiting for {holder.pid} running backfill acrcloud ..."]


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with DataDirectoryLock(tmp_path, command="track", wait=False):
        pass


def test_lock_excludes_threads_with_their_own_lock_objects(tmp_path: Path) -> None:
    inside: list[int] = []
    overlaps: list[bool] = []

    def work() -> None:
        with DataDirectoryLock(tmp_path, command="track", report=lambda _message: None):
            inside.append(1)
            overlaps.append(len(inside) > 1)
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [False] * 4


@pytest.mark.parametrize("command", ["backfill", "track", "reextract", "repair"])
def test_a_writing_command_with_no_wait_on_a_busy_data_directory_is_one_line_exit_2(tmp_path, command):
    # Not a document failure (exit 1 names each failed document): the command did not start and wrote nothing.
    config = write_config(tmp_path / "config", {"acme": 'name = "ACME"\n' + GOOD_DOCUMENT})
    data = tmp_path / "data"
    (data / "versions").mkdir(parents=True)  # data already collected, for reextract and repair
    holder = hold_lock(data)
    try:
        result = run_cli(config, data, command, "--no-wait")
    finally:
        holder.kill()
        holder.wait()
    line = assert_one_line(result, 2)
    assert line == (
        f"policy-archive: {data} is in use by {holder.pid} running backfill acrcloud: nothing done (--no-wait; "
        "run again later, or without --no-wait to wait for it)"
    )
    assert sorted(path.name for path in data.iterdir()) == [".lock", "versions"]
    assert list((data / "versions").iterdir()) == []


SCHEDULER = (
    "import sys, time; from pathlib import Path; from policy_archive.archive.lock import ScheduleLock\n"
    "with ScheduleLock(Path(sys.argv[1])):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(float(sys.argv[2]))\n"
)


def test_the_schedule_lock_is_its_own_and_goes_with_its_holder_killed(tmp_path: Path) -> None:
    """A scheduler's lock (audit 2026-11-28: two schedules on one data directory both ran) neither blocks nor is
    blocked by the writers' lock its runs take, and a scheduler killed with -9 leaves it free."""
    holder = subprocess.Popen(
        [sys.executable, "-c", SCHEDULER, str(tmp_path), "600"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ScheduleBusy) as raised:
            ScheduleLock(tmp_path).acquire()
        assert raised.value.exit_status == 2 and raised.value.holder.pid == holder.pid
        assert str(raised.value) == (
            f"{tmp_path} is already scheduled by {holder.pid} running schedule: not started "
            "(one schedule per data directory)"
        )
        with DataDirectoryLock(tmp_path, command="track", wait=False):  # a run of the scheduler's own
            pass
    finally:
        holder.kill()
        holder.wait()
    with ScheduleLock(tmp_path) as lock:
        assert lock.holder().pid == os.getpid()
