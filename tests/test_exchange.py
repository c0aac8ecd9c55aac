"""One HTTP exchange bounded as a whole (crawler/exchange.py), in the steps before the answer: a proxy's CONNECT answer
trickling without end. The answer itself: tests/test_cdx.py (listing pages), tests/test_notify.py (the webhook)."""

from __future__ import annotations

import pytest
from standin.webhooks import dripping_headers

from policy_archive.crawler.exchange import fetch, post


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
            if method == "GET":
                fetch("https://archive.example/cdx", "policy-archive/test", 0.5, 1000)
            else:
                post("https://hooks.example/x", "policy-archive/test", 0.5, b"{}", "application/json")
        assert proxy.hung_up.wait(30), "the connection to the proxy was closed at the deadline"
    assert proxy.received == [b""], "one CONNECT, without a body"
