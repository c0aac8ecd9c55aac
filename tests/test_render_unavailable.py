"""A page that needs a browser when there is none (issue 14): one line naming every way to get one, through the
real CLI, for ``track`` and ``backfill``; the other documents are still recorded.

Two ways to have no browser: the ``browser`` extra not installed (simulated in the CLI's process by a
``sitecustomize`` that makes ``scrapy_playwright`` and ``playwright`` unimportable, as they are when not
installed), and the extra installed with no Chromium anywhere (a PATH holding only git, and an empty folder for
Playwright's own browsers).
"""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest
from standin.archive import StandinArchive
from standin.cli import cli_environment, run_cli, write_archive_settings
from standin.legal_text import policy_page
from standin.pages import javascript_shell
from standin.sites import StandinSites

from policy_archive.crawler.render import browser_missing, browser_requirements, extra_installed, extra_missing

NOT_INSTALLED = """import sys

# As if the browser extra were not installed: its imports fail and importlib finds no spec.
sys.modules["scrapy_playwright"] = None
sys.modules["playwright"] = None
"""


def without_browser(how: str, tmp_path: Path, sites: StandinSites) -> dict[str, str]:
    """The CLI's environment with no browser: ``extra`` not installed, or no ``chromium`` to be found."""
    env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
    if how == "extra":
        blocker = tmp_path / "no-extra"
        blocker.mkdir()
        (blocker / "sitecustomize.py").write_text(NOT_INSTALLED)
        env["PYTHONPATH"] = f"{env['PYTHONPATH']}:{blocker}"  # after the offline guard's, which runs this one
    else:
        if not extra_installed():
            pytest.skip("needs the browser extra, to show a missing Chromium with the extra installed")
        bin_dir, browsers = tmp_path / "bin", tmp_path / "browsers"
        bin_dir.mkdir()
        browsers.mkdir()
        (bin_dir / "git").symlink_to(shutil.which("git") or "git")
        env.update(PATH=str(bin_dir), PLAYWRIGHT_BROWSERS_PATH=str(browsers))
    return env


def write_config(directory: Path, urls: dict[str, str], archive: StandinArchive) -> Path:
    write_archive_settings(directory, archive.cdx_url, archive.replay_url, timeout_seconds=10)
    for service, url in urls.items():
        (directory / "services" / f"{service}.toml").write_text(
            f'name = "{service.title()}"\n[documents.privacy-policy]\nurl = "{url}"\nrender = "auto"\n'
        )
    return directory


@pytest.mark.parametrize("how", ["extra", "chromium"])
@pytest.mark.parametrize("command", ["track", "backfill"])
def test_a_page_needing_a_browser_says_how_to_get_one(
    command: str, how: str, standin_archive: StandinArchive, tmp_path: Path
):
    with StandinSites() as sites:
        shell = sites.set_page("http://spa.test/privacy", javascript_shell())
        plain_page = policy_page("plain.test", "privacy-policy", size=5_000)
        plain = sites.set_page("http://plain.test/privacy", plain_page)
        standin_archive.add_capture(shell, "20200101000000", sites.page(shell).body)
        standin_archive.add_capture(plain, "20200101000000", plain_page.body)
        config = write_config(tmp_path / "config", {"spa": shell, "plain": plain}, standin_archive)
        data = tmp_path / "data"
        result = run_cli(config, data, command, env=without_browser(how, tmp_path, sites))

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1, result.stderr
    line = failed[0]
    assert line.startswith("FAILED spa/privacy-policy: needs a browser to run its scripts, and "), line
    assert "could not be fetched" not in line, "not a network failure: running again does not help"
    assert "apt-get install chromium" in line and "python -m playwright install chromium" in line
    assert ("pip install 'policy-archive[browser]'" in line) is (how == "extra")
    if command == "backfill":
        assert line.endswith(
            "; 1 capture to render once it is installed: 20200101000000; no version: 1 captures listed"
        )
    assert "plain.test Privacy Policy" in (data / "versions/p/plain/privacy-policy.md").read_text(), "the run went on"
    with sqlite3.connect(data / "catalog.sqlite3") as connection:
        outcome = connection.execute("SELECT outcome FROM captures WHERE document = 'spa/privacy-policy'").fetchone()
    # Live: the shell is kept, refused; archive: the capture is failed, so the next run (with a browser) retries it.
    assert outcome == (("refused",) if command == "track" else ("failed",))


def test_under_pipx_the_extra_is_injected_and_playwright_run_by_the_environments_python(tmp_path: Path):
    """Audit 5 #9: a pipx user was told to ``pip install``, which does not reach pipx's environment. pipx marks
    each environment it makes with ``pipx_metadata.json`` (pipx 1.18); ``.ci/wheel-e2e`` checks the real one."""
    environment = tmp_path / "venvs" / "policy-archive-src"  # `pipx install --suffix=-src`: named by its folder
    environment.mkdir(parents=True)
    python = str(environment / "bin" / "python")
    plain = extra_missing(str(environment), python)
    assert (
        "pip install 'policy-archive[browser]', then " in plain and "(python -m playwright install chromium)" in plain
    )
    (environment / "pipx_metadata.json").write_text("{}")
    line = extra_missing(str(environment), python)
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert browser_requirements() == tuple(pyproject["project"]["optional-dependencies"]["browser"])
    requirements = " ".join(f"'{spec}'" for spec in browser_requirements())
    assert f"not installed: pipx inject policy-archive-src {requirements}, then Chromium " in line
    assert f"({python} -m playwright install chromium)" in line and "pip install" not in line
    assert f"({python} -m playwright install chromium)" in browser_missing(str(environment), python)
    assert "\n" not in line
