"""Shared pytest fixtures: the stand-in Wayback-compatible archive, served on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from standin.archive import StandinArchive

from policy_archive.config.settings import WaybackSettings


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
def standin_settings(standin_archive: StandinArchive) -> WaybackSettings:
    """Wayback settings pointing at :func:`standin_archive`, rate limit off, 5 s timeout."""
    return standin_archive.wayback_settings()


# The machine's proxy settings (a CI runner behind a proxy) would send the tests' requests to 127.0.0.1 through
# that proxy, from this process (urllib) and from every CLI subprocess (Scrapy): tests that want a proxy (the
# stand-in sites) name it themselves.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def pytest_configure(config: pytest.Config) -> None:
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
        os.environ.pop(name.upper(), None)


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
