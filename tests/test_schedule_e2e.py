"""End to end: `policy-archive schedule --every 2` running the real `track` against the stand-in live sites.

A run takes longer than the interval (one page answers after 4 s in the first run), so the scheduler must skip the
runs that fall due meanwhile instead of overlapping them; SIGTERM in the middle of a run lets the run finish the
documents being fetched, then everything exits with status 0 and leaves no process behind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standin.cli import WAIT_SECONDS, cli_command, cli_environment, running, wait_for
from standin.legal_text import policy_page
from standin.pages import held, slow
from standin.sites import StandinSites

from policy_archive.config.cron import next_run_time

SLOW_SECONDS = 4.0
INTERVAL_SECONDS = 2


def processes_mentioning(text: str) -> dict[int, str]:
    """Live processes whose command line contains ``text`` (pid → command line), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        if text in command:
            found[int(entry.name)] = command
    return found


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the fields after "(command)": state, ppid, ...


class RunWatch:
    """Samples, every 20 ms, which child processes of the scheduler are alive (its runs, one process each)."""

    def __init__(self) -> None:
        self.scheduler_pid: int | None = None
        self.most_at_once = 0
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            if self.scheduler_pid is None:
                continue
            running = {pid for pid in processes_mentioning(" track") if parent_of(pid) == self.scheduler_pid}
            self.seen |= running
            self.most_at_once = max(self.most_at_once, len(running))

    def __enter__(self) -> RunWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def commit_count(data: Path) -> int:
    if not (data / "versions").exists():
        return 0
    result = subprocess.run(
        ["git", "-C", str(data / "versions"), "rev-list", "--count", "main"], capture_output=True, text=True
    )
    return int(result.stdout) if result.returncode == 0 else 0


def test_schedule_runs_track_repeatedly_without_overlap_and_stops_cleanly_on_sigterm(
    sites: StandinSites, tmp_path: Path
) -> None:
    first_answer, second_answer = threading.Event(), threading.Event()
    # The first run lasts SLOW_SECONDS at least (longer than the interval), and its slow page is held until the test
    # has set the page the second run finds.
    slow_url = sites.set_page(
        "http://slow.test/privacy",
        held(slow(policy_page("slow.test", "privacy", size=5_000), SLOW_SECONDS), first_answer),
    )
    fast_url = sites.set_page("http://fast.test/privacy", policy_page("fast.test", "privacy", size=5_000))
    config, data, output = tmp_path / "config", tmp_path / "data", tmp_path / "schedule.log"
    (config / "services").mkdir(parents=True)
    # The crawl's deadline far past the slow page's SLOW_SECONDS, whatever the load (10 s left the loaded machine's
    # answer 6 s to arrive): the first run is as slow as the page, never failed by the clock.
    (config / "settings.toml").write_text(f"[wayback]\ntimeout_seconds = {WAIT_SECONDS}\n")
    for service, url in (("slow", slow_url), ("fast", fast_url)):
        (config / "services" / f"{service}.toml").write_text(
            f'name = "{service.title()}"\n[documents.privacy-policy]\nurl = "{url}"\n'
        )
    env = cli_environment(http_proxy=sites.proxy_url)
    command = cli_command(config, data, "schedule", "--every", str(INTERVAL_SECONDS))

    with RunWatch() as watch, running(command, output, env=env) as scheduler:
        watch.scheduler_pid = scheduler.pid
        try:
            scheduler.wait_for(lambda: sites.received(slow_url) == 1, "the slow page's request in the first run")
            # The second run finds a change to the slow page: set while the first run's request is unanswered (it
            # is answered from the page as it was when it arrived), so before the second run can start, whatever
            # the load. The slow site holds the new page until the scheduler has passed SIGTERM on.
            sites.set_page(slow_url, held(policy_page("slow.test", "privacy", revision=1, size=5_000), second_answer))
            first_answer.set()
            scheduler.wait_for_output("run 1 finished", "the first run")
            text = scheduler.output()
            assert re.search(r"run 1 finished, exit 0, [\d.]+ s: track: .*2 versions recorded", text), text
            assert commit_count(data) == 2

            # SIGTERM once both sites' requests of the second run have arrived (they are fetched in parallel; the
            # fast page's second request in all), so both are on the wire: not after a fixed sleep, nor racing the
            # fast site's request, which under load was sometimes not sent yet.
            scheduler.wait_for(
                lambda: sites.received(slow_url) == 1 and sites.received(fast_url) == 2,
                "both sites' requests in the second run",
            )
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait_for_output("received SIGTERM", "the scheduler to stop its run")
            second_answer.set()
            assert scheduler.ended() == 0, scheduler.output()
        finally:
            first_answer.set()
            second_answer.set()

    text = output.read_text(errors="replace")
    assert "received SIGTERM" in text and "scheduler stopped" in text
    # Both pages were on the wire when SIGTERM came: both finished, the changed one recorded (commit count below).
    run_2 = r"run 2 finished, exit 0, [\d.]+ s: track: 2/2 documents \(100 %\).*, 1 version recorded"
    assert re.search(run_2, text), text
    assert re.search(r"\d+ scheduled runs? skipped while run 1 was going", text), "a run outlasted the interval"
    assert "maximum number of running instances reached" not in text, "APScheduler's warning for each skipped run"
    assert commit_count(data) == 3, "the run stopped by SIGTERM finished the document it was fetching"
    assert [r.status for r in sites.requests("slow.test", "/privacy")] == [200, 200], "one request in each run"
    runs = [int(n) for n in re.findall(r"run (\d+) finished", text)]
    assert runs == [1, 2]
    # Each run's progress (its summary) is in the log once: in its "finished" line, not also relayed before it (a
    # "still going" line may quote it, if a tick fell between the summary and the run's end).
    relayed = "\n".join(line for line in text.splitlines() if " still going since " not in line)
    assert len(re.findall(r"track: 2/2 documents \(100 %\)", relayed)) == 2, text
    # The run outlasting the interval was said to be going at the first tick it made skip, not only after it.
    still_going = re.search(r"run 1 still going since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(runs never overlap", text)
    assert still_going and still_going.start() < text.index("run 1 finished"), text
    assert len(watch.seen) == 2 and watch.most_at_once == 1, "two runs, never two at once"
    assert processes_mentioning(str(config)) == {}, "no orphan process"


def test_a_second_schedule_on_the_same_data_directory_refuses_to_start(sites: StandinSites, tmp_path: Path) -> None:
    """Audit 2026-11-28: two `schedule` processes on one data directory both ran `track` at each tick (the data
    directory's lock only made the runs take turns), every site fetched twice, silently. The second one now
    refuses at once, naming the first one's PID, exit 2 as `--no-wait`'s; the first one's lock goes with it."""
    url = sites.set_page("http://once.test/privacy", policy_page("once.test", "privacy", size=5_000))
    config, data, output = tmp_path / "config", tmp_path / "data", tmp_path / "schedule.log"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text("[wayback]\ntimeout_seconds = 10\n")
    (config / "services" / "once.toml").write_text(f'name = "Once"\n[documents.privacy-policy]\nurl = "{url}"\n')
    env = cli_environment(http_proxy=sites.proxy_url)
    every_year = cli_command(config, data, "schedule", "--every", str(366 * 86400))
    with running(every_year, output, env=env) as first:
        first.wait_for_output("run 1 finished", "the first scheduler's run")
        second = subprocess.run(every_year, env=env, capture_output=True, text=True, timeout=WAIT_SECONDS)
        assert second.returncode == 2, second.stderr
        assert second.stderr.splitlines() == [
            f"policy-archive: {data} is already scheduled by {first.pid} running schedule: not started "
            "(one schedule per data directory)"
        ]
        assert second.stdout == ""
        assert first.stop(signal.SIGTERM) == 0, first.output()
    assert sites.received(url) == 1, "the site fetched by the first scheduler's run only"
    # Released when the first one ended: a scheduler starts again.
    with running(every_year, output, env=env) as again:
        again.wait_for_output("run 1 finished", "the next scheduler's run")
        assert again.stop(signal.SIGTERM) == 0, again.output()


def process_state(pid: int) -> str | None:
    """The process's state letter (``R``, ``S``, ``Z``...), None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def test_a_run_left_alone_by_its_killed_scheduler_still_notes_its_end(sites: StandinSites, tmp_path: Path) -> None:
    """Outside audit 5 (2026-11-29): a scheduler killed mid-run (then by SIGHUP, still by SIGKILL or the OOM killer)
    leaves its run writing into pipes nobody reads. The run's next line raised BrokenPipeError after its version was
    committed and before its end was noted: `status` said it did not finish and asked for `repair`. Now its output is
    discarded and it ends as it would have: version recorded, run noted, exit 0."""
    answer = threading.Event()
    url = sites.set_page("http://alone.test/privacy", held(policy_page("alone.test", "privacy", size=5_000), answer))
    config, data, output = tmp_path / "config", tmp_path / "data", tmp_path / "schedule.log"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text(f"[wayback]\ntimeout_seconds = {WAIT_SECONDS}\n")
    (config / "services" / "alone.toml").write_text(f'name = "Alone"\n[documents.privacy-policy]\nurl = "{url}"\n')
    env = cli_environment(http_proxy=sites.proxy_url)
    run: int | None = None
    try:
        with running(cli_command(config, data, "schedule", "--every", str(366 * 86400)), output, env=env) as scheduler:
            scheduler.wait_for(lambda: sites.received(url) == 1, "the run's request")
            runs = [pid for pid in processes_mentioning(" track") if parent_of(pid) == scheduler.pid]
            assert len(runs) == 1, runs
            run = runs[0]
            scheduler.process.kill()  # its pipes' read ends close with it
            assert scheduler.ended() == -signal.SIGKILL
        answer.set()  # the page answered only now: the run's every later line goes into a pipe without a reader
        # Gone, or a zombie where no init process reaps orphans (a container's PID 1 may not).
        wait_for(lambda: process_state(run) in (None, "Z"), WAIT_SECONDS, "the run left alone to end")
    finally:
        answer.set()
        if run is not None and process_state(run) not in (None, "Z"):
            os.kill(run, signal.SIGKILL)
    assert commit_count(data) == 1
    status = subprocess.run(cli_command(config, data, "status"), env=env, capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    last_run = next(line for line in status.stdout.splitlines() if line.startswith("run track"))
    assert "→ exit 0: 1 version recorded" in last_run, status.stdout
    assert "did not finish" not in status.stdout and "repair" not in status.stdout


def test_the_log_is_in_utc_whatever_tz_says_and_says_when_the_first_run_is(tmp_path: Path) -> None:
    """Outside audit 5 (2026-11-29): under TZ=America/New_York each line was stamped in local time without a zone
    while the lines said UTC ("next run at ...Z"), and with a cron expression the start line did not say when the
    first run was. The schedule here fires on 1 January only: no run starts during the test."""
    config, data, output = tmp_path / "config", tmp_path / "data", tmp_path / "schedule.log"
    (config / "services").mkdir(parents=True)
    (config / "settings.toml").write_text('[schedule]\ntrack = "0 0 1 1 *"\n')
    (config / "services" / "x.toml").write_text(
        'name = "X"\n[documents.privacy-policy]\nurl = "http://x.test/privacy"\n'
    )
    env = {**cli_environment(), "TZ": "America/New_York"}  # 4 or 5 hours behind UTC
    with running(cli_command(config, data, "schedule"), output, env=env) as scheduler:
        scheduler.wait_for_output("scheduler started", "the start line")
        now = datetime.now(UTC)
        assert scheduler.stop(signal.SIGTERM) == 0, scheduler.output()
    lines = output.read_text().splitlines()
    stamps = [re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ", line) for line in lines]
    assert all(stamps), lines
    for stamp in stamps:
        moment = datetime.strptime(stamp[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)  # type: ignore[index]
        assert abs(moment - now) < timedelta(hours=1), f"{stamp[1]} is not UTC (now {now:%H:%M}Z)"
    first = next_run_time("0 0 1 1 *", now)
    assert lines[0].endswith(f"; first run at {first:%Y-%m-%dT%H:%M:%SZ}"), lines[0]
    assert "(cron '0 0 1 1 *', UTC)" in lines[0]
