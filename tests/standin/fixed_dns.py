"""The real command line, with name lookups answered from a table: offline, and counted.

``python -m standin.fixed_dns HOST=ADDRESS[,ADDRESS] ... -- <policy-archive arguments>``

A public name that resolves to an internal address (``127.0.0.1.nip.io``) cannot be looked up offline; so the one
call to the system's resolver (``crawler.names.system_lookup``, as tests/standin/hanging_dns.py replaces it) answers
the named hosts with their addresses, an address literal or ``localhost`` as the system does (no name server
asked), and every other name with none (as a name that does not exist). Each lookup of a name is written to
stderr as ``LOOKUP host`` for a test to count.
"""

from __future__ import annotations

import socket
import sys

from policy_archive.crawler import names
from policy_archive.crawler.hosts import literal_address


def fixed(table: dict[str, list[str]]) -> None:
    system = names.system_lookup

    def lookup(host: str) -> names.Found:
        if host == "localhost" or literal_address(host) is not None:
            return system(host)
        print(f"LOOKUP {host}", file=sys.stderr, flush=True)
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in address], (address, 0)) for address in table.get(host, [])]

    names.system_lookup = lookup


def main(argv: list[str]) -> None:
    split = argv.index("--")
    fixed({host: addresses.split(",") for host, addresses in (entry.split("=", 1) for entry in argv[:split])})
    sys.argv = ["policy-archive", *argv[split + 1 :]]
    from policy_archive.pipeline.commands.cli import main as cli

    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
