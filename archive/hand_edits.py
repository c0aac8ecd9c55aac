"""Files changed or added by hand in the versions checkout, copied out of the repository before the store rewrites
the checkout: ``data/versions-set-aside-STAMP/<path>``, never discarded (issue 11)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from policy_archive.archive.ledger import BRANCH_REF
from policy_archive.text import plural


def set_aside_edits(directory: Path, run: Callable[[list[str]], str], notes: list[str]) -> None:
    """Copy the files changed or added by hand in the checkout ``directory`` out of the repository (``run``:
    ``git ARGUMENTS`` there, its output), said in ``notes``."""
    status = run(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"])
    entries = [(entry[:2], entry[3:]) for entry in status.split("\0") if len(entry) > 3]
    changed = [path for code, path in entries if code != "??"]
    # An untracked file survives the checkout, unless the branch has a file at its path.
    untracked = [path for code, path in entries if code == "??"]
    if untracked:
        changed += run(["ls-tree", "-r", "--name-only", "-z", BRANCH_REF, "--", *untracked]).split("\0")
    kept = [path for path in changed if path and (directory / path).is_file()]
    if not kept:
        return
    aside = directory.parent / f"{directory.name}-set-aside-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    for path in kept:
        (aside / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(directory / path, aside / path)
    notes.append(
        f"{len(kept)} {plural(len(kept), 'file was', 'files were')} changed by hand in {directory} "
        f"({kept[0]}...): set aside in {aside} before its checkout was brought back to the branch"
    )
