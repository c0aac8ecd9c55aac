"""Shared pytest fixtures: the stand-in Wayback-compatible archive and the stand-in sites, served on 127.0.0.1,
and a backfilled history for the commands that read one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from review_data import copy_of, recorded_history
from standin.archive import StandinArchive
from standin.sites import StandinSites

from policy_archive.config.settings import WaybackSettings

OFFLINE = Path(__file__).resolve().parent / "offline"  # the guard's folder, first on every subprocess's PYTHONPATH
sys.path.insert(0, str(OFFLINE))
import offline_guard  # noqa: E402  (from OFFLINE, as the subprocesses import it)

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


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of the given size (``"300k"``); remount it read-only with ``mount -o remount,ro``. Needs
    root and a kernel that lets this process mount: skipped with the reason elsewhere."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root (this test simulates a full or read-only disk)")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def pytest_configure(config: pytest.Config) -> None:
    for name in OUTSIDE_VARIABLES:
        os.environ.pop(name, None)
    # Every Python subprocess of the session starts guarded (tests/offline): it writes what it was refused to
    # this file, read after each test (no_name_server). On the environment, so that every launch inherits it;
    # standin.cli.cli_environment keeps OFFLINE first on the PYTHONPATH it sets.
    folder = Path(tempfile.mkdtemp(prefix="policy-archive-offline-"))
    config.stash[_REFUSALS] = folder
    os.environ[offline_guard.VARIABLE] = str(folder / "refused")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(OFFLINE), *filter(None, [os.environ.get("PYTHONPATH")])])
    offline_guard.guard_chromium()  # a browser the product launches in this process


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_REFUSALS, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Refusals written after the last test's end (a subprocess outliving its test) fail the session."""
    late = _subprocess_refusals()
    if late:
        print(f"\nsubprocesses were refused after their test ended:\n{''.join(late)}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


_REFUSALS = pytest.StashKey[Path]()
_read_up_to = 0  # how much of the refusals file earlier tests have read


def _subprocess_refusals() -> list[str]:
    """The lines the guarded subprocesses wrote since the last call."""
    global _read_up_to
    path = os.environ.get(offline_guard.VARIABLE)
    if not path or not os.path.exists(path):
        return []
    with open(path, "rb") as refusals:
        refusals.seek(_read_up_to)
        written = refusals.read()
    whole = written[: written.rfind(b"\n") + 1]  # a line being written is read by the next test
    _read_up_to += len(whole)
    return whole.decode("utf-8", "replace").splitlines(keepends=True)


@pytest.fixture(autouse=True)
def no_name_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test that asks the system's resolver for a name (not localhost, not an address) or connects to an address
    off this machine fails: offline, the answer is whatever the machine's name server says or how long it takes to
    say it, and the tests talk only to 127.0.0.1. Such a name is answered from a table (tests/standin/fixed_dns.py;
    ``crawler.names.system_lookup`` monkeypatched in this process). The guard (tests/offline/offline_guard.py)
    refuses the lookup as a name that does not exist, the connection as an unreachable network, then the test
    fails at its end. In this process, and in every Python subprocess the session starts (the CLI, stand-ins,
    the scheduler's runs, pywb): those write their refusals to a file read here, so a refusal by a subprocess
    started in a module-scoped fixture, or one outliving its test, fails the next test to end (or the session)."""
    if "internet" in request.keywords:
        monkeypatch.delenv(offline_guard.VARIABLE, raising=False)  # subprocesses unguarded too
        yield
        return
    asked: list[str] = []
    for owner, name, replacement in offline_guard.guarded(asked.append):
        monkeypatch.setattr(owner, name, replacement)
    yield
    refused = [*dict.fromkeys([*asked, *(f"a subprocess {line.strip()}" for line in _subprocess_refusals())])]
    if refused:
        pytest.fail(f"went off this machine: {'; '.join(refused)}: answer names from a table, reach only 127.0.0.1")
