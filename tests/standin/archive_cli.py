"""Run the stand-in archive by hand (manual trials, benchmarks, the wheel's end-to-end check in CI).

``python tests/standin/archive_cli.py --port 8765 --history FILE.json`` where FILE.json is ``{"captures": [{"url",
"timestamp", "body" | "body_file" | "body_base64", "status", "mimetype", "location", "redirect_form"}], "blocked":
[URL, ...]}`` (``body_file`` relative to FILE.json).
Not ``python -m tests.standin.archive_cli``: a top-level ``tests`` package installed by another distribution
would shadow this repository's ``tests`` directory (waybackpy 3.0.6's did, while it was a dependency), so tests
import ``standin.…``, and run as a script this file puts ``tests/`` on the path itself.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
from pathlib import Path

if not __package__:  # run as a script: only this folder is on the path, and the stand-ins import as standin.*
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from standin.archive import StandinArchive  # noqa: E402
from standin.capture import StandinCapture  # noqa: E402


def load_history(path: Path) -> StandinArchive:
    """An archive holding the captures of a history file (format in the module docstring)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    archive = StandinArchive()
    for entry in document.get("captures", []):
        archive.add(
            StandinCapture(
                url=entry["url"],
                timestamp=entry["timestamp"],
                body=_entry_body(entry, path.parent),
                status=entry.get("status", 200),
                mimetype=entry.get("mimetype", "text/html"),
                location=entry.get("location"),
                redirect_form=entry.get("redirect_form", "absolute"),
            )
        )
    for url in document.get("blocked", []):
        archive.block(url)
    return archive


def _entry_body(entry: dict[str, str], directory: Path) -> bytes:
    if "body_file" in entry:
        return (directory / entry["body_file"]).read_bytes()
    if "body_base64" in entry:
        return base64.b64decode(entry["body_base64"])
    return entry.get("body", "").encode("utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a Wayback-compatible stand-in archive on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--history", type=Path, help="JSON file of captures (see the module docstring)")
    options = parser.parse_args(argv)
    archive = load_history(options.history) if options.history else StandinArchive()
    archive.start(port=options.port)
    print(f"stand-in archive with {archive.capture_count} captures: cdx_url = {archive.cdx_url!r}")
    print(f"                                          replay_url = {archive.replay_url!r}  (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        archive.stop()


if __name__ == "__main__":
    main()
