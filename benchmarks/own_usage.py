"""A command's own CPU time and peak memory, measured by a small launcher process that starts it.

The kernel's ``ru_maxrss`` of a process also counts the memory of the process it was started from, up to its exec
(Linux keeps the larger at ``execve``): a command started from a benchmark holding a stand-in's listing or sites
reported the benchmark's memory, not its own (457 MiB at a million listed rows, before and after a change that cut
the command's own, 2026-11-29). Started from :data:`LAUNCHER`, a few MiB of Python, the figure is the command's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Starts the command (argv[2:]) and writes its exit status, CPU time (user + system) and peak RSS (KiB, from
# ``wait4``) to the file named by argv[1].
LAUNCHER = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as report:
    print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss, file=report)
"""


@dataclass(frozen=True)
class OwnUsage:
    """What the launcher wrote of the command it started."""

    exit_status: int
    cpu_seconds: float
    peak_rss_kib: int

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024


def launched(figures: Path, command: Sequence[str]) -> list[str]:
    """``command`` started from the launcher, which writes its figures to ``figures`` (:func:`read_usage`)."""
    return [sys.executable, "-c", LAUNCHER, str(figures), *command]


def read_usage(figures: Path) -> OwnUsage:
    """The figures the launcher wrote once the command ended."""
    status, cpu, peak = figures.read_text().split()
    return OwnUsage(int(status), float(cpu), int(peak))
