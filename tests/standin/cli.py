"""Running the real `policy-archive` command line from tests: in a subprocess, because Scrapy's reactor cannot
be restarted inside one test process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OFFLINE = REPO_ROOT / "tests" / "offline"  # the offline guard's sitecustomize (tests/offline/offline_guard.py)
# The export columns DESIGN.md's contract names, in its order (checked by the export and tour tests).
EXPORT_COLUMNS = [
    "service",
    "document",
    "captured_at",
    "stated_date",
    "commit",
    "source",
    "snapshot_url",
    "title",
    "words",
    "lines_added",
    "lines_removed",
    "text",
]


def cli_command(config: Path, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "policy_archive", "--config", str(config), "--data", str(data), *args]


def cli_environment(**extra: str) -> dict[str, str]:
    """The test session's environment, with the checkout importable after the offline guard (tests/offline, inert
    unless the session set its variable, tests/conftest.py): first, as ``sitecustomize`` is taken from the first
    folder that has one (one added before it must run the guard's itself)."""
    return {**os.environ, "PYTHONPATH": f"{OFFLINE}:{REPO_ROOT}", **extra}


# The longest a test waits for a command it started to reach a point or to end: never reached by a run that works,
# however loaded the machine (CI runs the suite under heavy load), so only a failing test ever waits that long.
WAIT_SECONDS = 300


def run_cli(
    config: Path, data: Path, *args: str, env: dict[str, str] | None = None, timeout: float = WAIT_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(config, data, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or cli_environment(),
        cwd=REPO_ROOT,
    )


def names_command(table: tuple[str, ...], config: Path, data: Path, *args: str, said: bool = True) -> list[str]:
    """The command line of ``policy-archive ARGS`` with name lookups answered from ``table`` (``HOST=ADDRESS[,ADDRESS]``
    entries, tests/standin/fixed_dns.py): no name server is asked, and each lookup is said on stderr (``LOOKUP
    host``) unless ``said`` is False. Run it with :func:`names_environment`."""
    silent = [] if said else ["--silent"]
    return [sys.executable, "-m", "standin.fixed_dns", *silent, *table, "--", *cli_command(config, data, *args)[3:]]


def names_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (by default :func:`cli_environment`) with the stand-ins importable, for :func:`names_command`."""
    env = env or cli_environment()
    return {**env, "PYTHONPATH": f"{REPO_ROOT / 'tests'}:{env['PYTHONPATH']}"}


def run_cli_with_names(
    table: tuple[str, ...],
    config: Path,
    data: Path,
    *args: str,
    env: dict[str, str] | None = None,
    said: bool = True,
    timeout: float = WAIT_SECONDS,
) -> subprocess.CompletedProcess[str]:
    """``policy-archive ARGS`` with name lookups answered from ``table`` (:func:`names_command`)."""
    command = names_command(table, config, data, *args, said=said)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=names_environment(env), cwd=REPO_ROOT
    )


# Every name public: for commands that look up the names they write (import-ota) on real declarations, offline.
EVERY_NAME_PUBLIC = ("*=93.184.216.34",)


def run_import_ota(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``policy-archive import-ota ARGS``, every name it looks up answering a public address (no name server asked)."""
    return run_cli_with_names(EVERY_NAME_PUBLIC, config, data, "import-ota", *args)


def write_archive_settings(config: Path, cdx_url: str, replay_url: str, *, timeout_seconds: float = 5) -> Path:
    """``config/settings.toml`` naming an archive (a stand-in), with the rate limiter and back-off off; makes
    ``config/services/`` too."""
    (config / "services").mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{cdx_url}"\nreplay_url = "{replay_url}"\n'
        f"cdx_per_minute = 60000\nreplay_per_minute = 60000\nbackoff_seconds = 0\ntimeout_seconds = {timeout_seconds}\n"
    )
    return config


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


# One count of a progress line: ``3 fetched``; ``3/7 captures examined (42 %)`` and ``3 captures examined of at
# most 7`` (a total, or a bound) count 3 too.
COUNT = re.compile(r"(?P<number>[\d,]+)(?:/[\d,]+)? (?P<words>.+?)(?: \(\d+ %\)| of at most [\d,]+)?")


def progress_counts(stderr: str) -> dict[str, int]:
    """The counts of the backfill's last progress line (its summary of the run): ``{"captures examined": 3, …}``."""
    line = [line for line in stderr.splitlines() if line.startswith("backfill: ")][-1]
    counted = (COUNT.fullmatch(part) for part in line.removeprefix("backfill: ").split(", "))
    return {match["words"]: int(match["number"].replace(",", "")) for match in counted if match}


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds, naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Running:
    """A command started by :func:`running`: its process, and its output (stdout and stderr) in one log file."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What the command has written so far."""
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
        """Poll ``condition`` until it holds; fail with the command's output if it ends first or after ``timeout``
        seconds, naming ``what`` was awaited."""

        def holds() -> bool:
            if condition():
                return True
            if self.process.poll() is not None and not condition():
                raise AssertionError(f"the command ended (exit {self.process.returncode}) before {what}")
            return False

        try:
            wait_for(holds, timeout, what)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.output()}") from None

    def wait_for_output(self, text: str, what: str, timeout: float = WAIT_SECONDS) -> None:
        """Wait until the output holds ``text`` (a line the command logs), as :meth:`wait_for`."""
        self.wait_for(lambda: text in self.output(), what, timeout)

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def ended(self, timeout: float = WAIT_SECONDS) -> int:
        """The command's exit status once it has ended; fails with its output if it still runs after ``timeout``."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {timeout} s later:\n{self.output()}") from None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = WAIT_SECONDS) -> int:
        """Send ``signum`` (as a service manager or ``kill`` does) and return the exit status once it has ended."""
        self.send_signal(signum)
        return self.ended(timeout)


@contextmanager
def running(
    command: list[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    terminal_sigint: bool = False,
    own_group: bool = False,
) -> Iterator[Running]:
    """``command`` started (in the checkout, with ``env``, by default :func:`cli_environment`), its stdout and
    stderr written to ``log`` as they come; still running on leaving (a failed test), it is killed and reaped, so
    no test leaves a process behind. ``terminal_sigint``: SIGINT acts as from a terminal (a job started in the
    background inherits SIGINT ignored). ``own_group``: in a process group of its own, as a shell starts a job, so a
    test may signal the whole group (``os.killpg(run.pid, …)``) as a terminal's Ctrl-C does."""
    sigint = (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if terminal_sigint else None
    with log.open("w") as sink:
        process = subprocess.Popen(
            command,
            env=cli_environment() if env is None else env,
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=sigint,
            process_group=0 if own_group else None,
        )
        try:
            yield Running(process, log)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
