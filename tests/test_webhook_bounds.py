"""A webhook that never finishes answering holds neither `track` nor `schedule` (audit 6, F-c1: a webhook answering
``200``, chunked, one byte every 2 s, held `track` for 11 minutes through SIGTERM and SIGINT, and with it every
later scheduled run). The CLI in a subprocess, a live page and the webhook on 127.0.0.1 (tests/standin/webhooks.py).

Each test shows its bound by the outcome (the warning's words, the exit status, the version recorded) and by the
run ending long before the webhook would (never) or the deadline would, within margins no load eats; none asserts
how long anything took.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin.cli import WAIT_SECONDS, cli_command, git, run_cli, running
from standin.hostile import RouteServer
from standin.legal_text import policy_page
from standin.webhooks import TricklingWebhook, dripping_body, dripping_headers
from test_hostile import write_config

# A deadline no run of these tests reaches: a run ending shows the body was not waited for, or the signal heeded.
FAR_DEADLINE = 600


@pytest.fixture
def site() -> Iterator[RouteServer]:
    with RouteServer({"/privacy": policy_page("acme.test", "privacy-policy", size=5_000)}) as server:
        yield server


def configure(root: Path, site: RouteServer, webhook: TricklingWebhook, timeout_seconds: float) -> Path:
    """One document on ``site``; ``webhook`` told of changes; ``timeout_seconds`` the deadline of every request."""
    service = f'name = "ACME"\n[documents.privacy-policy]\nurl = "{site.url("/privacy")}"\n'
    settings = (
        f"[wayback]\ntimeout_seconds = {timeout_seconds}\n[crawl]\nobey_robots = false\n"
        f'[schedule]\nwebhook_url = "{webhook.hook}"\n'
    )
    return write_config(root, {"acme": service}, settings)


def versions(data: Path) -> list[str]:
    return git(data / "versions", "log", "--format=%H", "main").split()


def test_a_webhook_that_never_answers_is_one_warning_at_the_deadline_and_the_run_succeeds(
    tmp_path: Path, site: RouteServer
) -> None:
    with dripping_headers() as webhook:
        config = configure(tmp_path / "config", site, webhook, timeout_seconds=2)
        result = run_cli(config, tmp_path / "data", "track")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    webhook_lines = [line for line in result.stderr.splitlines() if "webhook" in line]
    assert webhook_lines == [
        f"webhook: webhook {webhook.origin} gave no answer within 2 s (setting [wayback] timeout_seconds)"
    ], result.stderr
    assert len(webhook.received) == 1
    assert len(versions(tmp_path / "data")) == 1


def test_f_c1_a_2xx_whose_body_trickles_for_good_does_not_hold_the_run(tmp_path: Path, site: RouteServer) -> None:
    # The deadline is longer than run_cli waits (120 s): the run ends because the body is not read at all.
    with dripping_body() as webhook:
        config = configure(tmp_path / "config", site, webhook, timeout_seconds=FAR_DEADLINE)
        result = run_cli(config, tmp_path / "data", "track")
        assert webhook.hung_up.wait(30), "track hung up on the body"
    assert result.returncode == 0, result.stderr
    assert "webhook" not in result.stderr, "a 200 is the summary taken"
    assert len(webhook.received) == 1
    assert len(versions(tmp_path / "data")) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_while_the_webhook_trickles_ends_track_at_once(
    tmp_path: Path, site: RouteServer, signum: signal.Signals
) -> None:
    """Every document is done when the webhook is posted: the run stops as a stopped run does with nothing left,
    its version recorded, the webhook given up in one line, exit 0."""
    with dripping_headers() as webhook:
        config = configure(tmp_path / "config", site, webhook, timeout_seconds=FAR_DEADLINE)
        command = cli_command(config, tmp_path / "data", "track")
        with running(command, tmp_path / "track.log", terminal_sigint=True) as run:
            assert webhook.connected.wait(WAIT_SECONDS), "the webhook was posted"
            status = run.stop(signum)
            output = run.output()  # stdout and stderr, in one log
    assert status == 0, output
    assert "Traceback" not in output
    assert (
        f"webhook: webhook {webhook.origin} not waited for: the run was stopped ({signum.name})" in output.splitlines()
    )
    assert len(versions(tmp_path / "data")) == 1


def test_sigterm_stops_schedule_while_its_run_waits_on_a_webhook(tmp_path: Path, site: RouteServer) -> None:
    """The scheduler passes its SIGTERM to the run, which gives the webhook up: the scheduler ends, exit 0, without
    waiting for the webhook or its deadline."""
    output = tmp_path / "schedule.log"
    with dripping_headers() as webhook:
        config = configure(tmp_path / "config", site, webhook, timeout_seconds=FAR_DEADLINE)
        command = cli_command(config, tmp_path / "data", "schedule", "--every", "3600")
        with running(command, output) as scheduler:
            assert webhook.connected.wait(WAIT_SECONDS), "the first run posted the webhook"
            status = scheduler.stop(signal.SIGTERM)
    log = output.read_text(errors="replace")
    assert status == 0, log
    assert "run 1 finished, exit 0" in log, log
    assert f"webhook: webhook {webhook.origin} not waited for: the run was stopped (SIGTERM)" in log, log
    assert "scheduler stopped" in log, log
    assert len(versions(tmp_path / "data")) == 1
