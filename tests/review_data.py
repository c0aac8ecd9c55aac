"""Histories for the review tests (`log --json`, `export`, `report`, `verify`).

``recorded_history`` is what a user has after a real backfill (stand-in archive, WARCs, catalog, Git ledger);
``handmade_history`` is a plain Git repository written commit by commit, for what a backfill cannot produce
here (a ``Stated-Date`` trailer, exact line counts).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import run_cli
from test_backfill_e2e import acrcloud_history, write_config

HEADER = (
    "> *The following text is extracted and transformed from the example.org privacy policy that was archived on "
    "{day}. Please check the [original snapshot on the Wayback Machine](http://127.0.0.1:9/web/{stamp}id_/"
    "https%3A//example.org/privacy) for the most accurate reproduction.*"
)
PATH = "e/example/privacy-policy.md"


def recorded_history(directory: Path) -> tuple[Path, Path]:
    """Backfill the ACRCloud history of the stand-in archive (two versions, the second of 2018-05-28)."""
    with StandinArchive().start() as archive:
        acrcloud_history(archive)
        config = write_config(directory / "config", archive)
        data = directory / "data"
        result = run_cli(config, data, "backfill", "acrcloud", "--strategy", "all")
        assert result.returncode == 0, result.stderr
    return config, data


def copy_of(recorded: tuple[Path, Path], directory: Path) -> tuple[Path, Path]:
    """A copy of a recorded history (configuration and data directory) that a test may damage."""
    config, data = recorded
    shutil.copytree(config, directory / "config")
    shutil.copytree(data, directory / "data")
    return directory / "config", directory / "data"


def handmade_commit(repo: Path, when: str, body: str, trailers: str, title: str = "Privacy Policy") -> None:
    """Commit ``PATH`` with the provenance header of ``when`` (``2018-05-25T10:00:00Z``), dated then."""
    stamp = when.replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
    content = HEADER.format(day=when[:10], stamp=stamp) + f"\n\n# {title}\n\n" + body
    (repo / PATH).parent.mkdir(parents=True, exist_ok=True)
    (repo / PATH).write_text(content)
    subject = (
        "Record new changes of Example Privacy Policy"
        if (repo / ".git" / "refs/heads/main").exists()
        else ("First record of Example Privacy Policy")
    )
    message = f"{subject}\n\nCaptured-At: {when}\nSource: wayback\nSnapshot-Url: http://127.0.0.1:9/web/{stamp}id_/"
    message += f"https://example.org/privacy\nPayload-Sha1: {'A' * 32}\nExtractor: test 1\n{trailers}"
    environment = {
        **os.environ,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    for command in (["add", PATH], ["commit", "-q", "-m", message]):
        subprocess.run(["git", "-C", str(repo), *command], check=True, env=environment)


def handmade_history(repo: Path) -> None:
    """Two versions of example/privacy-policy: the second changes one line, adds one, and states its date."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    handmade_commit(repo, "2017-03-01T12:00:00Z", "We collect your e-mail.\n\nWe keep it a year.\n", "")
    handmade_commit(
        repo,
        "2018-05-25T10:00:00Z",
        "We collect your e-mail address.\n\nWe keep it a year.\n\nYou may object (GDPR).\n",
        "Stated-Date: 2018-05-25\n",
    )
