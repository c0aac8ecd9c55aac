"""Probes of an attacker and of a careless operator, each through the real command line (in a subprocess):
hostile configurations, hostile servers on 127.0.0.1, corrupt files. Every expected failure must be one line on
stderr with the contract's exit status, never a traceback, and a refused configuration writes nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from standin.cli import run_cli, write_archive_settings
from standin.hostile import RouteServer
from standin.pages import Page, html_page, redirect

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
    "two spaces in name": ({"acme": 'name = "ACME  Corp"\n' + GOOD_DOCUMENT}, "", "two spaces in a row"),
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
    "unknown archive api": ({"acme": 'name = "A"\n' + GOOD_DOCUMENT}, '[wayback]\napi = "cdxj"\n', "wayback.api"),
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
    [
        "other port of 127.0.0.1",
        "localhost (a name resolving inside)",
        "cloud metadata",
        "IPv4-mapped loopback",
        "6to4 loopback",
        "NAT64 loopback",
        "ISATAP loopback",
    ],
)
def test_a_redirect_inside_is_refused_with_private_address(tmp_path, target):
    with RouteServer({"/latest/meta-data/iam": Page(body=SECRET, content_type="application/json")}) as secret:
        location = {
            "other port of 127.0.0.1": secret.url("/latest/meta-data/iam"),
            "localhost (a name resolving inside)": secret.url("/latest/meta-data/iam", host="localhost"),
            "cloud metadata": "http://169.254.169.254/latest/meta-data/iam",
            "IPv4-mapped loopback": secret.url("/latest/meta-data/iam", host="[::ffff:127.0.0.1]"),
            # 127.0.0.1 inside a 6to4 address, attempted before (outside audit A, F5): now refused, never asked.
            "6to4 loopback": secret.url("/latest/meta-data/iam", host="[2002:7f00:1::]"),
            # 127.0.0.1 behind NAT64's well-known prefix (issue 11): refused as what it reaches, not as IPv6's range.
            "NAT64 loopback": secret.url("/latest/meta-data/iam", host="[64:ff9b::7f00:1]"),
            # 127.0.0.1 in an ISATAP interface id behind a public prefix: refused as what the site's router reaches.
            "ISATAP loopback": secret.url("/latest/meta-data/iam", host="[2606:2800:21f:cb07:200:5efe:7f00:1]"),
        }[target]
        with RouteServer({"/privacy": redirect(location, 302)}) as site:
            config = tracked_config(tmp_path / "config", site.url("/privacy"))
            result = run_cli(config, tmp_path / "data", "track")
        assert secret.paths == []
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith("FAILED acme/privacy-policy: private-address: "), failed
    if target == "NAT64 loopback":
        assert "64:ff9b::7f00:1, loopback (NAT64 address of 127.0.0.1);" in failed[0], failed
    if target == "ISATAP loopback":
        assert "loopback (ISATAP address of 127.0.0.1);" in failed[0], failed
    assert site.paths[-1] == "/privacy"
    nothing_recorded_from(tmp_path / "data", SECRET)


@pytest.mark.parametrize("settings", ["", "[crawl]\nallow_private_addresses = true\n"])
def test_a_redirect_to_port_0_is_refused_in_words_and_never_attempted(tmp_path, settings):
    # Port 0 of a declared host was read as the host's default port, so allowed, and then attempted: Linux answers
    # "connection refused", as if a server had (issue 11). Refused before anything is asked, whatever the policy.
    with RouteServer({"/privacy": redirect("http://127.0.0.1:0/latest/meta-data/iam", 302)}) as site:
        config = tracked_config(tmp_path / "config", site.url("/privacy"), settings)
        result = run_cli(config, tmp_path / "data", "track")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed == [
        "FAILED acme/privacy-policy: port-zero: http://127.0.0.1:0/latest/meta-data/iam (port 0 is reserved: no server"
        " listens on it, so nothing was connected to)"
    ], result.stderr
    assert "connection refused" not in result.stderr


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


# --- corrupt, missing or stuck state: repaired when safe, else refused with the repairing command ----------

POLICY = html_page("ACME Privacy Policy", [f"We process personal data, paragraph {n}." for n in range(30)])


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A configuration and a data directory holding one tracked version (copy it before breaking it)."""
    root = tmp_path_factory.mktemp("tracked")
    with RouteServer({"/privacy": POLICY}) as site:
        config = tracked_config(root / "config", site.url("/privacy"))
        assert run_cli(config, root / "data", "track").returncode == 0
    return config, root / "data"


def broken_copy(tracked: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    config, data = tracked
    shutil.copytree(data, tmp_path / "data", symlinks=True)
    return config, tmp_path / "data"


def logged_versions(config: Path, data: Path) -> int:
    result = run_cli(config, data, "log", "acme/privacy-policy")
    assert result.returncode == 0, result.stderr
    return len(result.stdout.strip().splitlines())


@pytest.mark.parametrize("damage", ["garbage", "half-truncated", "0-byte"])
def test_an_unreadable_catalog_is_refused_by_readers_and_set_aside_by_repair(tracked, tmp_path, damage):
    config, data = broken_copy(tracked, tmp_path)
    catalog = data / "catalog.sqlite3"
    size = catalog.stat().st_size
    if damage == "garbage":
        catalog.write_bytes(bytes(range(256)) * (size // 256 + 1))
    elif damage == "half-truncated":
        with catalog.open("r+b") as handle:
            handle.truncate(size // 2)
    else:
        catalog.write_bytes(b"")
    for command in (["log", "acme/privacy-policy"], ["show", "acme/privacy-policy"], ["status"]):
        assert_one_line(run_cli(config, data, *command), 1, "policy-archive repair")
    repaired = run_cli(config, data, "repair")
    assert repaired.returncode == 0 and "Traceback" not in repaired.stderr, repaired.stderr
    assert all(line.startswith("repaired: ") for line in repaired.stderr.strip().splitlines()), repaired.stderr
    assert logged_versions(config, data) == 1
    if damage != "0-byte":  # an empty file holds nothing worth keeping; anything else is kept for inspection
        assert [path.name.split("-")[0] for path in data.glob("catalog.sqlite3.unreadable-*")] == [
            "catalog.sqlite3.unreadable"
        ]


def test_a_deleted_versions_repository_names_the_command_that_rebuilds_it(tracked, tmp_path):
    config, data = broken_copy(tracked, tmp_path)
    shutil.rmtree(data / "versions")
    assert_one_line(run_cli(config, data, "log", "acme/privacy-policy"), 1, "reextract --rebuild")
    rebuilt = run_cli(config, data, "reextract", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert logged_versions(config, data) == 1
    subprocess.run(["git", "-C", str(data / "versions"), "fsck", "--strict"], check=True, capture_output=True)


IDENTITY = ["-c", "user.name=Someone", "-c", "user.email=someone@example.org"]


def commit_by_hand(versions: Path) -> None:
    """A line added to the document and committed on ``main`` with Git, as a user would."""
    with (versions / "a" / "acme" / "privacy-policy.md").open("a") as handle:
        handle.write("\nA line added by hand.\n")
    subprocess.run(["git", "-C", str(versions), *IDENTITY, "commit", "-qam", "by hand"], check=True)


def test_a_commit_added_by_hand_is_refused_with_the_commands_that_repair_it(tracked, tmp_path):
    config, data = broken_copy(tracked, tmp_path)
    versions = data / "versions"
    commit_by_hand(versions)
    line = assert_one_line(run_cli(config, data, "repair"), 1, "changed outside policy-archive", "update-ref")
    repair_commands = line.split("run: ", 1)[1]
    subprocess.run(repair_commands, shell=True, check=True, capture_output=True)
    after = run_cli(config, data, "repair")
    assert after.returncode == 0, after.stderr
    assert "set aside" in after.stderr  # the hand-made text left in the checkout is kept, not discarded
    assert run_git(versions, "log", "-1", "--format=%s", "by-hand").strip() == "by hand"
    assert logged_versions(config, data) == 1


def test_every_reader_reads_a_main_committed_to_by_hand_as_policy_archive_left_it_and_says_why(tracked, tmp_path):
    """log, show, diff, report, export and verify agree on the versions (the writers' refusal as one line each)."""
    config, data = broken_copy(tracked, tmp_path)
    versions, out = data / "versions", tmp_path / "out"
    out.mkdir()  # the folder the outputs go in: export and report make none on the way
    recorded = (versions / "a" / "acme" / "privacy-policy.md").read_text()
    commit_by_hand(versions)
    refused = run_cli(config, data, "reextract")
    reason = assert_one_line(refused, 1, "changed outside policy-archive").removeprefix("policy-archive: ")
    readers = {
        "log": ["log", "--json", "acme/privacy-policy"],
        "show": ["show", "acme/privacy-policy"],
        "diff": ["diff", "acme/privacy-policy"],
        "report": ["report", "--output", str(out / "site")],
        "export": ["export", "--format", "jsonl", "--output", str(out / "versions.jsonl")],
        "verify": ["verify"],
    }
    answers = {}
    for command, arguments in readers.items():
        result = run_cli(config, data, *arguments)
        # verify proves what main shows, and the hand's commit has no capture: a failure (below); the others read.
        assert result.returncode == (1 if command == "verify" else 0) and "Traceback" not in result.stderr, (
            result.stderr
        )
        said = [line for line in result.stderr.splitlines() if "changed outside" in line]
        assert said == [f"policy-archive: {command} reads the history as policy-archive left it: {reason}"]
        answers[command] = result.stdout
    assert len(json.loads(answers["log"])) == 1
    assert answers["show"] == recorded and "by hand" not in answers["diff"]
    (exported,) = (out / "versions.jsonl").read_text().splitlines()
    assert "by hand" not in json.loads(exported)["text"]
    assert answers["verify"] == "1/1 versions verified; 1 commit on main not made by policy-archive\n"
    assert "by hand" not in (out / "site" / "index.html").read_text()


def verified(config: Path, data: Path) -> tuple[int, str, list[str]]:
    """`verify`'s exit status, last line and FAILED lines."""
    result = run_cli(config, data, "verify")
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, [line for line in result.stderr.splitlines() if line.startswith("FAILED")]


def test_verify_fails_naming_a_commit_added_by_hand_that_changes_a_documents_text(tracked, tmp_path):
    """The versions policy-archive recorded still verify, but main shows a text no capture gives: exit 1, the
    commit named with the document it changes; once moved to a branch of its own (the commands said), exit 0."""
    config, data = broken_copy(tracked, tmp_path)
    versions = data / "versions"
    commit_by_hand(versions)
    hand = run_git(versions, "rev-parse", "main").strip()
    status, last, failed = verified(config, data)
    assert (status, last) == (1, "1/1 versions verified; 1 commit on main not made by policy-archive\n")
    assert failed == [
        f"FAILED main: commit {hand[:12]} ('by hand') was not made by policy-archive: it changes the text of "
        "acme/privacy-policy, which main then shows unverified"
    ]
    said = run_cli(config, data, "verify").stderr
    subprocess.run(said.split("run: ", 1)[1].splitlines()[0], shell=True, check=True, capture_output=True)
    assert verified(config, data) == (0, "1/1 versions verified\n", [])


def test_verify_fails_on_a_commit_added_by_hand_that_changes_no_document(tracked, tmp_path):
    """A README committed on main changes no version, but main is no longer what policy-archive made, and every
    writing command refuses it: verify fails too, saying the commit changes no document's text."""
    config, data = broken_copy(tracked, tmp_path)
    versions = data / "versions"
    (versions / "README.md").write_text("# Our policy archive\n")
    subprocess.run(["git", "-C", str(versions), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(versions), *IDENTITY, "commit", "-qm", "Add a README\x1b[2J"], check=True)
    hand = run_git(versions, "rev-parse", "main").strip()
    status, last, failed = verified(config, data)
    assert (status, last) == (1, "1/1 versions verified; 1 commit on main not made by policy-archive\n")
    assert failed == [
        f"FAILED main: commit {hand[:12]} ('Add a README\\x1b[2J') was not made by policy-archive: it changes a "
        "file holding no version (README.md)"
    ]


def test_verify_counts_policy_archives_commits_a_hand_took_off_main(tracked, tmp_path):
    """A commit amended by hand: the amended one is named, policy-archive's own counted as no longer on main."""
    config, data = broken_copy(tracked, tmp_path)
    versions = data / "versions"
    subprocess.run(["git", "-C", str(versions), *IDENTITY, "commit", "-q", "--amend", "-m", "Reworded"], check=True)
    status, last, failed = verified(config, data)
    assert status == 1
    assert last == (
        "1/1 versions verified; 1 commit on main not made by policy-archive; 1 commit of policy-archive's no "
        "longer on main\n"
    )
    assert len(failed) == 2 and "('Reworded') was not made by policy-archive: it changes the text of" in failed[0]
    assert failed[1] == "FAILED main: 1 commit policy-archive made is no longer on it (reset or rewritten by hand)"


def test_edits_in_the_versions_checkout_are_set_aside_never_discarded(tracked, tmp_path):
    config, data = broken_copy(tracked, tmp_path)
    document = data / "versions" / "a" / "acme" / "privacy-policy.md"
    recorded = document.read_text()
    document.write_text(recorded + "\nMy own annotation.\n")
    result = run_cli(config, data, "repair")
    assert result.returncode == 0, result.stderr
    line = assert_one_line(result, 0, "set aside in")
    aside = Path(line.split("set aside in ", 1)[1].split(" ", 1)[0])
    assert (aside / "a" / "acme" / "privacy-policy.md").read_text().endswith("My own annotation.\n")
    assert document.read_text() == recorded
    assert "nothing to repair" in run_cli(config, data, "repair").stderr  # set aside once, not on every run


def test_a_half_made_repository_from_an_interrupted_git_init_is_made_again(tracked, tmp_path):
    config, _ = tracked
    data = tmp_path / "data"
    (data / "versions" / ".git" / "objects").mkdir(parents=True)
    (data / "versions" / ".git" / "refs" / "heads").mkdir(parents=True)
    (data / "versions" / ".git" / "config").write_text("")  # no HEAD: git init stopped half-way
    result = run_cli(config, data, "repair")
    assert_one_line(result, 0, "half made", "made again")
    assert run_git(data / "versions", "symbolic-ref", "HEAD").strip() == "refs/heads/main"


# --- the machine: a read-only data directory, a full disk --------------------------------------------------


def test_review_commands_work_on_a_read_only_data_directory(tmp_path, small_filesystem):
    point = small_filesystem("20m")
    with RouteServer({"/privacy": POLICY}) as site:
        config = tracked_config(tmp_path / "config", site.url("/privacy"))
        assert run_cli(config, point / "data", "track").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        for command in (
            ["log", "acme/privacy-policy"],
            ["show", "acme/privacy-policy"],
            ["diff", "acme/privacy-policy"],
        ):
            result = run_cli(config, point / "data", *command)
            assert result.returncode == 0 and result.stderr == "", result.stderr
        status = run_cli(config, point / "data", "status")
        assert status.returncode == 0 and "acme/privacy-policy" in status.stdout, status.stderr
        assert_one_line(run_cli(config, point / "data", "track"), 1, "cannot write the data directory")


def test_a_full_disk_is_one_line(tmp_path, small_filesystem):
    point = small_filesystem("300k")
    big = html_page("ACME Privacy Policy", [f"We process personal data, paragraph {n}. " * 50 for n in range(200)])
    with RouteServer({"/privacy": big}) as site:
        config = tracked_config(tmp_path / "config", site.url("/privacy"))
        result = run_cli(config, point / "data", "track")
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("policy-archive: no space left on the device")


# --- secret tokens in the archive's URLs never reach a line ----------------------------------------------------

TOKENS = ("PATH-TOKEN-4f1c", "QUERY-TOKEN-9a2e", "OTHER-TOKEN-77b0")


def _archive_config(root: Path, cdx_url: str, replay_url: str, documents: dict[str, str]) -> Path:
    write_archive_settings(root, cdx_url, replay_url, timeout_seconds=1)
    for service, url in documents.items():
        (root / "services" / f"{service}.toml").write_text(
            f'name = "{service.title()}"\n[documents.privacy-policy]\nurl = "{url}"\n'
        )
    return root


def _no_token_in(*texts: str) -> None:
    for text in texts:
        for token in TOKENS:
            assert token not in text, [line for line in text.splitlines() if token in line]


def test_no_line_of_a_failing_backfill_names_the_archives_secret_token(tmp_path, standin_archive):
    """A private archive's key in ``cdx_url``'s query or ``replay_url``'s path (issue 11): each failure of the
    listing and of the replays, the waits before asking again, a replay_url changed and the log lines of
    ``--verbose`` (Scrapy's ``Crawled (200) <GET …>`` included) name the archive by scheme and host only."""
    acme, beta = "http://acme.test/privacy", "http://beta.test/privacy"
    pages = [html_page(f"Privacy Policy {n}", [f"We keep data {n}, paragraph {p}." for p in range(30)]) for n in "abc"]
    for url in (acme, beta):
        for stamp, page in zip(("20180101000000", "20180601000000", "20190101000000"), pages, strict=True):
            standin_archive.add_capture(url, stamp, page.body)
    standin_archive.serve_under(f"/{TOKENS[0]}")
    standin_archive.reset_capture(acme, "20180601000000")  # asked again, then failed: a FAILED line
    standin_archive.withhold_capture(acme, "20190101000000", 500)
    standin_archive.serve_other_bytes(beta, "20180601000000", b"<html>other bytes</html>")  # digest-mismatch
    standin_archive.exclude_from_replay(beta)  # not-archived, each
    cdx_url = f"{standin_archive.cdx_url}?key={TOKENS[1]}"
    config = _archive_config(tmp_path / "config", cdx_url, standin_archive.replay_url, {"acme": acme, "beta": beta})
    data = tmp_path / "data"
    failing = run_cli(config, data, "backfill", "--verbose")
    assert failing.returncode == 1 and "FAILED beta/privacy-policy" in failing.stderr, failing.stderr
    # The replay_url changed (another token in its path): the refusals under the earlier one are asked again.
    _archive_config(config, cdx_url, f"{standin_archive.base_url}/{TOKENS[2]}/web", {})
    moved_replay = run_cli(config, data, "backfill", "beta")
    assert "refused on the archive's answer to an earlier replay_url (http://127.0.0.1/… " in moved_replay.stderr
    # The CDX endpoint moved, to an absolute URL and to a path, both carrying the key.
    _archive_config(config, cdx_url, standin_archive.replay_url, {})
    standin_archive.move_cdx(
        f"https://127.0.0.1:{standin_archive.base_url.rsplit(':', 1)[1]}{urlsplit(cdx_url).path}?key={TOKENS[1]}"
    )
    moved = run_cli(config, data, "backfill", "--verbose")
    standin_archive.move_cdx(f"/{TOKENS[0]}/cdx2?key={TOKENS[1]}")
    moved_to_path = run_cli(config, data, "backfill", "acme")
    for result in (moved, moved_to_path):
        assert result.returncode == 1, result.stderr
        assert "answered 301 Moved Permanently to https://127.0.0.1/… (the rest not shown" in result.stderr or (
            "to http://127.0.0.1/… (the rest not shown" in result.stderr
        ), result.stderr
    status = run_cli(config, data, "status")
    _no_token_in(*(r.stdout + r.stderr for r in (failing, moved_replay, moved, moved_to_path, status)))
    with sqlite3.connect(data / "catalog.sqlite3") as catalog:  # the reasons kept, which `status` reads
        _no_token_in(*(reason for (reason,) in catalog.execute("SELECT reason FROM captures WHERE reason IS NOT NULL")))
    # A user name and password in an endpoint: refused by validate, neither shown.
    secret = _archive_config(
        tmp_path / "userinfo", f"http://user:{TOKENS[2]}@127.0.0.1:9/cdx", "http://127.0.0.1:9/web", {"acme": acme}
    )
    refused = run_cli(secret, tmp_path / "d2", "backfill", "--verbose")
    assert refused.returncode == 2 and "cdx_url" in refused.stderr, refused.stderr
    _no_token_in(refused.stdout + refused.stderr)
