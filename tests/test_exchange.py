"""One HTTP exchange bounded as a whole (crawler/exchange.py), in the steps before the answer: a proxy's CONNECT answer
and a TLS handshake, each trickling without end. The answer itself: tests/test_cdx.py (listing pages),
tests/test_notify.py (the webhook)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest
from standin.tls import TricklingHandshake
from standin.webhooks import dripping_headers

from policy_archive.crawler.exchange import Answer, fetch, post

# Longer than any test here waits: a step bounded only by it shows its bound was not the deadline.
FAR = 600


def exchange(method: str, url: str, timeout: float) -> Answer:
    if method == "GET":
        return fetch(url, "policy-archive/test", timeout, 1000)
    return post(url, "policy-archive/test", timeout, b"{}", "application/json")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_proxy_trickling_its_connect_answer_is_given_up_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    # The tunnel is asked for before the TLS handshake: the proxy's answer one byte every 0.1 s never ends it, and a
    # timeout on each read never expires; only the deadline does (no TLS server is needed behind it).
    for name in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with dripping_headers() as proxy:
        monkeypatch.setenv("https_proxy", proxy.origin)
        with pytest.raises(TimeoutError):
            exchange(method, "https://archive.example/cdx", 0.5)
        assert proxy.hung_up.wait(30), "the connection to the proxy was closed at the deadline"
    assert proxy.received == [b""], "one CONNECT, without a body"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tls_handshake_trickling_without_end_is_given_up_at_the_deadline(method: str) -> None:
    # The server's handshake, a byte every 0.1 s, would take over a minute: the client hanging up before it is out
    # shows the deadline ended it (no assertion on how long that took).
    with TricklingHandshake() as server:
        with pytest.raises(TimeoutError):
            exchange(method, f"{server.origin}/cdx", 0.5)
        assert server.hung_up.wait(30), "the connection was closed during the handshake"
    assert not server.handshaken.is_set()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_deadline_not_the_sockets_timeout_ends_a_tls_handshake(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """The handshake is :mod:`ssl`'s, on a socket http.client no longer holds: before, the deadline could not shut
    it, and it lasted as long as the socket's own timeout allowed, the time left when the connection was made,
    counted again from the handshake's start (after a proxy's ``CONNECT`` answer that took most of the deadline,
    nearly a second deadline). Here that timeout is made far longer than the deadline, and the deadline still ends
    the handshake."""
    connect = socket.create_connection

    def lasting(address: tuple[str, int], timeout: float, source: tuple[str, int] | None = None) -> socket.socket:
        connection = connect(address, timeout, source)
        connection.settimeout(FAR)
        return connection

    monkeypatch.setattr(socket, "create_connection", lasting)
    with TricklingHandshake() as server:
        raised = in_thread(lambda: exchange(method, f"{server.origin}/cdx", 0.5))
        hung_up = server.hung_up.wait(30)
    # Past __exit__ the server closes its connections: an exchange the deadline did not end ends now, not in 600 s.
    assert hung_up, "the deadline shut the connection during the handshake"
    assert raised(30) is TimeoutError
    assert not server.handshaken.is_set()


def in_thread(call: Callable[[], object]) -> Callable[[float], type[BaseException] | None]:
    """``call`` started on a thread of its own; what is returned waits at most so many seconds for it to end, and
    gives the kind of exception it raised (None: it returned)."""
    raised: list[type[BaseException] | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 -- handed to the test's thread
            raised.append(type(error))
        else:
            raised.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def outcome(seconds: float) -> type[BaseException] | None:
        thread.join(seconds)
        assert raised, f"the exchange still ran {seconds:g} s later"
        return raised[0]

    return outcome
