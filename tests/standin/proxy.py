"""A forwarding HTTP proxy on 127.0.0.1 for tests: every request for ``http://NAME/...`` (absolute form, as a
client sends it to a proxy) is answered by one upstream server, whatever NAME is, with NAME kept as the Host
header (so an archive builds its redirects with it); ``CONNECT`` tunnels are refused with 403. It logs what it
was asked: the request line's target and the Proxy-Authorization header."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    target: str  # the absolute URL, or HOST:PORT for CONNECT
    authorization: str | None


class ForwardingProxy:
    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.requests: list[ProxiedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ForwardingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                proxy.requests.append(ProxiedRequest("GET", self.path, self.headers.get("Proxy-Authorization")))
                parts = urlsplit(self.path)
                upstream = HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    headers = {
                        name: value for name, value in self.headers.items() if name.lower() != "proxy-authorization"
                    }
                    headers["Host"] = parts.netloc
                    upstream.request("GET", urlunsplit(("", "", parts.path, parts.query, "")), headers=headers)
                    answer = upstream.getresponse()
                    body = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    upstream.close()

            def do_CONNECT(self) -> None:  # noqa: N802
                proxy.requests.append(ProxiedRequest("CONNECT", self.path, self.headers.get("Proxy-Authorization")))
                self.send_response(403, "Tunnels refused by the test proxy")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Silent."""

        return Handler
