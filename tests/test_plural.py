"""Counts of one read in the singular wherever a user meets them ("1 version recorded", never "1 versions"),
through the real command line; the contract's own lines keep the words DESIGN.md gives them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from standin.cli import cli_environment, run_cli
from standin.legal_text import policy_page
from standin.sites import StandinSites

from policy_archive.pipeline.commands.cli import main
from policy_archive.text import counted, plural


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 versions"), (1, "1 version"), (2, "2 versions"), (1234, "1,234 versions")]
)
def test_counted(count: int, expected: str) -> None:
    assert counted(count, "version") == expected


def test_plural_of_irregular_nouns_and_phrases() -> None:
    assert [plural(n, "mismatch", "mismatches") for n in (1, 2)] == ["mismatch", "mismatches"]
    assert plural(1, "file was", "files were") == "file was"


def write_config(directory: Path, url: str) -> Path:
    (directory / "services").mkdir(parents=True)
    (directory / "settings.toml").write_text("")
    (directory / "services" / "acme.toml").write_text(f'name = "Acme"\n[documents.privacy-policy]\nurl = "{url}"\n')
    return directory


def test_validate_and_track_say_one_document_and_one_version(tmp_path: Path) -> None:
    with StandinSites() as sites:
        url = sites.set_page("http://acme.test/privacy", policy_page("acme.test", "privacy-policy", size=5_000))
        config = write_config(tmp_path / "config", url)
        validated = CliRunner().invoke(main, ["--config", str(config), "--data", str(tmp_path / "data"), "validate"])
        assert validated.output.startswith("configuration OK: 1 document of 1 service in "), validated.output
        env = cli_environment(http_proxy=sites.proxy_url, no_proxy="127.0.0.1,localhost")
        tracked = run_cli(config, tmp_path / "data", "track", env=env)
    assert tracked.returncode == 0, tracked.stderr
    assert "track: 1/1 document (100 %), 1 fetched, 1 version recorded, " in tracked.stderr
