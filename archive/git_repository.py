"""The versions repository as Git commands: the only module that imports GitPython.

``archive.versions`` keeps the history (saves, the ledger, ``main`` chained from it, publishing, repair on open)
and asks Git for everything through a :class:`GitRepository`: a ref read or moved, a commit or a patch read, a
process started with a pipe (``archive.fastimport``, ``archive.catfile``), and Git's answer to a missing object
turned into one line naming the repair (:class:`MissingObjectsError`). Every git process starts in a session of
its own (``archive.git_environment``), GitPython's kept ``cat-file`` processes and ``git init`` included.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import git

from policy_archive.archive.catfile import BOUNDED_READING
from policy_archive.archive.fastimport import GitProcess
from policy_archive.archive.git_environment import OWN_SESSION
from policy_archive.archive.ledger import (
    BRANCH,
    IDENTITY_EMAIL,
    IDENTITY_NAME,
    REBUILD_ADVICE,
    MissingObjectsError,
    VersionStoreError,
)
from policy_archive.archive.lost_objects import GitRefs, missing_object
from policy_archive.archive.recovery import remove_half_made

IDENTITY_ENV = {
    "GIT_AUTHOR_NAME": IDENTITY_NAME,
    "GIT_AUTHOR_EMAIL": IDENTITY_EMAIL,
    "GIT_COMMITTER_NAME": IDENTITY_NAME,
    "GIT_COMMITTER_EMAIL": IDENTITY_EMAIL,
}
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
LOW_MEMORY_CONFIG = (
    "-c",
    "core.deltaBaseCacheLimit=16m",
    "-c",
    "core.packedGitWindowSize=16m",
    "-c",
    "core.packedGitLimit=64m",
)

# `git diff` is porcelain: it reads the user's ~/.gitconfig and attributes (diff.noprefix, diff.context,
# diff.external such as difftastic, textconv drivers, color.ui=always, diff.algorithm ...), so the same two
# versions would print another text, or no patch at all, on another machine (outside audit 9, 2026-11-28).
# Every option that configuration could change is named here: a unified patch `git apply` takes, the same
# everywhere.
PATCH_OPTIONS = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--no-relative",
    "--no-renames",
    "--text",
    "--unified=3",
    "--inter-hunk-context=0",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
PATCH_CONFIG = ("diff.suppressBlankEmpty=false",)  # no option says it


class _Git(git.Git):
    """GitPython's git, each process started in a session of its own, out of reach of a Ctrl-C at the terminal
    (``archive.git_environment``): also the ``cat-file`` processes GitPython keeps, and ``git init``."""

    def execute(self, command: Any, istream: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """GitPython's ``execute``, with :data:`OWN_SESSION` given to ``subprocess.Popen``."""
        return super().execute(command, istream, **OWN_SESSION, **kwargs)


class _Repo(git.Repo):
    """A repository whose git processes are :class:`_Git`'s (GitPython's documented hook)."""

    GitCommandWrapperType = _Git


def _open_repository(directory: Path) -> git.Repo:
    try:
        return _Repo(directory)
    except git.NoSuchPathError:
        raise VersionStoreError(
            f"{directory} is missing: `policy-archive reextract --rebuild` rebuilds the history from the stored "
            "captures"
        ) from None
    except git.InvalidGitRepositoryError:
        raise VersionStoreError(f"{directory} is not a Git repository: run `policy-archive repair`") from None


def _open_or_create(directory: Path, notes: list[str]) -> git.Repo:
    """The repository in ``directory``, created when missing, or re-created when a first run was killed while
    creating it (a half-made ``.git`` holding no object and no ref: nothing recorded can be lost; said in
    ``notes``)."""
    dot_git = directory / ".git"
    if dot_git.exists():
        try:
            repo = _Repo(directory)
        except git.InvalidGitRepositoryError:
            remove_half_made(dot_git, notes)
            return _open_or_create(directory, notes)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        repo = _Repo.init(directory, initial_branch=BRANCH)
    if not repo.config_reader("repository").has_option("user", "name"):  # also a kill between init and here
        # A kill while the identity was written leaves Git's lock on the config: no one else writes here (the
        # caller holds the data directory's lock), so it is stale.
        Path(repo.git_dir, "config.lock").unlink(missing_ok=True)
        with repo.config_writer() as config:
            config.set_value("core", "autocrlf", "false")
            config.set_value("user", "name", IDENTITY_NAME)
            config.set_value("user", "email", IDENTITY_EMAIL)
    return repo


class GitRepository:
    """The versions repository's Git, for ``archive.versions``: what it reads and moves, and the processes it
    starts. Raises ``VersionStoreError`` when the repository is missing or not one."""

    def __init__(self, directory: Path, *, create: bool, notes: list[str]) -> None:
        """Open the repository in ``directory``; with ``create``, create it when missing, or re-create a half-made
        one a first run left (said in ``notes``). The caller has cleared the environment Git reads
        (``archive.git_environment.forget_outside_repository``)."""
        self.directory = directory
        self._repo = _open_or_create(directory, notes) if create else _open_repository(directory)
        self._git = self._repo.git
        self.git_dir = Path(self._repo.git_dir)

    # --- reading ------------------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Git's answer to a missing object as one line naming the repair, instead of a GitPython traceback."""
        try:
            yield
        except (git.GitCommandError, ValueError) as error:
            text = error.stderr if isinstance(error, git.GitCommandError) else error
            if (missing := missing_object(str(text))) is None:
                raise
            raise MissingObjectsError(
                f"{self.directory}: Git objects are missing ({missing}); {REBUILD_ADVICE}"
            ) from None

    def ref(self, ref: str) -> str | None:
        """The object ``ref`` names, None without that ref."""
        try:
            return self._git.rev_parse("--verify", "--quiet", ref)
        except git.GitCommandError:
            return None

    def exists(self, object_id: str) -> bool:
        """Whether the repository holds this commit."""
        try:
            self._git.cat_file("-e", f"{object_id}^{{commit}}")
        except git.GitCommandError:
            return False
        return True

    def tree_of(self, commit: str) -> str:
        """The tree ``commit`` (or any revision) names."""
        return self._git.rev_parse(f"{commit}^{{tree}}")

    def is_ancestor(self, commit: str, of: str) -> bool:
        """Whether ``commit`` is ``of`` or one of its ancestors (False when Git cannot tell)."""
        try:
            self._git.merge_base("--is-ancestor", commit, of)
        except git.GitCommandError:
            return False
        return True

    def subject(self, commit: str) -> str:
        """The first line of a commit's message."""
        return self._git.log("-1", "--format=%s", commit)

    def message(self, commit: str) -> str:
        """A commit's whole message (subject, blank line, trailers)."""
        return self._git.log("-1", "--format=%B", commit)

    def blob(self, object_id: str) -> bytes:
        """The content of a blob (or any ``commit:path``), through Git's long-running ``cat-file --batch``; raises
        ``ValueError`` (GitPython's answer to cat-file's "missing") when there is no such object."""
        _, _, _, data = self._git.get_object_data(object_id)
        return data

    def paths(self, commit: str) -> list[str]:
        """Every file's path in ``commit``'s tree."""
        return self._git.ls_tree("-r", "--format=%(path)", commit).splitlines()

    def first_parents(self, revision: str) -> list[str]:
        """The first-parent chain of ``revision``, oldest first."""
        return self._git.rev_list("--reverse", "--first-parent", revision).split()

    def first_parents_changing(self, revision: str, paths: Iterable[str]) -> list[str]:
        """The commits of ``revision``'s first-parent chain that change ``paths`` (all when none), oldest first, in
        bounded memory (``archive.catfile.BOUNDED_READING``)."""
        listing = self._git(c=list(BOUNDED_READING)).rev_list("--reverse", "--first-parent", revision, "--", *paths)
        return listing.split()

    def patch(self, old_commit: str | None, new_commit: str, path: str) -> str:
        """The patch of ``path`` from ``old_commit`` (None: from nothing) to ``new_commit``, the same on every
        machine (``PATCH_OPTIONS``), final newline kept so ``git apply`` takes it."""
        # GitPython strips the final newline of a command's output by default: a patch needs it.
        return self._git(c=list(PATCH_CONFIG)).diff(
            *PATCH_OPTIONS, old_commit or EMPTY_TREE, new_commit, "--", path, strip_newline_in_stdout=False
        )

    def log_lines(self, options: Iterable[str], commits: Sequence[str], paths: Iterable[str] = ()) -> Iterator[str]:
        """The lines of ``git log OPTIONS --no-walk=unsorted COMMITS -- PATHS`` as Git writes them (``commits`` not
        empty); stopping early ends the ``git log`` process."""
        revisions = ["--no-walk=unsorted", *commits]
        process = self._git(c=list(BOUNDED_READING)).log(*options, *revisions, "--", *paths, as_process=True)
        stdout = process.proc.stdout
        assert stdout is not None
        finished = False
        try:
            for line in stdout:
                yield line.decode("utf-8").rstrip("\n")
            finished = True
        finally:
            if finished:
                with self.reading():
                    process.wait()
            else:
                process.proc.kill()
                process.proc.wait()

    def remote_branches(self) -> list[tuple[str, str]]:
        """Each remote-tracking branch's short name (``origin/main``) and the commit it names."""
        listing = self._git.for_each_ref("refs/remotes", format="%(refname:short) %(objectname)")
        return [(name, commit) for name, commit in (line.split() for line in listing.splitlines())]

    # --- writing ------------------------------------------------------------------------------------------

    def commit_tree(self, tree: str, message: str) -> str:
        """A parentless commit of ``tree`` by policy-archive's identity; its id."""
        return self._git.commit_tree(tree, "-m", message, env=IDENTITY_ENV)

    def move_ref(self, ref: str, new: str, old: str | None, reason: str) -> None:
        """Point ``ref`` at ``new`` if it still names ``old`` (None: if it does not exist), else fail."""
        self._git.update_ref("-m", reason, ref, new, old or "")

    def end_kept_processes(self) -> None:
        """End the ``cat-file`` processes GitPython keeps (it starts them again when next asked)."""
        self._git.clear_cache()

    # --- running git --------------------------------------------------------------------------------------

    def refs(self) -> GitRefs:
        """This repository as ``archive.lost_objects`` reads and moves its refs."""
        return GitRefs(self.directory, self.git_dir, self.ref, self.exists, self.run, self.answer)

    def run(self, arguments: list[str]) -> str:
        """``git ARGUMENTS`` in this repository: its output (raises ``git.GitCommandError`` when Git fails)."""
        return self._git.execute(["git", *arguments])

    def answer(self, arguments: list[str]) -> str:
        """``git ARGUMENTS`` with Git's smaller caches: its standard output and error, whether it fails or not."""
        _, stdout, stderr = self._git.execute(
            ["git", *LOW_MEMORY_CONFIG, *arguments], with_extended_output=True, with_exceptions=False
        )
        return f"{stdout}\n{stderr}"

    def start_piped(self, command: list[str]) -> GitProcess:
        """``command`` started in this repository with a pipe to its standard input."""
        return self._git.execute(command, istream=subprocess.PIPE, as_process=True)
