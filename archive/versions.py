"""The Git version store: branch ``main``, one commit per document version, in capture-time order.

Why this shape (first-character layout, ``git fast-import``, blob order, deterministic rebuilds):
docs/decisions/0001-git-history-layout.md. Its parts: ``archive.git_repository`` (the repository's Git commands,
the only module that imports GitPython), ``archive.ledger`` (the ledger's records and the commit messages),
``archive.saves`` (how a save merges into the ledger and the stream that writes it), ``archive.fastimport`` and
``archive.catfile`` (the Git processes), ``archive.recovery`` (what opening sets right or refuses: a killed run's
leftovers, ``main`` against the ledger, and what a ``main`` changed by hand differs by), ``archive.lost_objects``
(history refs naming lost objects, set back or dropped on open) and ``archive.hand_edits`` (files edited by hand in
the checkout, set aside before it is rewritten).

What the repository holds besides ``main``:
- ``refs/policy-archive/ledger``: a parentless commit whose tree lists every version ever saved, also those not on
  ``main`` because their body equals the previous version's (an insertion may bring them back later).
  ``<path>/index.jsonl`` holds their metadata in capture-time order, ``<path>/<stamp>`` their content. ``main`` is
  always a pure function of the ledger, which is what makes rebuilds deterministic whatever order saves came in.
- The ledger commit's message names the ``main`` head it describes and the one before it. Moving the ledger ref
  is the single atomic step of a save; ``main`` is moved right after and rolled forward on open if a kill came in
  between (``archive.recovery``). A kill at any earlier point leaves only unreferenced objects, so ``git fsck``
  stays clean.

The caller must hold ``archive.lock.DataDirectoryLock`` while a ``VersionStore`` is open: opening repairs what a
killed run left (stale lock files, temporary refs, half-written packs), which is only safe with no other writer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from policy_archive.archive.catfile import read_blobs
from policy_archive.archive.fastimport import MARKS_FILE, FastImport, remove_stale_keeps
from policy_archive.archive.git_environment import forget_outside_repository
from policy_archive.archive.git_repository import LOW_MEMORY_CONFIG, GitRepository
from policy_archive.archive.hand_edits import CHECKOUT_FILE, set_aside_edits
from policy_archive.archive.ledger import (
    BRANCH,
    BRANCH_REF,
    INDEX_SUFFIX,
    LEDGER_REF,
    Entry,
    LedgerState,
    MissingObjectsError,
    VersionStoreError,
    kept_versions,
)
from policy_archive.archive.lost_objects import broken_refs, lost_message
from policy_archive.archive.recovery import (
    MainByHand,
    clear_leftovers,
    finish_killed_save,
    main_by_hand,
    reading_start,
)
from policy_archive.archive.saves import (
    INCOMING_LEDGER_REF,
    Plan,
    drop_incoming_refs,
    plan_save,
    write_blobs,
    write_commits,
    write_ledger,
)
from policy_archive.records import RecordedVersion, Version, utc
from policy_archive.text import plural

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class CommittedVersion:
    """A version on ``main`` and its commit, without its text (cheap to hold for 100,000 versions)."""

    document: str
    path: str
    captured_at: datetime  # the commit date: the capture time, or when a technical upgrade was made
    commit: str
    bytes_at: datetime | None = None  # its Captured-At: when its bytes were captured (None: not read)
    snapshot_url: str = ""  # its Snapshot-Url ("": not read)


class VersionStore:
    """The versions repository (``data/versions``): a checked-out repository whose branch ``main`` is the history."""

    def __init__(self, directory: Path, *, read_only: bool = False, drop_lost_history: bool = False) -> None:
        """Open (or create) the repository. ``read_only`` skips the repair of a killed run's leftovers, which
        is only safe under the data-directory lock: readers (`log`, `show`, `diff`) must not touch a writer's
        temporary refs and lock files. A history whose objects are missing is refused (`MissingObjectsError`,
        naming `policy-archive repair`), unless ``drop_lost_history``: then its refs are set back or deleted,
        the objects are checked whole (``git fsck --connectivity-only``), and ``history_lost`` tells the
        caller to rebuild the history from the stored captures (`repair` does)."""
        self.directory = directory
        self.notes: list[str] = []  # what opening repaired or set aside, one line each (for the user)
        self.history_lost = False  # versions recorded before were lost with their Git objects
        # Readers only: why ``main`` is not read as it stands (commits added to it by hand), else None.
        self.changed_outside: str | None = None
        self._reading_from: str | None = BRANCH_REF  # what reading walks: main, or where policy-archive left it
        forget_outside_repository()  # before GitPython reads GIT_WORK_TREE and the like
        self._repository = GitRepository(directory, create=not read_only, notes=self.notes)
        if read_only:
            if broken := broken_refs(self._repository.refs()):
                raise MissingObjectsError(lost_message(directory, broken))
            self._reading_from, self.changed_outside = reading_start(self._repository.refs(), self._state())
            return
        self._repair(drop_lost_history)

    # --- reading ------------------------------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit ``refs/heads/main`` points at, or None while there is no version. That is the branch as it
        stands, not necessarily what reading walks (``changed_outside``)."""
        return self._repository.ref(BRANCH_REF)

    def read(self, commit: str, path: str) -> str:
        """The text of ``path`` in ``commit``; raises :class:`MissingObjectsError` when Git lost the object."""
        return self.blob(f"{commit}:{path}").decode("utf-8")

    def diff(self, old_commit: str | None, new_commit: str, path: str) -> str:
        """The patch of ``path`` from ``old_commit`` (None: from nothing) to ``new_commit``, final newline kept so
        ``git apply`` takes it; raises :class:`MissingObjectsError` when Git lost an object."""
        with self._repository.reading():
            return self._repository.patch(old_commit, new_commit, path)

    def subject(self, commit: str) -> str:
        """The first line of a commit's message (``First record of ...``)."""
        with self._repository.reading():
            return self._repository.subject(commit)

    def message(self, commit: str) -> str:
        """A commit's whole message (subject, blank line, trailers)."""
        with self._repository.reading():
            return self._repository.message(commit)

    def blob(self, object_id: str) -> bytes:
        """The content of a blob (or any ``commit:path``), through Git's long-running ``cat-file --batch``."""
        with self._repository.reading():
            return self._repository.blob(object_id)

    def with_blobs(self, items: Iterable[_T], blob_of: Callable[[_T], str]) -> Iterator[tuple[_T, bytes]]:
        """Each of ``items`` with the content of its blob ``blob_of(item)``, in order, in bounded memory (one
        ``git cat-file --batch``, see ``archive.catfile``)."""
        return read_blobs(self._repository.start_piped, items, blob_of)

    def first_parent_commits(self, paths: Iterable[str] = ()) -> list[str]:
        """The commits of ``main`` that change ``paths`` (all of them when none), oldest first."""
        if self.head() is None or self._reading_from is None:
            return []
        with self._repository.reading():
            return self._repository.first_parents_changing(self._reading_from, paths)

    def log_lines(self, options: Iterable[str], commits: Sequence[str], paths: Iterable[str] = ()) -> Iterator[str]:
        """The lines of ``git log OPTIONS COMMITS -- PATHS`` for exactly ``commits``, in that order (``--no-walk``),
        as Git writes them. Git keeps every commit of a walk in memory: read a long history in batches of commits
        (``first_parent_commits``) to keep it bounded. Stopping early ends the ``git log`` process.
        """
        if not commits:
            return  # with no revision at all, ``git log`` would show HEAD
        yield from self._repository.log_lines(options, commits, paths)

    def commits(self) -> dict[tuple[str, datetime], str]:
        """``(path, captured_at) -> commit`` for every version on ``main``, from the ledger and one rev-list."""
        return {(version.path, version.captured_at): version.commit for version in self.main_versions()}

    def main_versions(self) -> list[CommittedVersion]:
        """Every version on ``main`` in branch order, with its ``Captured-At`` and ``Snapshot-Url`` (from the
        ledger, which its commit's trailers are made from, and one rev-list)."""
        state = self._state()
        with self._repository.reading():
            chain = self._main_chain(state, self._read_index(state, None))
        return [
            CommittedVersion(entry.document, entry.path, entry.at, commit, entry.captured_at, entry.snapshot_url)
            for entry, commit in chain
        ]

    def main_by_hand(self) -> MainByHand | None:
        """For a reader of a ``main`` changed outside policy-archive (``changed_outside``): what differs from the
        history policy-archive left (``MainByHand``, read by ``archive.recovery.main_by_hand``); None when ``main``
        is as policy-archive left it."""
        if self.changed_outside is None:
            return None
        with self._repository.reading():
            return main_by_hand(self._repository.run, self.head(), self._reading_from)

    def remote_commits_rewritten(self) -> list[str]:
        """Remote-tracking branches (``origin/main``) holding commits that a rebuild took off ``main``.

        Publishing ``main`` there would need a force-push: this store never pushes, the caller says so.
        """
        rewritten = []
        for name, commit in self._repository.remote_branches():
            if name.endswith(f"/{BRANCH}") and not self._is_ancestor_of_main(commit):
                rewritten.append(name)
        return rewritten

    # --- writing ------------------------------------------------------------------------------------------

    def save(self, versions: Iterable[Version]) -> list[RecordedVersion]:
        """Add versions; return those of ``versions`` that now have a commit on ``main``.

        A document's history is its versions in capture-time order with consecutive equal ``body`` dropped (the
        earliest of a run is kept); a version whose (path, captured_at) was saved before is ignored. Versions
        saved by earlier calls keep their place, but a rebuild gives the later ones new commit ids and may take
        some off ``main`` (or bring back one whose body no longer equals its predecessor's): they are not returned
        here (their text is not in memory), call ``commits()`` after a save that inserted before the old head.
        """
        given = list(versions)
        committed = self.save_stream(given)
        by_key = {(version.path, utc(version.commit_time)): version for version in given}
        return [
            RecordedVersion(by_key[(item.path, item.captured_at)], item.commit)
            for item in committed
            if (item.path, item.captured_at) in by_key
        ]

    def replace_documents(self, versions: Iterable[Version]) -> list[CommittedVersion]:
        """Make the given versions the whole ledger of each document they name (a history rebuild after
        re-extraction): earlier versions of those documents not given are forgotten; ``main`` is re-chained
        from the earliest difference. Other documents are untouched."""
        return self.save_stream(versions, replace=True)

    def save_stream(self, versions: Iterable[Version], *, replace: bool = False) -> list[CommittedVersion]:
        """Like ``save`` but consumes ``versions`` once without keeping their text, for very large imports.

        Returns every version now on ``main`` whose commit is new or changed, earlier saves' included. Feed each
        document's versions one after another (as a backfill does) for the smallest and fastest writes.
        """
        state = self._state()
        marks_path = self._repository.git_dir / MARKS_FILE
        remove_stale_keeps(self._repository.git_dir)
        stream = FastImport(self._repository.start_piped, marks_path)
        try:
            incoming = write_blobs(versions, stream)
            plan = plan_save(
                state,
                incoming,
                lambda paths: self._read_index(state, paths),
                lambda indexes: self._main_chain(state, indexes),
                replace=replace,
            )
            if plan is None:
                stream.finish()
                return []
            write_commits(stream, plan)
            write_ledger(stream, self._repository.tree_of(state.commit) if state.commit else None, plan)
            marks = stream.finish()
        except BaseException:
            stream.abort()
            raise
        finally:
            marks_path.unlink(missing_ok=True)
        # No commit written: main is the plan's parent, which a rebuild that only dropped the last versions moves
        # back (until 2026-11-29 main stayed where it was, its ledger one entry short, and the save failed).
        new_main = marks[len(plan.commits)] if plan.commits else plan.parent
        self._publish(state, plan, new_main)
        return [
            CommittedVersion(entry.document, entry.path, entry.at, marks[number], entry.captured_at, entry.snapshot_url)
            for number, (entry, _) in enumerate(plan.commits, start=1)
        ]

    # --- publishing and repair ----------------------------------------------------------------------------

    def _publish(self, state: LedgerState, plan: Plan, new_main: str | None) -> None:
        """Move the ledger (the atomic step), then ``main``, then the checkout; drop the temporary refs."""
        head_key = plan.commits[-1][0].key if plan.commits else plan.head_key
        new_state = LedgerState(None, new_main, state.main, head_key)
        ledger_tree = self._repository.tree_of(INCOMING_LEDGER_REF)
        ledger_commit = self._repository.commit_tree(ledger_tree, new_state.message().rstrip("\n"))
        self._repository.move_ref(LEDGER_REF, ledger_commit, state.commit, "policy-archive: save")
        if new_main != state.main and new_main is not None:
            self._repository.move_ref(BRANCH_REF, new_main, state.main, "policy-archive: save")
        drop_incoming_refs(self._repository.refs())
        self._sync_checkout()
        self._repository.end_kept_processes()

    def _repair(self, drop_lost_history: bool) -> None:
        """Undo what a killed run left behind and finish its save (``archive.recovery``), then show ``main``."""
        refs = self._repository.refs()
        self.history_lost = clear_leftovers(refs, drop_lost_history, self.notes)
        finish_killed_save(refs, self._state())
        self._sync_checkout()

    def _sync_checkout(self) -> None:
        """Make the working tree show ``main`` (so ``git log -p a/acrcloud/privacy-policy.md`` works there),
        after setting aside any file changed or added there by hand."""
        if (head := self.head()) is not None:
            set_aside_edits(self.directory, self._shown(), self._repository.run, self.notes)
            # Smaller pack windows and delta cache than Git's defaults (1 GiB, 96 MiB): a first checkout of
            # 5,000 documents otherwise holds ~240 MB, measured by benchmarks/versions.py on 2026-11-22.
            self._repository.run([*LOW_MEMORY_CONFIG, "read-tree", "--reset", "-u", head])
            # Written after the checkout: a kill in between sets aside files nobody edited, never loses one.
            (self._repository.git_dir / CHECKOUT_FILE).write_text(f"{head}\n")

    def _shown(self) -> str:
        """The commit the checkout was last brought to (``CHECKOUT_FILE``); ``main`` when that is not known (a
        repository an older release made, the file deleted, its commit lost): right when opening, which writes the
        file before any save."""
        try:
            shown = (self._repository.git_dir / CHECKOUT_FILE).read_text().strip()
        except (OSError, UnicodeDecodeError):
            return BRANCH_REF
        return shown if shown and self._repository.exists(shown) else BRANCH_REF

    # --- the ledger and main ------------------------------------------------------------------------------

    def _state(self) -> LedgerState:
        commit = self._repository.ref(LEDGER_REF)
        if commit is None:
            return LedgerState(None, None, None, None)
        return LedgerState.parse(commit, self._repository.message(commit))

    def _main_chain(self, state: LedgerState, indexes: dict[str, list[Entry]]) -> list[tuple[Entry, str]]:
        """Pair each commit of ``main`` with its ledger entry (``main`` is the ledger's kept versions in order)."""
        if state.main is None:
            return []
        entries = [entry for items in indexes.values() for entry in kept_versions(items)]
        entries.sort(key=lambda entry: entry.key)
        commits = self._repository.first_parents(state.main)
        if len(commits) != len(entries):
            raise VersionStoreError(
                f"{self.directory}: {len(commits)} {plural(len(commits), 'commit')} on {BRANCH}, "
                f"ledger has {len(entries)}"
            )
        return list(zip(entries, commits, strict=True))

    def _read_index(self, state: LedgerState, paths: list[str] | None) -> dict[str, list[Entry]]:
        """Ledger entries of ``paths`` (None: every document), each in capture-time order."""
        if state.commit is None:
            return {}
        if paths is None:
            listing = self._repository.paths(state.commit)
            paths = [name.removesuffix(INDEX_SUFFIX) for name in listing if name.endswith(INDEX_SUFFIX)]
        indexes: dict[str, list[Entry]] = {}
        for path in paths:
            try:
                data = self._repository.blob(f"{state.commit}:{path}{INDEX_SUFFIX}")
            except ValueError:  # GitPython's answer to cat-file's "missing": a document not saved before
                continue
            indexes[path] = [Entry.from_json(line) for line in data.decode("utf-8").splitlines()]
        return indexes

    def _is_ancestor_of_main(self, commit: str) -> bool:
        main = self.head()
        if main is None:
            return False
        return self._repository.is_ancestor(commit, main)
