"""Probes of an attacker and of a careless operator, each through the real command line (in a subprocess):
hostile configurations, hostile servers on 127.0.0.1, corrupt files. Every expected failure must be one line on
stderr with the contract's exit status, never a traceback, and a refused configuration writes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from standin.cli import run_cli

GOOD_DOCUMENT = '[documents.privacy-policy]\nurl = "https://acme.example/privacy"\n'


def write_config(root: Path, services: dict[str, bytes | str], settings: str = "") -> Path:
    (root / "services").mkdir(parents=True)
    (root / "settings.toml").write_text(settings)
    for stem, text in services.items():
        (root / "services" / f"{stem}.toml").write_bytes(text if isinstance(text, bytes) else text.encode())
    return root


def assert_one_line(result: subprocess.CompletedProcess[str], status: int, *words: str) -> str:
    """The failure is one line on stderr naming ``words``, with exit ``status``, and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.returncode == status, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


HOSTILE_CONFIGURATIONS = {
    "latin-1 service file": ({"acme": 'name = "Société"\n'.encode("latin-1") + GOOD_DOCUMENT.encode()}, "", "UTF-8"),
    "NUL in name": ({"acme": 'name = "ACME\\u0000"\n' + GOOD_DOCUMENT}, "", "name"),
    "trailers in name": (
        {"acme": 'name = "ACME\\n\\nCaptured-At: 1999-01-01T00:00:00Z"\n' + GOOD_DOCUMENT},
        "",
        "name",
    ),
    "ESC in name": ({"acme": 'name = "\\u001b[2JACME"\n' + GOOD_DOCUMENT}, "", "name"),
    "id ending in a newline": ({"acme\n": 'name = "ACME"\n' + GOOD_DOCUMENT}, "", "must match"),
    "document id ending in a newline": (
        {"acme": 'name = "A"\n[documents."p\\n"]\nurl = "https://a.example/"\n'},
        "",
        "p",
    ),
    "credentials in URL": (
        {"acme": 'name = "A"\n[documents.privacy-policy]\nurl = "https://u:secret@a.example/"\n'},
        "",
        "user:password",
    ),
    "nan replay rate": ({"acme": 'name = "A"\n' + GOOD_DOCUMENT}, "[wayback]\nreplay_per_minute = nan\n", "finite"),
    "nan cdx rate": ({"acme": 'name = "A"\n' + GOOD_DOCUMENT}, "[wayback]\ncdx_per_minute = nan\n", "finite"),
    "no page limit": ({"acme": 'name = "A"\n' + GOOD_DOCUMENT}, "[crawl]\nmax_page_bytes = 0\n", "max_page_bytes"),
    "infinite timeout": ({"acme": 'name = "A"\n' + GOOD_DOCUMENT}, "[wayback]\ntimeout_seconds = inf\n", "finite"),
    "nan backoff": ({"acme": 'name = "A"\n' + GOOD_DOCUMENT}, "[wayback]\nbackoff_seconds = nan\n", "finite"),
    "CR/LF in user agent": (
        {"acme": 'name = "A"\n' + GOOD_DOCUMENT},
        '[crawl]\nuser_agent = "bot\\r\\nX-Evil: 1"\n',
        "user_agent",
    ),
}


@pytest.mark.parametrize("probe", list(HOSTILE_CONFIGURATIONS))
@pytest.mark.parametrize("command", ["validate", "backfill", "log"])
def test_a_hostile_configuration_is_one_line_exit_2_and_writes_nothing(tmp_path, probe, command):
    services, settings, word = HOSTILE_CONFIGURATIONS[probe]
    config = write_config(tmp_path / "config", services, settings)
    data = tmp_path / "data"
    args = [command, "acme/privacy-policy"] if command == "log" else [command]
    result = run_cli(config, data, *args)
    assert_one_line(result, 2, "configuration error", word)
    assert not data.exists()


@pytest.mark.parametrize("command", ["validate", "backfill", "status"])
def test_a_data_dir_that_is_a_file_is_one_line_exit_2(tmp_path, command):
    config = write_config(tmp_path / "config", {"acme": 'name = "A"\n' + GOOD_DOCUMENT})
    a_file = tmp_path / "data"
    a_file.write_text("not a directory")
    assert_one_line(run_cli(config, a_file, command), 2, "--data", "is a file")
    assert_one_line(run_cli(config, a_file / "below", command), 2, "--data", "is a file")
    assert a_file.read_text() == "not a directory"
