"""What the versions checkout sets aside, on real temporary repositories: a person's own edits (changed, staged,
added) are copied to ``versions-set-aside-STAMP/`` with a note, never discarded; policy-archive's own saves
(appends, technical upgrades, rebuilds, a new document) set nothing aside and note nothing."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner
from review_data import copy_of
from standin.archive import StandinArchive
from standin.cli import run_cli
from test_backfill_e2e import URL, V1, V2, page, ts, write_config
from test_versions import make_version

from policy_archive.archive.versions import VersionStore
from policy_archive.pipeline.commands.common import Context, run_writing_command
from policy_archive.pipeline.jobs.report import RunReport
from policy_archive.records import Version

DOCUMENT = Path("a/acrcloud/privacy-policy.md")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def set_aside(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("versions-set-aside-*"))


def assert_nothing_set_aside(tmp_path: Path, store: VersionStore) -> None:
    assert set_aside(tmp_path) == []
    assert store.notes == []
    assert git(tmp_path / "versions", "status", "--porcelain", "--untracked-files=all") == ""


def test_two_saves_of_one_document_set_nothing_aside(tmp_path: Path) -> None:
    """Until 2026-11-29 the second save set the first version aside as "changed by hand": ``main`` had moved, the
    index (the checkout's old tree) differed from it, and ``git status`` counted that as an edit."""
    store = VersionStore(tmp_path / "versions")
    store.save([make_version("acrcloud", "privacy-policy", 10, "First text.")])
    store.save([make_version("acrcloud", "privacy-policy", 20, "Second text.")])
    assert (tmp_path / "versions" / DOCUMENT).read_text().endswith("Second text.\n")
    assert_nothing_set_aside(tmp_path, store)
    assert_nothing_set_aside(tmp_path, VersionStore(tmp_path / "versions"))  # nor on the next opening


def test_a_save_after_a_reextract_upgrade_sets_nothing_aside(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions")
    store.save([make_version("acrcloud", "privacy-policy", 10, "Old extraction.")])
    store.replace_documents([make_version("acrcloud", "privacy-policy", 10, "New extraction.")])
    store.save([make_version("acrcloud", "privacy-policy", 11, "Newer extraction.", technical_upgrade=True)])
    store.save([make_version("acrcloud", "privacy-policy", 30, "A later change.")])
    assert_nothing_set_aside(tmp_path, store)


def test_track_like_saves_and_a_backfill_inserting_older_versions_set_nothing_aside(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "versions")
    store.save([make_version("acrcloud", "privacy-policy", 10, "A"), make_version("acrcloud", "terms", 10, "T")])
    store = VersionStore(tmp_path / "versions")  # each `track` run opens the store again
    store.save([make_version("acrcloud", "privacy-policy", 40, "B"), make_version("bose", "privacy-policy", 40, "N")])
    store.save([make_version("acrcloud", "privacy-policy", 5, "Older"), make_version("acrcloud", "terms", 20, "U")])
    store.replace_documents([make_version("acrcloud", "terms", 10, "T")])  # a rebuild that drops a version
    assert_nothing_set_aside(tmp_path, store)


def test_a_hand_edit_is_set_aside_with_its_note_then_once_only(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    VersionStore(repo).save([make_version("acrcloud", "privacy-policy", 10, "First text.")])
    recorded = (repo / DOCUMENT).read_text()
    (repo / DOCUMENT).write_text(recorded + "\nMy own annotation.\n")
    store = VersionStore(repo)
    [aside] = set_aside(tmp_path)
    assert (aside / DOCUMENT).read_text().endswith("My own annotation.\n")
    assert (repo / DOCUMENT).read_text() == recorded
    [note] = store.notes
    assert note.startswith(f"1 file was changed by hand in {repo} ({DOCUMENT}...): set aside in {aside} ")
    assert VersionStore(repo).notes == []  # set aside once, not on every opening


def test_an_edit_staged_by_hand_and_a_file_added_by_hand_are_set_aside(tmp_path: Path) -> None:
    repo = tmp_path / "versions"
    VersionStore(repo).save([make_version("acrcloud", "privacy-policy", 10, "First text.")])
    (repo / DOCUMENT).write_text("Staged by hand.\n")
    git(repo, "add", str(DOCUMENT))
    (repo / "mine.txt").write_text("Added by hand.\n")  # untracked: it survives the checkout, listed only
    store = VersionStore(repo)
    [aside] = set_aside(tmp_path)
    assert (aside / DOCUMENT).read_text() == "Staged by hand.\n"
    assert store.notes[0].startswith("1 file was changed by hand")
    assert (repo / "mine.txt").read_text() == "Added by hand.\n"


def test_an_edit_made_while_a_command_runs_is_set_aside_when_it_saves(tmp_path: Path) -> None:
    """Between opening and saving (a long backfill), a person edits the file the save then changes."""
    repo = tmp_path / "versions"
    store = VersionStore(repo)
    store.save([make_version("acrcloud", "privacy-policy", 10, "First text.")])
    (repo / DOCUMENT).write_text("Edited while the command ran.\n")
    store.save([make_version("acrcloud", "privacy-policy", 20, "Second text.")])
    [aside] = set_aside(tmp_path)
    assert (aside / DOCUMENT).read_text() == "Edited while the command ran.\n"
    assert (repo / DOCUMENT).read_text().endswith("Second text.\n")
    [note] = store.notes
    assert f"set aside in {aside} " in note


def test_an_incremental_backfill_changing_a_recorded_file_sets_nothing_aside_and_says_nothing(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """As a user runs it: a second `backfill` records a later text of the document the first one recorded."""
    config, data = write_config(tmp_path / "config", standin_archive), tmp_path / "data"
    first = datetime(2017, 1, 3, 10, 20, 30, tzinfo=UTC)
    standin_archive.add_capture(URL, ts(first), page(V1, 1))
    assert (result := run_cli(config, data, "backfill")).returncode == 0, result.stderr
    standin_archive.add_capture(URL, ts(first + timedelta(days=400)), page(V2, 2))
    again = run_cli(config, data, "backfill")
    assert again.returncode == 0, again.stderr
    assert len(git(data / "versions", "log", "--format=%H", "main").split()) == 2  # the file was changed
    assert "by hand" not in again.stderr
    assert set_aside(data) == []


def recording(versions: list[Version], edit: str | None = None) -> click.Command:
    """A writing command that records ``versions``, a person having first written ``edit`` in the checkout (a
    hand edit made while a command runs: a real one would race the command)."""

    def work(workspace: Any, declarations: Any, progress: Any) -> RunReport:
        if edit is not None:
            (workspace.versions.directory / DOCUMENT).write_text(edit)
        return RunReport(workspace.record(versions), [])

    @click.command()
    @click.pass_obj
    def command(obj: Context) -> None:
        run_writing_command(obj, "track", (), False, work)

    return command


def test_a_file_set_aside_by_a_commands_save_is_said_in_one_line_on_stderr(tmp_path: Path) -> None:
    config, data = write_config(tmp_path / "config", None, "http://127.0.0.1:9/cdx"), tmp_path / "data"
    obj = Context(str(config), str(data))
    first = CliRunner().invoke(recording([make_version("acrcloud", "privacy-policy", 10, "First.")]), obj=obj)
    assert first.exit_code == 0 and first.stderr == "", first.stderr
    later = make_version("acrcloud", "privacy-policy", 20, "Second.")
    second = CliRunner().invoke(recording([later], edit="Edited while the command ran.\n"), obj=obj)
    assert second.exit_code == 0, second.stderr
    [aside] = set_aside(data)
    assert (aside / DOCUMENT).read_text() == "Edited while the command ran.\n"
    [line] = second.stderr.splitlines()  # as what opening repairs is said (until 2026-11-29 without `repaired:`)
    assert line.startswith(
        f"repaired: 1 file was changed by hand in {data / 'versions'} ({DOCUMENT}...): set aside in {aside} "
    )


def test_a_hand_edit_set_aside_on_opening_is_said_with_how_to_read_it(recorded, tmp_path: Path) -> None:
    """Through the command line: the one line names where the edit is and a command comparing it with the version
    recorded (which, run, shows the edit), and says to keep edits outside the checkout."""
    config, data = copy_of(recorded, tmp_path)
    versions = data / "versions"
    document = next(versions.glob("*/*/*.md"))
    document.write_text(document.read_text() + "\nMy own annotation.\n")
    repaired = run_cli(config, data, "repair", "--quiet")
    assert repaired.returncode == 0, repaired.stderr
    [aside] = set_aside(data)
    [line] = repaired.stderr.splitlines()
    compare = f"diff {document} {aside / document.relative_to(versions)}"
    assert line == (
        f"repaired: 1 file was changed by hand in {versions} ({document.relative_to(versions)}...): set aside in "
        f"{aside} before its checkout was brought back to the branch (compare: {compare}); keep edits outside "
        f"{versions}, which every writing command brings back to the recorded history"
    )
    shown = subprocess.run(compare.split(), capture_output=True, text=True)
    assert shown.returncode == 1 and "> My own annotation." in shown.stdout


def test_a_repository_an_older_release_left_sets_aside_hand_edits_only(tmp_path: Path) -> None:
    """No record of the commit the checkout shows (an older release, or the file deleted): ``main`` stands in."""
    repo = tmp_path / "versions"
    VersionStore(repo).save([make_version("acrcloud", "privacy-policy", 10, "First text.")])
    (repo / ".git" / "policy-archive-checkout").unlink()
    store = VersionStore(repo)
    assert_nothing_set_aside(tmp_path, store)
    store.save([make_version("acrcloud", "privacy-policy", 20, "Second text.")])
    assert_nothing_set_aside(tmp_path, store)
    (repo / ".git" / "policy-archive-checkout").unlink()
    (repo / DOCUMENT).write_text("Edited by hand.\n")
    [note] = VersionStore(repo).notes
    [aside] = set_aside(tmp_path)
    assert (aside / DOCUMENT).read_text() == "Edited by hand.\n" and f"set aside in {aside} " in note
