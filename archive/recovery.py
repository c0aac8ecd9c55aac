"""What opening the versions store sets right or refuses (``archive.versions``; docs/decisions/0001): what a killed
run left behind (a half-made repository, lock files, temporary refs and packs), and ``main`` checked against the
ledger.

A save moves the ledger ref (its single atomic step), then ``main``. The ledger's commit names the head of ``main``
it describes and the one before it, so a ``main`` at the one before is a save killed in between: a writer finishes
it (rolls ``main`` forward). A ``main`` anywhere else had commits added by hand: a writer refuses it
(``ForeignHistoryError``); a reader reads the history as policy-archive left it, as the catalog lists it, and says
why; `verify` names those commits (:func:`main_by_hand`). Git is run through ``GitRefs`` (or its ``run``):
``archive.git_repository`` is the only module importing GitPython.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from policy_archive.archive.fastimport import MARKS_FILE
from policy_archive.archive.ledger import BRANCH, BRANCH_REF, ForeignHistoryError, LedgerState, VersionStoreError
from policy_archive.archive.lost_objects import GitRefs, drop_history, first_missing_object, restore_broken_refs
from policy_archive.archive.saves import drop_incoming_refs


def remove_half_made(dot_git: Path, notes: list[str]) -> None:
    """Remove a ``.git`` that Git cannot open, made by a first run killed while creating it: it holds no object
    and no ref, so nothing recorded can be lost (said in ``notes``). One holding anything is refused."""
    if not _holds_nothing(dot_git):
        raise VersionStoreError(
            f"{dot_git.parent}: not a usable Git repository, though it holds objects or refs; "
            "check it with `git fsck` (nothing was changed)"
        )
    shutil.rmtree(dot_git)
    notes.append(f"{dot_git} was half made (an interrupted `git init`) and held no commit: made again")


def _holds_nothing(dot_git: Path) -> bool:
    """No object, no ref and no packed refs under ``dot_git``: what `git init` writes before any commit."""
    stored = [path for folder in ("objects", "refs") for path in (dot_git / folder).rglob("*") if path.is_file()]
    return not stored and not (dot_git / "packed-refs").exists()


def clear_leftovers(refs: GitRefs, drop_lost_history: bool, notes: list[str]) -> bool:
    """Undo what a killed run left behind: lock files, temporary refs and packs; with ``drop_lost_history``, also
    a history whose objects are missing (each said in ``notes``). Returns whether recorded versions were lost."""
    for stale in _stale_files(refs.git_dir):
        stale.unlink(missing_ok=True)
    drop_incoming_refs(refs)
    history_lost = restore_broken_refs(refs, drop_lost_history, notes)
    if drop_lost_history and refs.ref(BRANCH_REF) is not None and (missing := first_missing_object(refs)):
        drop_history(refs, f"objects of its history are missing ({missing})", notes)
        history_lost = True
    return history_lost


def _stale_files(git_dir: Path) -> Iterator[Path]:
    yield from git_dir.glob("*.lock")
    yield from (git_dir / "refs").rglob("*.lock")
    yield from git_dir.glob("fast_import_crash_*")
    yield from (git_dir / "objects" / "pack").glob("tmp_*")
    yield git_dir / MARKS_FILE


def finish_killed_save(refs: GitRefs, state: LedgerState) -> None:
    """For a writer: move ``main`` to where the ledger says when a save was killed between moving the ledger and
    moving ``main``; refuse a ``main`` changed outside policy-archive."""
    main = refs.ref(BRANCH_REF)
    if state.commit is None:
        if main is not None:
            raise ForeignHistoryError(f"{refs.directory}: branch {BRANCH} exists but no policy-archive ledger")
        return
    if main == state.main:
        return
    if main != state.previous_main:
        raise ForeignHistoryError(_changed_outside(refs.directory, main, state.main))
    refs.run(["update-ref", "-m", "policy-archive: repair", BRANCH_REF, state.main or "", main or ""])


def reading_start(refs: GitRefs, state: LedgerState) -> tuple[str | None, str | None]:
    """For a reader: what reading walks (``main``, or where policy-archive left it when commits were added to it
    by hand, so every reader sees the versions the catalog lists) and why ``main`` is not read as it stands
    (None when it is)."""
    main = refs.ref(BRANCH_REF)
    # The previous main: a save killed before moving main, which the next writer finishes.
    if state.commit is None or main in (state.main, state.previous_main):
        return BRANCH_REF, None
    return state.main, _changed_outside(refs.directory, main, state.main)


def _changed_outside(directory: Path, main: str | None, left: str | None) -> str:
    """Why a ``main`` that commits were added to by hand is refused (writers) or not read (readers)."""
    return (
        f"{directory}: {BRANCH} was changed outside policy-archive (it is at {main}, policy-archive left it at "
        f"{left}); to keep those commits on a branch and give {BRANCH} back, run: git -C {directory} branch "
        f"by-hand {main} && git -C {directory} update-ref {BRANCH_REF} {left}"
    )


@dataclass(frozen=True, slots=True)
class CommitByHand:
    """A commit on ``main`` that policy-archive did not make (the ledger names no such commit): its id, its first
    line and the files it changes (from its first parent)."""

    commit: str
    subject: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MainByHand:
    """How a ``main`` changed outside policy-archive differs from where policy-archive left it: the commits added
    to it, oldest first (the first ``HAND_COMMITS_READ`` of them), how many there are in all, and how many of
    policy-archive's own commits are no longer on it (``main`` reset, rewritten or deleted)."""

    added: tuple[CommitByHand, ...]
    added_count: int
    dropped_count: int


# The commits added by hand that are read one by one (their files), however many there are: enough to name them.
HAND_COMMITS_READ = 20
# `git diff-tree` naming the files one commit changes from another (given both) or a first commit holds (``--root``).
# A merge's first parent is given: `-m --first-parent` named its files against every parent in Git 2.39 (Debian 12's,
# checked 2026-11-29), where diff-tree ignores ``--first-parent``; ``--diff-merges=first-parent`` needs Git 2.31.
CHANGED_FILES = ("-r", "--root", "--no-commit-id", "--name-only")


def main_by_hand(run: Callable[[list[str]], str], main: str | None, left: str | None) -> MainByHand:
    """How a ``main`` at ``main``, changed outside policy-archive, differs from ``left``, where policy-archive left
    it (:class:`MainByHand`; ``run``: ``git ARGUMENTS``, its output)."""
    added = run(["rev-list", "--reverse", main, *([f"^{left}"] if left else [])]).split() if main else []
    dropped = int(run(["rev-list", "--count", left, *([f"^{main}"] if main else [])])) if left else 0
    read = []
    for commit in added[:HAND_COMMITS_READ]:
        parents, _, subject = run(["log", "-1", "--format=%P%n%s", commit]).partition("\n")
        first_parent = parents.split()[:1]  # none: a first commit, every file it holds
        changed = run(["diff-tree", *CHANGED_FILES, *first_parent, commit])
        read.append(CommitByHand(commit, subject, tuple(changed.splitlines())))
    return MainByHand(tuple(read), len(added), dropped)
