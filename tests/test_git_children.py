"""A Ctrl-C at the terminal is SIGINT to the whole foreground process group: it must not reach the git processes of
a command writing a history (archive.git_environment), which would die mid-write, an aborted ref update or an
``index.lock`` left, while the command itself means to finish the document in hand (policy_archive/stop_signals.py).

Each test runs the real command line in a process group of its own, as a shell runs a job, holds one of its Git
writes in a ``reference-transaction`` hook (run by git for every ref update, after the update is prepared and
before it is committed) until the test has sent SIGINT to the whole group, then checks that the write completed,
the command ended as its stop contract says, and the repository is whole (``git fsck``, no lock file)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from standin.archive import StandinArchive
from standin.cli import WAIT_SECONDS, cli_command, git, run_cli, running, wait_for
from test_backfill_resilience import ALPHA, BETA, V1, V2, add_history, write_config

HELD_SECONDS = 300  # the hook's longest hold: only ever reached by a test that failed before releasing it


def held_until(go: Path) -> str:
    """Shell lines that wait until the file ``go`` exists (the test's word), HELD_SECONDS at the most."""
    return f"n=0\nwhile test ! -e '{go}' && test $n -lt {HELD_SECONDS * 100}; do sleep 0.01; n=$((n + 1)); done\n"


def hold_ref_update(repository: Path, ref: str, tmp_path: Path) -> tuple[Path, Path]:
    """Install a hook holding the first update of ``ref`` in ``repository`` (prepared, not yet committed) until the
    file ``go`` exists; ``reached`` is created once it holds, holding the process id of the git updating ``ref``.
    Returns (reached, go)."""
    reached, go = tmp_path / "hook-reached", tmp_path / "hook-go"
    hook = Path(git(repository, "rev-parse", "--absolute-git-dir").strip()) / "hooks" / "reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    # The loop waits for the test's file, not for time: it gives up only after HELD_SECONDS, so that a failed test
    # leaves no hook waiting.
    hook.write_text(
        "#!/bin/sh\n"
        'test "$1" = prepared || exit 0\n'
        f"grep -q ' {ref}$' || exit 0\n"
        f"test -e '{reached}' && exit 0\n"
        f"echo $PPID > '{reached}.part' && mv '{reached}.part' '{reached}'\n" + held_until(go)
    )
    hook.chmod(0o755)
    return reached, go


def assert_whole(repository: Path) -> None:
    """``git fsck`` finds nothing wrong, no lock file of Git's is left, the files are the branch's."""
    fsck = subprocess.run(["git", "-C", str(repository), "fsck", "--strict"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    assert not list((repository / ".git").rglob("*.lock"))
    assert git(repository, "status", "--porcelain", "--untracked-files=all") == ""


def declaration(name: str, url: str) -> str:
    return f'name = "{name}"\n[documents.privacy-policy]\nurl = "{url}"\nremove = ["nav", "footer"]\n'


def two_documents(archive: StandinArchive, tmp_path: Path) -> tuple[Path, Path]:
    """Alpha and beta backfilled (two versions each); then a declaration fix (their first paragraph removed) that
    makes each history different when rebuilt. Returns the configuration and data directories."""
    add_history(archive, ALPHA, [V1, V2], 2)
    add_history(archive, BETA, [V1, V2], 2)
    config = write_config(
        tmp_path / "config", archive, {"alpha": declaration("Alpha", ALPHA), "beta": declaration("Beta", BETA)}
    )
    data = tmp_path / "data"
    backfill = run_cli(config, data, "backfill", "--strategy", "all", timeout=600)
    assert backfill.returncode == 0, backfill.stderr
    for service in ("alpha", "beta"):
        file = config / "services" / f"{service}.toml"
        file.write_text(
            file.read_text().replace('remove = ["nav", "footer"]', 'remove = ["nav", "footer", "p:nth-of-type(1)"]')
        )
    return config, data


def two_documents_and_an_export(archive: StandinArchive, tmp_path: Path) -> tuple[Path, Path, Path]:
    """:func:`two_documents`, and an empty repository an OTA export takes (``git init``, no commit yet). Returns the
    configuration, data and export directories."""
    config, data = two_documents(archive, tmp_path)
    export = tmp_path / "export"
    export.mkdir()
    git(export, "init", "-q", "-b", "main")
    return config, data, export


def blobs(repository: Path) -> list[str]:
    """The blob ids of alpha's and beta's latest versions."""
    paths = ("a/alpha/privacy-policy.md", "b/beta/privacy-policy.md")
    return [git(repository, "rev-parse", f"main:{path}").strip() for path in paths]


def test_ctrl_c_while_the_history_is_written_lets_git_finish_and_stops_after_the_document(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    config, data = two_documents(standin_archive, tmp_path)
    versions = data / "versions"
    # The ledger's update is the one step that makes a save (archive/versions.py): alpha's, the first document's.
    reached, go = hold_ref_update(versions, "refs/policy-archive/ledger", tmp_path)
    alpha_before, beta_before = blobs(versions)
    command = cli_command(config, data, "reextract", "--rebuild")
    with running(command, tmp_path / "output", terminal_sigint=True, own_group=True) as run:
        run.wait_for(reached.exists, "alpha's ledger update held by the hook")
        os.killpg(run.pid, signal.SIGINT)  # the whole group, as a terminal's Ctrl-C: pending before the release
        go.touch()
        status = run.ended()
    output = run.output()

    assert status == 1, output
    assert "Traceback" not in output and "Aborted!" not in output
    assert "alpha/privacy-policy: history rebuilt: 2 versions" in output, output
    failed = [line for line in output.splitlines() if line.startswith("FAILED")]
    assert failed == ["FAILED beta/privacy-policy: interrupted before it was examined again: run again to continue"]
    assert_whole(versions)
    alpha_after, beta_after = blobs(versions)
    assert alpha_after != alpha_before, "alpha's rebuild was kept"
    assert beta_after == beta_before, "beta was left as it was"
    shown = run_cli(config, data, "status").stdout
    assert "stopped by SIGINT" in shown, shown

    (versions / ".git" / "hooks" / "reference-transaction").unlink()
    rerun = run_cli(config, data, "reextract", "--rebuild", timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "repaired" not in rerun.stderr, "nothing was left for the next run to repair"
    assert "beta/privacy-policy: history rebuilt" in rerun.stderr
    assert_whole(versions)


def running_process(pid: int) -> bool:
    """Whether process ``pid`` runs (not ended, nor ended and waiting to be reaped by whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def test_a_kill_of_the_command_leaves_git_to_finish_its_write_and_end(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    """SIGKILL of the whole process group (``kill -9 -PGID``; a second stop signal ends the command too): the git
    writing a ref is in a session of its own, finishes its write and ends; the next run finds nothing to repair
    in Git's files (no lock, no half-written ref) and completes."""
    config, data = two_documents(standin_archive, tmp_path)
    versions = data / "versions"
    reached, go = hold_ref_update(versions, "refs/policy-archive/ledger", tmp_path)
    command = cli_command(config, data, "reextract", "--rebuild")
    try:
        with running(command, tmp_path / "output", own_group=True) as run:
            run.wait_for(reached.exists, "alpha's ledger update held by the hook")
            writer = int(reached.read_text())
            os.killpg(run.pid, signal.SIGKILL)
            assert run.ended() == -signal.SIGKILL
        assert running_process(writer), "git was killed with the command, in the middle of its write"
    finally:
        go.touch()
    wait_for(lambda: not running_process(writer), WAIT_SECONDS, "git to finish its write and end")
    assert not list((versions / ".git").rglob("*.lock"))

    (versions / ".git" / "hooks" / "reference-transaction").unlink()
    rerun = run_cli(config, data, "reextract", "--rebuild", timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "beta/privacy-policy: history rebuilt" in rerun.stderr
    assert_whole(versions)


def test_ctrl_c_while_an_ota_export_is_written_lets_git_finish_it(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    config, data, export = two_documents_and_an_export(standin_archive, tmp_path)
    reached, go = hold_ref_update(export, "refs/heads/main", tmp_path)
    command = cli_command(config, data, "export", "--format", "ota", "--output", str(export))
    with running(command, tmp_path / "output", terminal_sigint=True, own_group=True) as run:
        run.wait_for(reached.exists, "the export's branch update held by the hook")
        os.killpg(run.pid, signal.SIGINT)
        go.touch()
        status = run.ended()
    output = run.output()

    assert status == 0, output
    assert "Traceback" not in output and "Aborted!" not in output
    assert f"4 versions committed to {export}" in output, output
    assert "stopped by SIGINT while Git wrote the export: it was written whole" in output, output
    assert_whole(export)
    assert git(export, "ls-files").splitlines() == ["Alpha/Privacy Policy.md", "Beta/Privacy Policy.md"]
    assert len(git(export, "log", "--format=%H", "main").splitlines()) == 4


def test_ctrl_c_while_an_ota_export_reads_stops_it_with_nothing_written(
    standin_archive: StandinArchive, tmp_path: Path
) -> None:
    config, data, export = two_documents_and_an_export(standin_archive, tmp_path)
    # The export's look at the target (`git status`) asks Git's file-system monitor hook, held until the test says;
    # failing then, it makes git look at the files itself.
    reached, go = tmp_path / "monitor-reached", tmp_path / "monitor-go"
    monitor = tmp_path / "fsmonitor"
    monitor.write_text(f"#!/bin/sh\n: > '{reached}'\n" + held_until(go) + "exit 1\n")
    monitor.chmod(0o755)
    git(export, "config", "core.fsmonitor", str(monitor))
    before = git(export, "for-each-ref")
    command = cli_command(config, data, "export", "--format", "ota", "--output", str(export))
    try:
        with running(command, tmp_path / "output", terminal_sigint=True, own_group=True) as run:
            run.wait_for(reached.exists, "the export's look at the target held by the monitor hook")
            os.killpg(run.pid, signal.SIGINT)
            status = run.ended()
    finally:
        go.touch()  # the hook, out of the terminal's reach too, ends
    output = run.output()

    assert status == 1, output
    assert "Traceback" not in output and "Aborted!" not in output
    assert output.splitlines()[-1] == "policy-archive: stopped by SIGINT before anything was written: nothing exported"
    assert git(export, "for-each-ref") == before == ""
    git(export, "config", "--unset", "core.fsmonitor")
    assert_whole(export)
