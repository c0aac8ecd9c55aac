"""The scheduler: crontab meaning, non-overlapping runs in subprocesses, a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standin.cli import WAIT_SECONDS, running, wait_for

from policy_archive.config.cron import ScheduleError, next_run_time, validate_cron
from policy_archive.config.settings import ScheduleSettings
from policy_archive.pipeline.scheduling.scheduler import run_schedule

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "expression",
    [
        *("0 */12 * * *", "*/15 * * * *", "30 6 * * 1-5", "0 0 1,15 * *", "0 3 * * sun", "0 0 * * 7"),
        *("0 0 * JAN Mon-Fri", "5/10 1-9/2 * * *"),
        # crontab(5) separates the fields with spaces or tabs (outside audit 5: a tab was refused as a control
        # character)
        *("0\t0 * *\t1", " \t0 0 * * *\t"),
    ],
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
        # Outside audit 5 (2026-11-29): what APScheduler 3.11 takes and cron does not. Arabic-Indic and other
        # non-ASCII digits; APScheduler's own day forms; a separator other than a space or a tab.
        ("\u0660 \u0661\u0662 * * *", "minute field '\u0660' is not crontab's"),
        ("0 \uff11 * * *", "hour field"),
        ("0 0 * * \u0661", "day-of-week field"),
        ("0 0 last * *", "day-of-month field 'last' is not crontab's"),
        ("0 0 2nd * *", "day-of-month field '2nd'"),
        ("0 0 L * *", "day-of-month field 'L'"),
        ("0 0 1 january *", "month field 'january'"),
        ("0 0 * * 5#3", "day-of-week field '5#3'"),
        ("0 mon * * *", "hour field 'mon'"),
        ("0 0\n* * *", "5 fields"),
        ("0 0\u00a0* * *", "5 fields"),
        ("0 0 * * 1\x1b", "day-of-week field"),
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
    with caplog.at_level(logging.INFO, logger="test.scheduler.overlap"):
        status = run_schedule([sys.executable, "-c", SLOW_RUN, str(times)], None, 0.1, max_runs=3, log=log)
    assert status == 0
    events = [line.split() for line in times.read_text().splitlines()]
    assert [kind for kind, _ in events] == ["start", "end"] * 3  # strictly alternating: never two at once
    moments = [float(moment) for _, moment in events]
    assert moments == sorted(moments)
    # The interval fired about 4 times during each run: those firings were skipped, not queued up, and said in one
    # line after the run they fell in (counted from APScheduler's events, not from the elapsed time, which depends
    # on the machine's load), without APScheduler's warning for each of them.
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "maximum number of running instances reached" in m], messages
    skipped = [
        re.fullmatch(r"(\d+) scheduled runs? skipped while run (\d+) was going \(runs never overlap\)", m)
        for m in messages
    ]
    counts = {int(match[2]): int(match[1]) for match in skipped if match}
    assert counts and all(count >= 1 for count in counts.values()), messages
    assert len(counts) == len([match for match in skipped if match]), "one line per run at most"
    summaries = [m for m in messages if re.match(r"run \d+ finished, ", m)]
    assert len(summaries) == 3
    assert all("exit 0" in line and line.endswith(": tracked 3 documents, 1 changed") for line in summaries)
    for run in counts:  # each said after its run's summary
        assert messages.index(next(m for m in messages if m.startswith(f"run {run} finished"))) < messages.index(
            next(m for m in messages if m.endswith(f"while run {run} was going (runs never overlap)"))
        )


def test_run_summary_reports_failure_status_and_last_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    failing = "import sys; print('fetching'); print('2 documents failed', file=sys.stderr); sys.exit(1)"
    log = logging.getLogger("test.scheduler.failure")
    with caplog.at_level(logging.INFO, logger="test.scheduler.failure"):
        run_schedule([sys.executable, "-c", failing], None, 0.05, max_runs=1, log=log)
    messages = [r.getMessage() for r in caplog.records]
    assert "[run 1] fetching" in messages
    summary = next(m for m in messages if m.startswith("run 1 finished"))
    assert ", exit 1, " in summary and summary.endswith(": 2 documents failed")
    relayed = [m for m in messages if m.startswith(("[run", "run 1 finished"))]
    assert sum("2 documents failed" in m for m in relayed) == 1, "the summary line is not logged twice"


def test_every_line_of_a_run_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """Progress lines, failures and the summary: each once, in order; a summary too long for the "finished"
    line is also logged whole."""
    long_line = "FAILED a/b: " + "x" * 400
    script = (
        "import sys\n"
        "for line in ['track: 1/3 documents', 'track: 3/3 documents, 3 fetched', '', 'FAILED c/d: gone']:\n"
        "    print(line, file=sys.stderr)\n"
        f"print({long_line!r}, file=sys.stderr)\n"
    )
    log = logging.getLogger("test.scheduler.once")
    with caplog.at_level(logging.INFO, logger="test.scheduler.once"):
        run_schedule([sys.executable, "-c", script], None, 0.05, max_runs=1, log=log)
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith(("[run", "run 1 finished"))]
    assert messages[:3] == [
        "[run 1] track: 1/3 documents",
        "[run 1] track: 3/3 documents, 3 fetched",
        "[run 1] FAILED c/d: gone",
    ]
    assert messages[3] == f"[run 1] {long_line}"
    assert messages[4].startswith("run 1 finished, exit 0, ") and messages[4].endswith("x…")
    assert len(messages) == 5


@pytest.mark.parametrize(
    ("script", "summary"),
    [
        # stderr's last line wins even when stdout is written (and flushed) after it
        (
            "import sys; print('2 documents failed', file=sys.stderr, flush=True); print('late', flush=True)",
            "2 documents failed",
        ),
        ("print('only stdout')", "only stdout"),
    ],
)
def test_run_summary_does_not_depend_on_how_the_streams_interleave(
    script: str, summary: str, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("test.scheduler.streams")
    with caplog.at_level(logging.INFO, logger="test.scheduler.streams"):
        run_schedule([sys.executable, "-c", script], None, 0.05, max_runs=1, log=log)
    finished = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("run 1 finished"))
    assert finished.endswith(f": {summary}")


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
    # Works until stopped: never ends by itself before the signal, however late it comes; gone with its scheduler
    # (killed by a failing test), as it runs in a session of its own.
    scheduler = os.getppid()
    while os.getppid() == scheduler:
        time.sleep(0.1)
    """
)

SCHEDULER_PROCESS = textwrap.dedent(
    """
    import logging, sys
    from policy_archive.pipeline.scheduling.scheduler import run_schedule
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    command = [sys.executable, "-c", sys.argv[1], sys.argv[2]]
    sys.exit(run_schedule(command, None, 60, log=logging.getLogger("schedule")))
    """
)


# The scheduler as started from a terminal, where SIGHUP is not ignored: the test session may have inherited it
# ignored (CI run as a background job under nohup), and a SIGHUP ignored at start stays ignored (nohup's meaning).
SCHEDULER_FROM_A_TERMINAL = "import signal\nsignal.signal(signal.SIGHUP, signal.SIG_DFL)\n" + SCHEDULER_PROCESS


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT])
def test_a_stop_signal_ends_the_run_gracefully_and_leaves_no_process(tmp_path: Path, stop_signal: int) -> None:
    command = [sys.executable, "-c", SCHEDULER_FROM_A_TERMINAL, GRACEFUL_CHILD, str(tmp_path)]
    with running(command, tmp_path / "schedule.log", env=dict(os.environ)) as scheduler:
        pid_file = tmp_path / "child.pid"
        scheduler.wait_for(lambda: pid_file.exists() and pid_file.read_text() != "", "the scheduled command's start")
        child_pid = int(pid_file.read_text())
        status = scheduler.stop(stop_signal)
    stderr = scheduler.output()
    assert status == 0, stderr
    assert (tmp_path / "finished").read_text() == "SIGTERM"  # the child got SIGTERM, whatever the scheduler got
    assert not _process_exists(child_pid)
    assert "run 1 finished, exit 0" in stderr
    assert "scheduler stopped" in stderr


def test_a_sighup_ignored_at_start_stays_ignored(tmp_path: Path) -> None:
    """`nohup policy-archive schedule`: SIGHUP was meant not to stop it (the other stop signals still do)."""
    command = [sys.executable, "-c", SCHEDULER_PROCESS, GRACEFUL_CHILD, str(tmp_path)]
    log = tmp_path / "schedule.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
        )
        try:
            pid_file = tmp_path / "child.pid"
            wait_for(lambda: pid_file.exists() and pid_file.read_text() != "", WAIT_SECONDS, "the run's start")
            process.send_signal(signal.SIGHUP)  # ignored by the kernel: never reaches the scheduler
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=WAIT_SECONDS) == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    text = log.read_text()
    assert "received SIGTERM" in text and "SIGHUP" not in text, text
    assert (tmp_path / "finished").read_text() == "SIGTERM"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- docs/running-as-a-service.md: the unit files and the cron line must be exactly right ---------------

SERVICE_DOC = REPO / "docs" / "running-as-a-service.md"
SYSTEMD_UNIT_HEADER = "# /etc/systemd/system/"


def _doc_blocks(language: str) -> list[str]:
    text = SERVICE_DOC.read_text()
    return [block.split("\n```", 1)[0] for block in text.split(f"```{language}\n")[1:]]


def _documented_units() -> dict[str, str]:
    """File name → content of every unit file shown in the service documentation."""
    units = {}
    for block in _doc_blocks("ini"):
        first, _, rest = block.partition("\n")
        assert first.startswith(SYSTEMD_UNIT_HEADER), first
        units[first.removeprefix(SYSTEMD_UNIT_HEADER)] = rest
    return units


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_documented_systemd_units_verify(tmp_path: Path) -> None:
    units = _documented_units()
    assert set(units) == {"policy-archive.service", "policy-archive-track.service", "policy-archive-track.timer"}
    # systemd-analyze checks that ExecStart exists: point it at this environment's installed command.
    installed = Path(sys.executable).parent / "policy-archive"
    for name, content in units.items():
        (tmp_path / name).write_text(content.replace("/opt/policy-archive/venv/bin/policy-archive", str(installed)))
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in units)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_documented_timer_fires_when_the_default_cron_does() -> None:
    timer = _documented_units()["policy-archive-track.timer"]
    calendar = next(line.partition("=")[2] for line in timer.splitlines() if line.startswith("OnCalendar="))
    result = subprocess.run(
        ["systemd-analyze", "calendar", "--iterations=3", calendar], capture_output=True, text=True, timeout=60
    )
    elapses = [
        datetime.strptime(line.split(":", 1)[1].strip(), "%a %Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        for line in result.stdout.splitlines()
        if line.strip().startswith(("Next elapse:", "Iter. #"))
    ]
    assert len(elapses) == 3
    previous = elapses[0] - timedelta(seconds=1)
    for elapse in elapses:
        assert next_run_time(ScheduleSettings().track, previous + timedelta(seconds=1)) == elapse
        previous = elapse


def test_documented_cron_line_uses_the_default_schedule() -> None:
    [crontab] = _doc_blocks("crontab")
    [entry] = [line for line in crontab.splitlines() if line and not line.startswith(("#", "CRON_TZ="))]
    fields = entry.split()
    assert " ".join(fields[:5]) == ScheduleSettings().track and validate_cron(" ".join(fields[:5])) is None
    assert (
        fields[5] == "policy-archive"
        and "flock -n" in entry
        and entry.endswith(" track >>/var/lib/policy-archive/track.log 2>&1")
    )


# Prints a line saying what it waits for, then waits (as `track` waiting for a backfill's lock) until released.
WAITING_RUN = textwrap.dedent(
    """
    import os, sys, time
    print("waiting for data/.lock, held by PID 4242 running backfill", file=sys.stderr, flush=True)
    deadline = time.monotonic() + float(sys.argv[2])  # a bound for a failing test, not a synchronisation
    while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
        time.sleep(0.02)
    print("track: 1/1 document (100 %), 1 version recorded", file=sys.stderr)
    """
)


class _Releasing(logging.Handler):
    """Creates ``release`` once a record holding ``text`` is logged: the run waits for the scheduler's line."""

    def __init__(self, text: str, release: Path) -> None:
        super().__init__()
        self.text, self.release_file = text, release  # not ``release``: a Handler's lock method

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.release_file.touch()


def test_a_run_that_outlasts_a_tick_is_said_to_be_going_with_its_last_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside audit 5 (2026-11-29): a run blocked on the data directory's lock said nothing until it ended (its
    "waiting for ..." line held back until the next one, the skipped ticks said after it). The run here goes on only
    once the scheduler has said, at a skipped tick, that it is going and what it last printed."""
    release = tmp_path / "release"
    log = logging.getLogger("test.scheduler.going")
    releasing = _Releasing("its last line: waiting for data/.lock", release)
    log.addHandler(releasing)
    try:
        with caplog.at_level(logging.INFO, logger="test.scheduler.going"):
            status = run_schedule(
                [sys.executable, "-c", WAITING_RUN, str(release), str(WAIT_SECONDS)], None, 0.05, max_runs=1, log=log
            )
    finally:
        log.removeHandler(releasing)
    assert status == 0
    messages = [r.getMessage() for r in caplog.records]
    going = [m for m in messages if m.startswith("run 1 still going since ")]
    waiting = next((m for m in going if "waiting for" in m), "")
    assert re.fullmatch(
        r"run 1 still going since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(runs never overlap: this scheduled run skipped\); "
        r"its last line: waiting for data/\.lock, held by PID 4242 running backfill",
        waiting,
    ), going
    # Said again only when there is something new (many ticks skipped while it waited, at 0.05 s each)
    assert len(going) == len(set(going)), going
    finished = next(i for i, m in enumerate(messages) if m.startswith("run 1 finished"))
    assert messages.index(waiting) < finished
    assert messages[finished].endswith(": track: 1/1 document (100 %), 1 version recorded")


def test_a_quiet_run_is_said_to_be_going_with_its_last_line_between_ticks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With a cron expression the next tick may be hours away: a run that has printed nothing for ``quiet_seconds``
    is said to be going too (60 s in `schedule`; 0.2 s here, the test waiting for the line, not for the time)."""
    release = tmp_path / "release"
    log = logging.getLogger("test.scheduler.quiet")
    releasing = _Releasing("(nothing printed for 0.2 s); its last line: waiting for data/.lock", release)
    log.addHandler(releasing)
    try:
        with caplog.at_level(logging.INFO, logger="test.scheduler.quiet"):
            status = run_schedule(
                [sys.executable, "-c", WAITING_RUN, str(release), str(WAIT_SECONDS)],
                None,
                366 * 86400,  # no tick during the run
                max_runs=1,
                quiet_seconds=0.2,
                log=log,
            )
    finally:
        log.removeHandler(releasing)
    assert status == 0
    messages = [r.getMessage() for r in caplog.records]
    assert release.exists(), messages
    going = [m for m in messages if m.startswith("run 1 still going since ")]
    assert len(going) == len(set(going)), going
    assert not any("maximum number of running instances" in m or "was missed" in m for m in messages), messages
