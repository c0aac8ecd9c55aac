"""Stand-in archive replay throughput: ``python -m benchmarks.standin_replay [--requests N] [--clients K]``.

Serves a generated history with ``tests/standin/archive_cli.py`` in its own process, exactly as README's trial
command does, and asks it for raw ``id_`` captures from K client threads, each on one keep-alive connection (as
Scrapy does). Prints the replay requests answered per second of wall time; every answer must be a 200 with the
capture's bytes. Client and server share the machine, so the figure is a floor for the server alone.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.shared import REPO_ROOT

URL = "https://www.example.org/privacy"
FIRST_CAPTURE = datetime(2010, 1, 1, tzinfo=UTC)


def write_history(folder: Path, captures: int, page_bytes: int) -> tuple[Path, list[tuple[str, bytes]]]:
    """A history of ``captures`` captures of one page, a week apart, each ~``page_bytes`` and different."""
    entries = []
    for n in range(captures):
        timestamp = (FIRST_CAPTURE + timedelta(days=7 * n)).strftime("%Y%m%d%H%M%S")
        paragraph = f"<p>Capture {n}: we keep what you tell us for {n} days at most.</p>\n"
        body = "<html><body><h1>Privacy</h1>\n" + paragraph * (page_bytes // len(paragraph)) + "</body></html>"
        entries.append((timestamp, body.encode("utf-8")))
    history = folder / "history.json"
    captures_json = [{"url": URL, "timestamp": stamp, "body": body.decode("utf-8")} for stamp, body in entries]
    history.write_text(json.dumps({"captures": captures_json}), encoding="utf-8")
    return history, entries


def start_server(history: Path) -> tuple[subprocess.Popen[str], str]:
    """The stand-in archive in its own process on a free port, and its replay URL."""
    script = REPO_ROOT / "tests" / "standin" / "archive_cli.py"
    command = [sys.executable, str(script), "--port", "0", "--history", str(history)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    server.stdout.readline()  # the cdx_url line
    replay_line = server.stdout.readline()  # "replay_url = 'http://127.0.0.1:PORT/web'  (Ctrl-C stops)"
    return server, replay_line.split("'")[1]


def fetch_all(replay_url: str, entries: list[tuple[str, bytes]], requests: int) -> int:
    """One client: ``requests`` replays on one keep-alive connection, cycling over the captures; the 200s."""
    parts = urlsplit(replay_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    right = 0
    try:
        for n in range(requests):
            timestamp, body = entries[n % len(entries)]
            connection.request("GET", f"{parts.path}/{timestamp}id_/{URL}")
            response = connection.getresponse()
            right += response.status == 200 and response.read() == body
    finally:
        connection.close()
    return right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="replay requests in all")
    parser.add_argument("--clients", type=int, default=4, help="client threads, one connection each")
    parser.add_argument("--captures", type=int, default=200, help="captures in the served history")
    parser.add_argument("--page-bytes", type=int, default=20_000, help="approximate size of each capture")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="standin-replay-") as folder:
        history, entries = write_history(Path(folder), options.captures, options.page_bytes)
        server, replay_url = start_server(history)
        try:
            share = options.requests // options.clients
            started = time.monotonic()
            with ThreadPoolExecutor(options.clients) as pool:
                right = sum(pool.map(lambda _: fetch_all(replay_url, entries, share), range(options.clients)))
            seconds = time.monotonic() - started
        finally:
            server.terminate()
            server.wait()
    asked = share * options.clients
    print(
        f"{asked:,} replay requests of {len(entries[0][1]):,} bytes from {options.clients} client threads: "
        f"{asked / seconds:,.0f} requests/s ({seconds:.1f} s wall), {right:,}/{asked:,} answered 200 with the "
        f"capture's bytes"
    )
    if right != asked:
        sys.exit("some answers were not the capture: the figure does not count")


if __name__ == "__main__":
    main()
