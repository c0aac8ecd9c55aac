"""The tests' way of running a command (tests/standin/cli.py ``running``): waits end on conditions, a command that
ends first is said at once with its output, and no command outlives the test that started it."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from standin.cli import WAIT_SECONDS, running

# Says it is ready once its file exists, then works until stopped; on SIGTERM it says so and exits 0.
WORKER = """
import pathlib, signal, sys, time
def stop(signum, frame):
    print("stopped by", signal.Signals(signum).name, file=sys.stderr)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("started", file=sys.stderr)
while not pathlib.Path(sys.argv[1]).exists():
    time.sleep(0.05)
print("ready", file=sys.stderr)
while True:
    time.sleep(0.05)
"""


def test_a_command_is_waited_for_by_its_log_and_stopped_by_a_signal(tmp_path: Path) -> None:
    """Its stderr reaches the log as it comes, whatever the environment says about buffering (none here)."""
    go = tmp_path / "go"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    with running([sys.executable, "-c", WORKER, str(go)], tmp_path / "log", env=env) as worker:
        worker.wait_for_output("started", "the worker's start")
        assert "ready" not in worker.output()
        go.touch()
        worker.wait_for_output("ready", "the worker to see its file")
        assert worker.stop(signal.SIGTERM) == 0
    assert worker.output().splitlines() == ["started", "ready", "stopped by SIGTERM"]


def test_a_command_that_ends_before_the_condition_fails_the_wait_at_once_with_its_output(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('no such page', file=sys.stderr); sys.exit(3)"]
    with running(command, tmp_path / "log") as failing:
        with pytest.raises(AssertionError) as failure:
            failing.wait_for(lambda: False, "a condition never met", timeout=WAIT_SECONDS)
    # Not the timeout's message: the wait ended when the command did, long before the bound.
    assert "the command ended (exit 3) before a condition never met" in str(failure.value)
    assert "no such page" in str(failure.value)


class FailingTest(Exception):
    """A test failing while its command runs."""


def test_a_command_still_running_when_the_test_fails_is_killed_and_reaped(tmp_path: Path) -> None:
    command = [sys.executable, "-c", WORKER, str(tmp_path / "never")]
    with pytest.raises(FailingTest), running(command, tmp_path / "log") as worker:
        worker.wait_for_output("started", "the worker's start")
        raise FailingTest
    assert worker.process.returncode == -signal.SIGKILL  # set: killed and reaped, no zombie left
