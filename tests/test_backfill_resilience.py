"""Backfill against an archive that refuses, fails, is killed mid-way or serves the wrong kind of captures.

Each test drives the real CLI in a subprocess (Scrapy's reactor cannot restart in one process) against the
stand-in archive, and judges it by what the archive was asked (its request log, with times) and by what ended
up in Git and in the catalog.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from standin.archive import LoggedRequest, StandinArchive
from standin.archive_faults import Endpoint
from standin.cli import WAIT_SECONDS, cli_command, run_cli, running, wait_for
from standin.sockets import closed_port

from policy_archive.archive.lock import DataDirectoryLock
from policy_archive.crawler.ratelimit import archive_key
from policy_archive.crawler.reach import UNREACHABLE_AFTER
from policy_archive.crawler.settings import ARCHIVE_CONCURRENCY
from policy_archive.crawler.sources.base import LISTING_ATTEMPTS

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = REPO_ROOT.parent / "shared" / "seeds" / "002_3b4e935c48569b28.txt"
START = datetime(2014, 2, 3, 4, 5, 6, tzinfo=UTC)


def seed_paragraphs() -> list[str]:
    if SEED.exists():
        lines = SEED.read_text(encoding="utf-8").splitlines()[3:]
        return [line.strip() for line in lines if len(line.strip()) > 40][:25]
    return [f"Paragraph {n}: how we collect, use and share personal information about you." for n in range(25)]


V1 = seed_paragraphs()
V2 = V1 + ["We now honour the Global Privacy Control signal sent by your browser as an opt-out of sale."]
V3 = V2 + ["Requests to delete personal information are answered within thirty days."]


def page(paragraphs: Sequence[str], token: str, container: str = "main") -> str:
    """A policy page whose bytes differ on every capture (the token), as sessions and ads make them."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    opening = "<main>" if container == "main" else f'<div id="{container}">'
    closing = "</main>" if container == "main" else "</div>"
    return (
        f"<html><head><title>Privacy Policy</title><script>var session='{token}';</script></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/pricing'>Pricing</a></nav>{opening}<h1>Privacy Policy</h1>{body}"
        f"{closing}<footer>Contact us</footer></body></html>"
    )


def ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def add_history(
    archive: StandinArchive, url: str, texts: Sequence[Sequence[str]], per_text: int, start: datetime = START
) -> list[str]:
    """``per_text`` captures of each text in turn, 9 days apart; returns the first capture of each text."""
    firsts = []
    for number, text in enumerate(texts):
        for n in range(per_text):
            moment = start + timedelta(days=9 * (number * per_text + n), minutes=n)
            archive.add_capture(url, ts(moment), page(text, f"{url}-{number}-{n}"))
            if n == 0:
                firsts.append(ts(moment))
    return firsts


def declaration(url: str, extra: str = "") -> str:
    return f'name = "Service"\n[documents.privacy-policy]\nurl = "{url}"\nremove = ["nav", "footer"]\n{extra}'


def write_config(
    directory: Path,
    archive: StandinArchive,
    services: dict[str, str],
    *,
    backoff_seconds: float = 0,
    replay_per_minute: str = "60000",
    timeout_seconds: float = 10,
    wayback: str = "",
) -> Path:
    (directory / "services").mkdir(parents=True)
    (directory / "settings.toml").write_text(
        f'[wayback]\ncdx_url = "{archive.cdx_url}"\nreplay_url = "{archive.replay_url}"\n'
        f"cdx_per_minute = 60000\nreplay_per_minute = {replay_per_minute}\n"
        f"backoff_seconds = {backoff_seconds}\ntimeout_seconds = {timeout_seconds}\n{wayback}"
    )
    for service, text in services.items():
        (directory / "services" / f"{service}.toml").write_text(text)
    return directory


ALPHA = "https://alpha.example/privacy"
BETA = "https://beta.example/privacy"


def alpha_alone(
    archive: StandinArchive, tmp_path: Path, texts: Sequence[Sequence[str]], per_text: int, **settings: float
) -> tuple[list[str], Path]:
    """One service, alpha, with ``per_text`` captures of each text; returns its first captures and the config."""
    firsts = add_history(archive, ALPHA, texts, per_text)
    return firsts, write_config(tmp_path / "config", archive, {"alpha": declaration(ALPHA)}, **settings)


def alpha_and_beta(archive: StandinArchive, tmp_path: Path, per_text: int, **settings: float) -> tuple[list[str], Path]:
    """Two services, alpha (listed first) and beta, two texts each; returns alpha's first captures and the config."""
    firsts = add_history(archive, ALPHA, [V1, V2], per_text)
    add_history(archive, BETA, [V1, V3], per_text)
    services = {"alpha": declaration(ALPHA), "beta": declaration(BETA)}
    return firsts, write_config(tmp_path / "config", archive, services, **settings)


def recorded_captures(data: Path, path_part: str = "") -> list[str]:
    """The Captured-At of each version whose file path holds ``path_part``, as archive timestamps, oldest first."""
    dates = [line.split()[2] for line in commits(data) if path_part in line.split()[-1]]
    return [ts(datetime.fromisoformat(at.replace("Z", "+00:00"))) for at in dates]


def command(config: Path, data: Path, *args: str) -> list[str]:
    return cli_command(config, data, "backfill", *args)


def cli(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(config, data, *args), capture_output=True, text=True, timeout=WAIT_SECONDS, cwd=REPO_ROOT
    )


def start_cli(config: Path, data: Path, *args: str, sigint: signal.Handlers = signal.SIG_DFL) -> subprocess.Popen[str]:
    """The CLI as a user starts it from a terminal, where Ctrl-C (SIGINT) is not ignored; or, ``sigint`` SIG_IGN,
    as a shell without job control starts it in the background (``backfill &``).

    CI may run the suite from a background job, whose children inherit SIGINT ignored: Python then installs no
    KeyboardInterrupt handler, and a test of Ctrl-C would wait for a signal that can never arrive.
    """
    return subprocess.Popen(
        command(config, data, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )


def commits(data: Path) -> list[str]:
    """``commit author-date Captured-At path`` of the versions branch, oldest first."""
    repo = data / "versions"
    if not (repo / ".git").exists():
        return []
    output = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--name-only",
         "--format=%H %aI %(trailers:key=Captured-At,valueonly,separator=)", "main"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    lines = [line for line in output.splitlines() if line.strip()]
    return [f"{head} {path}" for head, path in zip(lines[::2], lines[1::2], strict=True)]


def catalog(data: Path, query: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(data / "catalog.sqlite3")
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def replay_paths(requests: Sequence[LoggedRequest]) -> list[str]:
    return [request.path for request in requests if request.endpoint == "replay"]


def failures(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("FAILED")]


# --- politeness: a refusal pauses everything ---------------------------------------------------------------

BACKOFF = 1.5
# How a listing failing for now at every attempt ends: the run gives it up; the archive's pause (backoff_seconds = 1,
# doubled on a refusal soon after one ended: how soon depends on the load) holds for a run started meanwhile.
GAVE_UP = (
    rf"\(asked {LISTING_ATTEMPTS} times; gave up: a run started within \d+ s"
    r" first waits for the archive's pause to end\)"
)


@pytest.mark.parametrize(("endpoint", "status"), [("cdx", 429), ("replay", 429), ("replay", 503)])
def test_a_refusal_pauses_every_archive_request_for_the_backoff(standin_archive, tmp_path, endpoint, status):
    archive = standin_archive
    # 24 captures of each text: more requests after the refusal than concurrent slots (16 after it, measured).
    alpha, config = alpha_and_beta(archive, tmp_path, 24, backoff_seconds=BACKOFF)
    archive.refuse_next(1, status, endpoint)

    result = cli(config, tmp_path / "data")

    log = archive.requests
    refused = next(request for request in log if request.status == status)
    after = [request for request in log if request.at > refused.at]
    # Requests already on the wire when the refusal came back may be answered during the pause, as late as a
    # loaded machine serves them (the archive logs a request once answered): at most the other concurrent slots'
    # requests. Counted, not timed: a run that went on sending would ask far more within the pause.
    in_flight = [request for request in after if request.at < refused.at + BACKOFF]
    assert len(in_flight) < ARCHIVE_CONCURRENCY, (
        f"requests reached the archive during the {BACKOFF} s pause: {in_flight}"
    )
    assert {request.endpoint for request in after} >= {"replay"}, "the run went on after the pause"
    # The pause is said on stderr without --verbose, also while Scrapy's crawl runs (README: one line).
    pauses = [line for line in result.stderr.splitlines() if "pausing all requests" in line]
    assert pauses == [
        f"archive {archive.base_url.removeprefix('http://')} answered {status}: pausing all requests for 2 s"
    ], result.stderr
    if endpoint == "cdx":
        # The listing of alpha (first in order) was refused: it is asked again after the pause, and completes.
        assert result.returncode == 0, result.stderr
        assert any(request.path == refused.path and request.at >= refused.at + BACKOFF for request in log)
        paths = sorted(line.split()[-1] for line in commits(tmp_path / "data"))
        assert paths == ["a/alpha/privacy-policy.md"] * 2 + ["b/beta/privacy-policy.md"] * 2
    else:
        # The refused capture is asked again after the pause, and the history is complete.
        assert result.returncode == 0, result.stderr
        assert any(request.path == refused.path and request.at >= refused.at + BACKOFF for request in log)
        assert recorded_captures(tmp_path / "data", "/alpha/") == alpha


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_listing_answered_a_gateway_error_or_503_is_asked_again_after_the_archives_pause(
    standin_archive, tmp_path, status
):
    archive = standin_archive
    _, config = alpha_alone(archive, tmp_path, [V1, V2], 6)
    # Retry-After is honoured (the configured backoff is 0 here): the listing is asked again only after it.
    archive.refuse_next(1, status, "cdx", retry_after=1)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 0, result.stderr
    assert "FAILED" not in result.stderr
    refused = next(request for request in archive.requests if request.status == status)
    asked_again = [request for request in archive.requests if request.endpoint == "cdx" and request.at > refused.at]
    assert asked_again and asked_again[0].path == refused.path
    assert asked_again[0].at >= refused.at + 1, "asked again before the archive's Retry-After"
    assert [line.split()[-1] for line in commits(tmp_path / "data")] == ["a/alpha/privacy-policy.md"] * 2


def test_a_listing_answered_503_every_time_fails_the_document_after_the_last_attempt(standin_archive, tmp_path):
    archive = standin_archive
    _, config = alpha_and_beta(archive, tmp_path, 6)
    archive.refuse_next(LISTING_ATTEMPTS, 503, "cdx")  # alpha's listing, every attempt (it is listed first)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = failures(result.stderr)
    assert line.startswith("FAILED alpha/privacy-policy: archive listing failed: cannot list the captures of ")
    # The pause is backoff_seconds = 1, doubled on a refusal soon after one ended: how soon depends on the load.
    assert re.search(rf"answered 503 Service Unavailable {GAVE_UP}$", line), line
    listed = [request.path for request in archive.requests if request.endpoint == "cdx"]
    assert sum("alpha.example" in path for path in listed) == LISTING_ATTEMPTS
    assert not any("alpha.example" in path for path in replay_paths(archive.requests)), "nothing fetched for alpha"
    assert catalog(tmp_path / "data", "SELECT url FROM captures WHERE url LIKE '%alpha.example%'") == []
    assert [line.split()[-1] for line in commits(tmp_path / "data")] == ["b/beta/privacy-policy.md"] * 2


# --- an archive refusing every connection (outside audit 5, 2026-11-29) ------------------------------------

GAMMA = "https://gamma.example/privacy"


def test_an_archive_refusing_every_connection_ends_the_run_soon_and_the_rerun_resumes(standin_archive, tmp_path):
    """Until 2026-11-29 each document backed off in turn, the pause doubling across documents (hours at the default
    backoff). Now the run stops asking after one document's attempts, says so in one line naming the archive's host
    (not its paths), names each document failed, and a run once the archive answers backfills them all."""
    archive = standin_archive
    add_history(archive, ALPHA, [V1, V2], 2)
    add_history(archive, BETA, [V1, V3], 2)
    add_history(archive, GAMMA, [V2, V3], 2)
    services = {name: declaration(url) for name, url in [("alpha", ALPHA), ("beta", BETA), ("gamma", GAMMA)]}
    config = write_config(tmp_path / "config", archive, services)
    settings = config / "settings.toml"
    working = settings.read_text()
    dead = f"127.0.0.1:{closed_port()}"  # bound, never listening: every connection is refused
    settings.write_text(
        working.replace(archive.cdx_url, f"http://{dead}/secret-path/cdx").replace(
            archive.replay_url, f"http://{dead}/secret-path/web"
        )
    )

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "secret-path" not in result.stderr
    lines = result.stderr.splitlines()
    pauses = [line for line in lines if "pausing all requests" in line]
    assert len(pauses) == UNREACHABLE_AFTER - 1, result.stderr  # one document's attempts, not each document's
    (said,) = [line for line in lines if " unreachable: " in line]
    assert said == (
        f"archive {dead} unreachable: connection refused, {UNREACHABLE_AFTER} requests in a row; the run stopped"
        " asking it (2 more documents not listed); run again once it answers: what was fetched is kept"
    )
    assert failures(result.stderr) == [
        "FAILED alpha/privacy-policy: archive listing failed: cannot list the captures of"
        f" {ALPHA}: the archive {dead} is unreachable (connection refused, {UNREACHABLE_AFTER} requests in a row)",
        *(
            f"FAILED {name}/privacy-policy: not listed: the archive {dead} is unreachable (connection refused):"
            " run again once it answers"
            for name in ("beta", "gamma")
        ),
    ]

    settings.write_text(working)  # the archive answers again
    rerun = cli(config, tmp_path / "data")

    assert rerun.returncode == 0, rerun.stderr
    paths = sorted(line.split()[-1] for line in commits(tmp_path / "data"))
    assert paths == sorted(f"{n[0]}/{n}/privacy-policy.md" for n in ("alpha", "beta", "gamma") for _ in range(2))


# --- failures for now: no answer in time, a connection reset, a 500 ---------------------------------------

# The deadline of every request when the stand-in holds one unanswered until the client gives up (no clock of
# ours races it): long enough for the answered ones on a loaded machine, short enough to wait for three times.
HANG_TIMEOUT = 5
Inject = Callable[[StandinArchive, Endpoint, int], None]
FOR_NOW: dict[str, tuple[Inject, str, str]] = {
    # fault: (inject it into the next N requests of an endpoint, the listing's words, the capture's words)
    "timeout": (
        lambda archive, endpoint, count: archive.answer_nothing_next(count, "hang", endpoint),
        f"no complete answer within {HANG_TIMEOUT} s",
        f"timeout: no complete answer within {HANG_TIMEOUT} seconds (setting [wayback] timeout_seconds)",
    ),
    "reset": (
        lambda archive, endpoint, count: archive.answer_nothing_next(count, "reset", endpoint),
        "the connection was closed without an answer",
        "the connection was closed before the answer was complete",
    ),
    "500": (
        lambda archive, endpoint, count: archive.refuse_next(count, 500, endpoint),
        "answered 500 Internal Server Error",
        "the archive answered 500 (kept refusing or failing)",
    ),
}


def pausing_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "pausing all requests" in line]


def asking_again_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "asking again in" in line]


@pytest.mark.parametrize("fault", FOR_NOW)
def test_a_listing_failing_for_now_is_asked_again_and_completes(standin_archive, tmp_path, fault):
    archive = standin_archive
    alpha, config = alpha_alone(archive, tmp_path, [V1, V2], 3, timeout_seconds=HANG_TIMEOUT)
    inject, said, _ = FOR_NOW[fault]
    inject(archive, "cdx", LISTING_ATTEMPTS - 1)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 0, result.stderr
    assert "FAILED" not in result.stderr
    assert [request.endpoint for request in archive.requests][:LISTING_ATTEMPTS] == ["cdx"] * LISTING_ATTEMPTS
    assert archive.counts()["cdx"] == LISTING_ATTEMPTS
    # One line per failure on stderr, naming the cause and the wait.
    lines = pausing_lines(result.stderr)
    cause = "answered 500" if fault == "500" else f"failed a listing request ({said})"
    assert lines == [f"archive {urlsplit(archive.cdx_url).netloc} {cause}: pausing all requests for 0 s"] * (
        LISTING_ATTEMPTS - 1
    )
    assert recorded_captures(tmp_path / "data") == alpha


@pytest.mark.parametrize("fault", FOR_NOW)
def test_a_listing_failing_every_time_fails_its_document_only(standin_archive, tmp_path, fault):
    archive = standin_archive
    _, config = alpha_and_beta(archive, tmp_path, 3, timeout_seconds=HANG_TIMEOUT)
    inject, said, _ = FOR_NOW[fault]
    inject(archive, "cdx", LISTING_ATTEMPTS)  # alpha's listing, every attempt (it is listed first)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = failures(result.stderr)
    expected = (
        "FAILED alpha/privacy-policy: archive listing failed: cannot list the captures of https://alpha.example/privacy:"
        f" {urlsplit(archive.cdx_url).netloc + ' ' if fault == '500' else ''}{said} "
    )
    assert line.startswith(expected) and re.fullmatch(GAVE_UP, line[len(expected) :]), line
    archive.wait_for_requests(LISTING_ATTEMPTS, "alpha.example")
    assert sum("alpha.example" in request.path for request in archive.requests) == LISTING_ATTEMPTS
    assert catalog(tmp_path / "data", "SELECT url FROM captures WHERE url LIKE '%alpha.example%'") == []
    assert [line.split()[-1] for line in commits(tmp_path / "data")] == ["b/beta/privacy-policy.md"] * 2


@pytest.mark.parametrize("fault", FOR_NOW)
def test_a_capture_failing_for_now_is_asked_again_after_the_pause(standin_archive, tmp_path, fault):
    archive = standin_archive
    alpha, config = alpha_alone(archive, tmp_path, [V1, V2], 3, timeout_seconds=HANG_TIMEOUT)
    inject, _, words = FOR_NOW[fault]
    inject(archive, "replay", LISTING_ATTEMPTS - 1)  # the first replays asked

    result = cli(config, tmp_path / "data", "--strategy", "all")

    assert result.returncode == 0, result.stderr
    assert "FAILED" not in result.stderr
    replays = [request for request in archive.requests if request.endpoint == "replay"]
    failed = [request.path for request in replays if request.status != 200]
    assert len(failed) == LISTING_ATTEMPTS - 1
    assert all(any(r.path == path and r.status == 200 for r in replays) for path in failed), "each asked again"
    # Only the failed request waited (the archive is not paused for one capture's failure), and said so in a line
    # naming the cause and the wait.
    assert pausing_lines(result.stderr) == []
    lines = asking_again_lines(result.stderr)
    assert len(lines) == LISTING_ATTEMPTS - 1, result.stderr
    cause = "answered 500" if fault == "500" else f"failed ({words})"
    assert all(f" {cause} for " in line and "asking again in 0 s (attempt " in line for line in lines), lines
    assert recorded_captures(tmp_path / "data") == alpha


@pytest.mark.parametrize("fault", FOR_NOW)
def test_a_capture_failing_every_time_is_reported_not_fetched(standin_archive, tmp_path, fault):
    archive = standin_archive
    (only,), config = alpha_alone(archive, tmp_path, [V1], 1, timeout_seconds=HANG_TIMEOUT)
    inject, _, words = FOR_NOW[fault]
    inject(archive, "replay", LISTING_ATTEMPTS)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    (line,) = failures(result.stderr)
    # "captures listed" whatever the number: the contract's words (DESIGN.md).
    assert line.startswith("FAILED alpha/privacy-policy: no version: 1 captures listed, 1 could not be fetched"), line
    # How many times it was asked, as a listing's failure says it (audit 10, 2026-11-28).
    asked = f"{words} (asked {LISTING_ATTEMPTS} times)"
    assert f"{only} ({asked})" in line, line
    archive.wait_for_requests(LISTING_ATTEMPTS, "id_/")
    assert archive.counts()["replay"] == LISTING_ATTEMPTS
    assert len(asking_again_lines(result.stderr)) == LISTING_ATTEMPTS - 1
    assert catalog(tmp_path / "data", "SELECT outcome, reason FROM captures") == [("failed", asked)]


def test_an_archived_server_error_is_content_and_asked_once(standin_archive, tmp_path):
    archive = standin_archive
    url = ALPHA
    alpha = add_history(archive, url, [V1], 2)
    # A capture redirected, as archived, to a page the site answered 500 (backfill fetches no capture listed 500).
    moved, broken = "https://alpha.example/moved", ts(START + timedelta(days=1))
    archive.add_capture(url, broken, b"", status=302, location=moved)
    archive.add_capture(moved, broken, "<html><body>Internal Server Error</body></html>", status=500)
    config = write_config(tmp_path / "config", archive, {"alpha": declaration(url)})

    result = cli(config, tmp_path / "data", "--strategy", "all")

    assert result.returncode == 0, result.stderr
    assert sum(moved in path for path in replay_paths(archive.requests)) == 1, "the site's own 500, as archived"
    assert pausing_lines(result.stderr) == asking_again_lines(result.stderr) == []
    assert len(commits(tmp_path / "data")) == len(alpha)


# --- resumability: kill -9 and Ctrl-C ----------------------------------------------------------------------


def three_document_history(archive: StandinArchive) -> dict[str, str]:
    services = {}
    for name, texts in (("alpha", [V1, V2, V3]), ("beta", [V2, V3]), ("gamma", [V1, V3, V2])):
        url = f"https://www.{name}.example/legal/privacy"
        add_history(archive, url, texts, 25)
        services[name] = declaration(url)
    return services


def fetched_captures(data: Path) -> set[tuple[object, ...]]:
    return set(
        catalog(
            data,
            "SELECT url, captured_at FROM captures"
            " WHERE outcome IN ('extracted', 'refused') AND fetched_url IS NOT NULL",
        )
    )


def kept_so_far(data: Path) -> bool:
    """Whether a running backfill has kept a fetched capture in its catalog yet (read-only: never creating it)."""
    try:
        with closing(sqlite3.connect(f"file:{data / 'catalog.sqlite3'}?mode=ro", uri=True)) as connection:
            kept = "SELECT 1 FROM captures WHERE outcome IN ('extracted', 'refused') AND fetched_url IS NOT NULL"
            return connection.execute(kept).fetchone() is not None
    except sqlite3.OperationalError:  # not created yet, its tables not yet, or a write under way
        return False


def replay_path_of(capture: tuple[object, ...]) -> str:
    url, captured_at = capture
    return f"/web/{''.join(ch for ch in str(captured_at) if ch.isdigit())}id_/{url}"


@pytest.mark.parametrize("strategy", ["bisect", "all"])
def test_a_backfill_killed_mid_way_resumes_to_the_uninterrupted_history(standin_archive, tmp_path, strategy):
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, three_document_history(archive))
    reference = cli(config, tmp_path / "reference", "--strategy", strategy)
    assert reference.returncode == 0, reference.stderr
    wanted = archive.counts()["replay"]
    archive.clear_log()

    # A third of the replays are answered, the next ones held: the kill comes mid-way whatever the load, once the
    # run has kept some of the answered captures (not after a number of seconds, nor racing the run's end).
    archive.hold("replay", after=wanted // 3)
    killed = command(config, tmp_path / "data", "--strategy", strategy)
    with running(killed, tmp_path / "killed.log", env=dict(os.environ)) as run:
        archive.wait_for_held_request()
        run.wait_for(lambda: kept_so_far(tmp_path / "data"), "a fetched capture kept in the catalog")
        run.send_signal(signal.SIGKILL)
        run.ended()
    archive.release("replay")
    archive.settle()  # the killed run's held requests are answered to no one: logged as its own, not the rerun's
    killed_run = replay_paths(archive.requests)
    assert len(killed_run) < wanted, "the kill came after the work was done"
    kept = {replay_path_of(capture) for capture in fetched_captures(tmp_path / "data")}
    assert kept, "nothing was kept before the kill"
    archive.clear_log()

    rerun = cli(config, tmp_path / "data", "--strategy", strategy)

    assert rerun.returncode == 0, rerun.stderr
    assert commits(tmp_path / "data") == commits(tmp_path / "reference")
    versions = "SELECT document, captured_at, commit_id FROM versions ORDER BY document, captured_at"
    assert catalog(tmp_path / "data", versions) == catalog(tmp_path / "reference", versions)
    windows = "SELECT document, captured_at, window_start FROM captures WHERE window_start IS NOT NULL ORDER BY 1, 2"
    assert catalog(tmp_path / "data", windows) == catalog(tmp_path / "reference", windows)
    again = replay_paths(archive.requests)
    # Requests answered but not yet kept at the kill (in flight, or waiting in Scrapy's queue for the spider)
    # are lost with the process: those, and only those, may be asked again.
    assert not kept & set(again), "a capture kept before the kill was fetched again"
    assert len(again) == len(set(again)), "the rerun fetched a capture twice"


REVERT = "https://www.revert.example/privacy"
BETA = "https://www.beta.example/legal/privacy"
INTERRUPTED = "interrupted before its history was complete: run again to continue"
ANSWERED_BEFORE_THE_SIGNAL = 4  # bisect: the two ends of both documents


def revert_history(archive: StandinArchive, url: str, count: int = 52, edited: range = range(20, 32)) -> None:
    """Text V1, a same-length edit for 12 captures, then V1 again: the listed lengths all look alike, so bisect
    finds the edit (and its revert) only by searching the stretch, and an interrupted search must not pass."""
    last = V1[-1]
    edit = [*V1[:-1], last[:-1] + ("?" if last.endswith("!") else "!")]  # one character other than the seed's
    for n in range(count):
        archive.add_capture(url, ts(START + timedelta(days=9 * n)), page(edit if n in edited else V1, f"r{n:04d}"))


def interruptible_history(archive: StandinArchive) -> dict[str, str]:
    add_history(archive, BETA, [V2, V3], 10)
    revert_history(archive, REVERT)
    return {"revert": declaration(REVERT), "beta": declaration(BETA)}


@pytest.mark.parametrize(
    ("strategy", "stop"),
    [("all", signal.SIGINT), ("bisect", signal.SIGINT), ("bisect", signal.SIGTERM)],
    ids=["all-ctrl-c", "bisect-ctrl-c", "bisect-sigterm"],
)
def test_a_signal_fails_the_backfill_it_stops_and_a_rerun_completes(standin_archive, tmp_path, strategy, stop):
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, interruptible_history(archive))
    data = tmp_path / "data"
    # The first replays are answered, the next ones held until the signal has been sent: the run is stopped in
    # the middle of its search whatever the load (the signal is pending before any held answer leaves).
    archive.hold("replay", after=ANSWERED_BEFORE_THE_SIGNAL)
    run = start_cli(config, data, "--strategy", strategy)
    archive.wait_for_held_request()
    run.send_signal(stop)
    archive.release("replay")
    _, stderr = run.communicate(timeout=WAIT_SECONDS)

    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr
    stopped = {line.split()[1].rstrip(":") for line in failures(stderr)}
    assert failures(stderr) == [f"FAILED {key}: {INTERRUPTED}" for key in sorted(stopped)], stderr
    # The edit's search was cut short. Beta's probes may all have been in flight at the signal (bisect): a
    # document whose plan the run worked through is recorded as usual, whatever stopped the run.
    assert "revert/privacy-policy" in stopped and (strategy == "bisect" or len(stopped) == 2), stderr
    # Stopping waits for the requests in flight, not for the rest of the backfill: counted in requests, not
    # seconds (at most one request per concurrent slot after the signal).
    assert archive.counts()["replay"] <= ANSWERED_BEFORE_THE_SIGNAL + 16
    reference = cli(config, tmp_path / "reference", "--strategy", strategy)
    assert reference.returncode == 0, reference.stderr
    for key in ("beta/privacy-policy", "revert/privacy-policy"):
        # An interrupted search records nothing (it could date a version at a capture that is not its first);
        # a finished one records the versions an uninterrupted run does (commit ids differ: one chain for all).
        kept = [line.split()[1:] for line in commits(data) if f"/{key}.md" in line]
        reference_versions = [line.split()[1:] for line in commits(tmp_path / "reference") if f"/{key}.md" in line]
        assert kept == ([] if key in stopped else reference_versions), key
    spans = dict(catalog(data, "SELECT document, SUM(captures) FROM unverified_spans GROUP BY document"))
    assert not stopped & set(spans), "the interruption became assumptions"
    listed = {"beta/privacy-policy": 20, "revert/privacy-policy": 52}
    fetched = dict(catalog(data, "SELECT document, COUNT(*) FROM captures WHERE outcome != 'listed' GROUP BY 1"))
    unexamined = {key: listed[key] - fetched.get(key, 0) for key in stopped}
    assert all(unexamined.values()), unexamined
    last = stderr.splitlines()[-1]
    left = sum(unexamined.values())
    assert last.startswith(f"{left + sum(spans.values())} captures not verified"), last
    assert f"{left} not examined, the run was stopped by {stop.name} (run again to continue)" in last, last
    status = {entry["document"]: entry for entry in json.loads(run_cli(config, data, "status", "--json").stdout)}
    for key, entry in status.items():
        failure = entry["last_backfill_failure"]
        assert (failure["reason"] if failure else None) == (INTERRUPTED if key in stopped else None), status
        assert entry["unverified_captures"] == unexamined.get(key, 0) + spans.get(key, 0), status
    assert "last backfill failed" in run_cli(config, data, "status").stdout

    rerun = cli(config, data, "--strategy", strategy)
    assert rerun.returncode == 0, rerun.stderr
    assert commits(data) == commits(tmp_path / "reference")
    assert len([line for line in commits(data) if "/revert/" in line]) == 3, "the edit and its revert were missed"
    status = json.loads(run_cli(config, data, "status", "--json").stdout)
    assert [entry["last_backfill_failure"] for entry in status] == [None, None]


def test_a_stop_does_not_wait_for_the_replay_rate_limit(standin_archive, tmp_path):
    # One replay request every 10 minutes: the first is sent at once, the others wait for the shared limiter. The
    # archive sends SIGTERM when the first arrives and answers it once the run has said it stops sending; a run
    # still waiting for the limiter would send its second request 10 minutes later.
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, three_document_history(archive), replay_per_minute="0.1")
    errors = tmp_path / "stderr"
    pids: list[int] = []
    started = threading.Event()

    def stop() -> None:
        started.wait(60)
        os.kill(pids[0], signal.SIGTERM)
        wait_for(lambda: "stopping:" in errors.read_text(), WAIT_SECONDS, "the run to say it stops")

    archive.when_asked("id_/", stop)
    with running(command(config, tmp_path / "data", "--strategy", "all"), errors, env=dict(os.environ)) as run:
        pids.append(run.pid)
        started.set()
        run.ended()
    stderr = errors.read_text()

    assert "Traceback" not in stderr
    assert "stopping: 1 request already sent finishes; no other is sent" in stderr, stderr
    assert archive.counts()["replay"] == 1, "nothing sent after the stop"
    assert failures(stderr) and all("interrupted" in line for line in failures(stderr)), stderr


def test_a_wait_for_the_slowest_replay_rate_is_said_with_its_end_and_its_setting(standin_archive, tmp_path):
    """Audit 3 #12: at a tiny rate the run waited for hours after its first capture and said nothing. At the
    slowest rate allowed (one an hour) the wait is said in one line, then the run is stopped."""
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, three_document_history(archive), replay_per_minute="0.0167")
    errors = tmp_path / "stderr"
    with running(command(config, tmp_path / "data", "--strategy", "all"), errors, env=dict(os.environ)) as run:
        # The run may say the wait for its second request before its first has left (both reserved at once), and a
        # stop before then sends neither; the stand-in logs a request after answering it. So the stop comes once
        # the line is said and the first capture answered. Generous bounds: under a loaded CI machine the run's
        # start, listing and first replay took over 120 s; the wait ends as soon as both are there, or the run ended.
        run.wait_for(
            lambda: "for the rate budget" in errors.read_text() and archive.counts()["replay"] >= 1,
            "the wait said and the first capture answered",
            timeout=900,
        )
        run.stop(signal.SIGTERM)
    said = [line for line in errors.read_text().splitlines() if "for the rate budget" in line]
    assert len(said) == 1, errors.read_text()
    assert re.fullmatch(
        rf"archive {re.escape(archive_key(archive.replay_url))}: the next capture request waits 0:59:\d\d, until"
        r" \d\d:\d\d:\d\d UTC, for the rate budget"
        r" \(\[wayback\] replay_per_minute = 0.0167: one request every 0:59:53\)",
        said[0],
    ), said[0]
    assert archive.counts()["replay"] == 1, "one capture fetched, the next one waiting"


@pytest.mark.parametrize(
    ("stop", "sigint"),
    [(signal.SIGINT, signal.SIG_DFL), (signal.SIGTERM, signal.SIG_IGN)],
    ids=["ctrl-c", "sigterm-to-a-background-job"],
)
def test_a_signal_during_the_listing_stops_cleanly(standin_archive, tmp_path, stop, sigint):
    """Audit 2026-11-28 F2: SIGTERM while listing (`timeout`, systemd, cron; `backfill &` ignores SIGINT) killed the
    command, exit 143: no FAILED line, no last line, its run left "did not finish"."""
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, three_document_history(archive))
    # The signal is sent once the first listing request is known to be held by the archive, whatever the load; it
    # is held until the run has ended (the archive's shutdown releases it): a stop that waited for the listing would
    # not end before its request's deadline.
    archive.hold("cdx")
    run = start_cli(config, tmp_path / "data", sigint=sigint)
    archive.wait_for_held_request()
    run.send_signal(stop)
    _, stderr = run.communicate(timeout=WAIT_SECONDS)

    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert failures(stderr) == [f"FAILED {name}/privacy-policy: {INTERRUPTED}" for name in ("alpha", "beta", "gamma")]
    assert commits(tmp_path / "data") == []
    # Nothing was listed, so nothing can be claimed verified: no count, the documents named.
    assert stderr.splitlines()[-1] == (
        "3 documents not listed (named above): none of their captures verified; the run was stopped by"
        f" {stop.name} (run again to continue)"
    )
    status = json.loads(run_cli(config, tmp_path / "data", "status", "--json").stdout)
    assert [entry["unverified_captures"] for entry in status] == [None, None, None], status
    shown = run_cli(config, tmp_path / "data", "status").stdout
    assert "not verified: unknown, its last backfill could not list it" in shown, shown
    assert f"→ exit 1: 0 versions recorded, 3 documents failed, stopped by {stop.name}" in shown, shown
    assert archive.counts()["replay"] == 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_crawl_starts_stops_cleanly(standin_archive, tmp_path, stop):
    """Audit 2026-11-28 F2: between the listing and the crawl (Scrapy starting) a SIGTERM killed the command (exit
    143) and a Ctrl-C printed click's `Aborted!`, without a FAILED line. The signal is sent when Scrapy says it
    started (--verbose); replays are held until then, so a crawl already running has none answered."""
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, three_document_history(archive))
    data, errors = tmp_path / "data", tmp_path / "stderr"
    archive.hold("replay")
    with running(command(config, data, "--verbose"), errors, env=dict(os.environ), terminal_sigint=True) as run:
        run.wait_for(lambda: re.search(r"Scrapy \S+ started", errors.read_text()) is not None, "Scrapy to start")
        run.send_signal(stop)
        archive.release("replay")
        status = run.ended()
    stderr = errors.read_text()

    assert status == 1, stderr
    assert "Traceback" not in stderr and "Aborted!" not in stderr
    assert failures(stderr) == [f"FAILED {name}/privacy-policy: {INTERRUPTED}" for name in ("alpha", "beta", "gamma")]
    # The last line (the one `schedule` would log) says the stop, by its signal.
    assert f"not examined, the run was stopped by {stop.name} (run again to continue)" in stderr.splitlines()[-1]
    assert commits(data) == []
    shown = run_cli(config, data, "status").stdout
    assert f"→ exit 1: 0 versions recorded, 3 documents failed, stopped by {stop.name}" in shown, shown


def test_sigint_ignored_when_the_backfill_starts_stays_ignored(standin_archive, tmp_path):
    """A backfill started in the background by a shell without job control (`backfill &`, CI) inherits SIGINT
    ignored: Ctrl-C at the terminal is not meant for it. Scrapy's handlers took SIGINT over once the crawl ran
    (before 2026-11-28), and stopped it."""
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, interruptible_history(archive))
    data = tmp_path / "data"
    archive.hold("replay", after=ANSWERED_BEFORE_THE_SIGNAL)
    run = start_cli(config, data, "--strategy", "bisect", sigint=signal.SIG_IGN)
    archive.wait_for_held_request()
    run.send_signal(signal.SIGINT)  # ignored: discarded as it is sent, before the replays are released
    archive.release("replay")
    _, stderr = run.communicate(timeout=WAIT_SECONDS)

    assert run.returncode == 0, stderr
    assert failures(stderr) == []
    reference = cli(config, tmp_path / "reference", "--strategy", "bisect")
    assert reference.returncode == 0, reference.stderr
    assert commits(data) == commits(tmp_path / "reference")


def test_a_signal_while_waiting_for_the_data_directory_ends_the_command_before_it_starts(standin_archive, tmp_path):
    archive = standin_archive
    config = write_config(tmp_path / "config", archive, three_document_history(archive))
    data, errors = tmp_path / "data", tmp_path / "stderr"
    with DataDirectoryLock(data, "test"), running(command(config, data), errors, env=dict(os.environ)) as run:
        run.wait_for(lambda: "waiting for" in errors.read_text(), "the wait for the lock")
        run.send_signal(signal.SIGTERM)
        status = run.ended()
    stderr = errors.read_text()

    assert status == 1, stderr
    assert stderr.splitlines()[-1] == "policy-archive: stopped by SIGTERM before the run started: nothing done"
    assert sum(archive.counts().values()) == 0


# --- completeness: a listing that fails half-way -----------------------------------------------------------

PAGE_SIZE = 25_000  # WaybackMachine.default_page_size: a second page needs more captures than that


def long_history(archive: StandinArchive, url: str, count: int) -> None:
    """``count`` captures, one a minute, in two digest runs (text V1 then V2): cheap to serve and to bisect."""
    first, second = page(V1, "long").encode(), page(V2, "long").encode()
    for n in range(count):
        moment = START + timedelta(minutes=n)
        archive.add_capture(url, ts(moment), first if n < count // 2 else second)


@pytest.mark.parametrize(
    ("fault", "said", "pages"),
    [
        # A 503 or 500 is asked again after the pause, only the page that failed, each time in vain here.
        (lambda archive: archive.fail_page(1, 503), "answered 503", 1 + LISTING_ATTEMPTS),
        (lambda archive: archive.fail_page(1, 500), "answered 500", 1 + LISTING_ATTEMPTS),
        (lambda archive: archive.drop_resume_key(0), "announced a resume key but ended without it", 1),
    ],
    ids=["503-on-page-2", "500-on-page-2", "resume-key-missing"],
)
def test_a_listing_that_fails_half_way_is_an_error_not_a_short_history(standin_archive, tmp_path, fault, said, pages):
    archive = standin_archive
    long_history(archive, "https://www.long.example/privacy", PAGE_SIZE + 100)
    short = add_history(archive, "https://www.short.example/privacy", [V1, V2], 3)
    services = {
        "long": declaration("https://www.long.example/privacy"),
        "short": declaration("https://www.short.example/privacy"),
    }
    config = write_config(tmp_path / "config", archive, services)
    fault(archive)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1
    (failure,) = failures(result.stderr)
    assert failure.startswith("FAILED long/privacy-policy: archive listing failed") and said in failure, failure
    assert "Traceback" not in result.stderr
    listings = [r.path for r in archive.requests if r.endpoint == "cdx" and "long.example" in r.path]
    assert len(listings) == pages, "the first page was read, the failure came on the page after it"
    assert catalog(tmp_path / "data", "SELECT COUNT(*) FROM captures WHERE document = 'long/privacy-policy'") == [(0,)]
    assert not [line for line in commits(tmp_path / "data") if "/long/" in line]
    assert recorded_captures(tmp_path / "data", "/short/") == short
    last = result.stderr.splitlines()[-1]
    assert last.endswith("; 1 document not listed (named above): none of its captures verified"), last


def test_a_listing_without_end_fails_its_document_at_max_listing_rows(standin_archive, tmp_path):
    """An archive sending a new resume key on every page, without end (outside audit A, F1: followed for ever, its
    rows filling memory): the listing fails at ``[wayback] max_listing_rows``, all pages counted, and nothing of it
    is recorded; the other document's listing is complete and recorded."""
    archive = standin_archive
    add_history(archive, ALPHA, [V1, V2], 3)
    archive.send_endless_resume_keys()
    config = write_config(
        tmp_path / "config", archive, {"alpha": declaration(ALPHA)}, wayback=f"max_listing_rows = {PAGE_SIZE * 3}\n"
    )

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    assert failures(result.stderr) == [
        f"FAILED alpha/privacy-policy: archive listing failed: cannot list the captures of {ALPHA}: the listing goes on"
        f" past [wayback] max_listing_rows = 75,000 (24 rows in 4 pages and another announced; a page followed by"
        " another counts as at least a full page, 25,000 rows, so at least 100,000): not a listing of one URL"
    ], result.stderr
    assert "Traceback" not in result.stderr
    assert len([r for r in archive.requests if r.endpoint == "cdx"]) == 4  # the 4th passes the bound
    assert not [r for r in archive.requests if r.endpoint == "replay"]
    assert catalog(tmp_path / "data", "SELECT COUNT(*) FROM captures") == [(0,)]
    assert commits(tmp_path / "data") == []


def test_a_listed_status_that_is_no_http_status_fails_its_document_without_a_traceback(standin_archive, tmp_path):
    """A row whose status is too big for any column (outside audit 31, F1: an OverflowError traceback, the run left
    unfinished): the listing is unusable, its document fails in the usual form and nothing of it is recorded; the
    other document's listing is complete and recorded."""
    archive = standin_archive
    add_history(archive, ALPHA, [V1, V2], 3)
    archive.add_capture(BETA, ts(START), page(V1, "beta"), status=99999999999)
    services = {"alpha": declaration(ALPHA), "beta": declaration(BETA)}
    config = write_config(tmp_path / "config", archive, services)

    result = cli(config, tmp_path / "data")

    assert result.returncode == 1, result.stderr
    (failure,) = failures(result.stderr)
    assert failure.startswith(
        f"FAILED beta/privacy-policy: archive listing failed: cannot list the captures of {BETA}: unusable row"
        " (statuscode 99999999999 is no HTTP status (100 to 999))"
    ), failure
    assert "Traceback" not in result.stderr
    assert catalog(tmp_path / "data", "SELECT COUNT(*) FROM captures WHERE document = 'beta/privacy-policy'") == [(0,)]
    assert not [line for line in commits(tmp_path / "data") if "/beta/" in line]
    assert recorded_captures(tmp_path / "data", "/alpha/")


# --- captures of the wrong kind ----------------------------------------------------------------------------

POLICY = "https://www.acme.example/legal/privacy"
SOFT_404 = (
    "<html><head><title>Page not found</title><script>var session='{token}';</script></head><body>"
    "<h1>404 - Page not found</h1><p>Sorry, the page you are looking for does not exist.</p></body></html>"
)
HOME = "<html><head><title>Acme</title></head><body><h1>Welcome to Acme</h1><p>Rockets and anvils.</p></body></html>"


def wrong_kinds(archive: StandinArchive) -> tuple[str, str]:
    """V1 then V2, with every kind of non-document capture around and between them, also at both ends."""
    day = START
    archive.add_capture(POLICY, ts(day), SOFT_404.format(token=0))  # the very first capture: bisect must look past it
    firsts = []
    for n, (text, count) in enumerate(((V1, 6), (V2, 6))):
        for i in range(count):
            day += timedelta(days=11)
            archive.add_capture(POLICY, ts(day), page(text, f"{n}-{i}"))
            firsts += [ts(day)] if i == 0 else []
            if i == 2:
                archive.add_capture(POLICY, ts(day + timedelta(hours=1)), "<html>gone</html>", status=404)
                archive.add_capture(POLICY, ts(day + timedelta(hours=2)), SOFT_404.format(token=day))
                archive.add_capture(POLICY, ts(day + timedelta(hours=3)), b"\x89PNG\r\n", mimetype="image/png")
                home_redirect(archive, day + timedelta(hours=4))
    home_redirect(archive, day + timedelta(days=5))  # the very last capture: a redirect to the home page
    return firsts[0], firsts[1]


def home_redirect(archive: StandinArchive, moment: datetime) -> None:
    archive.add_capture(POLICY, ts(moment), b"", status=302, location="https://www.acme.example/")
    archive.add_capture("https://www.acme.example/", ts(moment), HOME)


@pytest.mark.parametrize("strategy", ["all", "bisect"])
def test_soft_404_redirect_home_and_archived_404_captures_give_no_version(standin_archive, tmp_path, strategy):
    archive = standin_archive
    first_v1, first_v2 = wrong_kinds(archive)
    config = write_config(tmp_path / "config", archive, {"acme": declaration(POLICY)})

    result = cli(config, tmp_path / "data", "--strategy", strategy)

    assert result.returncode == 0, result.stderr
    assert recorded_captures(tmp_path / "data") == [first_v1, first_v2]
    refused = catalog(
        tmp_path / "data",
        "SELECT captured_at, status, reason FROM captures WHERE outcome = 'refused' ORDER BY captured_at",
    )
    reasons = [str(reason) for _, _, reason in refused]
    first, last = refused[0], refused[-1]
    assert first[0] == f"{START:%Y-%m-%dT%H:%M:%SZ}" and "not-found" in str(first[2])
    assert "redirected to a home page" in str(last[2])
    assert sum("archived status 404" in reason for reason in reasons) == 2
    assert sum("not a document (image/png)" in reason for reason in reasons) == 2
    if strategy == "all":
        assert sum("not-found" in reason for reason in reasons) == 3
        assert sum("redirected to a home page" in reason for reason in reasons) == 3
    assert catalog(tmp_path / "data", "SELECT COUNT(*) FROM captures WHERE reason IS NULL AND outcome = 'refused'") == [
        (0,)
    ]


# --- history entries ---------------------------------------------------------------------------------------


def test_history_entries_are_used_for_the_captures_they_cover(standin_archive, tmp_path):
    archive = standin_archive
    old, new = "https://www.acme.example/privacy.html", "https://www.acme.example/legal/privacy"
    moved = datetime(2016, 1, 1, tzinfo=UTC)
    for n in range(8):  # the old page, until the move: its text lives in #content, the page has no <main>
        archive.add_capture(old, ts(moved - timedelta(days=300 - 30 * n)), page(V1, f"old-{n}", "content"))
    for n in range(4):  # the old URL after the move: another document now, must not be read
        archive.add_capture(old, ts(moved + timedelta(days=20 + 30 * n)), page(V3, f"late-{n}", "content"))
    for n in range(4):  # the new URL before the move (a staging copy): must not be read
        archive.add_capture(new, ts(moved - timedelta(days=100 - 10 * n)), page(V3, f"early-{n}"))
    for n in range(8):
        archive.add_capture(new, ts(moved + timedelta(days=2 + 30 * n)), page(V2, f"new-{n}"))
    history = (
        f'[[documents.privacy-policy.history]]\nurl = "{old}"\nselect = ["#content"]\nvalid_until = "2015-12-31"\n'
    )
    services = {"acme": declaration(new, 'select = ["main"]\n' + history)}
    config = write_config(tmp_path / "config", archive, services)

    result = cli(config, tmp_path / "data", "--strategy", "all")

    assert result.returncode == 0, result.stderr
    listings = [parse_qs(urlsplit(r.path).query) for r in archive.requests if r.endpoint == "cdx"]
    assert [(q["url"][0], q.get("from"), q.get("to")) for q in listings] == [
        (old, None, ["20151231235959"]),
        (new, ["20160101000000"], None),
    ]
    repo = str(tmp_path / "data" / "versions")
    trailers = ["log", "--reverse", "--format=%(trailers:key=Snapshot-Url,valueonly)", "main"]
    messages = subprocess.run(["git", "-C", repo, *trailers], capture_output=True, text=True, check=True).stdout.split()
    assert len(messages) == 2
    assert messages[0].endswith(f"/{ts(moved - timedelta(days=300))}id_/{old}")
    assert messages[1].endswith(f"/{ts(moved + timedelta(days=2))}id_/{new}")
    replayed = [path.removeprefix("/web/").split("id_/", 1) for path in replay_paths(archive.requests)]
    assert len(replayed) == 16
    assert all((url == old) == (stamp < "2016") for stamp, url in replayed)
