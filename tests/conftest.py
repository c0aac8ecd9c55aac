"""Shared pytest fixtures: the stand-in Wayback-compatible archive and the stand-in sites, served on 127.0.0.1,
and a backfilled history for the commands that read one."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from review_data import copy_of, recorded_history
from standin.archive import StandinArchive
from standin.sites import StandinSites

from policy_archive.config.settings import WaybackSettings
from policy_archive.crawler.hosts import literal_address

# In CI the property-based tests draw the same examples every run (a red run must be the change's, not the draw's);
# elsewhere they explore new ones, and what they find is kept as an @example.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def standin_archive() -> Iterator[StandinArchive]:
    """An empty stand-in archive on a free port; add captures with ``.add_capture(url, timestamp, body)``.

    ``.cdx_url`` / ``.replay_url`` point at it, ``.requests`` / ``.counts()`` log what it was asked, and
    ``.refuse_next``, ``.delay``, ``.serve_garbage_rows``, ``.repeat_rows``, ``.fail_page``,
    ``.drop_resume_key``, ``.ignore_resume_keys`` and ``.block`` inject faults.
    """
    with StandinArchive().start() as archive:
        yield archive


@pytest.fixture
def sites() -> Iterator[StandinSites]:
    """Stand-in live sites on a free port; set a page with ``.set_page(url, page)`` (see ``standin.sites``)."""
    with StandinSites() as stand_in:
        yield stand_in


@pytest.fixture
def standin_settings(standin_archive: StandinArchive) -> WaybackSettings:
    """Wayback settings pointing at :func:`standin_archive`, rate limit off, 5 s timeout."""
    return standin_archive.wayback_settings()


# Variables of the machine running the tests that would change what they test, in this process and in every CLI
# subprocess: proxy settings (a CI runner behind a proxy) would send the requests to the stand-ins on 127.0.0.1
# through that proxy; the configuration and data directories of the user's own runs; the repository of a Git hook
# running the suite (GIT_DIR etc. would point every git command at it). Tests that want one set it themselves.
OUTSIDE_VARIABLES = (
    *(name for proxy in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for name in (proxy, proxy.upper())),
    "POLICY_ARCHIVE_CONFIG",
    "POLICY_ARCHIVE_DATA",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A backfilled history (configuration and data directory) for a module's tests to read, not to change."""
    return recorded_history(tmp_path_factory.mktemp("recorded"))


@pytest.fixture
def history(recorded: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of :func:`recorded` (two versions, their captures in a WARC file) that a test may damage."""
    return copy_of(recorded, tmp_path)


def pytest_configure(config: pytest.Config) -> None:
    for name in OUTSIDE_VARIABLES:
        os.environ.pop(name, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-internet", action="store_true", help="also run tests that need the real internet")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``internet`` talk to the real Internet Archive: skipped unless --run-internet is given."""
    if config.getoption("--run-internet"):
        return
    skip = pytest.mark.skip(reason="needs the real internet (run with --run-internet)")
    for item in items:
        if "internet" in item.keywords:
            item.add_marker(skip)


_SYSTEM_GETADDRINFO = socket.getaddrinfo


def _local_name(host: object) -> bool:
    """Whether a lookup of ``host`` asks no name server: none, an address literal, or localhost (RFC 6761)."""
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    if not isinstance(name, str) or not name:
        return True
    name = name.strip("[]").rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost") or literal_address(name) is not None


@pytest.fixture(autouse=True)
def no_name_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test asking the system's resolver for a name (not localhost, not an address) fails: offline, the answer
    is whatever the machine's name server says or how long it takes to say it. Such a name is answered from a
    table (tests/standin/fixed_dns.py; ``crawler.names.system_lookup`` monkeypatched in this process). The name
    is answered "not found" here, then the test fails at its end. This process only: a CLI subprocess's lookups
    are not seen (run it with ``standin.cli.names_command`` / ``run_cli_with_names`` when it looks names up)."""
    if "internet" in request.keywords:
        yield
        return
    asked: list[str] = []

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if _local_name(host):
            return _SYSTEM_GETADDRINFO(host, *args, **kwargs)
        asked.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: a test may not ask the name server (no_name_server)")

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield
    if asked:
        pytest.fail(f"asked the system's resolver for {', '.join(dict.fromkeys(asked))}: answer it from a table")
