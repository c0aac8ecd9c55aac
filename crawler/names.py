"""Name lookups without Scrapy or Twisted: the one call to the system's resolver, the words of a lookup that gave
no answer within its bound, and that bound for a caller outside the reactor (the CDX listing, through
:mod:`http.client`).

A lookup that never returns (a name server that does not answer) cannot be stopped: it runs on a daemon thread of
its own (which does not keep the process from exiting once the run is done), the caller waits for it at most the
bound, and while it is still blocked another lookup of the same name fails at once with the same words (no thread
more). crawler/lookups.py does the same inside a crawl, on the reactor. :func:`system_lookup` is the one call to the
system's resolver, looked up here at each call: tests stand in for it (tests/standin/hanging_dns.py).
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from typing import Any

from policy_archive.errors import PolicyArchiveError

# What getaddrinfo answers, kept: the address family and the socket address, without the port (set per connection).
Found = list[tuple[int, tuple[Any, ...]]]


class LookupTimedOut(PolicyArchiveError):
    """A name lookup that gave no answer within the bound; ``str()`` is the reason a user reads."""

    def __init__(self, host: str, seconds: float):
        super().__init__(
            f"DNS lookup of {host} gave no answer within {seconds:g} seconds (setting [wayback] timeout_seconds)"
        )


def system_lookup(host: str) -> Found:
    """The system resolver's answer for ``host``; empty when it does not resolve. Blocking: each caller runs it on
    a thread of its own (:func:`lookup_within` here, crawler/lookups.py's ``Lookups`` in a crawl)."""
    try:
        answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [(family, sockaddr) for family, _, _, _, sockaddr in answers]


# Lookups made by lookup_within still blocked past their bound, by name; lookup_within may be called from any thread.
_BLOCKED_OUTSIDE: Counter[str] = Counter()
_OUTSIDE_LOCK = threading.Lock()


def lookup_within(host: str, seconds: float) -> Found:
    """The addresses of ``host`` (empty when it does not resolve), waited for at most ``seconds`` on the calling
    thread, for a caller outside the reactor; past that, or at once while an earlier lookup of ``host`` is still
    blocked past it, :class:`LookupTimedOut`."""
    with _OUTSIDE_LOCK:
        if _BLOCKED_OUTSIDE[host]:
            raise LookupTimedOut(host, seconds)
    outcome: list[tuple[Found, BaseException | None]] = []
    given_up = False

    def run() -> None:
        try:
            answer: tuple[Found, BaseException | None] = (system_lookup(host), None)
        except BaseException as error:  # noqa: BLE001 -- handed to the calling thread, raised there
            answer = ([], error)
        with _OUTSIDE_LOCK:
            if given_up:
                _BLOCKED_OUTSIDE[host] -= 1
            else:
                outcome.append(answer)

    thread = threading.Thread(target=run, name=f"lookup {host}", daemon=True)
    thread.start()
    thread.join(seconds)
    with _OUTSIDE_LOCK:
        if outcome:
            found, error = outcome[0]
            if error is not None:
                raise error
            return found
        given_up = True
        _BLOCKED_OUTSIDE[host] += 1
    raise LookupTimedOut(host, seconds)
