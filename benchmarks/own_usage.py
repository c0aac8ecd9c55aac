"""A command's own CPU time and peak memory, and those of the processes it started, apart.

The kernel's ``ru_maxrss`` of a process also counts the memory of the process it was started from, up to its exec
(Linux keeps the larger at ``execve``): a command started from a benchmark holding a stand-in's listing or sites
reported the benchmark's memory, not its own (457 MiB at a million listed rows, before and after a change that cut
the command's own, 2026-11-29). So the command is started from :data:`LAUNCHER`, a few MiB of Python.

The figures ``os.wait4`` gives of a process are not its own either: they count the processes it started and waited
for (their CPU time added, the largest peak of them all taken): a command of ~10 MiB whose child peaked at 300 MiB
read 311 MiB (review of 2026-11-29). So the launcher does not measure from outside: it starts :data:`RUNNER`, which
runs the command (``python -m MODULE ...``) in its own process and, at its exit (after the command's threads have
ended), writes ``getrusage(RUSAGE_SELF)``, the command's own, and ``getrusage(RUSAGE_CHILDREN)``, the processes it
started (Git, a browser): their CPU time, and the largest peak among them. That peak is no measure of the
processes started: a process started from the command (fork or vfork, then exec) keeps as its peak the command's
resident memory at that moment (Linux keeps the larger at ``execve``, as above), so a Git process started by a
``track`` of 336 MiB read 336 MiB (2026-11-29). It is kept for what ``os.wait4`` gave, not printed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Runs ``python -m MODULE ARGS`` (argv[2:] are MODULE ARGS) in this process, as ``python -m`` does, and writes when
# the interpreter exits (atexit: after the command's non-daemon threads ended, whatever its exit status) its own
# CPU time (user + system) and peak RSS (KiB), then those of the processes it waited for, to the file argv[1].
RUNNER = """
import atexit, resource, runpy, sys
def written(figures=sys.argv[1]):
    own, started = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(figures, "w") as report:
        print(own.ru_utime + own.ru_stime, own.ru_maxrss, file=report, end=" ")
        print(started.ru_utime + started.ru_stime, started.ru_maxrss, file=report)
atexit.register(written)
module = sys.argv[2]
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""

# Starts the runner (argv[3:]: the module and its arguments; its figures to argv[1] + ".own") and writes the
# command's exit status, then the runner's figures (or nothing, when it was killed before writing them), to the
# file argv[1].
LAUNCHER = """
import os, subprocess, sys
figures = sys.argv[1]
status = subprocess.call([sys.executable, "-c", sys.argv[2], figures + ".own", *sys.argv[3:]])
try:
    with open(figures + ".own") as runner:
        own = runner.read().strip()
    os.unlink(figures + ".own")
except FileNotFoundError:
    own = ""
with open(figures, "w") as report:
    print(status, own, file=report)
"""


class NotMeasured(Exception):
    """The command ended without writing its figures (killed by a signal)."""


@dataclass(frozen=True)
class OwnUsage:
    """What the runner wrote of the command: its own figures, and those of the processes it started."""

    exit_status: int
    cpu_seconds: float  # the command's own process, user + system
    peak_rss_kib: int  # the command's own process
    started_cpu_seconds: float  # the processes it started and waited for, all together
    started_peak_rss_kib: int  # the largest peak of one of them (0: none), each counting the command's at its start

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024

    @property
    def started_peak_rss_mib(self) -> float:
        return self.started_peak_rss_kib / 1024


def launched(figures: Path, command: Sequence[str]) -> list[str]:
    """``command`` (``sys.executable -m MODULE ARGS...``) run by the runner, started from the launcher, which
    writes its figures to ``figures`` (:func:`read_usage`). Only a module of this Python can be run in the runner's
    own process."""
    if len(command) < 3 or command[0] != sys.executable or command[1] != "-m":
        raise ValueError(f"not a command of the form {sys.executable} -m MODULE ...: {list(command)}")
    return [sys.executable, "-c", LAUNCHER, str(figures), RUNNER, *command[2:]]


def read_usage(figures: Path) -> OwnUsage:
    """The figures the launcher wrote once the command ended; :class:`NotMeasured` when it wrote only the exit
    status."""
    fields = figures.read_text().split()
    if len(fields) != 5:
        raise NotMeasured(f"the command ended (status {fields[0]}) without writing its figures")
    status, cpu, peak, started_cpu, started_peak = fields
    return OwnUsage(int(status), float(cpu), int(peak), float(started_cpu), int(started_peak))
