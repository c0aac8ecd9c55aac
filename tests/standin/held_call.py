"""The real command line, held at one call of one of its functions until a test says go.

``python -m standin.held_call REACHED GO MODULE:FUNCTION N -- <arguments>``

The N-th call of ``FUNCTION`` of ``MODULE`` (a module-level name, looked up by its callers at each call) first
creates the file ``REACHED``, then waits until the file ``GO`` exists (at most ``HELD_SECONDS``: a test that failed
before saying go leaves no process waiting), then runs. A test waits for ``REACHED`` (a condition, never a time)
and acts on the command in that state, for instance signals it half-way through writing an export: the wait is
a Python sleep in the main thread, where a stop signal's handler runs, as it runs while the command reads.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path
from typing import Any

HELD_SECONDS = 300


def hold(reached: Path, go: Path, target: str, nth: int) -> None:
    module_name, _, name = target.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, name)
    calls = 0

    def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            partial = reached.with_name(reached.name + ".part")
            partial.write_text("")
            partial.rename(reached)
            deadline = time.monotonic() + HELD_SECONDS
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        return original(*args, **kwargs)

    setattr(module, name, held)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    reached, go, target, nth = argv[:split]
    hold(Path(reached), Path(go), target, int(nth))
    sys.argv = ["policy-archive", *argv[split + 1 :]]
    from policy_archive.pipeline.commands.cli import main as cli

    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
