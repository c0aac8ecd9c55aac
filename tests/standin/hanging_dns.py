"""The real command line, with name lookups that never answer for named hosts.

``python -m standin.hanging_dns HOST [HOST ...] -- <policy-archive arguments>``

A name server that does not answer cannot be run offline, and a real lookup of a name that does not exist answers
at once; so the one call to the system's resolver (``crawler.names.system_lookup``, what every lookup of a crawl
calls, the internal-address check's included) is replaced in the process under test: for the named hosts it
blocks for good, as ``getaddrinfo`` does when its name server never answers; other names resolve for real.
"""

from __future__ import annotations

import sys
import threading

from policy_archive.crawler import names


def hanging(hosts: set[str]) -> None:
    system = names.system_lookup
    never = threading.Event()

    def lookup(host: str) -> names.Found:
        if host in hosts:
            never.wait()
        return system(host)

    names.system_lookup = lookup


def main(argv: list[str]) -> None:
    split = argv.index("--")
    hanging(set(argv[:split]))
    sys.argv = ["policy-archive", *argv[split + 1 :]]
    from policy_archive.pipeline.commands.cli import main as cli

    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
