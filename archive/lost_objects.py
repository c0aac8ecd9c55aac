"""Git objects the history needs that the versions repository no longer has (deleted by hand, a disk or a copy
that lost files): how Git says so, and what opening the store does about it (``archive.versions``).

A history ref naming a missing object goes back to its newest reflog value still there, or is deleted; when that
loses versions (or, for `policy-archive repair`, when ``git fsck`` finds an object missing further down), the
history refs are dropped so that the history is rebuilt from the stored captures. Git is run through the
callables of ``GitRefs``, which ``archive.git_repository`` (the only module importing GitPython) gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policy_archive.archive.ledger import BRANCH_REF, LEDGER_REF, REBUILD_ADVICE, MissingObjectsError

# The refs whose objects make the history: the ledger (every version saved) and main (the chain made from it).
HISTORY_REFS = (LEDGER_REF, BRANCH_REF)
# How Git and GitPython say that an object the history needs is not in the repository (deleted by hand, a disk
# or a copy that lost files), as of Git 2.39 and GitPython 3.1: "fatal: bad object X", "fatal: unable to read X",
# "error: Could not read X", "missing blob X" (fsck), and cat-file's "X missing" that GitPython raises as a
# ValueError "... could not be resolved".
_MISSING_OBJECT = re.compile(
    r"bad object|bad tree object|unable to read|could not read|could not be resolved|missing (?:blob|tree|commit)|"
    r"broken link|not a valid object name",
    re.IGNORECASE,
)
_GIT_PREFIX = re.compile(r"^(?:stderr: )?'?(?:fatal: |error: )?")
_CAT_FILE_ANSWER = re.compile(r"git returned: b'([^']* missing)'")


@dataclass(frozen=True)
class GitRefs:
    """The versions repository as this module reads and moves its refs."""

    directory: Path
    git_dir: Path
    ref: Callable[[str], str | None]  # the object a ref names, None without that ref
    has_commit: Callable[[str], bool]  # the repository holds this commit
    run: Callable[[list[str]], str]  # ``git ARGUMENTS``: its output; raises when Git fails
    answer: Callable[[list[str]], str]  # ``git ARGUMENTS`` with Git's smaller caches: stdout and stderr, failed or not


def missing_object(text: str) -> str | None:
    """The line of a Git error that says an object is missing (without Git's ``fatal:``), or None."""
    if answer := _CAT_FILE_ANSWER.search(text):  # GitPython's ValueError quoting cat-file's "X missing"
        return answer.group(1)[:200]
    for line in text.splitlines():
        if _MISSING_OBJECT.search(line):
            # GitPython quotes Git's stderr: "  stderr: 'fatal: bad object X'".
            return _GIT_PREFIX.sub("", line.strip()).rstrip("'")[:200]
    return None


def broken_refs(refs: GitRefs) -> dict[str, str]:
    """The history refs naming an object that is not in the repository, with what they name."""
    named = {ref: refs.ref(ref) for ref in HISTORY_REFS}
    return {ref: target for ref, target in named.items() if target is not None and not refs.has_commit(target)}


def lost_message(directory: Path, broken: dict[str, str]) -> str:
    """The error of a history whose ref (``main`` first, else the ledger) names a lost Git object, with the repair to
    run."""
    ref = BRANCH_REF if BRANCH_REF in broken else LEDGER_REF
    target = broken[ref]
    return f"{directory}: {ref} names {target}, which is missing (Git objects were lost); {REBUILD_ADVICE}"


def restore_broken_refs(refs: GitRefs, drop_lost_history: bool, notes: list[str]) -> bool:
    """A ref naming a missing object goes back to its newest reflog entry that exists (a kill or a crash
    before the objects reached the disk), or is deleted; each said in ``notes``. Unless
    ``drop_lost_history``, refused when that loses versions: the ledger set back or deleted, ``main``
    deleted (``main`` set back to an existing value is checked against the ledger afterwards). Returns
    whether versions recorded before were lost."""
    broken = broken_refs(refs)
    if not broken:
        return False
    earlier = {ref: _last_existing(refs, ref) for ref in broken}
    loses = LEDGER_REF in broken or earlier.get(BRANCH_REF, "") is None
    if loses and not drop_lost_history:
        raise MissingObjectsError(lost_message(refs.directory, broken))
    done = []
    for ref, target in broken.items():
        # Drop the broken value by hand: update-ref would log it as the old value, which fsck then reports.
        (refs.git_dir / ref).unlink(missing_ok=True)
        if (candidate := earlier[ref]) is not None:
            refs.run(["update-ref", "--no-deref", "-m", "policy-archive: repair", ref, candidate])
            done.append(f"{ref} named {target}: set back to {candidate}, its latest earlier value still there")
        else:
            if refs.ref(ref) is not None:  # a packed ref survives the loose one
                refs.run(["update-ref", "--no-deref", "-d", ref])
            done.append(f"{ref} named {target}: deleted (no earlier value of it is still there)")
    notes.append(f"{refs.directory}: commits missing (Git objects lost): {'; '.join(done)}")
    if loses and refs.ref(LEDGER_REF) is None and refs.ref(BRANCH_REF) is not None:
        drop_history(refs, "its ledger is lost", notes)
    return loses


def _last_existing(refs: GitRefs, ref: str) -> str | None:
    return next((candidate for candidate in _reflog(refs.git_dir, ref) if refs.has_commit(candidate)), None)


def _reflog(git_dir: Path, ref: str) -> list[str]:
    """The values ``ref`` had, newest first, as its reflog kept them."""
    log = git_dir / "logs" / ref
    if not log.exists():
        return []
    return [line.split()[1] for line in reversed(log.read_text().splitlines()) if line.strip()]


def first_missing_object(refs: GitRefs) -> str | None:
    """The first object the history refs reach that is not in the repository (``git fsck`` reading every
    object's links, not their content: it reads every commit and tree, so only `repair` asks), or None."""
    output = refs.answer(["fsck", "--connectivity-only", "--no-dangling", "--no-progress", *HISTORY_REFS])
    found = [" ".join(line.split()) for line in output.splitlines() if _MISSING_OBJECT.search(line)]
    # "missing blob X" names the object itself; "broken link from tree Y" only where it was needed.
    return next((line for line in found if line.startswith("missing")), found[0] if found else None)


def drop_history(refs: GitRefs, why: str, notes: list[str]) -> None:
    """Delete the history refs (their existing objects stay in the repository, unreferenced, until Git's
    garbage collection), saying in ``notes`` which commits they named, so that it can be rebuilt from the
    captures."""
    named = {ref: target for ref in HISTORY_REFS if (target := refs.ref(ref)) is not None}
    for ref in named:
        (refs.git_dir / ref).unlink(missing_ok=True)
        if refs.ref(ref) is not None:
            refs.run(["update-ref", "--no-deref", "-d", ref])
    listed = ", ".join(f"{ref} at {target}" for ref, target in named.items())
    notes.append(f"{refs.directory}: {why}: the history refs were deleted ({listed})")
