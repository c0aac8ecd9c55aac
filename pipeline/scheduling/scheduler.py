"""The ``schedule`` command's engine: APScheduler 3.x in the foreground, one subprocess per run.

This is the only module that imports APScheduler. Each run is a fresh subprocess because Scrapy's Twisted
reactor cannot be restarted inside one process. The child is started in its own session (so a terminal's
Ctrl-C reaches only the scheduler, which then decides what the child gets) and is always reaped before the
scheduler returns.

Crontab expressions keep their crontab meaning, which APScheduler 3.x's ``CronTrigger.from_crontab`` does
not (as of 3.11, 2026-11): it numbers weekdays from Monday = 0 where crontab has Sunday = 0 (APScheduler
issue 286, fixed only in the 4.x alphas), and it requires the day of month AND the day of week to match where
crontab runs when EITHER matches if both are restricted. So the weekday field is translated to names here
and such expressions become an ``OrTrigger`` of two cron triggers.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import IO

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from policy_archive.config.cron import ScheduleError, crontab_trigger
from policy_archive.records import iso_z
from policy_archive.text import counted

_SUMMARY_LINE_LIMIT = 300
# A run that has printed nothing for this long is said to be going, with its last line (:class:`_SkippedRuns`).
QUIET_SECONDS = 60.0
# SIGHUP (its terminal or ssh session closed, `kill -HUP`) and SIGQUIT (Ctrl-\\) as SIGTERM: their default action
# killed the scheduler at once, leaving its run going alone in its own session and .schedule.lock free for a second
# scheduler beside it (outside audit 5, 2026-11-29). A SIGHUP ignored when the scheduler starts (`nohup`) stays
# ignored: whoever started it so meant it to outlive its terminal.
_KEPT_IF_IGNORED = (signal.SIGHUP,)
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
_WAKE_TO_FINISH = 0  # byte written to the signal pipe when run_schedule returns, ending the stopper thread


# --- running the command -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunGoing:
    """The run going now: its number, when it started, the last line it printed (empty: none yet) and when (on the
    monotonic clock; its start while it has printed none)."""

    number: int
    started: datetime
    last_line: str
    printed_at: float


@dataclass(frozen=True)
class RunOutcome:
    """One finished run of the scheduled command."""

    number: int
    returncode: int | None  # None: the command could not be started at all
    duration_seconds: float
    last_line: str

    def summary(self) -> str:
        """The one-line summary logged after each run."""
        if self.returncode is None:
            status = "could not start"
        elif self.returncode < 0:
            status = f"stopped by {signal.Signals(-self.returncode).name}"
        else:
            status = f"exit {self.returncode}"
        tail = f": {self.last_line}" if self.last_line else ""
        return f"run {self.number} finished, {status}, {self.duration_seconds:.1f} s{tail}"


class _ChildRunner:
    """Runs the command in its own process group, one at a time, and stops it on request."""

    def __init__(self, command: Sequence[str], log: logging.Logger):
        self._command = list(command)
        self._log = log
        self._lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stop_requests = 0
        self._idle = threading.Event()
        self._idle.set()
        self.completed_runs = 0
        self._going: RunGoing | None = None  # the run going now, with the last line it printed

    def going(self) -> RunGoing | None:
        """The run going now, if any: its number, when it started, the last line it printed so far."""
        with self._lock:
            return self._going

    def run_once(self) -> RunOutcome | None:
        """Run the command to completion; None if a stop was requested before it could start."""
        started = time.monotonic()
        with self._lock:
            if self._stop_requests:
                return None
            self._idle.clear()
            number = self.completed_runs + 1
            try:
                process = subprocess.Popen(
                    self._command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            except OSError as error:
                self.completed_runs = number
                self._idle.set()
                return RunOutcome(number, None, time.monotonic() - started, _one_line(str(error)))
            self._process = process
            self._going = RunGoing(number, datetime.now(UTC), "", time.monotonic())
        try:
            last_line = self._wait(process, number)
        finally:
            with self._lock:
                self._process = None
                self._going = None
                self.completed_runs = number
                self._idle.set()
        return RunOutcome(number, process.returncode, time.monotonic() - started, last_line)

    def _wait(self, process: subprocess.Popen[bytes], number: int) -> str:
        """Relay the command's output; return its summary: the last line of stderr, else of stdout.

        The two streams are read apart: how a merged pipe interleaves them depends on buffering (a service
        manager's environment has no PYTHONUNBUFFERED), and policy-archive writes its summary and its failures
        last on stderr, so only stderr's own last line is deterministic.
        """
        streams = (process.stdout, process.stderr)
        last_lines = [[""], [""]]
        relays = [
            threading.Thread(target=_relay_output, args=(stream, self._log, number, last, self._printed), daemon=True)
            for stream, last in zip(streams, last_lines, strict=True)
        ]
        for relay in relays:
            relay.start()
        process.wait()
        # Anything the command left behind in its process group would be an orphan: end it, which also closes
        # the output pipes those processes may still hold, so the relay threads see end of file.
        _signal_group(process.pid, signal.SIGKILL)
        for relay, stream in zip(relays, streams, strict=True):
            relay.join()
            stream.close()  # type: ignore[union-attr]
        stdout_last, stderr_last = last_lines[0][0], last_lines[1][0]
        summary = stderr_last or stdout_last
        if stderr_last and stdout_last:  # stdout's own last line is not the summary: logged like the others
            self._log.info("[run %d] %s", number, stdout_last)
        if len(_one_line(summary)) < len(" ".join(summary.split())):  # cut in the summary: kept whole here
            self._log.info("[run %d] %s", number, summary)
        return _one_line(summary)

    def _printed(self, line: str) -> None:
        with self._lock:
            if self._going is not None:
                self._going = replace(self._going, last_line=_one_line(line), printed_at=time.monotonic())

    def stop(self) -> None:
        """First call: SIGTERM to the running command (it finishes its document). Later calls: SIGKILL to its
        process group.

        The first SIGTERM goes to the command alone, not its group: the command ends its own helpers in order
        once its document is done. Playwright's driver, in the group, closes the browser at once on SIGTERM,
        which would abandon the page being rendered (decision 0012); a git process would stop mid-write."""
        with self._lock:
            self._stop_requests += 1
            process = self._process
            # returncode is set once the child is reaped; after that its pid may belong to someone else.
            if process is not None and process.returncode is None:
                if self._stop_requests == 1:
                    process.send_signal(signal.SIGTERM)
                else:
                    _signal_group(process.pid, signal.SIGKILL)

    def wait_until_idle(self) -> None:
        self._idle.wait()


def _relay_output(
    stream: IO[bytes], log: logging.Logger, number: int, last_line: list[str], printed: Callable[[str], None]
) -> None:
    """Log every line the command prints except the last non-empty one, held in ``last_line``: that is the
    run's summary (``track: 3/3 documents ...``), which the "run N finished" line logs once. So each line is
    logged when the next one arrives (a progress line a few seconds late), and none twice; each is also passed to
    ``printed`` as it arrives, for the line said at a tick skipped while the run goes on (:class:`_SkippedRuns`)."""
    held = ""
    for raw in stream:
        line = raw.decode("utf-8", errors="replace").rstrip()
        if not line.strip():
            continue
        printed(line)
        if held:
            log.info("[run %d] %s", number, held)
        held = line
    last_line[0] = held


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY_LINE_LIMIT else text[: _SUMMARY_LINE_LIMIT - 1] + "…"


def _signal_group(process_group: int, signum: signal.Signals) -> None:
    try:
        os.killpg(process_group, signum)
    except ProcessLookupError:  # the group is already empty
        pass


# --- the scheduler -----------------------------------------------------------------------------------------


def run_schedule(
    command: Sequence[str],
    cron: str | None,
    every_seconds: float | None,
    *,
    misfire_grace_seconds: int = 600,
    max_runs: int | None = None,
    quiet_seconds: float = QUIET_SECONDS,
    log: logging.Logger,
) -> int:
    """Run ``command`` on ``cron`` (UTC) or every ``every_seconds`` until SIGTERM, SIGINT, SIGHUP or SIGQUIT; return 0.

    ``every_seconds``, when given, replaces ``cron`` and runs the command once right away. Runs never
    overlap: a run due while one is still going is skipped (``max_instances=1``) and runs missed while the
    process could not run them are coalesced into one, if no later than ``misfire_grace_seconds``. On the
    first of these signals the running command gets SIGTERM and is waited for; a second signal kills it.
    Must be called from the main thread (signal handlers). ``max_runs`` stops after that many runs (tests).
    A run that has printed nothing for ``quiet_seconds``, or that makes a tick be skipped, is said to be going, with
    its last line (:class:`_SkippedRuns`).
    """
    trigger, description = _trigger(cron, every_seconds)
    _quiet_apscheduler()
    runner = _ChildRunner(command, log)
    scheduler = BlockingScheduler(timezone=UTC)
    stopper = _Stopper(scheduler, runner, log)
    skipped = _SkippedRuns(runner, log, quiet_seconds)
    job = _ScheduledJob(runner, scheduler, stopper, skipped, max_runs, log)
    _add_job(scheduler, job.run, trigger, misfire_grace_seconds, right_away=every_seconds is not None)
    scheduler.add_listener(stopper.on_scheduler_started, EVENT_SCHEDULER_STARTED)
    scheduler.add_listener(skipped.on_skipped, EVENT_JOB_MAX_INSTANCES)
    scheduler.add_job(
        skipped.on_quiet_check,
        IntervalTrigger(seconds=quiet_seconds / 2, timezone=UTC),
        id="quiet-check",
        name="is the run quiet",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,  # late under load is no fault: no "missed" warning for it
    )
    log.info("scheduler started (%s, UTC): %s; %s", description, " ".join(command), _first_run(trigger, every_seconds))
    with stopper.handling_signals(), skipped.unwarned():
        scheduler.start()  # blocks until a signal or max_runs shuts the scheduler down
        runner.wait_until_idle()
    log.info("scheduler stopped")
    return 0


def _add_job(
    scheduler: BlockingScheduler, run: Callable[[], None], trigger: BaseTrigger, grace_seconds: int, *, right_away: bool
) -> None:
    """The scheduled command as the scheduler's one job: never two runs at once, missed runs coalesced into one if
    no later than ``grace_seconds``; ``right_away`` also runs it as soon as the scheduler starts."""
    first_run = {"next_run_time": datetime.now(UTC)} if right_away else {}
    scheduler.add_job(
        run,
        trigger,
        id="track",
        name="scheduled command",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=grace_seconds,
        **first_run,
    )


@dataclass(frozen=True)
class _ScheduledJob:
    """What the scheduler runs at each tick: the command, then what is said of it and whether the schedule goes on."""

    runner: _ChildRunner
    scheduler: BlockingScheduler
    stopper: _Stopper
    skipped: _SkippedRuns
    max_runs: int | None
    log: logging.Logger

    def run(self) -> None:
        """Run the command once; log its summary and the runs skipped meanwhile, then stop after ``max_runs`` or
        say when the next run is."""
        outcome = self.runner.run_once()
        if outcome is None:
            return
        self.log.info("%s", outcome.summary())
        if count := self.skipped.take():
            self.log.info(
                "%s skipped while run %d was going (runs never overlap)",
                counted(count, "scheduled run"),
                outcome.number,
            )
        if self.max_runs is not None and outcome.number >= self.max_runs:
            self.log.info("stopping after %d runs", outcome.number)
            self.stopper.shutdown_scheduler()
        else:
            _log_next_run(self.scheduler, self.log)


class _SkippedRuns(logging.Filter):
    """Counts the runs skipped because the previous one still runs, said once when that one finishes; and says that
    the run is still going, since when, and the last line it printed (``run 2 still going since 2026-11-29T12:00:03Z
    (...); its last line: waiting for data/.lock ... running backfill``) at a tick it makes be skipped and once it
    has printed nothing for ``quiet_seconds`` (checked every half of that), each time only if it has printed a new
    line since this was last said.

    Without that line a run blocked or hung was silent until it ended: its last line (``waiting for ...``) is held
    back until the next one arrives (:func:`_relay_output`), and the skipped ticks were said only after the run,
    so a run waiting 26 s for a backfill's lock was silent for 26 s, one waiting for hours, for hours (outside audit
    5, 2026-11-29); with a cron expression the next tick may be 12 hours away, hence the quiet check too. Said only
    when something is new, as ``--every 1`` ticks every second.

    Skipping is intended (``max_instances=1``), yet APScheduler 3.11 logs a WARNING for each skipped tick
    (``Execution of job ... skipped: maximum number of running instances reached``): with ``--every 1`` nineteen
    of them in half a minute buried the run summaries in a journal. It also sends ``EVENT_JOB_MAX_INSTANCES``,
    counted here, while the warning is filtered out of its logger (the scheduler's, ``apscheduler.scheduler``)."""

    def __init__(self, runner: _ChildRunner, log: logging.Logger, quiet_seconds: float) -> None:
        super().__init__()
        self._runner = runner
        self._log = log
        self._quiet_seconds = quiet_seconds
        self._lock = threading.Lock()
        self._count = 0
        self._said: RunGoing | None = None  # what the last "still going" line said

    def on_skipped(self, event: SchedulerEvent) -> None:
        if getattr(event, "job_id", None) != "track":
            return
        with self._lock:
            self._count += 1
        self._say_going("runs never overlap: this scheduled run skipped")

    def on_quiet_check(self) -> None:
        going = self._runner.going()
        if going is not None and time.monotonic() - going.printed_at >= self._quiet_seconds:
            self._say_going(f"nothing printed for {self._quiet_seconds:g} s")

    def _say_going(self, why: str) -> None:
        with self._lock:
            going = self._runner.going()
            if going is None or going == self._said:
                return
            self._said = going
        tail = f"its last line: {going.last_line}" if going.last_line else "it has printed nothing yet"
        self._log.info("run %d still going since %s (%s); %s", going.number, iso_z(going.started), why, tail)

    def take(self) -> int:
        """The runs skipped since the last call."""
        with self._lock:
            count, self._count = self._count, 0
        return count

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)

    @contextmanager
    def unwarned(self) -> Iterator[None]:
        """APScheduler's warning for each skipped run left out while the scheduler runs."""
        apscheduler_log = logging.getLogger("apscheduler.scheduler")
        apscheduler_log.addFilter(self)
        try:
            yield
        finally:
            apscheduler_log.removeFilter(self)


def _quiet_apscheduler() -> None:
    """APScheduler logs each job's start and end at INFO, which the run summaries say better; its warnings (a run
    missed) stay visible, but for skipped runs (:class:`_SkippedRuns`). A level set by the caller wins."""
    apscheduler_log = logging.getLogger("apscheduler")
    if apscheduler_log.level == logging.NOTSET:
        apscheduler_log.setLevel(logging.WARNING)


def _trigger(cron: str | None, every_seconds: float | None) -> tuple[BaseTrigger, str]:
    if every_seconds is not None:
        if every_seconds <= 0:
            raise ScheduleError(f"--every must be a positive number of seconds, got {every_seconds}")
        return IntervalTrigger(seconds=every_seconds, timezone=UTC), f"every {every_seconds:g} s"
    if cron is None:
        raise ScheduleError("no schedule: give a cron expression or an interval in seconds")
    return crontab_trigger(cron), f"cron {cron!r}"


def _first_run(trigger: BaseTrigger, every_seconds: float | None) -> str:
    """When the first run is, said on the start line: with a cron expression it may be hours away (audit 5)."""
    if every_seconds is not None:
        return "first run now"
    first = trigger.get_next_fire_time(None, datetime.now(UTC))
    return f"first run at {iso_z(first)}" if first is not None else "no run: the expression never fires"


def log_formatter() -> logging.Formatter:
    """The scheduler's log lines stamped in UTC, said with a ``Z`` (``2026-11-29T12:00:41Z INFO ...``), the zone of
    every time the lines themselves hold (``next run at ...Z``) and of the cron expression. Stamped in the local
    time without a zone before 2026-11-29, a log under ``TZ=America/New_York`` mixed two zones (outside audit 5)."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    return formatter


def _log_next_run(scheduler: BlockingScheduler, log: logging.Logger) -> None:
    job = scheduler.get_job("track")
    if job is not None and job.next_run_time is not None:
        log.info("next run at %s", iso_z(job.next_run_time))


class _Stopper:
    """Turns SIGTERM, SIGINT, SIGHUP and SIGQUIT into a clean stop without doing the work inside the signal handler.

    A Python signal handler runs in the main thread between any two bytecodes, possibly while that thread
    holds a non-reentrant lock (APScheduler submitting a job, an Event being waited on): calling the scheduler
    from there can deadlock. So the handler only writes the signal number to a pipe; a thread does the rest.
    """

    def __init__(self, scheduler: BlockingScheduler, runner: _ChildRunner, log: logging.Logger):
        self._scheduler = scheduler
        self._runner = runner
        self._log = log
        self._stop_requested = threading.Event()
        self._shutdown_lock = threading.Lock()

    def on_scheduler_started(self, _event: SchedulerEvent) -> None:
        # A signal that arrived before the scheduler was running could not shut it down: do it now.
        if self._stop_requested.is_set():
            self.shutdown_scheduler()

    def shutdown_scheduler(self) -> None:
        with self._shutdown_lock:
            if self._scheduler.state == STATE_STOPPED:
                return
            try:
                self._scheduler.shutdown(wait=False)
            except SchedulerNotRunningError:
                pass

    @contextmanager
    def handling_signals(self) -> Iterator[None]:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        handled = [
            signum
            for signum in _STOP_SIGNALS
            if not (signum in _KEPT_IF_IGNORED and signal.getsignal(signum) is signal.SIG_IGN)
        ]
        previous = {signum: signal.signal(signum, _pipe_writer(write_end)) for signum in handled}
        thread = threading.Thread(target=self._serve, args=(read_end,), name="schedule-stopper", daemon=True)
        thread.start()
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.write(write_end, bytes([_WAKE_TO_FINISH]))
            thread.join()
            os.close(read_end)
            os.close(write_end)

    def _serve(self, read_end: int) -> None:
        while (signum := os.read(read_end, 1)[0]) != _WAKE_TO_FINISH:
            name = signal.Signals(signum).name
            if self._stop_requested.is_set():
                self._log.warning("received %s again: killing the running command", name)
            else:
                self._log.info(
                    "received %s: stopping (the running command finishes the requests already sent, closes the "
                    "page it renders)",
                    name,
                )
            self._stop_requested.set()
            self._runner.stop()
            self.shutdown_scheduler()


def _pipe_writer(write_end: int) -> Callable[[int, object], None]:
    def write_signal_number(signum: int, _frame: object) -> None:
        try:
            os.write(write_end, bytes([signum]))
        except BlockingIOError:  # the pipe is full of earlier signals: the stopper is already on it
            pass

    return write_signal_number
