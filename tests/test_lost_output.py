"""A writing command's output whose reader went away (policy_archive/lost_output.py): discarded, the work goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from policy_archive.lost_output import _Discarding

WRITER = """
import subprocess, sys
from policy_archive.lost_output import lost_output_discarded
with lost_output_discarded():
    for n in range(3):
        print("line", n, flush=True)
        print("progress", n, file=sys.stderr)
    # a process it starts writes into the same descriptors: /dev/null by now, not a broken pipe (SIGPIPE)
    child = subprocess.run([sys.executable, "-c", "print('child ' * 20000)"])
    open(sys.argv[1], "w").write(f"done, child exit {child.returncode}")
print("after the block", flush=True)
"""


def test_a_command_whose_pipes_lost_their_reader_finishes_its_work(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: every write gets EPIPE
    marker = tmp_path / "done"
    try:
        run = subprocess.run(
            [sys.executable, "-c", WRITER, str(marker)], stdout=write_end, stderr=write_end, timeout=120
        )
    finally:
        os.close(write_end)
    assert run.returncode == 0
    assert marker.read_text() == "done, child exit 0"


class _Failing:
    def __init__(self, errno_: int) -> None:
        self.errno = errno_

    def write(self, _text: str) -> int:
        raise OSError(self.errno, os.strerror(self.errno))

    def flush(self) -> None:
        raise OSError(self.errno, os.strerror(self.errno))


def test_an_error_other_than_a_lost_reader_is_raised() -> None:
    import errno

    with pytest.raises(OSError) as raised:
        _Discarding(_Failing(errno.ENOSPC)).write("x")  # type: ignore[arg-type]
    assert raised.value.errno == errno.ENOSPC
    gone = _Discarding(_Failing(errno.EIO))  # type: ignore[arg-type]
    assert gone.write("abc") == 3 and gone.lost  # a terminal hung up: discarded too (no descriptor here)
    gone.flush()
