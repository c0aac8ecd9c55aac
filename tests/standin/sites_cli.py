"""Serve the stand-in sites' benchmark corpus by hand, and write the services that declare it.

``python tests/standin/sites_cli.py`` serves the benchmark corpus (100 sites x 10 documents of ~50 KB by default),
writes the matching ``services/*.toml`` with ``--config-out DIR``, and takes control requests on its own address:
``POST /_standin/change?fraction=0.1`` revises 10 % of the documents, ``GET /_standin/stats``. Run as a script,
this file puts ``tests/`` on the path itself, so the stand-ins import as ``standin.*`` (see
:mod:`standin.archive_cli`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as a script: only this folder is on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from standin.sites import CONTROL_PREFIX, DOCUMENT_TYPES, StandinSites, split_url  # noqa: E402


def write_services(directory: Path, urls: Sequence[str]) -> list[Path]:
    """Write ``services/<site>.toml`` declaring ``urls`` (one service per host); return the files."""
    by_site: dict[str, list[str]] = {}
    for url in urls:
        by_site.setdefault(split_url(url)[0], []).append(url)
    services = directory / "services"
    services.mkdir(parents=True, exist_ok=True)
    written = []
    for host, site_urls in sorted(by_site.items()):
        service_id = host.removesuffix(".test")
        lines = [f'name = "{service_id.title()}"', ""]
        for url in site_urls:
            document = split_url(url)[1].rsplit("/", 1)[1]
            lines += [f"[documents.{document}]", f'url = "{url}"', 'select = ["main"]', ""]
        path = services / f"{service_id}.toml"
        path.write_text("\n".join(lines))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/standin/sites_cli.py", description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--documents", type=int, default=10, help=f"per site, at most {len(DOCUMENT_TYPES)}")
    parser.add_argument("--page-bytes", type=int, default=50_000)
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    parser.add_argument("--config-out", type=Path, help="write services/*.toml for the corpus here")
    options = parser.parse_args(argv)
    with StandinSites(options.port) as sites:
        started = time.monotonic()
        urls = sites.add_benchmark_sites(options.sites, options.documents, options.page_bytes)
        print(sites.proxy_url, flush=True)  # first line: for scripts
        print(
            f"{len(urls)} documents on {options.sites} sites built in {time.monotonic() - started:.1f} s; "
            f"export http_proxy={sites.proxy_url}",
            file=sys.stderr,
        )
        if options.config_out:
            files = write_services(options.config_out, urls)
            print(f"wrote {len(files)} service files to {options.config_out / 'services'}", file=sys.stderr)
        print(
            f"change 10 %: curl -X POST '{sites.proxy_url}{CONTROL_PREFIX}change?fraction=0.1'; "
            f"counts: curl {sites.proxy_url}{CONTROL_PREFIX}stats; stop: Ctrl-C or SIGTERM",
            file=sys.stderr,
        )
        _wait_for_stop_signal()
    return 0


def _wait_for_stop_signal() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM ends it like Ctrl-C
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
