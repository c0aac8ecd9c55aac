"""A raw-socket server on 127.0.0.1, one thread per connection: the base of the stand-ins that answer below HTTP
(headers without end, bodies that drip), which an ``http.server`` handler cannot write."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self

_HELD_PORTS: list[socket.socket] = []


def closed_port() -> int:
    """A local port nothing listens on: bound and held, never listened on, for the rest of the test process.

    A port bound then released could be handed to another process's server (a second suite on the machine) and a
    test meant to meet a refused connection would read that server's answer; a socket bound without ``listen``
    keeps the port ours, and a connection to it is refused (RST) on Linux.
    """
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(held)
    return held.getsockname()[1]


class RawSocketServer:
    """Accepts connections on a free port of 127.0.0.1 from ``__enter__`` to ``__exit__``; each one is given to
    :meth:`_answer` in its own thread."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed by __exit__
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._socket.close()
