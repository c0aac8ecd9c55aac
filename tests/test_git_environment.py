"""policy-archive's Git processes act on the repositories it names, never on one the environment names: run
from a Git hook (which sets ``GIT_DIR``, ``GIT_INDEX_FILE`` ...) or a shell that exported such variables,
``backfill``, ``log`` and ``export --format ota`` must leave that other repository exactly as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import cli_environment, git, run_cli, write_archive_settings

from policy_archive.archive.git_environment import REPOSITORY_VARIABLES

DOC = "acme/privacy-policy"
URL = "https://acme.example/privacy"


def policy(revision: str) -> str:
    paragraphs = "".join(
        f"<p>Section {n} of the Acme privacy policy, {revision}: we process your personal data to provide the "
        "service, keep it only as long as needed and never sell it to third parties.</p>"
        for n in range(1, 6)
    )
    return f"<html><head><title>Privacy Policy</title></head><body><main>{paragraphs}</main></body></html>"


def outside_repository(directory: Path) -> Path:
    """A repository with one commit and a staged change: what a hook's repository looks like mid-commit."""
    directory.mkdir()
    git(directory, "init", "-q", "-b", "trunk")
    (directory / "notes.txt").write_text("mine\n")
    git(directory, "add", "notes.txt")
    git(directory, "-c", "user.name=Me", "-c", "user.email=me@example.org", "commit", "-q", "-m", "mine")
    (directory / "notes.txt").write_text("mine, changed\n")
    git(directory, "add", "notes.txt")
    return directory


def state(repository: Path) -> tuple[str, ...]:
    """Everything a stray git process could have changed: refs, objects, index, work tree, config."""
    return (
        git(repository, "for-each-ref", "--format=%(refname) %(objectname)"),
        git(repository, "count-objects", "-v"),
        git(repository, "status", "--porcelain"),
        git(repository, "ls-files", "--stage"),
        (repository / ".git" / "config").read_text(),
        " ".join(sorted(path.name for path in repository.iterdir())),
    )


def test_the_variables_git_calls_local_to_a_repository_are_all_dropped() -> None:
    """As git itself lists them (``git rev-parse --local-env-vars``): a newer git adding one fails here."""
    local = subprocess.run(["git", "rev-parse", "--local-env-vars"], capture_output=True, text=True, check=True)
    assert set(local.stdout.split()) <= set(REPOSITORY_VARIABLES)


def test_backfill_log_and_export_leave_the_repository_of_the_environment_alone(
    tmp_path: Path, standin_archive: StandinArchive
) -> None:
    standin_archive.add_capture(URL, "20200101000000", policy("2020 text"))
    standin_archive.add_capture(URL, "20210101000000", policy("2021 text"))
    config = tmp_path / "config"
    write_archive_settings(config, standin_archive.cdx_url, standin_archive.replay_url)
    (config / "services" / "acme.toml").write_text(f'name = "Acme"\n[documents.privacy-policy]\nurl = "{URL}"\n')
    data = tmp_path / "data"
    other = outside_repository(tmp_path / "other")
    before = state(other)
    dot_git = other / ".git"
    env = cli_environment(
        GIT_DIR=str(dot_git),
        GIT_WORK_TREE=str(other),
        GIT_INDEX_FILE=str(dot_git / "index"),
        GIT_OBJECT_DIRECTORY=str(dot_git / "objects"),
        GIT_COMMON_DIR=str(dot_git),
        GIT_NAMESPACE="hook",
    )

    backfilled = run_cli(config, data, "backfill", env=env)
    assert backfilled.returncode == 0, backfilled.stderr
    logged = run_cli(config, data, "log", DOC, env=env)
    assert logged.returncode == 0, logged.stderr
    assert "First record of Acme" in logged.stdout and "Record new changes of Acme" in logged.stdout
    exported = run_cli(config, data, "export", "--format", "ota", "--output", str(tmp_path / "ota"), env=env)
    assert exported.returncode == 0, exported.stderr

    assert state(other) == before, "the repository the environment named was not touched"
    assert git(data / "versions", "log", "--format=%s", "main").splitlines() == [
        "Record new changes of Acme Privacy Policy",
        "First record of Acme Privacy Policy",
    ]
    assert len(git(tmp_path / "ota", "log", "--format=%H", "main").split()) == 2
    assert not (data / "versions" / "refs").exists() and not (tmp_path / "ota" / "refs").exists(), "not bare"
