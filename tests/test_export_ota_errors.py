"""`export --format ota` when Git cannot write the target repository: one worded line naming ``--output DIR``, what
is wrong and what to do, the contract's exit status (2: refused before anything was written; 1: the writing
failed), no traceback, and the repository as it was before (a repository the export made: not at all).

Before, these failures printed Git's own line (``git read-tree failed: fatal: Unable to create '.../index.lock':
File exists``, ``error: unable to write file ...``), a full disk during the checkout left ``main`` ahead of its
files and fast-import's ``tmp_pack_*`` and crash report behind, uncommitted changes in the target were overwritten
without a word, and a ``.git`` Git cannot read made Git write into a repository around the target."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standin.cli import git, run_cli

from policy_archive.archive.git_runs import ExportRepositoryError
from policy_archive.archive.plain_git import ExportRepository, FileCommit
from policy_archive.errors import DISK_FULL

OTA_FILE = "ACRCloud/Privacy Policy.md"


def snapshot(repository: Path) -> dict[str, object]:
    """What a repository is: every file's bytes (``.git`` too, but for its index's stat data and logs), its branch."""
    files = {
        str(path.relative_to(repository)): path.read_bytes()
        for path in sorted(repository.rglob("*"))
        if path.is_file() and path.name != "index" and "logs" not in path.relative_to(repository).parts
    }
    return {"files": files, "main": git(repository, "rev-parse", "--verify", "--quiet", "main").strip()}


def export(config: Path, data: Path, output: Path):
    return run_cli(config, data, "export", "--format", "ota", "--output", str(output), "--quiet")


def one_line(result, output: Path, status: int) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.splitlines()
    assert result.returncode == status, result.stderr
    assert line.startswith(f"policy-archive: --output {output}: "), line
    assert "git read-tree failed" not in line and "git fast-import failed" not in line, line
    return line.removeprefix(f"policy-archive: --output {output}: ")


@pytest.fixture
def earlier_export(recorded, tmp_path) -> Path:
    """An ota export of the recorded history's first version only (the second is left for the next export)."""
    config, data = recorded
    output = tmp_path / "ota"
    assert export(config, data, output).returncode == 0
    first = git(output, "rev-list", "--max-parents=0", "main").strip()
    git(output, "update-ref", "refs/heads/main", first)
    git(output, "read-tree", "--reset", "-u", "main")
    git(output, "reflog", "expire", "--expire=now", "--all")
    git(output, "gc", "--quiet", "--prune=now")
    assert git(output, "status", "--porcelain") == ""
    return output


def lock_index(output: Path) -> str:
    (output / ".git" / "index.lock").write_bytes(b"")
    return "the repository is in use by another Git process"


def edit_a_file(output: Path) -> str:
    with (output / OTA_FILE).open("a") as handle:
        handle.write("\nA note of mine.\n")
    return "has uncommitted changes (1 file, e.g. ACRCloud/Privacy Policy.md)"


def add_a_file(output: Path) -> str:
    (output / "notes.md").write_text("mine\n")
    return "has uncommitted changes (1 file, e.g. notes.md)"


def stage_a_change(output: Path) -> str:
    edit_a_file(output)
    git(output, "add", OTA_FILE)
    return "has uncommitted changes (1 file, e.g. ACRCloud/Privacy Policy.md)"


def break_git_dir(output: Path) -> str:
    shutil.rmtree(output / ".git")
    (output / ".git").mkdir()
    return "its .git is not a Git repository"


def point_git_elsewhere(output: Path) -> str:
    shutil.rmtree(output / ".git")
    (output / ".git").write_text(f"gitdir: {output.parent / 'moved-away'}\n")
    return "its .git is not a Git repository"


def switch_to_another_branch(output: Path) -> str:
    git(output, "switch", "-q", "-c", "drafts")
    return "has branch drafts checked out, not main: the export writes main and checks it out over the work tree"


def detach_head(output: Path) -> str:
    git(output, "switch", "-q", "--detach", "main")
    return "has no branch checked out (HEAD detached), not main"


REFUSALS = {
    "locked by another git (index.lock)": lock_index,
    "a file changed by hand": edit_a_file,
    "a file added by hand": add_a_file,
    "a change staged by hand": stage_a_change,
    "a .git Git cannot read": break_git_dir,
    "a .git naming a missing repository": point_git_elsewhere,
    "another branch checked out": switch_to_another_branch,
    "no branch checked out": detach_head,
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_target_that_cannot_take_the_export_is_refused_in_words_and_left_alone(recorded, earlier_export, case):
    config, data = recorded
    said = REFUSALS[case](earlier_export)
    before = snapshot(earlier_export) if (earlier_export / ".git" / "HEAD").exists() else None
    files_before = {path: path.read_bytes() for path in earlier_export.rglob("*") if path.is_file()}
    reason = one_line(export(config, data, earlier_export), earlier_export, 2)
    assert reason.startswith(said), reason
    assert "; " in reason or ": " in reason  # what to do follows what is wrong
    assert {path: path.read_bytes() for path in earlier_export.rglob("*") if path.is_file()} == files_before
    if before is not None:
        assert snapshot(earlier_export) == before


def test_an_empty_repository_on_another_branch_takes_the_export(recorded, tmp_path):
    """`git init` where the default branch is another (``master``), no commit yet: nothing there to keep apart, the
    export writes ``main`` and checks it out."""
    config, data = recorded
    output = tmp_path / "ota"
    subprocess.run(["git", "init", "-q", "-b", "master", str(output)], check=True)
    add_a_file(output)  # refused first, for the file: HEAD left as it was
    assert export(config, data, output).returncode == 2
    assert git(output, "symbolic-ref", "HEAD").strip() == "refs/heads/master"
    (output / "notes.md").unlink()
    assert export(config, data, output).returncode == 0
    assert git(output, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(output, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/main"]
    assert git(output, "status", "--porcelain") == "" and (output / OTA_FILE).exists()


def test_a_branch_checked_out_again_takes_the_next_export(recorded, earlier_export):
    config, data = recorded
    switch_to_another_branch(earlier_export)
    assert export(config, data, earlier_export).returncode == 2
    git(earlier_export, "switch", "-q", "main")
    assert export(config, data, earlier_export).returncode == 0
    assert git(earlier_export, "rev-list", "--count", "main").strip() == "2"
    assert git(earlier_export, "rev-list", "--count", "drafts").strip() == "1"


def test_a_git_dir_git_cannot_read_never_sends_the_export_to_a_repository_around_it(recorded, tmp_path):
    """Git looks further up when a .git is unreadable: the surrounding repository must not get the export."""
    config, data = recorded
    around = tmp_path / "around"
    subprocess.run(["git", "init", "-q", "-b", "main", str(around)], check=True)
    (around / "ota" / ".git").mkdir(parents=True)
    reason = one_line(export(config, data, around / "ota"), around / "ota", 2)
    assert reason.startswith("its .git is not a Git repository"), reason
    around_main = subprocess.run(["git", "-C", str(around), "rev-parse", "--verify", "--quiet", "main"])
    assert around_main.returncode != 0  # no commit around
    assert list((around / "ota").iterdir()) == [around / "ota" / ".git"]


def test_the_what_to_do_of_each_refusal(recorded, earlier_export):
    config, data = recorded
    lock_index(earlier_export)
    reason = one_line(export(config, data, earlier_export), earlier_export, 2)
    assert f"{earlier_export / '.git' / 'index.lock'} exists" in reason and "remove it" in reason, reason
    (earlier_export / ".git" / "index.lock").unlink()
    edit_a_file(earlier_export)
    reason = one_line(export(config, data, earlier_export), earlier_export, 2)
    assert reason.endswith("commit them or remove them, then export again"), reason
    git(earlier_export, "checkout", "--", ".")
    assert export(config, data, earlier_export).returncode == 0  # once put right, the export goes on
    assert git(earlier_export, "rev-list", "--count", "main").strip() == "2"


def test_an_export_stopped_before_its_checkout_is_completed_not_taken_for_changes(recorded, earlier_export):
    """Killed between fast-import and the checkout, an export leaves the branch ahead of its index and files: the
    next export checks the branch out (nothing of anybody's is overwritten), a staged change of a person's is not."""
    config, data = recorded
    assert export(config, data, earlier_export).returncode == 0
    second = git(earlier_export, "rev-parse", "main").strip()
    git(earlier_export, "read-tree", "--reset", "-u", "main~1")  # the files as before the killed checkout
    assert git(earlier_export, "status", "--porcelain").strip()  # staged: the reverse of the second version
    result = export(config, data, earlier_export)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert git(earlier_export, "rev-parse", "main").strip() == second
    assert git(earlier_export, "status", "--porcelain") == ""


def test_a_lock_taken_while_the_export_runs_is_said_and_the_branch_put_back(tmp_path):
    """Another git starts between the check and the checkout: refused in words, exit 2, nothing kept."""
    target = tmp_path / "ota"
    start = datetime(2020, 1, 1, tzinfo=UTC)
    ExportRepository(target).append([FileCommit("Service A/Privacy Policy.md", "# A\n\nfirst\n", start, "F\n")])
    before = snapshot(target)
    repository = ExportRepository(target)  # checked: no lock yet
    (target / ".git" / "index.lock").write_bytes(b"")
    with pytest.raises(ExportRepositoryError) as raised:
        repository.append(commits_after(start))
    assert raised.value.exit_status == 2
    assert raised.value.reason.startswith(
        f"the repository is in use by another Git process ({target / '.git' / 'index.lock'} exists): wait"
    ), raised.value.reason
    (target / ".git" / "index.lock").unlink()
    assert snapshot(target) == before
    assert git(target, "status", "--porcelain") == ""


def test_a_read_only_target_is_refused_in_words(recorded, small_filesystem):
    config, data = recorded
    point = small_filesystem("2m")
    assert export(config, data, point / "ota").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
    for output in (point / "ota", point / "new"):
        reason = one_line(export(config, data, output), output, 2)
        assert reason.startswith("cannot write in ") and "read-only or not permitted" in reason, reason


# --- a real full disk: a small tmpfs (root only), filled to leave less room than the export needs -------------

BODY = "".join(f"Paragraph {n}: {os.urandom(48).hex()}\n" for n in range(600))  # ~60 KB that does not compress


def commits_after(start: datetime) -> list[FileCommit]:
    """Three documents, two versions each: enough bytes that the disk fills at the pack and at the checkout."""
    commits = []
    for step in range(2):
        for document in ("A", "B", "C"):
            at = start + timedelta(days=step * 3 + ord(document) - 64)
            text = f"# {document}\n\nversion {step}\n{BODY}{document * step}\n"
            commits.append(FileCommit(f"Service {document}/Privacy Policy.md", text, at, f"Record {document}\n"))
    return commits


def fill(point: Path, leave: int) -> None:
    filler = point / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    os.truncate(filler, max(0, filler.stat().st_size - leave))


@pytest.mark.parametrize("existing", [True, False], ids=["an earlier export extended", "a new export"])
def test_a_full_disk_puts_the_repository_back_and_says_so(small_filesystem, existing):
    """At several points of the writing (the pack, the checkout, the ref) the disk fills: an error in words (the
    disk is full, nothing kept), exit status 1, and the repository exactly as before — the branch, the files, no
    pack or crash report of fast-import's; a new repository not made at all. Once room is made, it completes."""
    point = small_filesystem("1m")
    target = point / "ota"
    start = datetime(2020, 1, 1, tzinfo=UTC)
    if existing:
        ExportRepository(target).append([FileCommit("Service A/Privacy Policy.md", "# A\n\nfirst\n", start, "F\n")])
    roomy = shutil.disk_usage(point).free
    failures, reasons = 0, set()
    for leave in range(0, 600 * 1024, 24 * 1024):
        before = snapshot(target) if existing else None
        fill(point, leave)
        try:
            written = ExportRepository(target).append(commits_after(start))
        except ExportRepositoryError as error:
            failed: ExportRepositoryError | None = error
        else:
            failed = None
        (point / "filler").unlink()
        if failed is None:
            assert written == 6
            assert git(target, "status", "--porcelain") == ""
            break
        failures += 1
        reasons.add(failed.reason)
        assert failed.exit_status == 1
        if existing:
            assert snapshot(target) == before, leave
            assert git(target, "status", "--porcelain") == ""
        else:
            assert not target.exists(), sorted(point.rglob("*"))
        assert shutil.disk_usage(point).free == roomy  # nothing of the failed export takes room
    assert failures >= 3, failures
    assert reasons == {f"cannot be written: {DISK_FULL}; nothing of this export was kept"}, reasons
    if failed is not None:  # every room tried was too little: with all of it, the export completes
        assert ExportRepository(target).append(commits_after(start)) == 6
    assert git(target, "rev-list", "--count", "main").strip() == ("7" if existing else "6")
    assert git(target, "status", "--porcelain") == ""
