"""Webhook notification: the JSON posted, failures that never raise, and a webhook that never finishes answering
bounded (audit 6, F-c1; through `track` and `schedule`: tests/test_webhook_bounds.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standin.hostile import EndlessHeaders
from standin.sockets import closed_port
from standin.tls import TricklingHandshake
from standin.webhooks import dripping_body, dripping_headers, huge_body

from policy_archive.pipeline.scheduling.notify import ChangeSummary, changed_lines, post_summary

CHANGES = (
    ChangeSummary("acrcloud/privacy-policy", datetime(2026, 11, 4, 12, 0, 7, tzinfo=UTC), 12, 3, "a" * 40),
    ChangeSummary("example/terms-of-service", datetime(2026, 11, 4, 12, 1, tzinfo=UTC), 1, 0, "b" * 40),
)


@dataclass
class Webhook:
    """A local webhook answering ``status`` after ``delay`` seconds, remembering what it was sent."""

    status: int = 204
    delay: float = 0.0
    location: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[tuple[Webhook, str]]:
    state = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers), body))
            time.sleep(state.delay)
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}/hooks/SECRET-TOKEN"
    server.shutdown()
    server.server_close()


def test_posts_the_changes_as_json(webhook: tuple[Webhook, str]) -> None:
    state, url = webhook
    assert post_summary(url, CHANGES, "policy-archive/test", 10) is None
    [(headers, body)] = state.received
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "policy-archive/test"
    payload = json.loads(body)
    assert payload["changes"] == [
        {
            "document": "acrcloud/privacy-policy",
            "date": "2026-11-04T12:00:07Z",
            "lines_added": 12,
            "lines_removed": 3,
            "commit": "a" * 40,
        },
        {
            "document": "example/terms-of-service",
            "date": "2026-11-04T12:01:00Z",
            "lines_added": 1,
            "lines_removed": 0,
            "commit": "b" * 40,
        },
    ]
    assert payload["text"] == (
        "policy-archive: 2 documents changed: acrcloud/privacy-policy (+12 -3), example/terms-of-service (+1 -0)"
    )


def test_nothing_is_posted_without_changes(webhook: tuple[Webhook, str]) -> None:
    state, url = webhook
    assert post_summary(url, [], "policy-archive/test", 10) is None
    assert state.received == []


def test_a_server_error_is_a_warning_without_the_secret(webhook: tuple[Webhook, str]) -> None:
    state, url = webhook
    state.status = 500
    warning = post_summary(url, CHANGES, "policy-archive/test", 10)
    assert warning is not None and "HTTP 500" in warning
    assert "SECRET-TOKEN" not in warning and "\n" not in warning


def test_a_redirect_is_not_followed_with_a_payload_less_get(webhook: tuple[Webhook, str]) -> None:
    state, url = webhook
    state.status, state.location = 302, url + "/elsewhere"
    warning = post_summary(url, CHANGES, "policy-archive/test", 10)
    assert warning is not None and "HTTP 302" in warning
    assert len(state.received) == 1


def test_a_slow_webhook_times_out_with_a_warning(webhook: tuple[Webhook, str]) -> None:
    state, url = webhook
    # The answer would take 10 minutes: ending well before it shows the timeout was honoured, with a margin no load
    # on the machine eats (the server's daemon thread does not hold up the fixture's teardown).
    state.delay = 600.0
    started = time.monotonic()
    warning = post_summary(url, CHANGES, "policy-archive/test", timeout=0.2)
    assert time.monotonic() - started < 120
    assert warning is not None and "gave no answer within 0.2 s" in warning


def test_a_refused_connection_is_a_warning() -> None:
    warning = post_summary(f"http://127.0.0.1:{closed_port()}/hook", CHANGES, "policy-archive/test", timeout=2)
    assert warning is not None and "unreachable" in warning and "refused" in warning.lower()


def test_a_server_that_hangs_up_is_a_warning() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def hang_up() -> None:
            connection, _ = listener.accept()
            connection.recv(65536)
            connection.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        warning = post_summary(f"http://127.0.0.1:{port}/hook", CHANGES, "policy-archive/test", timeout=2)
        thread.join()
    assert warning is not None and warning.startswith(f"webhook http://127.0.0.1:{port} ")


# --- a webhook that never finishes answering (audit 6, F-c1) --------------------------------------------------------
# Each bound is shown by the outcome: the warning's words, and the call ending long before the webhook would (never),
# within a margin no load eats; no assertion on how long it took.


def test_an_answer_trickling_without_end_is_given_up_at_the_deadline() -> None:
    # A byte every 0.1 s: a timeout on each read would never expire; only a deadline for the whole exchange ends it.
    with dripping_headers() as webhook:
        warning = post_summary(webhook.hook, CHANGES, "policy-archive/test", timeout=0.5)
        assert webhook.hung_up.wait(30), "the connection was closed at the deadline"
    assert warning == (f"webhook {webhook.origin} gave no answer within 0.5 s (setting [wayback] timeout_seconds)")
    assert len(webhook.received) == 1 and json.loads(webhook.received[0])["changes"]


def test_an_https_webhook_trickling_its_tls_handshake_is_given_up_at_the_deadline() -> None:
    # The handshake a byte every 0.1 s would take over a minute; it ends at the deadline like any other step
    # (tests/test_exchange.py: whatever the socket's own timeout).
    with TricklingHandshake() as webhook:
        warning = post_summary(f"{webhook.origin}/hooks/SECRET-TOKEN", CHANGES, "policy-archive/test", timeout=0.5)
        assert webhook.hung_up.wait(30), "the connection was closed during the handshake"
    assert warning == f"webhook {webhook.origin} gave no answer within 0.5 s (setting [wayback] timeout_seconds)"
    assert not webhook.handshaken.is_set()


def test_a_2xx_status_is_the_answer_its_trickling_body_is_not_waited_for() -> None:
    """F-c1's webhook: 200 at once, then a chunked body one byte at a time for good. The status says the summary
    was taken; the body is not read, so the call returns at once, well inside its deadline (a minute here)."""
    with dripping_body() as webhook:
        assert post_summary(webhook.hook, CHANGES, "policy-archive/test", timeout=60) is None
        assert webhook.hung_up.wait(30), "the client hung up on the body"


def test_a_huge_body_is_not_read() -> None:
    size = 256 * 1024 * 1024
    with huge_body(size) as webhook:
        assert post_summary(webhook.hook, CHANGES, "policy-archive/test", timeout=60) is None
        assert webhook.hung_up.wait(30), "the client hung up on the body"
    # What the socket buffers took in before the client closed (a few MB on Linux's loopback), not the body.
    assert webhook.sent[0] < size // 4, webhook.sent


def test_endless_headers_are_a_warning() -> None:
    with EndlessHeaders() as server:
        origin = f"http://127.0.0.1:{server.port}"
        warning = post_summary(server.url("/hook"), CHANGES, "policy-archive/test", timeout=60)
    assert warning is not None and warning.startswith(f"webhook {origin} failed: ")
    assert "headers" in warning


def post_stopped(hook: str, signum: signal.Signals, waiting: threading.Event) -> str | None:
    """``post_summary`` to ``hook`` with a minute's deadline, sent ``signum`` once ``waiting`` is set (the client is
    then waiting for the webhook, with the stop handler in place): its warning."""

    def signal_once_waiting() -> None:
        if waiting.wait(30):
            os.kill(os.getpid(), signum)

    sender = threading.Thread(target=signal_once_waiting, daemon=True)
    # SIGINT as from a terminal: a test session started in the background (CI) inherits it ignored, and an ignored
    # SIGINT stays ignored (policy_archive/stop_signals.py).
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    sender.start()
    try:
        return post_summary(hook, CHANGES, "policy-archive/test", timeout=60)
    finally:
        sender.join()
        signal.signal(signal.SIGINT, ignored)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_gives_the_webhook_up_at_once(signum: signal.Signals) -> None:
    """SIGTERM or SIGINT while the webhook keeps the answer coming: the call returns the warning at once, long
    before its deadline (a minute), and the handlers in place before are put back."""
    before = signal.getsignal(signum)
    with dripping_headers() as webhook:
        # The webhook has the request: the client is waiting for its answer.
        warning = post_stopped(webhook.hook, signum, webhook.connected)
    assert warning == f"webhook {webhook.origin} not waited for: the run was stopped ({signum.name})"
    assert signal.getsignal(signum) is before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_during_the_tls_handshake_gives_the_webhook_up_at_once(signum: signal.Signals) -> None:
    before = signal.getsignal(signum)
    with TricklingHandshake() as webhook:
        # The server has the client's hello: the client waits for the server's handshake.
        warning = post_stopped(f"{webhook.origin}/hooks/SECRET-TOKEN", signum, webhook.hello)
    assert warning == f"webhook {webhook.origin} not waited for: the run was stopped ({signum.name})"
    assert not webhook.handshaken.is_set()
    assert signal.getsignal(signum) is before


def test_lines_beginning_like_a_diffs_file_headers_are_counted():
    """A version's ``---`` line (every ``<hr>``) removed, or a ``++`` line added, was not counted: the counts were
    read from a unified diff's text, dropping its ``---``/``+++`` file headers by their first characters."""
    assert changed_lines("Intro\n\n---\n\nEnd\n", "Intro\n\nEnd\n") == (0, 2)
    assert changed_lines("Intro\n", "Intro\n++ more\n+++\n") == (2, 0)
    assert changed_lines("", "a\nb\n") == (2, 0)


@given(st.lists(st.sampled_from(["---", "+++", "++", "--", "text", "", "- item", "+ item"]), max_size=30), st.data())
def test_the_counts_account_for_every_line(old: list[str], data: st.DataObject):
    """Property: lines added minus lines removed is the change in the number of lines, whatever the lines say."""
    new = data.draw(st.lists(st.sampled_from(["---", "+++", "text", "", "- item", "other"]), max_size=30))
    added, removed = changed_lines("\n".join(old), "\n".join(new))
    assert added - removed == len("\n".join(new).splitlines()) - len("\n".join(old).splitlines())
    assert 0 <= removed <= len(old) and 0 <= added <= len(new)
