"""Files changed or added by hand in the versions checkout, copied out of the repository before the store rewrites
the checkout: ``data/versions-set-aside-STAMP/<path>``, never discarded (issue 11)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.ledger import BRANCH_REF
from policy_archive.text import plural

# In the Git directory: the commit the checkout was last brought to, what a hand edit is told from.
CHECKOUT_FILE = "policy-archive-checkout"


def set_aside_edits(directory: Path, shown: str, run: Callable[[list[str]], str], notes: list[str]) -> None:
    """Copy the files changed or added by hand in the checkout ``directory`` out of the repository (``run``:
    ``git ARGUMENTS`` there, its output), said in ``notes``. ``shown``: the commit the checkout was last brought
    to, what its files are compared with (their index included: an edit staged by hand counts)."""
    # Not `git status`, which compares the index with HEAD: once a save has moved main, the index (the tree the
    # checkout still shows) differs from HEAD in every file the save changed, and until 2026-11-29 each of them was
    # set aside as changed by hand, on every save.
    run(["update-index", "-q", "--refresh"])  # stat data only, so that a file touched but unchanged is not listed
    changed = run(["diff-index", "--name-only", "-z", "--no-renames", shown, "--"]).split("\0")
    # An untracked file survives the checkout, unless the branch has a file at its path.
    untracked = [path for path in run(["ls-files", "--others", "--exclude-standard", "-z"]).split("\0") if path]
    if untracked:
        changed += run(["ls-tree", "-r", "--name-only", "-z", BRANCH_REF, "--", *untracked]).split("\0")
    kept = [path for path in changed if path and (directory / path).is_file()]
    if not kept:
        return
    aside = directory.parent / f"{directory.name}-set-aside-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    for path in kept:
        (aside / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(directory / path, aside / path)
    notes.append(set_aside_note(directory, aside, kept))


def set_aside_note(directory: Path, aside: Path, kept: list[str]) -> str:
    """The one line that says files of the checkout ``directory`` were set aside in ``aside`` (``kept``: their
    paths in both), where, and how to read them against the history and keep them: the checkout shows the branch
    again at every writing command, so an edit copied back there would only be set aside again."""
    first = kept[0]
    return (
        f"{len(kept)} {plural(len(kept), 'file was', 'files were')} changed by hand in {directory} ({first}...): "
        f"set aside in {aside} before its checkout was brought back to the branch (compare: diff "
        f"{directory / first} {aside / first}); keep edits outside {directory}, which every writing command brings "
        "back to the recorded history"
    )
