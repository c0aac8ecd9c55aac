"""A real pywb (Webrecorder's replay system) for tests: its own virtual environment, a collection built from
WARC files with ``wb-manager``, and ``wayback`` serving it on 127.0.0.1.

pywb cannot share an environment with Scrapy (two ``brotli`` modules, DESIGN.md), so it lives in a venv of
its own under ``~/.cache/policy-archive/pywb-VERSION``, created on first use (``.ci/run`` creates it before the
tests: ``python tests/standin/pywb.py --install``). A venv cannot be moved once made, so it is built in place
and marked complete last; an incomplete one is removed and built again.

How pywb is run (read in pywb 2.10's ``apps/cli.py`` and ``default_config.yaml``, 2026-11): ``wayback`` binds
0.0.0.0 unless told otherwise, so it is always started with ``-b 127.0.0.1``; live-web, recording and proxy
modes are off unless asked for (``--live``/``--record``/``--proxy``), and are never asked for here; without a
``config.yaml`` in its working directory (a fresh temporary one) every default applies — the collection's CDX
server API at ``/COLL/cdx`` and replay at ``/COLL/{timestamp}id_/{url}``, which is what DESIGN.md promises to
work with no other setting.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PYWB_VERSION = "2.10.0"
INSTALL_TIMEOUT = 600  # seconds; measured 36 s on a fresh machine with PyPI reachable (2026-11)
START_TIMEOUT = 120  # seconds for wayback to answer: slow to start under heavy load, and a skip hides its tests
START_ATTEMPTS = 3  # each on a new port


class PywbUnavailable(Exception):
    """pywb could not be installed or started here; ``str()`` says why (a test skips with it)."""


def home() -> Path:
    return Path.home() / ".cache" / "policy-archive" / f"pywb-{PYWB_VERSION}"


def ensure_installed() -> Path:
    """The ``bin`` directory of a complete pywb venv, installing it first if needed."""
    venv = home()
    marker = venv / ".complete"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"pywb-{PYWB_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once build it once
        if not marker.exists():
            shutil.rmtree(venv, ignore_errors=True)
            _install(venv)
            marker.write_text(f"pywb=={PYWB_VERSION}\n")
    return venv / "bin"


def _install(venv: Path) -> None:
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"pywb=={PYWB_VERSION}"],
    ]
    # pip asks the package registry: the one place the tests may reach off this machine (README), so the offline
    # guard (tests/offline) is off for the install, inert without its variable.
    env = {name: value for name, value in os.environ.items() if name != "POLICY_ARCHIVE_TEST_OFFLINE"}
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PywbUnavailable(f"cannot install pywb {PYWB_VERSION} into {venv}: {error}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PywbUnavailable(f"cannot install pywb {PYWB_VERSION} into {venv}: {last}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_collection(bin_dir: Path, root: Path, collection: str, warcs: list[Path]) -> None:
    """``wb-manager init`` a collection under ``root/collections`` and ``add`` (copy and index) the WARCs."""
    for command in (["init", collection], ["add", collection, *map(str, warcs)]):
        done = subprocess.run(
            [str(bin_dir / "wb-manager"), *command], cwd=root, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise PywbUnavailable(f"wb-manager {command[0]} failed: {done.stderr.strip()[-300:]}")


@contextlib.contextmanager
def serve(bin_dir: Path, root: Path, collection: str) -> Iterator[str]:
    """Run ``wayback`` over ``root``'s collections on a free loopback port; yield ``http://127.0.0.1:PORT``.

    A port is free when picked, not when ``wayback`` binds it: another process (a second suite on the machine) may
    take it in between, and ``wayback`` then exits. So a start that fails is tried again on a new port, before
    the tests using pywb are skipped for it."""
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (root / "wayback.log").open("w")
        command = [str(bin_dir / "wayback"), "-b", "127.0.0.1", "-p", str(port)]
        process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                _wait_until_serving(process, f"{base}/{collection}/cdx?url=example.com", root / "wayback.log")
            except PywbUnavailable:
                if attempt == START_ATTEMPTS:
                    raise
                continue
            yield base
            return
        finally:
            _stop(process)
            log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], probe: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PywbUnavailable(f"wayback exited with {process.returncode}: {log.read_text()[-300:]}")
        try:
            with urllib.request.urlopen(probe, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise PywbUnavailable(f"wayback did not answer within {START_TIMEOUT} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Install the pywb used by the tests into its own venv.")
    parser.add_argument("--install", action="store_true", help="create the venv if it is not complete yet")
    if parser.parse_args().install:
        print(f"pywb {PYWB_VERSION}: {ensure_installed()}")


if __name__ == "__main__":
    main()
