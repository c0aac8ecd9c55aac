"""Where the benchmarks find the project's shared data, and the one-line refusal when it is not there.

The seed policies and the real pages the benchmarks read are not in the repository (the project does not commit
data fetched from public repositories): they are in the ``shared/`` folder given to the project, which the
defaults expect beside the clone (``../shared``). README, "Measured figures", says where each part comes from.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
EXTRACTION = SHARED / "benchmarks" / "extraction"
OTA = SHARED / "benchmarks" / "ota-extraction"
BUILD_OTA = "python -m benchmarks.fetch_ota --output DIR rebuilds it from the repository's manifest"


def require(folder: Path, pattern: str, option: str, build: str = "") -> list[Path]:
    """The files of ``folder`` matching ``pattern``, sorted; none is an exit with one line on stderr naming what
    is missing, the option that points at it and ``build``, how to make it (a traceback would not say where the
    data comes from)."""
    found = sorted(folder.glob(pattern))
    if not found:
        sys.exit(
            f"no {pattern} in {folder}: this benchmark reads the project's shared data (README, Measured figures); "
            f"pass {option} DIR to point at it" + (f" ({build})" if build else "")
        )
    return found
