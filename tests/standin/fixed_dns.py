"""The real command line, with name lookups answered from a table: offline, and counted.

``python -m standin.fixed_dns [--silent] HOST=ADDRESS[,ADDRESS][|ADDRESS[,ADDRESS]...] ... -- <arguments>``

A public name that resolves to an internal address (``127.0.0.1.nip.io``) cannot be looked up offline; so the one
call to the system's resolver (``crawler.names.system_lookup``, as tests/standin/hanging_dns.py replaces it) answers
the named hosts with their addresses, an address literal or ``localhost`` as the system does (no name server asked),
and every other name with none (as a name that does not exist). Each lookup of a name is written to stderr as
``LOOKUP host`` for a test to count (not with ``--silent``, for a test comparing stderr whole). Answers separated by
``|`` are given in turn, the last one to every later lookup: a name rebound between two lookups
(``rebound.test=93.184.215.14|127.0.0.1``, DNS rebinding). The host ``*`` answers every name not in the table
(``*=93.184.216.34``: every name public). A name whose answers start with ``~`` is slow until the others are asked
(``slow-a.test=~93.184.216.34 slow-b.test=~93.184.216.34``): its first lookup answers only once every such name has
been looked up (or after ``MEETING_SECONDS``), so a caller that waits for one lookup before making the next sees the
first give no answer within its bound.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections import Counter

from policy_archive.crawler import names
from policy_archive.crawler.hosts import literal_address

MEETING_SECONDS = 300  # past a test's every bound: a name waiting this long answers anyway


def fixed(table: dict[str, list[list[str]]], slow: set[str], silent: bool = False) -> None:
    system = names.system_lookup
    asked: Counter[str] = Counter()
    meeting = threading.Barrier(len(slow)) if slow else None
    saying = threading.Lock()

    def lookup(host: str) -> names.Found:
        if host == "localhost" or literal_address(host) is not None:
            return system(host)
        if not silent:
            with saying:  # names are looked up on several threads at once: one whole line each
                print(f"LOOKUP {host}", file=sys.stderr, flush=True)
        answers = table.get(host) or table.get("*", [[]])
        answer = answers[min(asked[host], len(answers) - 1)]
        asked[host] += 1
        if meeting is not None and host in slow and asked[host] == 1:
            try:
                meeting.wait(MEETING_SECONDS)
            except threading.BrokenBarrierError:
                pass
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in address], (address, 0)) for address in answer]

    names.system_lookup = lookup


def main(argv: list[str]) -> None:
    split = argv.index("--")
    silent = argv[:1] == ["--silent"]
    entries = [entry.split("=", 1) for entry in argv[int(silent) : split]]
    slow = {host for host, answers in entries if answers.startswith("~")}
    entries = [(host, answers.removeprefix("~")) for host, answers in entries]
    fixed({host: [answer.split(",") for answer in answers.split("|")] for host, answers in entries}, slow, silent)
    sys.argv = ["policy-archive", *argv[split + 1 :]]
    from policy_archive.pipeline.commands.cli import main as cli

    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
