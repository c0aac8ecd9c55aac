"""The stop signals' one handler (policy_archive/stop_signals.py), in this process where a signal ends nothing, and
in a child process where a second signal ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from policy_archive.stop_signals import Stopped, current_stop, stop_signals_handled


@contextmanager
def sigint(handler: object) -> Iterator[None]:
    """SIGINT as ``handler`` for the block: as from a terminal (``signal.default_int_handler``), or as in a job
    started in the background (``SIG_IGN``), whatever the test session inherited."""
    before = signal.signal(signal.SIGINT, handler)  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_is_noted_outside_a_wait_and_raises_inside_one(signum: signal.Signals) -> None:
    with sigint(signal.default_int_handler):
        before = signal.getsignal(signum)
        with stop_signals_handled() as stop:
            assert current_stop() is stop
            os.kill(os.getpid(), signum)
            assert stop.received and stop.signal_name == signum.name  # noted, nothing raised
            with pytest.raises(Stopped) as stopped, stop.interrupting():
                stop.raise_if_received()
            assert stopped.value.signal_name == signum.name
            with pytest.raises(Stopped), stop.interrupting():
                os.kill(os.getpid(), signum)  # the second: out of the wait, as the first would be
                time.sleep(60)  # the wait cut short, not a synchronisation: the test ends at once
        assert signal.getsignal(signum) is before
        assert not current_stop().received, "a new one outside the block"


def test_sigint_ignored_when_the_command_starts_stays_ignored() -> None:
    with sigint(signal.SIG_IGN), stop_signals_handled() as stop:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
        os.kill(os.getpid(), signal.SIGINT)
        assert not stop.received


def test_an_inner_block_uses_the_outer_ones_stop() -> None:
    with stop_signals_handled() as outer, stop_signals_handled() as inner:
        assert inner is outer
        handler = signal.getsignal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is not handler


SECOND_SIGNAL = """
import os, signal, sys
from policy_archive.stop_signals import stop_signals_handled
with stop_signals_handled() as stop:
    os.kill(os.getpid(), signal.SIGTERM)
    print("first noted:", stop.signal_name, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    print("still running after the second", flush=True)
"""


def test_a_second_signal_outside_a_crawl_or_a_wait_ends_the_process_at_once() -> None:
    run = subprocess.run([sys.executable, "-c", SECOND_SIGNAL], capture_output=True, text=True, timeout=60)
    assert run.returncode == -signal.SIGTERM, run
    assert run.stdout == "first noted: SIGTERM\n"
    assert run.stderr == "policy-archive: SIGTERM again: ended at once; run again to continue\n"
