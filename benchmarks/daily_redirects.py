"""A document URL archived daily as a 301 to a target archived weekly (decision 0008's common case).

    python -m benchmarks.daily_redirects

The stand-in Wayback archive (``tests/standin/archive.py``, 127.0.0.1) lists 365 daily archived 301s of the
document's URL (06:00 UTC) to a target captured weekly (day 3 of each week, 18:00 UTC) whose text changes 3 times
(4 texts, 13 weeks each). The archive serves each redirect's target from its nearest memento, up to 3½ days away.
Runs ``python -m policy_archive ... backfill`` with the default strategy and with ``--strategy all``, each in a
fresh data directory, and prints the versions found against the truth (each text's first target capture), the
replay requests the archive answered, the lines on stderr and the exit status.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.shared import REPO_ROOT

# The stand-ins and the test pages live in tests/ (imported as top-level modules, as pytest does).
sys.path.insert(0, str(REPO_ROOT / "tests"))
from standin.archive import StandinArchive  # noqa: E402
from standin.cli import run_cli  # noqa: E402
from test_backfill_resilience import V1, V2, V3, page, ts  # noqa: E402
from test_fidelity import DOC, TARGET, URL, configured  # noqa: E402

V4 = [*V3, "We no longer sell personal information to anyone."]
START = datetime(2021, 1, 1, 6, tzinfo=UTC)


def fill(archive: StandinArchive) -> list[str]:
    """The redirects and the target's captures; the truth: each text's first target capture."""
    for days in range(365):
        archive.add_capture(URL, ts(START + timedelta(days=days)), b"", status=301, location=TARGET)
    truth = []
    for week in range(52):
        when = START + timedelta(days=7 * week + 3, hours=12)
        if week % 13 == 0:
            truth.append(when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        archive.add_capture(TARGET, ts(when), page([V1, V2, V3, V4][week // 13], f"w{week}"))
    return truth


def measure(archive: StandinArchive, strategy: str) -> None:
    before = archive.counts()["replay"]
    config, data = configured(archive, Path(tempfile.mkdtemp(prefix=f"daily-redirects-{strategy}-")))
    result = run_cli(config, data, "backfill", DOC, "--strategy", strategy, timeout=1800)
    replays = archive.counts()["replay"] - before
    dates = sorted(version["date"] for version in json.loads(run_cli(config, data, "log", DOC, "--json").stdout))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    refusals = [line for line in lines if f"{DOC}: " in line and " refused" in line]
    print(f"--strategy {strategy}: exit {result.returncode}; {len(dates)} versions {' '.join(dates)}")
    print(f"  replay requests {replays}; stderr {len(lines)} lines, {len(refusals)} of them refusals")
    for line in refusals[:2]:
        print(f"  | {line}")


def main() -> None:
    with StandinArchive().start() as archive:
        truth = fill(archive)
        print(f"truth: {len(truth)} versions {' '.join(truth)}")
        for strategy in ("bisect", "all"):
            measure(archive, strategy)


if __name__ == "__main__":
    main()
