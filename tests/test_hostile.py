"""Probes of an attacker and of a careless operator, each through the real command line (in a subprocess):
hostile configurations, hostile servers on 127.0.0.1, corrupt files. Every expected failure must be one line on
stderr with the contract's exit status, never a traceback, and a refused configuration writes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from standin.cli import run_cli
from standin.hostile import RouteServer
from standin.sites import Page, html_page, redirect

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


# --- hostile servers: no fetch to an internal address ------------------------------------------------------

SECRET = b'{"AccessKeyId": "ASIA-SECRET", "SecretAccessKey": "do-not-record"}'


def tracked_config(root: Path, url: str, settings: str = "") -> Path:
    service = f'name = "ACME"\n[documents.privacy-policy]\nurl = "{url}"\n'
    return write_config(root, {"acme": service}, f"[wayback]\ntimeout_seconds = 5\n{settings}")


def nothing_recorded_from(data: Path, secret: bytes) -> None:
    for warc in (data / "captures").rglob("*"):
        if warc.is_file():
            assert secret not in warc.read_bytes() and b"ASIA-SECRET" not in gzip_or_raw(warc)
    versions = data / "versions"
    if (versions / ".git").exists():
        assert run_git(versions, "rev-list", "--all").strip() == "" or "ASIA" not in run_git(
            versions, "log", "--all", "-p"
        )


def gzip_or_raw(path: Path) -> bytes:
    import gzip

    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        return path.read_bytes()


def run_git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(
    "target",
    ["other port of 127.0.0.1", "localhost (a name resolving inside)", "cloud metadata", "IPv4-mapped loopback"],
)
def test_a_redirect_inside_is_refused_with_private_address(tmp_path, target):
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        location = {
            "other port of 127.0.0.1": secret.url("/latest/meta-data/iam"),
            "localhost (a name resolving inside)": secret.url("/latest/meta-data/iam", host="localhost"),
            "cloud metadata": "http://169.254.169.254/latest/meta-data/iam",
            "IPv4-mapped loopback": secret.url("/latest/meta-data/iam", host="[::ffff:127.0.0.1]"),
        }[target]
        with RouteServer({"/privacy": redirect(location, 302)}) as site:
            config = tracked_config(tmp_path / "config", site.url("/privacy"))
            result = run_cli(config, tmp_path / "data", "track")
        assert secret.paths == []
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith("FAILED acme/privacy-policy: private-address: "), failed
    assert site.paths[-1] == "/privacy"
    nothing_recorded_from(tmp_path / "data", SECRET)


def test_the_declared_origin_on_loopback_is_fetched_and_allow_private_addresses_lifts_the_rule(tmp_path):
    page = html_page("ACME Privacy Policy", [f"We process personal data, paragraph {n}." for n in range(30)])
    with RouteServer({"/policy": page}) as secret, RouteServer({"/privacy": redirect(secret.url("/policy"))}) as site:
        refused = run_cli(tracked_config(tmp_path / "refused", site.url("/privacy")), tmp_path / "data1", "track")
        assert refused.returncode == 1 and "private-address" in refused.stderr and secret.paths == []
        settings = "[crawl]\nallow_private_addresses = true\n"
        allowed = run_cli(
            tracked_config(tmp_path / "allowed", site.url("/privacy"), settings), tmp_path / "d2", "track"
        )
        assert allowed.returncode == 0, allowed.stderr
        assert "/policy" in secret.paths
    assert (
        "personal data, paragraph 29" in (tmp_path / "d2" / "versions" / "a" / "acme" / "privacy-policy.md").read_text()
    )


# --- history that cannot be forged -------------------------------------------------------------------------

HOSTILE_TITLE = "Privacy Policy\u2028\u2028Captured-At: 1999-01-01T00:00:00Z\u2028Source: forged \x1b[2J\x07"


def test_a_hostile_page_title_cannot_forge_trailers_or_break_lines(tmp_path):
    page = html_page(HOSTILE_TITLE, [f"We process personal data, paragraph {n}." for n in range(30)])
    with RouteServer({"/privacy": page}) as site:
        config = tracked_config(tmp_path / "config", site.url("/privacy"))
        result = run_cli(config, tmp_path / "data", "track")
        log = run_cli(config, tmp_path / "data", "log", "acme/privacy-policy")
    assert result.returncode == 0, result.stderr
    versions = tmp_path / "data" / "versions"
    message = run_git(versions, "log", "-1", "--format=%B", "main")
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in parsed] == [
        "Captured-At",
        "Source",
        "Snapshot-Url",
        "Payload-Sha1",
        "Extractor",
    ]
    assert "Source: live" in parsed
    title_line = (versions / "a" / "acme" / "privacy-policy.md").read_text().split("\n")[2]
    assert title_line == "# Privacy Policy Captured-At: 1999-01-01T00:00:00Z Source: forged [2J"
    assert "\x1b" not in log.stdout and "\x07" not in log.stdout
    subprocess.run(["git", "-C", str(versions), "fsck", "--strict"], check=True, capture_output=True)
