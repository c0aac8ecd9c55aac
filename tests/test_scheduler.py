"""The scheduler: crontab meaning, non-overlapping runs in subprocesses, a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.scheduler import ScheduleError, next_run_time, run_schedule, validate_cron

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "expression", ["0 */12 * * *", "*/15 * * * *", "30 6 * * 1-5", "0 0 1,15 * *", "0 3 * * sun", "0 0 * * 7"]
)
def test_validate_cron_accepts_crontab_expressions(expression: str) -> None:
    assert validate_cron(expression) is None


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 */12 * *", "5 fields"),
        ("0 0 0 */12 * *", "5 fields"),
        ("", "5 fields"),
        ("61 * * * *", "maximum value (59)"),
        ("0 24 * * *", "maximum value (23)"),
        ("0 0 * * 8", "day-of-week must be 0-7"),
        ("0 0 * * fri-mon", "runs backwards"),
        ("*/0 * * * *", "Increment must be higher than 0"),
        ("0 0 30 2 *", "never fires"),
        ("@daily", "5 fields"),
    ],
)
def test_validate_cron_explains_bad_expressions(expression: str, reason: str) -> None:
    message = validate_cron(expression)
    assert message is not None and reason in message


WEDNESDAY = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        ("0 */12 * * *", WEDNESDAY, datetime(2026, 11, 4, 12, 0, tzinfo=UTC)),
        ("0 */12 * * *", datetime(2026, 11, 4, 12, 0, tzinfo=UTC), datetime(2026, 11, 4, 12, 0, tzinfo=UTC)),
        # crontab's Sunday is 0 and 7 (APScheduler 3.x alone would read 0 as Monday)
        ("0 0 * * 0", WEDNESDAY, datetime(2026, 11, 8, tzinfo=UTC)),
        ("0 0 * * 7", WEDNESDAY, datetime(2026, 11, 8, tzinfo=UTC)),
        ("0 0 * * */2", WEDNESDAY, datetime(2026, 11, 5, tzinfo=UTC)),  # sun, tue, thu, sat
        # both day fields restricted: crontab runs when either matches (the 1st, or any Monday)
        ("0 0 1 * 1", WEDNESDAY, datetime(2026, 11, 9, tzinfo=UTC)),
        ("0 0 1 * 1", datetime(2026, 11, 30, 0, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_next_run_time_follows_crontab_semantics(expression: str, now: datetime, expected: datetime) -> None:
    assert next_run_time(expression, now) == expected


def test_next_run_time_is_in_utc_for_any_aware_now() -> None:
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 4, 11, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 10:30 UTC
    result = next_run_time("0 */12 * * *", now)
    assert result == datetime(2026, 11, 4, 12, 0, tzinfo=UTC) and result.utcoffset() is not None
    assert result.tzinfo == UTC


def test_next_run_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        next_run_time("0 */12 * * *", datetime(2026, 11, 4))


def test_run_schedule_refuses_a_missing_or_bad_schedule() -> None:
    log = logging.getLogger("test.scheduler")
    with pytest.raises(ScheduleError):
        run_schedule(["true"], None, None, log=log)
    with pytest.raises(ScheduleError):
        run_schedule(["true"], None, 0, log=log)
    with pytest.raises(ScheduleError):
        run_schedule(["true"], "0 0 * * 9", None, log=log)


# A run that takes longer than the interval, recording when it started and ended.
SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    with open(sys.argv[1], "a") as log:
        log.write(f"start {time.time()}\\n")
    time.sleep(0.4)
    with open(sys.argv[1], "a") as log:
        log.write(f"end {time.time()}\\n")
    print("tracked 3 documents, 1 changed")
    """
)


def test_runs_repeat_without_overlap_when_a_run_outlasts_the_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    times = tmp_path / "times.log"
    log = logging.getLogger("test.scheduler.overlap")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="test.scheduler.overlap"):
        status = run_schedule([sys.executable, "-c", SLOW_RUN, str(times)], None, 0.1, max_runs=3, log=log)
    elapsed = time.monotonic() - started
    assert status == 0
    events = [line.split() for line in times.read_text().splitlines()]
    assert [kind for kind, _ in events] == ["start", "end"] * 3  # strictly alternating: never two at once
    moments = [float(moment) for _, moment in events]
    assert moments == sorted(moments)
    # The interval fired ~4 times per run: those firings were skipped or coalesced, not queued up.
    assert elapsed < 3 * 0.4 + 2.0
    summaries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("run ")]
    assert len(summaries) == 3
    assert all("exit 0" in line and line.endswith(": tracked 3 documents, 1 changed") for line in summaries)


def test_run_summary_reports_failure_status_and_last_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    failing = "import sys; print('fetching'); print('2 documents failed', file=sys.stderr); sys.exit(1)"
    log = logging.getLogger("test.scheduler.failure")
    with caplog.at_level(logging.INFO, logger="test.scheduler.failure"):
        run_schedule([sys.executable, "-c", failing], None, 0.05, max_runs=1, log=log)
    messages = [r.getMessage() for r in caplog.records]
    assert "[run 1] fetching" in messages
    summary = next(m for m in messages if m.startswith("run 1 finished"))
    assert ", exit 1, " in summary and summary.endswith(": 2 documents failed")


def test_a_command_that_cannot_start_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.scheduler.missing")
    with caplog.at_level(logging.INFO, logger="test.scheduler.missing"):
        status = run_schedule(["/nonexistent/policy-archive"], None, 0.05, max_runs=1, log=log)
    assert status == 0
    assert any("could not start" in r.getMessage() for r in caplog.records)


# The scheduled command: records its pid, and on SIGTERM "finishes its current document" before exiting.
GRACEFUL_CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    workdir = sys.argv[1]
    def finish(signum, frame):
        time.sleep(0.3)
        open(os.path.join(workdir, "finished"), "w").write(signal.Signals(signum).name)
        sys.exit(0)
    signal.signal(signal.SIGTERM, finish)
    open(os.path.join(workdir, "child.pid"), "w").write(str(os.getpid()))
    time.sleep(30)
    """
)

SCHEDULER_PROCESS = textwrap.dedent(
    """
    import logging, sys
    from pipeline.scheduler import run_schedule
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    command = [sys.executable, "-c", sys.argv[1], sys.argv[2]]
    sys.exit(run_schedule(command, None, 60, log=logging.getLogger("schedule")))
    """
)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_run_gracefully_and_leaves_no_process(tmp_path: Path, stop_signal: int) -> None:
    scheduler = subprocess.Popen(
        [sys.executable, "-c", SCHEDULER_PROCESS, GRACEFUL_CHILD, str(tmp_path)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        child_pid = _wait_for_pid(tmp_path / "child.pid")
        scheduler.send_signal(stop_signal)
        _, stderr = scheduler.communicate(timeout=10)
    finally:
        scheduler.kill()
    assert scheduler.returncode == 0, stderr
    assert (tmp_path / "finished").read_text() == "SIGTERM"  # the child got SIGTERM, whatever the scheduler got
    assert not _process_exists(child_pid)
    assert "run 1 finished, exit 0" in stderr
    assert "scheduler stopped" in stderr


def _wait_for_pid(path: Path) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"the scheduled command never started ({path} missing)")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
