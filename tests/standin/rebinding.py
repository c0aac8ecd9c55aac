"""The real command line, with DNS rebinding stood in for: named hosts resolve to a public address for the
internal-address *check* only, while every connection still resolves them as the system does.

``python -m standin.rebinding HOST=ADDRESS [HOST=ADDRESS ...] -- <policy-archive arguments>``

A rebinding name answers a public address when it is checked and an internal one when it is connected to; no
DNS server can be run offline, so the check's resolver (``crawler.addresses.resolve``, what every address check
calls) is replaced in the process under test, and a name the system resolves to 127.0.0.1 (``localhost``, from
``/etc/hosts``) is used. Nothing else is touched: Twisted's resolver (Scrapy's connections), and Playwright's
driver (a separate Node.js process), resolve the name for real. Whatever then reaches the 127.0.0.1 service went
there by a connection that did not use the address that was checked.
"""

from __future__ import annotations

import sys

from policy_archive.crawler import addresses


def rebinding(answers: dict[str, str]) -> None:
    checked = addresses.resolve

    def resolve_for_the_check(host: str) -> list[str]:
        return [answers[host]] if host in answers else checked(host)

    addresses.resolve = resolve_for_the_check


def main(argv: list[str]) -> None:
    split = argv.index("--")
    rebinding(dict(pair.split("=", 1) for pair in argv[:split]))
    sys.argv = ["policy-archive", *argv[split + 1 :]]
    from policy_archive.pipeline.commands.cli import main as cli

    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
